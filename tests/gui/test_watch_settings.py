"""Watched roots feed the grid live and raise alerts; settings persist."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from photoenhance.core.settings import Settings, load_settings  # noqa: E402
from photoenhance.gui.watching import watched_roots  # noqa: E402

FAST = {"debounce_s": 0.1, "settle_s": 0.2, "alert_quiet_s": 0.2}


def test_new_photo_in_watched_root_appears_and_alerts(qtbot, tmp_path: Path, photo,
                                                      make_window, scan) -> None:
    lib = tmp_path / "lib"
    photo(lib / "a.jpg")
    win = make_window(Settings(threshold=0.0), watch=True, watch_options=FAST)
    scan(win, lib, 1)
    assert win.library.watcher.roots == [lib.resolve()]
    with qtbot.waitSignal(win.library.watcher.alerted, timeout=20_000) as alert, \
            qtbot.waitSignal(win.rows_loaded, timeout=20_000,
                             check_params_cb=lambda n: n == 2):
        photo(lib / "new" / "b.jpg", seed=5)
    assert alert.args[0] == "1 new photo worth fixing"
    qtbot.waitUntil(lambda: any(r.name == "b.jpg" and r.score is not None
                                for r in win.model.all_rows()), timeout=10_000)
    # no tray offscreen: the alert is said in the status bar
    assert "1 new photo worth fixing" in win.statusBar().currentMessage()
    assert win.snooze_button.isVisibleTo(win)
    win.snooze_button.click()
    assert not win.snooze_button.isVisibleTo(win)
    assert "snoozed" in win.statusBar().currentMessage()
    digest = win.library.watcher.service.digest
    assert digest is not None and digest._snoozed_until > 0


def test_unwatched_root_is_not_watched(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    s = Settings(unwatched_roots=[str(b)])
    assert watched_roots(s, [str(a), str(b), str(tmp_path / "gone")]) == [a]


def test_settings_dialog_saves(qtbot, tmp_path: Path, photo, make_window, scan) -> None:
    lib = tmp_path / "lib"
    photo(lib / "a.jpg")
    win = make_window(watch=True, watch_options=FAST)
    scan(win, lib, 1)
    assert win.library.watcher.roots
    dialog = win.open_settings()
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    dialog.location.setCurrentIndex(dialog.location.findData("suffix"))
    dialog.threshold.setValue(0.55)
    dialog.strength.setValue(0.7)
    dialog.jpeg_floor.setValue(95)
    dialog.threads.setValue(2)
    dialog.watched.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.accept()
    saved = load_settings()
    assert (saved.output_format, saved.output_location, saved.threshold, saved.strength,
            saved.jpeg_min_quality, saved.threads) == ("png", "suffix", 0.55, 0.7, 95, 2)
    assert saved.unwatched_roots == [str(lib)]
    assert win.threshold.value() == 55 and win.compare.strength.value() == 70
    assert win.library.watcher.roots == []
