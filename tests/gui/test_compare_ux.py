"""Compare view: key hints, checked zoom and split buttons, the change overlay, the layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QBoxLayout  # noqa: E402

from photoenhance.gui.compare_view import RATINGS  # noqa: E402
from photoenhance.gui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def win(tmp_path: Path, photo, make_window, scan) -> MainWindow:
    photo(tmp_path / "lib" / "wide.jpg", seed=1, size=(1600, 600))
    w = make_window()
    w.resize(1100, 800)
    w.show()
    scan(w, tmp_path / "lib", 1)
    return w


def _open(qtbot, win: MainWindow):
    with qtbot.waitSignal(win.comparer.preview_ready, timeout=20_000) as got:
        win.table.setCurrentIndex(win.proxy.index(0, 0))
        win.open_compare()
    return got.args[0]


def test_hints_read_as_keys(win: MainWindow) -> None:
    texts = [b.text() for b in win.compare.rating_buttons.buttons()]
    assert texts == [f"{key}  {word}" for _label, word, key in RATINGS]


def test_zoom_and_split_buttons_show_their_state(qtbot, win: MainWindow) -> None:
    patch = _open(qtbot, win)
    c = win.compare
    assert c.fit_button.isChecked() and not c.actual_button.isChecked()
    assert "100 %" in c.right.hint
    qtbot.keyClick(c, Qt.Key.Key_Z)
    assert c.actual_button.isChecked() and not c.fit_button.isChecked()
    assert c.state.zoom == 1.0
    # from Fit, 100 % centres on the region that changed most
    assert patch.focus is not None
    assert (round(c.state.center.x()), round(c.state.center.y())) == patch.focus
    qtbot.keyClick(c, Qt.Key.Key_F)
    assert c.fit_button.isChecked() and not c.actual_button.isChecked()
    qtbot.keyClick(c, Qt.Key.Key_S)
    assert c.split_button.isChecked()


def test_change_overlay(qtbot, win: MainWindow) -> None:
    patch = _open(qtbot, win)
    assert patch.change is not None and patch.change.size() == patch.image.size()
    qtbot.keyClick(win.compare, Qt.Key.Key_C)
    assert win.compare.change_button.isChecked() and win.compare.right.show_change
    before = win.compare.right.grab().toImage()
    qtbot.keyClick(win.compare, Qt.Key.Key_C)
    after = win.compare.right.grab().toImage()
    assert before != after  # the overlay paints something


def test_a_wide_photo_stacks_the_panes(qtbot, win: MainWindow) -> None:
    _open(qtbot, win)
    assert win.compare.panes.direction() == QBoxLayout.Direction.TopToBottom
    scale = win.compare.right.scale()
    side_by_side = min(win.compare.width() / 2 / 1600, win.compare.right.height() * 2 / 600)
    assert scale >= side_by_side * 0.95


def test_change_magnitude_is_where_pixels_differ() -> None:
    from photoenhance.gui.change import change_magnitude

    a = np.zeros((40, 60, 3), np.uint8)
    b = a.copy()
    b[10:20, 30:40] = 60
    mag = change_magnitude(a, b, radius=1)
    assert mag[15, 35] > 30 and mag[35, 5] == 0


def test_split_is_chosen_for_a_landscape_photo_until_the_user_picks(
        qtbot, tmp_path: Path, photo, make_window, scan) -> None:
    photo(tmp_path / "lib2" / "land.jpg", seed=4, size=(900, 600))
    w = make_window()
    w.resize(1600, 1000)
    w.show()
    scan(w, tmp_path / "lib2", 1)
    _open(qtbot, w)
    c = w.compare
    assert c.split_button.isChecked() and not c.left.isVisible()  # side by side: bands
    c.split_button.click()  # the user's choice sticks
    assert not c.split_button.isChecked()
    with qtbot.waitSignal(w.comparer.preview_ready, timeout=20_000):
        w.open_compare()
    assert not c.split_button.isChecked()
