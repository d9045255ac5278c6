from __future__ import annotations

import os
import zlib
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


class FakeScorer:
    """Scores from a hash of the file name: stable, spread over [0, 1], no model needed."""

    model_id, version = "fake-scorer", "1"

    def score_paths(self, paths, batch_size=16, progress=None, cancel=None):
        from photoenhance.core.rank.scorer import ScoreResult

        out = []
        for p in paths:
            s = (zlib.crc32(Path(p).name.encode()) % 1000) / 1000
            out.append(ScoreResult(Path(p), s, None, {"noise": s, "blur": 1 - s, "jpeg": 0.1,
                                                      "clipping": 0.0}))
        return out

    def score_arrays(self, images):
        """Judges pixels (the batch's verdict): a gain from their mean, no model needed."""
        from photoenhance.core.rank.scorer import ScoreResult

        return [ScoreResult(None, float(a.mean()) / 255, float(a.mean()) / 50) for a in images]


def tiny_enhancer():
    import torch

    from photoenhance.core.ml.infer import Enhancer
    from photoenhance.core.ml.nets import build

    torch.manual_seed(0)
    net = build({"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]})
    return Enhancer.from_model(net, device="cpu", model_id="tiny-test")


@pytest.fixture
def scorer():
    from photoenhance.core.jobs.lane import LazyModel

    return LazyModel(FakeScorer, "Scores")


@pytest.fixture
def enhancer():
    from photoenhance.core.jobs.lane import LazyModel

    return LazyModel(tiny_enhancer, "Enhancement model")


def write_photo(path: Path, seed: int = 0, size: tuple[int, int] = (96, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size[1], size[0], 3), np.uint8)
    Image.fromarray(arr).save(path, quality=90)
    return path


@pytest.fixture
def catalog(tmp_path: Path):
    from photoenhance.core.catalog import Catalog

    cat = Catalog.open(tmp_path / "cat.sqlite")
    yield cat
    cat.close()


@pytest.fixture
def photo():
    """``photo(path, seed=0, size=(w, h))`` writes a random JPEG."""
    return write_photo


@pytest.fixture
def make_window(qtbot, catalog, scorer, enhancer):
    """``make_window(**options)``: a MainWindow whose first (empty) load has arrived."""
    from photoenhance.core.settings import Settings
    from photoenhance.gui.main_window import MainWindow

    def make(settings=None, **kw):
        kw.setdefault("scorer", scorer)
        kw.setdefault("enhancer", enhancer)
        kw.setdefault("watch", False)
        win = MainWindow(catalog, settings or Settings(), **kw)
        qtbot.addWidget(win)
        with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
            pass
        return win

    return make


@pytest.fixture
def scan(qtbot):
    """``scan(win, root, n)``: scan ``root`` and wait until the grid shows ``n`` rows."""

    def run(win, root, n):
        with qtbot.waitSignal(win.rows_loaded, timeout=20_000,
                              check_params_cb=lambda got: got == n):
            win.library.start_scan([root])

    return run
