"""Render every view on the demo library to PNGs at two window sizes, offscreen, for review.

Usage: ``python -m photoenhance.devtools.screenshots OUTDIR``

Each view is written at 1600 x 1000 (``library.png``, ...) and at 1280 x 800
(``library_1280x800.png``, ...). Each step waits for the signal that says its view is
ready (checked first, in case it has already come), with timeouts of seconds: the whole
run takes well under a minute.

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


def _wait_for(signal: Any, done: Callable[[], bool], timeout_ms: int, what: str) -> bool:
    """Wait until ``done()`` holds, checking it now and each time ``signal`` fires (a signal
    that fired before the wait began is not waited for); give up after ``timeout_ms``."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return True
    loop = QEventLoop()

    def fire(*_args: Any) -> None:
        if done():
            loop.quit()

    signal.connect(fire)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(fire)
    ok = done()
    if not ok:
        print(f"  (gave up waiting for {what} after {timeout_ms / 1000:.0f} s)")
    return ok


def _settle(ms: int = 150) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _batch_thumbnails_ready(win: Any, timeout_ms: int = 3_000) -> None:
    """Wait until the batch queue's first rows and its side panel have their thumbnails."""
    items = win.batch.model.items()[:14]
    paths = [it.output or it.source for it in items]
    panel = win.batch.result.item
    if panel is not None:
        paths.append(panel.output or panel.source)

    def shown() -> bool:
        win.batch.table.viewport().repaint()  # asks the cache for every visible row
        return all(p in win.thumbs._memory for p in paths)

    _wait_for(win.thumbs.ready, shown, timeout_ms, "the batch's thumbnails")


def _thumbnails_ready(win: Any, timeout_ms: int = 5_000) -> None:
    """Wait until every tile on screen has its thumbnail (or is known to have none)."""
    grid = win.grid

    def shown() -> bool:
        grid.viewport().repaint()  # asks the cache for every visible tile
        for r in range(win.proxy.rowCount()):
            rect = grid.visualRect(win.proxy.index(r, 0))
            if rect.intersects(grid.viewport().rect()):
                path = win.proxy.index(r, 1).data(0x0003)  # ToolTipRole: the path
                if path and path not in win.thumbs._memory:
                    return False
        return True

    _wait_for(win.thumbs.ready, shown, timeout_ms, "thumbnails")


SIZES = ((1600, 1000), (1280, 800))


def _ready_and_idle(arrived: list[Any], pane: Any) -> Callable[[], bool]:
    """Something arrived, and ``pane`` (if any) is not still busy."""
    return lambda: bool(arrived) and not (pane is not None and pane.busy)


def _batch_reached(progress: list[Any], win: Any, done: int) -> Callable[[], bool]:
    """The batch has written ``done`` photos, or stopped."""
    return lambda: bool(progress) and (
        sum(i.status == "done" for i in progress[-1].items) >= done
        or not win.batcher.running)


def render(outdir: Path) -> list[Path]:
    """Write every view at each of :data:`SIZES`: library, compare (side by side, and split
    with the change overlay), the batch while it runs, review, and settings."""
    import time

    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtWidgets import QApplication

    from photoenhance.core.catalog import Catalog
    from photoenhance.core.jobs.lane import LazyModel
    from photoenhance.core.settings import Settings
    from photoenhance.gui.demo import make_demo_library
    from photoenhance.gui.inference import default_enhancer
    from photoenhance.gui.main_window import MainWindow
    from photoenhance.gui.theme import apply_dark_theme

    t0 = time.perf_counter()
    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["photoenhance"])
    apply_dark_theme(app)  # type: ignore[arg-type]
    tmp = Path(os.environ["XDG_DATA_HOME"])
    catalog = Catalog.open(tmp / "catalog.sqlite")
    lib = make_demo_library(tmp / "Pictures" / "Demo library")
    enhancer = LazyModel(default_enhancer, "Enhancement model")
    win = MainWindow(catalog, Settings(), scorer=LazyModel(_scorer, "Scores"),
                     enhancer=enhancer, watch=False, ask=lambda *_: False)
    win.resize(*SIZES[0])
    win.show()
    shots: list[Path] = []

    def shot(name: str, size: tuple[int, int], dialog: Any = None) -> None:
        image = win.grab()
        if dialog is not None:  # the dialog over its window, as the user sees it
            painter = QPainter(image)
            top_left = QPoint((image.width() - dialog.width()) // 2,
                              (image.height() - dialog.height()) // 2)
            painter.fillRect(image.rect(), QColor(0, 0, 0, 110))
            painter.drawPixmap(top_left, dialog.grab())
            painter.end()
        # the first size keeps the plain name the app store listing uses (resources/
        # *.metainfo.xml); the others add their size
        suffix = "" if size == SIZES[0] else f"_{size[0]}x{size[1]}"
        shots.append(outdir / f"{name}{suffix}.png")
        image.save(str(shots[-1]))
        print(f"  {shots[-1].name}  ({time.perf_counter() - t0:.1f} s)")

    n = sum(1 for _ in lib.rglob("*.jpg"))
    counts: list[int] = []
    win.rows_loaded.connect(counts.append)
    win.library.start_scan([lib])
    _wait_for(win.rows_loaded, lambda: bool(counts) and counts[-1] == n
              and win.library.scan_task is None, 30_000, "the scan")
    names = [win.proxy.index(r, 1).data() for r in range(win.proxy.rowCount())]
    noisy = next((i for i, name in enumerate(names) if "noisy" in name), 0)

    for size in SIZES:
        win.resize(*size)
        win.tabs.setCurrentIndex(0)
        win.table.selectRow(noisy)
        _wait_for(win.details.lens_shown, lambda: win.details._labels["Lens"].text() != "…",
                  3_000, "the lens")
        _thumbnails_ready(win)
        shot("library", size)

    # compare: fit, then split at 100 % on the region that changed most, change overlay on
    c = win.compare
    for size in SIZES:
        win.resize(*size)
        c.split_button.setChecked(False)
        c.change_button.setChecked(False)
        ready: list[Any] = []
        win.comparer.preview_ready.connect(ready.append)
        win.table.selectRow(noisy)
        win.open_compare()
        _wait_for(win.comparer.preview_ready, _ready_and_idle(ready, c.right), 15_000,
                  "the compare preview")
        _settle()
        shot("compare", size)
        c.split_button.setChecked(True)  # the demo photos are small: split at Fit fills
        c.change_button.setChecked(True)
        _wait_for(win.comparer.preview_ready, lambda: not c.right.busy, 10_000,
                  "the 100 % preview")
        _settle()
        shot("compare_split", size)
        win.comparer.preview_ready.disconnect(ready.append)
    c.split_button.setChecked(False)
    c.change_button.setChecked(False)

    # the batch, caught while it runs: progress, ETA, per-photo states, Cancel
    progress: list[Any] = []
    win.batcher.progressed.connect(progress.append)
    win.tabs.setCurrentIndex(0)
    win.table.selectAll()  # the whole demo library: a batch long enough to catch running
    win.enhance_selection()
    for size in SIZES:
        win.resize(*size)
        target = 2 if size == SIZES[0] else 3
        _wait_for(win.batcher.progressed, _batch_reached(progress, win, target), 20_000,
                  "batch progress")
        _batch_thumbnails_ready(win)
        shot("batch", size)
    win.batcher.cancel()
    _wait_for(win.batcher.stopped, lambda: not win.batcher.running, 20_000, "the cancel")
    _wait_for(win.rows_loaded, lambda: any(i.status == "done" and i.output
                                           for i in win.batch.model.items())
              and "Enhancing" not in win.batch.status.text(), 5_000, "the batch's items")

    # review what the batch wrote
    for size in SIZES:
        win.resize(*size)
        win.tabs.setCurrentIndex(2)
        shown: list[str] = []
        win.reviewer.pair_shown.connect(shown.append)
        win.review_batch()
        _wait_for(win.reviewer.pair_shown, _ready_and_idle(shown, None), 10_000,
                  "the review pair")
        win.reviewer.pair_shown.disconnect(shown.append)
        _settle()
        shot("review", size)

    for size in SIZES:
        win.resize(*size)
        win.tabs.setCurrentIndex(0)
        dialog = win.open_settings()
        _settle()
        shot("settings", size, dialog)
        dialog.reject()
    win.close()
    catalog.close()
    print(f"{len(shots)} screenshots in {time.perf_counter() - t0:.1f} s")
    return shots


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    usage = "usage: python -m photoenhance.devtools.screenshots OUTDIR"
    if args in (["-h"], ["--help"]):  # not an OUTDIR named --help
        print(usage)
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        print(usage, file=sys.stderr)
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
