"""Benchmark: the library window on a 100,000-photo catalog.

Usage: ``QT_QPA_PLATFORM=offscreen python bench/gui.py [--photos 100000] [--frames 200]``

It generates a catalog of ``--photos`` scored photos (plain SQL bulk insert; the files need
not exist), then, in one offscreen process:

- **open**: seconds from creating the main window to its rows being shown (catalog query on a
  worker, model reset, first paint), for the grid view and for the table view;
- **scroll**: per-frame times while scrolling the grid and the table down by a page per frame
  (each frame: scroll, then a synchronous repaint), reported as median, p95 and max;
- **re-order**: seconds for the grid to show the library sorted by name, then filtered to
  the photos worth fixing (model change, relayout, repaint), as the toolbar does them;
- **baseline**: the same frame loop on a plain ``QListView`` over a ``QStringListModel`` of
  the same number of rows, measured in the same run, so the ratio shows what the
  photoenhance views cost over the simplest Qt list.

The load average is printed before and after: frame times on a shared machine are noise
unless it is quiet (run it through a wrapper that pauses background jobs).

Targets (issue 7): open under 2 s; scrolling without stalls (frames well under 50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QStringListModel  # noqa: E402
from PySide6.QtWidgets import QApplication, QListView  # noqa: E402

from photoenhance.core.catalog import Catalog  # noqa: E402
from photoenhance.core.catalog.bulk import sqlite_datetime  # noqa: E402
from photoenhance.core.catalog.types import utcnow  # noqa: E402
from photoenhance.core.settings import Settings  # noqa: E402


def make_catalog(path: Path, n: int) -> None:
    now = sqlite_datetime(utcnow())
    with Catalog.open(path) as cat, cat.session() as s:
        conn = s.connection().connection.driver_connection
        assert conn is not None
        conn.execute("INSERT INTO roots (id, path, added_at) VALUES (1, '/bench/lib', ?)", (now,))
        conn.executemany(
            "INSERT INTO photos (id, root_id, path, size, mtime_ns, fingerprint, width, height,"
            " format, status, is_output, added_at, updated_at) VALUES"
            " (?, 1, ?, 1000, 1, ?, 6000, 4000, 'JPEG', 'ok', 0, ?, ?)",
            (
                (i, f"/bench/lib/{i // 500:04d}/IMG_{i:06d}.JPG", f"fp{i}", now, now)
                for i in range(1, n + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO scores (photo_id, model_id, model_version, score, noise, blur, jpeg,"
            " clipping, computed_at) VALUES (?, 'bench', '1', ?, 0.5, 0.1, 0.2, 0.0, ?)",
            ((i, (i * 7919 % 1000) / 1000, now) for i in range(1, n + 1)),
        )


def frame_times(app: QApplication, view: object, frames: int) -> list[float]:
    bar = view.verticalScrollBar()  # type: ignore[attr-defined]
    step = max(1, bar.pageStep())
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        bar.setValue(bar.value() + step)
        view.viewport().repaint()  # type: ignore[attr-defined]
        app.processEvents()
        times.append((time.perf_counter() - t) * 1000)
    return times


def import_seconds() -> float:
    """Time to import the window's modules (paid once per app start, not per open)."""
    t = time.perf_counter()
    import photoenhance.gui.main_window  # noqa: F401

    return time.perf_counter() - t


def open_window(app: QApplication, catalog: Catalog, grid: bool) -> tuple[object, float]:
    from photoenhance.gui.main_window import MainWindow

    t = time.perf_counter()
    win = MainWindow(catalog, Settings(), watch=False)
    win.show_grid(grid)
    win.resize(1440, 900)
    win.show()
    loaded: list[int] = []
    win.rows_loaded.connect(loaded.append)
    while not loaded:
        app.processEvents()
        time.sleep(0.005)
    view = win.grid if grid else win.table
    view.viewport().repaint()
    app.processEvents()
    return win, time.perf_counter() - t


def reorder_seconds(app: QApplication, win: Any) -> tuple[float, float]:
    """Seconds to sort the grid by name, then to filter it to the photos worth fixing."""
    out = []
    for change in (lambda: win.sort.setCurrentIndex(1), lambda: win.worth_fixing.setChecked(True)):
        t = time.perf_counter()
        change()
        app.processEvents()
        win.grid.viewport().repaint()
        out.append(time.perf_counter() - t)
    return out[0], out[1]


def summary(ms: list[float]) -> str:
    s = sorted(ms)
    return (
        f"median {statistics.median(s):.1f} ms, p95 {s[int(0.95 * (len(s) - 1))]:.1f} ms,"
        f" max {s[-1]:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    load_before = f"{os.getloadavg()[0]:.2f}"
    app = QApplication.instance() or QApplication([])
    imports = import_seconds()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "catalog.sqlite"
        make_catalog(path, args.photos)
        with Catalog.open(path) as cat:
            grid_win, grid_open = open_window(app, cat, grid=True)
            grid_ms = frame_times(app, grid_win.grid, args.frames)  # type: ignore[attr-defined]
            sort_s, filter_s = reorder_seconds(app, grid_win)
            grid_win.close()  # type: ignore[attr-defined]
            table_win, table_open = open_window(app, cat, grid=False)
            table_ms = frame_times(app, table_win.table, args.frames)  # type: ignore[attr-defined]
            table_win.close()  # type: ignore[attr-defined]
    base = QListView()
    base.setModel(QStringListModel([f"IMG_{i:06d}.JPG" for i in range(args.photos)], base))
    base.resize(1440, 900)
    base.show()
    app.processEvents()
    base_ms = frame_times(app, base, args.frames)
    print(
        f"{args.photos:,} photos; {args.frames} scroll frames of one page each; offscreen;"
        f" load average {load_before} before, {os.getloadavg()[0]:.2f} after"
    )
    print("| measure | value |\n|---|---|")
    print(f"| import the app's modules (once per start, incl. torch) | {imports:.2f} s |")
    print(f"| open, grid view (query + model + first paint) | {grid_open:.2f} s (target < 2 s) |")
    print(f"| open, table view | {table_open:.2f} s |")
    print(f"| scroll frame, grid (thumbnails decode off-thread) | {summary(grid_ms)} |")
    print(f"| scroll frame, table | {summary(table_ms)} |")
    print(f"| grid sorted by name (all rows) | {sort_s:.2f} s |")
    print(f"| grid filtered to worth fixing | {filter_s:.2f} s |")
    print(f"| baseline: plain QListView, same rows, same run | {summary(base_ms)} |")
    print(
        f"| grid median / baseline median | "
        f"{statistics.median(grid_ms) / max(statistics.median(base_ms), 1e-3):.1f}x |"
    )


if __name__ == "__main__":
    main()
