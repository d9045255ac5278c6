""""Learn from my ratings": the library re-ranks and the status bar says what changed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("pytestqt")

from photoenhance.core.jobs.lane import LazyModel  # noqa: E402
from photoenhance.core.ml.nets.improvability import ImprovabilityNet  # noqa: E402
from photoenhance.core.rank.ratings import rate  # noqa: E402
from photoenhance.core.rank.scorer import Scorer, save_model  # noqa: E402


def _photos(folder: Path, n: int) -> dict[Path, int]:
    """Photos of random brightness; the user rates bright ones as gaining most (the random
    shipped layer below happens to prefer dark ones)."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    labels = {}
    for i in range(n):
        yy, xx = np.mgrid[0:72, 0:96].astype(np.float32)
        base = 128 + 60 * np.sin(xx / (7 + i % 5)) * np.cos(yy / 11)
        img = np.stack([base, base * 0.8 + 20, 255 - base], -1) * rng.uniform(0.3, 1.6)
        img = np.clip(img + rng.normal(0, rng.uniform(0, 30), img.shape), 0, 255)
        path = folder / f"{i:02d}.png"
        Image.fromarray(img.astype(np.uint8)).save(path)
        b = float(img.mean())
        labels[path] = -1 if b < 70 else 0 if b < 110 else 1 if b < 150 else 2
    return labels


def _model(folder: Path) -> Path:
    torch.manual_seed(1)
    net = ImprovabilityNet(stem=8, stages=((1, 8, 1, 1), (2, 16, 1, 2)), feat=32, hidden=32)
    path = folder / "improvability-cal.pt"
    save_model(net, path)
    return path


def _names(win) -> list[str]:
    rows = [win.model.index(r, 0).data(win.model.ROW_ROLE) for r in range(win.model.rowCount())]
    return [r.name for r in sorted(rows, key=lambda r: (-(r.score or 0), -(r.gain_db or 0)))]


def test_learn_from_ratings_reranks_the_library(qtbot, tmp_path: Path, make_window,
                                                scan, catalog) -> None:
    labels = _photos(tmp_path / "lib", 30)
    model = _model(tmp_path / "models")
    win = make_window(scorer=LazyModel(lambda: Scorer.load(model), "Scores"))
    scan(win, tmp_path / "lib", 30)
    for path, label in labels.items():
        rate(catalog, path, label)
    before = _names(win)
    win.learner.load_base = lambda: Scorer.load(model, use_user_head=False)
    (action,) = [a for a in win.findChildren(type(win.grid_action))
                 if a.text() == "Learn from my ratings"]
    with qtbot.waitSignal(win.learner.finished, timeout=30_000):
        action.trigger()
    qtbot.waitUntil(lambda: _names(win) != before, timeout=10_000)  # the library reloaded
    message = win.statusBar().currentMessage()
    found = re.match(r"Ranking updated from your 30 ratings: (\d+) photos moved", message)
    assert found and int(found.group(1)) > 0, message
    after = _names(win)
    assert after != before
    top = [p.name for p, lab in labels.items() if lab == 2]
    assert np.mean([after.index(n) for n in top]) < np.mean([before.index(n) for n in top])
    assert win.lane.model("scorer").calibrated  # new photos are scored with the user's layer
