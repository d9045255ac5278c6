"""GUI batches and ``photoenhance enhance`` judge photos with the same verdict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog
from photoenhance.core.ml.nets import build
from photoenhance.core.ml.registry import write_card
from photoenhance.core.progress import CancelToken
from photoenhance.core.rank import scorer as scorer_module
from photoenhance.core.rank.scorer import ScoreResult
from photoenhance.core.settings import Settings


class ArrayScorer:
    """Judges pixels by their roughness: a smoother copy reads as needing less."""

    model_id, version, sha256 = "fake-judge", "1", ""

    def score_arrays(self, images):
        out = []
        for a in images:
            rough = float(np.abs(np.diff(a.astype(np.float32), axis=1)).mean())
            out.append(ScoreResult(None, min(1.0, rough / 100), rough / 20))
        return out


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = build({"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]})
    path = tmp_path / "model" / "tiny.pt"
    path.parent.mkdir()
    torch.save(net.state_dict(), path)
    write_card(path, {"model_id": "tiny-test", "version": "0",
                      "architecture": {"config": net.config}})
    return path


def _photos(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for i, sigma in enumerate((2.0, 25.0, 60.0)):
        rng = np.random.default_rng(i)
        base = np.kron(rng.integers(30, 220, (6, 8, 3)), np.ones((8, 8, 1)))
        arr = np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"p{i}.png")
        out.append(folder / f"p{i}.png")
    return out


def test_gui_batch_and_cli_give_the_same_verdicts(tmp_path: Path, tiny_model: Path,
                                                  monkeypatch, capsys) -> None:
    from photoenhance.core.jobs.lane import LazyModel
    from photoenhance.core.ml.infer import Enhancer
    from photoenhance.gui import jobs as gui_jobs
    from photoenhance.gui.inference import new_lane

    monkeypatch.setattr(scorer_module.Scorer, "load", classmethod(lambda cls, *a, **k:
                                                                   ArrayScorer()))
    files = _photos(tmp_path / "lib")
    assert main(["--catalog", str(tmp_path / "cli.sqlite"), "enhance", *map(str, files),
                 "--model", str(tiny_model), "--strength", "0.8", "--json",
                 "--out", str(tmp_path / "cli-out")]) in (0, 1)
    cli = {r["source"]: (r["verdict"], r["predicted_gain"])
           for r in json.loads(capsys.readouterr().out)}

    with Catalog.open(tmp_path / "gui.sqlite") as catalog:
        settings = Settings(strength=0.8)
        job_id = gui_jobs.new_job(catalog, settings, list(map(str, files)), None)(
            lambda _p: None, CancelToken())
        # the GUI's judge scores with the model its inference lane owns
        lane = new_lane(lambda: settings, LazyModel(lambda: Enhancer.load(tiny_model), "E"),
                        LazyModel(ArrayScorer, "Scores"))
        batch = gui_jobs.run_batch(catalog, job_id, lane)
        outcome = lane.call(lambda c: batch(lambda _p: None, c))
        lane.close()
    gui = {it.source: (it.verdict, it.predicted_gain) for it in outcome.items}
    assert gui == cli
    assert len({v for v, _ in cli.values()}) >= 2  # the photos get different verdicts
