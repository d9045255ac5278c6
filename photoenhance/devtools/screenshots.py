"""Render the main views on the demo library to PNGs, offscreen, for review.

Usage: ``python -m photoenhance.devtools.screenshots OUTDIR``

Everything happens in a temporary folder (catalog, settings, demo library), so the user's own
catalog and settings are never touched. When the improvability model is not shipped yet, the
photos are ranked by a simple stand-in measure (noise, sharpness, JPEG blockiness, clipping;
model id ``demo-heuristic``) so the screenshots show a ranked library; the real app says
"scores not available" instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

WIDTH, HEIGHT = 1440, 900


class HeuristicDemoScorer:
    """Stand-in ranking for screenshots only, from the classic baselines in
    photoenhance.train.rank."""

    model_id, version = "demo-heuristic", "1"

    def score_paths(self, paths: list[Path], batch_size: int = 16, progress: Any = None,
                    cancel: Any = None) -> list[Any]:
        from PIL import Image

        from photoenhance.core.rank.scorer import ScoreResult
        from photoenhance.train.rank import baselines

        out = []
        for p in paths:
            with Image.open(p) as im:
                a = np.asarray(im.convert("RGB"))
            f = {"noise": baselines.noise_sigma(a) / 16,
                 "blur": 1 + baselines.laplacian_var(a) / 120,
                 "jpeg": (baselines.jpeg_blockiness(a) - 1.1) / 1.8,
                 "clipping": float((a >= 250).mean()) / 0.5}
            f = {k: round(float(np.clip(v, 0, 1)), 3) for k, v in f.items()}
            out.append(ScoreResult(Path(p), round(0.08 + 0.84 * max(f.values()), 3), None, f))
        return out


def _scorer() -> Any:
    from photoenhance.core.errors import ModelError
    from photoenhance.core.rank.scorer import Scorer

    try:
        return Scorer.load()
    except ModelError:
        print("improvability model not shipped yet: ranking the demo with demo-heuristic")
        return HeuristicDemoScorer()


def _wait(signal: Any, timeout_ms: int, check: Callable[..., bool] | None = None) -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    got = [False]

    def fire(*args: Any) -> None:
        if check is None or check(*args):
            got[0] = True
            loop.quit()

    signal.connect(fire)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(fire)
    return got[0]


def _settle(ms: int = 300) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def render(outdir: Path) -> list[Path]:
    """Write library.png, compare.png, compare_split.png, batch.png and settings.png."""
    from PySide6.QtWidgets import QApplication

    from photoenhance.core.catalog import Catalog
    from photoenhance.core.settings import Settings
    from photoenhance.gui.demo import make_demo_library
    from photoenhance.gui.engines import ModelHolder, default_enhancer
    from photoenhance.gui.main_window import MainWindow
    from photoenhance.gui.theme import apply_dark_theme

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["photoenhance"])
    apply_dark_theme(app)  # type: ignore[arg-type]
    tmp = Path(os.environ["XDG_DATA_HOME"])
    catalog = Catalog.open(tmp / "catalog.sqlite")
    lib = make_demo_library(tmp / "Pictures" / "Demo library")
    win = MainWindow(catalog, Settings(), scorer=ModelHolder(_scorer, "Scores"),
                     enhancer=ModelHolder(default_enhancer, "Enhancement model"),
                     watch=False, ask=lambda *_: False)
    win.resize(WIDTH, HEIGHT)
    win.show()
    _wait(win.rows_loaded, 30_000)  # the first (empty) load
    n = sum(1 for _ in lib.rglob("*.jpg"))
    win.start_scan([lib])
    _wait(win.rows_loaded, 120_000, lambda rows: rows == n)
    names = [win.proxy.index(r, 1).data() for r in range(win.proxy.rowCount())]
    noisy = next((i for i, name in enumerate(names) if "noisy" in name), 0)
    win.table.selectRow(noisy)
    _settle()
    shots = [outdir / "library.png"]
    win.grab().save(str(shots[-1]))

    win.open_compare()
    _wait(win.comparer.preview_ready, 120_000)
    _settle()
    shots.append(outdir / "compare.png")
    win.grab().save(str(shots[-1]))
    win.compare.split_button.setChecked(True)
    _wait(win.comparer.preview_ready, 60_000)
    image = win.comparer.image
    if image is not None:  # 200 %, centred on the photo: the visible region is enhanced
        from PySide6.QtCore import QPointF

        win.compare.state.set(2.0, QPointF(image.size[0] / 2, image.size[1] / 2.6))
        _wait(win.comparer.preview_ready, 60_000)
    _settle()
    shots.append(outdir / "compare_split.png")
    win.grab().save(str(shots[-1]))
    win.compare.split_button.setChecked(False)

    win.enhance_worth_fixing()  # caught mid-run: progress, ETA, per-item states, Cancel
    _wait(win.batcher.progressed, 300_000, lambda bp: bp.progress.done >= 3)
    _settle(500)
    shots.append(outdir / "batch.png")
    win.grab().save(str(shots[-1]))
    win.batcher.cancel()
    _wait(win.batcher.stopped, 120_000)
    _settle()

    dialog = win.open_settings()
    _settle()
    shots.append(outdir / "settings.png")
    dialog.grab().save(str(shots[-1]))
    dialog.reject()
    win.close()
    catalog.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m photoenhance.devtools.screenshots OUTDIR", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="photoenhance-shots-") as tmp:
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ[var] = tmp  # keep the user's catalog and settings out of it
        os.environ.pop("PHOTOENHANCE_CATALOG", None)
        for shot in render(Path(args[0]).resolve()):
            print(shot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
