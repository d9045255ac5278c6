"""The window's size, place and splitter positions, kept between starts.

Stored with QSettings in an INI file in the app's config folder (beside the settings), so
that they follow the screen the user has, not the app's defaults.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

from photoenhance.core.paths import config_dir

#: Share of the screen's available area the window takes on first start.
FIRST_START_SHARE = 0.85


def _store() -> QSettings:
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def first_start_size(window: QWidget) -> None:
    """Fit ``window`` to 85 % of its screen's available area, centred."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(1280, 800)
        return
    area = screen.availableGeometry()
    w, h = round(area.width() * FIRST_START_SHARE), round(area.height() * FIRST_START_SHARE)
    window.setGeometry(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2,
                       w, h)


def restore_layout(window: QWidget, splitters: list[QSplitter]) -> bool:
    """Put the window and its splitters back as they were; first start: fit the screen.
    Whether a saved layout was found."""
    store = _store()
    geometry = store.value("window/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        first_start_size(window)
        width = window.width()
        side = min(240, width // 6)
        for splitter in splitters:
            if splitter.count() == 3:  # sidebar, main area, details
                splitter.setSizes([side, width - side - 300, 300])
        return False
    for i, splitter in enumerate(splitters):
        state = store.value(f"window/splitter{i}")
        if state is not None:
            splitter.restoreState(state)
    return True


def save_layout(window: QWidget, splitters: list[QSplitter]) -> None:
    store = _store()
    store.setValue("window/geometry", window.saveGeometry())
    for i, splitter in enumerate(splitters):
        store.setValue(f"window/splitter{i}", splitter.saveState())
    store.sync()
