"""index_and_score: the one scan-then-score the CLI, the GUI and the watcher share."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from photoenhance.core.catalog import Catalog, Score
from photoenhance.core.errors import Cancelled, ModelError
from photoenhance.core.library.indexing import SCORED, index_and_score
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.core.rank.scorer import ScoreResult


class FakeScorer:
    model_id, version = "fake", "1"

    def __init__(self) -> None:
        self.seen: list[Path] = []

    def score_paths(self, paths, batch_size=16, progress=None, cancel=None, workers=None):
        self.seen += [Path(p) for p in paths]
        out = [ScoreResult(Path(p), None, error="cannot decode") if "bad" in Path(p).name
               else ScoreResult(Path(p), 0.5, factors={"noise": 0.5, "blur": 0.0, "jpeg": 0.0,
                                                       "clipping": 0.0}) for p in paths]
        if progress:
            progress(Progress(len(out), len(paths), str(paths[-1]), "Scoring"))
        return out


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    for name in ("a.jpg", "b.jpg", "bad.jpg"):
        Image.new("RGB", (24, 16), (len(name) * 20, 90, 30)).save(root / name, "JPEG")
    return root


def _scores(catalog: Catalog) -> int:
    with catalog.session() as s:
        return int(s.scalar(select(func.count(Score.id))) or 0)


def test_indexes_then_scores_only_what_this_model_has_not(catalog, library) -> None:
    scorer = FakeScorer()
    reports: list[Progress] = []
    indexed: list[object] = []
    outcome = index_and_score(catalog, [library], lambda: scorer, progress=reports.append,
                              on_indexed=indexed.append)
    assert outcome.summary.added == 3 and indexed == [outcome.summary]
    assert outcome.scored == 2 and len(outcome.failed) == 1 and len(outcome.photo_ids) == 3
    assert _scores(catalog) == 2
    phases = [p.message for p in reports]
    assert phases[-1] == SCORED and SCORED not in phases[: phases.index(SCORED)]
    again = index_and_score(catalog, [library], lambda: scorer)  # nothing new: no work
    assert again.summary.unchanged == 3 and again.scored == 0
    assert sorted(p.name for p in scorer.seen) == ["a.jpg", "b.jpg", "bad.jpg", "bad.jpg"]


def test_only_scores_the_named_files(catalog, library) -> None:
    scorer = FakeScorer()
    outcome = index_and_score(catalog, [library], lambda: scorer, only=[library / "a.jpg"])
    assert outcome.scored == 1 and [p.name for p in scorer.seen] == ["a.jpg"]


def test_without_a_scorer_it_only_indexes(catalog, library) -> None:
    outcome = index_and_score(catalog, [library], None)
    assert outcome.summary.added == 3 and outcome.scored is None and outcome.scoring_note is None

    def missing() -> None:
        raise ModelError("the improvability model is missing")

    outcome = index_and_score(catalog, [library], missing)
    assert outcome.scored is None and "missing" in (outcome.scoring_note or "")
    assert index_and_score(catalog, [library], lambda: None).scored is None
    assert _scores(catalog) == 0


def test_cancel_stops_it(catalog, library) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        index_and_score(catalog, [library], FakeScorer, cancel=token)
    assert _scores(catalog) == 0
