"""The window fits the screen, remembers its layout, reflows the grid, keeps search visible."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QGuiApplication  # noqa: E402

from photoenhance.gui.grid_view import TILE  # noqa: E402
from photoenhance.gui.layout import FIRST_START_SHARE  # noqa: E402


def test_first_start_fits_the_screen_then_remembers(make_window) -> None:
    area = QGuiApplication.primaryScreen().availableGeometry()
    win = make_window()
    assert abs(win.width() - area.width() * FIRST_START_SHARE) <= 2
    assert abs(win.height() - area.height() * FIRST_START_SHARE) <= 2
    win.show()
    # (the offscreen screen is small: a restored window is kept on it, down to its minimum)
    size = (win.minimumSizeHint().width(), 480)
    win.resize(*size)
    win.split.setSizes([150, win.width() - 450, 300])
    sizes = win.split.sizes()
    assert win.close()
    again = make_window()
    again.show()
    assert (again.width(), again.height()) == size
    assert win.minimumSizeHint().width() <= 1280 * FIRST_START_SHARE  # fits a small screen
    assert again.split.sizes() == sizes


@pytest.mark.parametrize("width", [1280, 1600])
def test_grid_reflows_and_search_stays_visible(qtbot, tmp_path: Path, photo, make_window,
                                               scan, width: int) -> None:
    for i in range(12):
        photo(tmp_path / "lib" / f"p{i:02}.jpg", seed=i)
    win = make_window()
    win.resize(width, 800)
    win.show()
    scan(win, tmp_path / "lib", 12)
    qtbot.waitExposed(win)
    grid = win.grid
    columns = grid.columns()
    assert columns == (grid.viewport().width() + 20) // TILE.width() or columns >= 3
    cell = grid.gridSize().width()
    assert cell >= TILE.width()
    spare = grid.viewport().width() - columns * cell
    assert 0 <= spare < TILE.width() // 2  # no dead band of a missing column
    # the search box is on screen, inside the window, at both widths
    assert win.search.isVisible()
    top_left = win.search.mapTo(win, win.search.rect().topLeft())
    assert top_left.x() >= 0 and top_left.x() + win.search.width() <= win.width()
