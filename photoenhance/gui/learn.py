""""Learn from my ratings": calibrate the ranker on the user's ratings from the app.

It runs the same core service as ``photoenhance calibrate``
(:func:`photoenhance.core.rank.calibration.calibrate_catalog`) on a worker: fit the user's
last layer, save it, re-rank the whole catalog from the stored vectors. Then the library
reloads and the status bar says what changed ("Ranking updated from your 240 ratings: 1,204
photos moved"), and the app's scorer is reloaded so new photos are scored the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QToolBar

from photoenhance.core.catalog import Catalog
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.gui import bridge
from photoenhance.gui.engines import ModelHolder


def shipped_scorer() -> Any:
    """The ranker with its shipped last layer: calibration always starts from it."""
    from photoenhance.core.rank.scorer import Scorer

    return Scorer.load(use_user_head=False)


class LearnController(QObject):
    """Runs a calibration on ``pool`` and reports it; one at a time."""

    progressed = Signal(object)  # Progress
    finished = Signal(str)  # the status line
    failed = Signal(str)

    def __init__(self, catalog: Catalog, scorer: ModelHolder, pool: QThreadPool,
                 parent: QObject | None = None,
                 load_base: Callable[[], Any] = shipped_scorer) -> None:
        super().__init__(parent)
        self.catalog, self.scorer, self.pool, self.load_base = catalog, scorer, pool, load_base
        self.task: bridge.Task | None = None

    def _work(self, progress: Callable[[Progress], None], cancel: CancelToken) -> str:
        from photoenhance.core.rank.calibration import calibrate_catalog

        outcome = calibrate_catalog(self.catalog, self.load_base(), progress, cancel)
        self.scorer.reset()  # the next photo is scored with the new layer
        return outcome.summary()

    def start(self) -> bridge.Task | None:
        if self.task is not None:
            return None
        task = self.task = bridge.Task(self._work, self)
        task.progressed.connect(self.progressed)
        task.finished.connect(lambda text: self._done(self.finished, str(text)))
        task.failed.connect(lambda text: self._done(self.failed, text))
        task.cancelled.connect(lambda: self._done(self.failed, "Learning cancelled."))
        return bridge.start(task, self.pool)

    def _done(self, signal: Any, text: str) -> None:
        self.task = None
        signal.emit(text)


def add_learn_action(window: Any, bar: QToolBar) -> LearnController:
    """Put "Learn from my ratings" on ``bar`` of the main ``window`` (which has ``catalog``,
    ``scorer``, ``pool``, ``reload``, ``_set_busy`` and ``_scan_progressed``)."""
    learner = LearnController(window.catalog, window.scorer, window.pool, window)
    action = QAction("Learn from my ratings", window)
    action.setToolTip("Fit the ranking to the gains you rated (in Compare or Review, keys "
                      "1-4) and re-rank the whole library")
    action.triggered.connect(lambda: _start(window, learner))
    bar.addAction(action)
    learner.progressed.connect(window._scan_progressed)
    learner.finished.connect(lambda text: _finish(window, text))
    learner.failed.connect(lambda text: _finish(window, text))
    return learner


def _start(window: Any, learner: LearnController) -> None:
    if learner.start() is not None:
        window._set_busy(True, "Learning from your ratings…")


def _finish(window: QMainWindow, text: str) -> None:
    window._set_busy(False)  # type: ignore[attr-defined]
    window.statusBar().showMessage(text)
    window.reload()  # type: ignore[attr-defined]
