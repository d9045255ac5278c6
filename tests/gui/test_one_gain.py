"""One predicted gain for a photo: ``score``, ``rank``, ``enhance``, the details panel and
the compare view all show the number behind its score (shipped ranker, tiny enhancer)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("pytestqt")

from photoenhance.cli.main import main  # noqa: E402
from photoenhance.core.jobs.lane import LazyModel  # noqa: E402
from photoenhance.core.ml.nets import build  # noqa: E402
from photoenhance.core.ml.registry import write_card  # noqa: E402
from photoenhance.core.paths import models_dir  # noqa: E402
from photoenhance.core.rank.scale import gain_to_score  # noqa: E402
from photoenhance.gui.inference import default_scorer  # noqa: E402

pytestmark = pytest.mark.skipif(not (models_dir() / "improvability-v1.pt").is_file(),
                                reason="the shipped ranker is not installed")


def _noisy_jpeg(path: Path) -> Path:
    """A photo with edges and visible noise, so the ranker predicts a real gain."""
    path.parent.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:360, 0:480].astype(np.float32)
    base = 128 + 70 * np.sin(xx / 9) * np.cos(yy / 13)
    img = np.stack([base, base * 0.8 + 30, 250 - base], -1)
    img += np.random.default_rng(5).normal(0, 18, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=92)
    return path


def _tiny_enhancer(folder: Path) -> Path:
    torch.manual_seed(0)
    net = build({"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]})
    path = folder / "tiny.pt"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    write_card(path, {"model_id": "tiny-test", "version": "0",
                      "architecture": {"config": net.config}})
    return path


def test_score_rank_enhance_and_compare_show_one_gain(qtbot, tmp_path: Path, make_window,
                                                      scan, capsys) -> None:
    photo = _noisy_jpeg(tmp_path / "lib" / "noisy.jpg")
    assert main(["score", "--json", str(photo)]) == 0
    (scored,) = json.loads(capsys.readouterr().out)
    gain = scored["gain_db"]
    assert gain > 0.3 and scored["score"] == round(float(gain_to_score(gain)), 4)
    shown = f"{gain:+.1f} dB"

    win = make_window(scorer=LazyModel(default_scorer, "Scores"))
    win.show()
    scan(win, tmp_path / "lib", 1)
    row = win.proxy.index(0, 0).data(win.model.ROW_ROLE)
    assert row.gain_db == pytest.approx(gain, abs=2e-3) and row.score == scored["score"]
    win.table.setCurrentIndex(win.proxy.index(0, 0))
    assert win.details._labels["Predicted gain"].text() == shown
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=30_000):
        win.open_compare()
    assert f"({shown} predicted)" in win.compare.title.text()

    db = str(win.catalog.path)
    assert main(["--catalog", db, "rank", "--json"]) == 0
    (ranked,) = json.loads(capsys.readouterr().out)
    assert ranked["gain_db"] == pytest.approx(gain, abs=2e-3)
    assert main(["--catalog", db, "enhance", str(photo), "--out", str(tmp_path / "out"),
                 "--model", str(_tiny_enhancer(tmp_path / "m")), "--force", "--json"]) == 0
    (enhanced,) = json.loads(capsys.readouterr().out)
    assert enhanced["predicted_gain"] == pytest.approx(gain, abs=0.011)
