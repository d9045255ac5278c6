""""Learn from my ratings": calibrate the ranker on the user's ratings from the app.

It runs the same core service as ``photoenhance calibrate``
(:func:`photoenhance.core.rank.calibration.calibrate_catalog`) on the inference lane (it
loads the ranker and fits its last layer): fit the user's last layer, save it, re-rank the
whole catalog from the stored vectors. Then the library reloads and the status bar says what
changed ("Ranking updated from your 240 ratings: 1,204 photos moved"), and the lane's scorer
is reloaded so new photos are scored the same way. The status bar's Cancel stops it between
steps; what was saved stays consistent (the layer is saved before the re-rank, which commits
in one transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.gui import bridge
from photoenhance.gui.inference import SCORER

if TYPE_CHECKING:
    from photoenhance.gui.library_controller import LibraryController


def shipped_scorer() -> Any:
    """The ranker with its shipped last layer: calibration always starts from it."""
    from photoenhance.core.rank.scorer import Scorer

    return Scorer.load(use_user_head=False)


class LearnController(QObject):
    """Runs a calibration on the inference lane and reports it; one at a time."""

    progressed = Signal(object)  # Progress
    finished = Signal(str)  # the status line
    failed = Signal(str)

    def __init__(self, catalog: Catalog, lane: InferenceLane, parent: QObject | None = None,
                 load_base: Callable[[], Any] = shipped_scorer) -> None:
        super().__init__(parent)
        self.catalog, self.lane, self.load_base = catalog, lane, load_base
        self.task: bridge.Task | None = None

    def _work(self, progress: Callable[[Progress], None], cancel: CancelToken) -> str:
        from photoenhance.core.rank.calibration import calibrate_catalog

        outcome = calibrate_catalog(self.catalog, self.load_base(), progress, cancel)
        self.lane.models[SCORER].reset()  # the next photo is scored with the new layer
        return outcome.summary()

    def start(self) -> bridge.Task | None:
        if self.task is not None:
            return None
        task = self.task = bridge.Task(self._work, self)
        task.progressed.connect(self.progressed)
        task.finished.connect(lambda text: self._done(self.finished, str(text)))
        task.failed.connect(lambda text: self._done(self.failed, text))
        task.cancelled.connect(lambda: self._done(self.failed, "Learning cancelled."))
        return bridge.start_on_lane(task, self.lane)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _done(self, signal: Any, text: str) -> None:
        self.task = None
        signal.emit(text)


def learn_action(parent: QObject, learner: LearnController,
                 library: LibraryController) -> QAction:
    """The toolbar's "Learn from my ratings": runs ``learner`` and shows it in the status bar
    through ``library`` (busy, progress, Cancel, then a reload)."""
    action = QAction("Learn from my ratings", parent)
    action.setToolTip("Fit the ranking to the gains you rated (in Compare or Review, keys "
                      "1-4) and re-rank the whole library")

    def start() -> None:
        if learner.start() is not None:
            library.set_busy(True, "Learning from your ratings…")

    action.triggered.connect(start)
    learner.progressed.connect(library.show_progress)
    learner.finished.connect(library.finish_task)
    learner.failed.connect(library.finish_task)
    library.w.cancel_button.clicked.connect(learner.cancel)
    return action
