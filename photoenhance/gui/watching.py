"""Watched roots: the core watch service, its events as signals, and tray alerts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.lane import Remote
from photoenhance.core.library.alerts import Alert
from photoenhance.core.library.watch_service import Indexed, Scored, WatchService
from photoenhance.core.settings import Settings
from photoenhance.gui.bridge import Relay

log = logging.getLogger(__name__)

SNOOZE_S = 3600


def watched_roots(settings: Settings, roots: list[str]) -> list[Path]:
    """Catalog roots that are watched: on by default, off when the user said so."""
    off = set(settings.unwatched_roots)
    return [Path(r) for r in roots if r not in off and Path(r).is_dir()]


class WatchController(QObject):
    """Runs a :class:`WatchService` and re-emits its events on the GUI thread."""

    changed = Signal()  # the catalog changed: reload the grid
    alerted = Signal(str)  # "5 new photos worth fixing"

    def __init__(self, catalog: Catalog, scorer: Remote, parent: Any = None,
                 **service_options: Any) -> None:
        super().__init__(parent)
        self.catalog, self.scorer = catalog, scorer
        self.service: WatchService | None = None
        self.roots: list[Path] = []
        self._options = service_options
        self._relay = Relay(self)
        self._relay.received.connect(self._event)

    def watch(self, roots: list[Path], threshold: float) -> None:
        """(Re)start watching ``roots``; an empty list stops watching."""
        if [r.resolve() for r in roots] == self.roots:
            return
        self.stop()
        if not roots:
            return
        try:
            self.service = WatchService(self.catalog, list(roots), self._relay.callback,
                                        scorer=self.scorer.get_or_none, threshold=threshold,
                                        **self._options).start()
            self.roots = list(self.service.roots)
        except OSError as exc:  # e.g. too many inotify watches
            log.warning("Cannot watch %s: %s", roots, exc)
            self.service = None

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
        self.service, self.roots = None, []

    def snooze(self, seconds: float = SNOOZE_S) -> None:
        if self.service is not None and self.service.digest is not None:
            self.service.digest.snooze(seconds)

    def _event(self, event: object) -> None:
        if isinstance(event, Indexed | Scored):
            self.changed.emit()
        elif isinstance(event, Alert):
            self.alerted.emit(event.message)


class Tray(QObject):
    """A system-tray icon for alerts, with a snooze action; absent where there is no tray."""

    def __init__(self, icon: QIcon, watch: WatchController, parent: Any = None) -> None:
        super().__init__(parent)
        self.icon: QSystemTrayIcon | None = None
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        self.icon = QSystemTrayIcon(icon, self)
        menu = QMenu()
        snooze = QAction("Snooze alerts for an hour", menu)
        snooze.triggered.connect(lambda: watch.snooze(SNOOZE_S))
        menu.addAction(snooze)
        self._menu = menu
        self.icon.setContextMenu(menu)
        self.icon.setToolTip("photoenhance")
        self.icon.show()

    def notify(self, message: str) -> bool:
        """Show a tray message; False when there is no tray (the caller shows it instead)."""
        if self.icon is None:
            return False
        self.icon.showMessage("photoenhance", message, QSystemTrayIcon.MessageIcon.Information,
                              8000)
        return True
