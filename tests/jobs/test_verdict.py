"""One verdict per photo, decided in core and shown the same by the CLI text, the JSON, the
GUI batch path and the catalog; ``--force`` writes what the verdict would skip."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog, JobItem
from photoenhance.core.jobs import verdict as V  # noqa: N812
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions
from photoenhance.core.jobs.runner import create_job


def _jpeg(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), np.uint8)
    Image.fromarray(arr).save(path, quality=90)
    return path


@dataclass
class _Score:
    gain_db: float | None


class FakeScorer:
    """Gives the original ``before`` dB and any other image ``after`` dB."""

    def __init__(self, before: float, after: float) -> None:
        self.before, self.after, self.calls = before, after, 0

    def score_arrays(self, images: Any) -> list[_Score]:
        self.calls += 1
        return [_Score(self.before), _Score(self.after)]


@pytest.mark.parametrize(("before", "after", "changed", "kept", "expected"), [
    (2.0, 0.3, True, 0.9, V.IMPROVED),
    (2.0, 0.3, False, None, V.UNCHANGED),
    (2.0, 0.3, True, 0.1, V.BLOCKED),
    (0.1, 0.0, True, 0.9, V.NOT_IMPROVED),  # predicted gain too small
    (1.0, 1.6, True, 0.9, V.NOT_IMPROVED),  # the copy reads worse than the original
    (None, None, True, 0.9, None),  # no ranker: cannot tell
])
def test_decide(before, after, changed, kept, expected) -> None:
    v = V.decide(before, after, changed=changed, guard_kept=kept)
    assert v.verdict == expected
    assert v.writes == (expected not in V.SKIPPED)
    if before is not None:
        assert v.predicted_gain == round(before, 2)


def test_predicted_gain_is_the_scores_gain() -> None:
    """``rank``'s score and ``enhance``'s predicted gain are one number."""
    from photoenhance.core.rank.scale import gain_to_score

    for gain in (0.0, 0.6, 2.5):
        assert V.predicted_gain_of_score(float(gain_to_score(gain))) == pytest.approx(gain,
                                                                                        abs=0.01)
    assert V.header_verdict(float(gain_to_score(2.5))).startswith("+2.5 dB predicted")
    # no gain or a loss scores 0: the catalog's gain behind the score says which
    assert gain_to_score(-1.0) == 0.0 and V.predicted_gain_of_score(0.0) == 0.0
    assert V.header_verdict(0.0, gain=-1.0).startswith("-1.0 dB predicted")


def _cli(tmp_path: Path, tiny_model: Path, photo: Path, *extra: str) -> int:
    return main(["--catalog", str(tmp_path / "c.sqlite"), "enhance", str(photo), "--out",
                 str(tmp_path / "out"), "--model", str(tiny_model), *extra])


def _items(cat: Path) -> list[JobItem]:
    with Catalog.open(cat) as c, c.session() as s:
        return list(s.scalars(select(JobItem).order_by(JobItem.id)))


def test_same_verdict_in_cli_text_json_gui_and_catalog(tmp_path, tiny_model, capsys,
                                                       monkeypatch) -> None:
    import photoenhance.cli.commands.enhance as cli_enhance
    import photoenhance.gui.jobs as gui_jobs
    from photoenhance.core.jobs.lane import InferenceLane, LazyModel

    photo = _jpeg(tmp_path / "in" / "a.jpg")
    judge = V.judge_with(FakeScorer(2.314, 0.2))
    monkeypatch.setattr(cli_enhance, "load_judge", lambda: judge)
    monkeypatch.setattr(gui_jobs, "load_judge", lambda *_: judge)

    assert _cli(tmp_path, tiny_model, photo, "--strength", "1", "--no-auto-strength") == 0
    text = capsys.readouterr().out
    assert "(improved (+2.3 dB predicted quality gain))" in text
    assert _cli(tmp_path, tiny_model, photo, "--strength", "1", "--no-auto-strength",
                "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["status"], row["verdict"], row["predicted_gain"]) == ("done", "improved", 2.31)

    from photoenhance.core.ml.infer import Enhancer

    cat = tmp_path / "c.sqlite"
    with Catalog.open(cat) as c:
        job = create_job(c, [EnhanceItem(photo)],
                         EnhanceOptions(strength=1.0, auto=False,
                                        policy=cli_enhance.OutputPolicy(folder=tmp_path / "g")))
        lane = InferenceLane({"enhancer": LazyModel(lambda: Enhancer.load(tiny_model), "e"),
                              "scorer": LazyModel(lambda: None, "s")})
        outcome = lane.call(lambda _c: gui_jobs.run_batch(c, job, lane)(lambda _p: None, None))
        lane.close()
    (gui,) = outcome.summary.results  # type: ignore[attr-defined]
    assert (gui.verdict, gui.predicted_gain) == ("improved", 2.31)
    items = _items(cat)
    assert [(i.verdict, i.predicted_gain) for i in items] == [("improved", 2.31)] * 3


def test_not_improved_is_skipped_unless_forced(tmp_path, tiny_model, capsys,
                                               monkeypatch) -> None:
    import photoenhance.cli.commands.enhance as cli_enhance

    photo = _jpeg(tmp_path / "in" / "a.jpg")
    scorer = FakeScorer(0.1, 0.0)
    monkeypatch.setattr(cli_enhance, "load_judge", lambda: V.judge_with(scorer))
    args = ("--strength", "1", "--no-auto-strength", "--json")
    assert _cli(tmp_path, tiny_model, photo, *args) == 0  # skipping is not failing
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "skipped" and row["output"] is None
    assert row["verdict"] == "not improved" and row["predicted_gain"] == 0.1
    assert "keep the original" in row["error"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert _items(tmp_path / "c.sqlite")[0].status == "skipped"

    assert _cli(tmp_path, tiny_model, photo, *args, "--force") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "done" and row["verdict"] == "not improved"
    assert Path(row["output"]).is_file()
    assert scorer.calls == 2

    assert _cli(tmp_path, tiny_model, photo, "--strength", "1", "--no-auto-strength") == 0
    out = capsys.readouterr().out
    assert out.startswith("skipped ") and "--force" in out
