"""The main window's layout: toolbar, the library, compare, batch and review tabs, status bar.

Behaviour lives in the controllers (``LibraryController``, ``CompareController``,
``BatchController``, ``ReviewController``); this module lays out widgets and routes between
tabs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QTabWidget,
    QToolBar,
    QWidget,
)

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.lane import LazyModel
from photoenhance.core.paths import cache_dir
from photoenhance.core.settings import Settings, save_settings
from photoenhance.gui import bridge, jobs
from photoenhance.gui.batch_controller import BatchController
from photoenhance.gui.batch_view import BatchView
from photoenhance.gui.compare_controller import CompareController
from photoenhance.gui.compare_view import CompareView
from photoenhance.gui.details_view import DetailsPanel
from photoenhance.gui.eta import format_eta
from photoenhance.gui.inference import ENHANCER, SCORER, new_lane
from photoenhance.gui.layout import restore_layout, save_layout
from photoenhance.gui.learn import LearnController, learn_action
from photoenhance.gui.library_controller import LibraryController
from photoenhance.gui.library_view import LibraryView
from photoenhance.gui.models import PhotoFilterModel, PhotoTableModel
from photoenhance.gui.review import ReviewController, ReviewView, enhanced_items
from photoenhance.gui.settings_dialog import SettingsDialog
from photoenhance.gui.thumbs import ThumbnailCache

__all__ = ["DetailsPanel", "MainWindow", "format_eta"]

#: Tabs of the main window, in order.
LIBRARY, COMPARE, BATCH, REVIEW = range(4)

Ask = Callable[[str, str], bool]


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The library, compare and batch views. Every catalog or disk operation runs on a worker.

    ``enhancer`` and ``scorer`` load models lazily on the inference lane, which owns them
    (tests pass tiny ones); ``ask`` answers yes/no questions (a dialog by default);
    ``watch_options`` go to the core watch service, and ``watch=False`` turns watching off.
    """

    rows_loaded = Signal(int)  # number of rows, for tests and the status line

    def __init__(self, catalog: Catalog, settings: Settings, *,
                 enhancer: LazyModel | None = None, scorer: LazyModel | None = None,
                 ask: Ask | None = None, watch: bool = True,
                 watch_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.catalog, self.settings = catalog, settings
        #: the one thread that runs the models (previews, batches, scoring)
        self.lane = new_lane(lambda: self.settings, enhancer, scorer)
        self.enhancer, self.scorer = self.lane.models[ENHANCER], self.lane.models[SCORER]
        self.ask: Ask = ask or (lambda title, text: ask_yes_no(self, title, text))
        self.pool = QThreadPool.globalInstance()  # I/O: decoding, scans, catalog reads
        self.setWindowTitle("photoenhance")
        self.model = PhotoTableModel(self)
        self.proxy = PhotoFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self._build_toolbar()
        self._build_body()
        self._build_statusbar()
        self.library = LibraryController(self, catalog, lambda: self.settings, self.lane,
                                         self.pool, watch, watch_options)
        self.library.rows_loaded.connect(self.rows_loaded)
        self.library.changed_settings.connect(self._save_settings)
        self.library.set_busy(False)
        self.learner = LearnController(catalog, self.lane, self)
        self.toolbar.insertAction(self._learn_slot,
                                  learn_action(self, self.learner, self.library))
        self._build_controllers()
        restore_layout(self, [self.split])
        self.library.reload()

    # --- layout -------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = self.toolbar = QToolBar("Library", self)
        bar.setMovable(False)
        self.addToolBar(bar)
        add = QAction("Add folder…", self, shortcut=QKeySequence.StandardKey.Open)
        add.triggered.connect(self._ask_add_root)
        rescan = QAction("Rescan", self, shortcut=QKeySequence(Qt.Key.Key_F5))
        rescan.triggered.connect(lambda: self.library.start_scan(self.library.root_paths()))
        settings = QAction("Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        for action in (add, rescan, settings):
            bar.addAction(action)
        self._learn_slot = bar.addSeparator()  # "Learn from my ratings" goes before it
        self.worth_fixing = QCheckBox("Worth fixing")
        self.worth_fixing.setShortcut(QKeySequence("Ctrl+W"))
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(int(round(self.settings.threshold * 100)))
        self.threshold.setFixedWidth(160)
        self.threshold.setToolTip("Minimum improvability score of a photo worth fixing")
        self.count_label = QLabel("")
        self.enhance_button = QPushButton("Enhance worth-fixing")
        self.enhance_button.setToolTip("Enhance every photo above the threshold (Ctrl+E)")
        self.enhance_button.clicked.connect(self.enhance_worth_fixing)
        for widget in (self.worth_fixing, self.threshold, self.count_label, self.enhance_button):
            bar.addWidget(widget)
        bar.addSeparator()
        self.grid_action = QAction("Grid", self, shortcut=QKeySequence("Ctrl+G"), checkable=True,
                                   checked=True)
        self.grid_action.triggered.connect(lambda: self.show_grid(True))
        self.list_action = QAction("List", self, shortcut=QKeySequence("Ctrl+L"), checkable=True)
        self.list_action.triggered.connect(lambda: self.show_grid(False))
        bar.addAction(self.grid_action)
        bar.addAction(self.list_action)

    def _shortcuts(self) -> None:
        keys: dict[str, Callable[[], object]] = {
            "Ctrl+F": self.search.setFocus, "Ctrl+E": self.enhance_worth_fixing,
            "Ctrl+Shift+E": self.enhance_selection,
            "Ctrl+1": lambda: self.tabs.setCurrentIndex(LIBRARY),
            "Ctrl+2": lambda: self.tabs.setCurrentIndex(COMPARE),
            "Ctrl+3": lambda: self.tabs.setCurrentIndex(BATCH),
            "Ctrl+4": lambda: self.tabs.setCurrentIndex(REVIEW),
            "Ctrl+R": self.review_enhanced,
        }
        for key, slot in keys.items():
            action = QAction(self, shortcut=QKeySequence(key))
            action.triggered.connect(slot)
            self.addAction(action)

    def _build_body(self) -> None:
        self.thumbs = ThumbnailCache(cache_dir() / "thumbnails", parent=self)
        lib = self.library_view = LibraryView(self.proxy, self.thumbs)
        lib.grid.delegate.threshold = self.settings.threshold
        # the library's widgets, for the controllers and the tests
        self.split, self.roots, self.table, self.grid = lib, lib.roots, lib.table, lib.grid
        self.views, self.details, self.empty_hint = lib.views, lib.details, lib.empty_hint
        self.demo_button, self.review_button, self.search = (lib.demo_button, lib.review_button,
                                                             lib.search)
        self.show_kind, self.sort = lib.show_kind, lib.sort
        self.table.doubleClicked.connect(lambda _i: self.open_compare())
        lib.open_action.triggered.connect(self.open_compare)
        self.grid.activated.connect(lambda _i: self.open_compare())
        lib.add_button.clicked.connect(self._ask_add_root)
        self.review_button.clicked.connect(self.review_enhanced)
        self.compare = CompareView(self.settings.strength)
        self.batch = BatchView(self.thumbs)
        self.review = ReviewView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for view, name in ((lib, "Library"), (self.compare, "Compare"), (self.batch, "Batch"),
                           (self.review, "Review")):
            self.tabs.addTab(view, name)
        self.setCentralWidget(self.tabs)
        self._shortcuts()

    def show_grid(self, grid: bool) -> None:
        """Thumbnails (True) or the detailed list (False)."""
        self.views.setCurrentWidget(self.grid if grid else self.table)
        if not grid:
            self.thumbs.clear_pending()  # drop thumbnails queued for the grid just left
        self.grid_action.setChecked(grid)
        self.list_action.setChecked(not grid)

    def _build_statusbar(self) -> None:
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(280)
        self.eta_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.snooze_button = QPushButton("Snooze alerts for an hour")
        self.snooze_button.hide()
        for w in (self.eta_label, self.progress, self.cancel_button, self.snooze_button):
            lay.addWidget(w)
        self.statusBar().addPermanentWidget(box)

    def _build_controllers(self) -> None:
        self.comparer = CompareController(self.compare, self.catalog, self.lane, self.pool,
                                          self)
        self.comparer.message.connect(self.statusBar().showMessage)
        self.comparer.rating_saved.connect(
            lambda _path, label, pid: self.model.update_row(pid, rating=label))
        self.compare.navigated.connect(self.step)
        self.comparer.set_auto_strength(self.settings.auto_strength)
        self.comparer.set_tone(self.settings.tone)
        self.compare.closed.connect(lambda: self.tabs.setCurrentIndex(LIBRARY))
        self.tabs.currentChanged.connect(self._route_escape)
        self.batcher = BatchController(self.batch, self.catalog, lambda: self.settings,
                                       self.lane, self.pool, self)
        self.batch.enhance_worth_fixing.connect(self.enhance_worth_fixing)
        self.batch.enhance_selection.connect(self.enhance_selection)
        self.batcher.finished.connect(self._batch_finished)
        self.batcher.started.connect(
            lambda _j: self.statusBar().showMessage("Enhancing… (Esc in the Batch tab: Cancel)"))
        self.batch.review_requested.connect(self.review_batch)
        self.batcher.stopped.connect(lambda _j: self.statusBar().showMessage(
            "Batch cancelled: Resume in the Batch tab continues it; Review shows what it "
            "wrote."))
        self.batcher.failed.connect(self.statusBar().showMessage)
        self.batch.review_from.connect(lambda output: self.review_batch(output))
        review_key = QAction(self.batch, shortcut=QKeySequence("R"))
        review_key.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        review_key.triggered.connect(self.review_batch)
        self.batch.addAction(review_key)
        self.reviewer = ReviewController(self.review, self.catalog, self.pool, self)
        self.reviewer.rating_saved.connect(
            lambda _path, label, pid: self.model.update_row(pid, rating=label))
        self.review.closed.connect(lambda: self.tabs.setCurrentIndex(self._review_from))
        self._review_from = LIBRARY
        self.reviewer.rejected_photos.connect(lambda _ids: self.library.reload_soon.start())

    def _ask_add_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.library.start_scan([Path(folder)])

    def _route_escape(self, index: int) -> None:
        """Esc closes the compare view there, and cancels a running scan elsewhere: two
        active Esc shortcuts would be ambiguous, and Qt would fire neither."""
        key = (QKeySequence() if index in (COMPARE, REVIEW)
               else QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.setShortcut(key)

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, "photoenhance", message)

    # --- compare ------------------------------------------------------------------------
    def open_compare(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            if self.proxy.rowCount() == 0:
                return
            self.table.setCurrentIndex(self.proxy.index(0, 0))
            index = self.table.currentIndex()
        self.tabs.setCurrentIndex(COMPARE)
        self.compare.setFocus()
        self.comparer.open(index.data(PhotoTableModel.ROW_ROLE))

    def step(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) photo of the library's current order."""
        row = self.table.currentIndex().row() + delta
        if not 0 <= row < self.proxy.rowCount():
            return
        self.table.setCurrentIndex(self.proxy.index(row, 0))
        self.comparer.open(self.proxy.index(row, 0).data(PhotoTableModel.ROW_ROLE))

    # --- batch --------------------------------------------------------------------------
    def enhance_worth_fixing(self) -> None:
        self.tabs.setCurrentIndex(BATCH)
        self.batcher.start_worth_fixing()

    def enhance_selection(self) -> None:
        rows = self.library.selected_rows()
        if not rows:
            self.statusBar().showMessage("Select photos in the library first.")
            return
        self.tabs.setCurrentIndex(BATCH)
        self.batcher.start_files([r.path for r in rows])

    def _batch_finished(self, outcome: jobs.BatchOutcome) -> None:
        s = outcome.summary
        done = sum(1 for it in outcome.items if it.status == "done" and it.output)
        text = "Batch finished." if s is None else (
            f"Batch finished: {s.done} enhanced, {s.failed} failed, {s.skipped} skipped.")
        if done:
            text += " Review the results (R in the Batch tab) to keep or reject each."
        self.statusBar().showMessage(text)
        self.library.reload()

    # --- review -------------------------------------------------------------------------
    def review_batch(self, start_at: str | None = None) -> int:
        """Review the written copies of the batch shown in the Batch tab (from the one
        written to ``start_at``); how many."""
        return self._review(self.batch.model.items(), BATCH, start_at)

    def _review(self, items: list[jobs.ItemState], came_from: int,
                start_at: str | None = None) -> int:
        self._review_from = came_from
        n = self.reviewer.start(items, start_at)
        self.tabs.setCurrentIndex(REVIEW)
        self.review.setFocus()
        return n

    def review_enhanced(self) -> bridge.Task | None:
        """Review the enhanced photos the library shows (all enhanced ones if it shows none)."""
        ids = [r.id for r in self.model.shown_rows() if r.enhanced] or [
            r.id for r in self.model.all_rows() if r.enhanced]
        if not ids:
            self.statusBar().showMessage("No enhanced photo to review yet.")
            return None
        task = bridge.Task(lambda _p, _c: enhanced_items(self.catalog, ids), self)
        task.finished.connect(lambda items: self._review(items, LIBRARY))
        task.failed.connect(self.show_error)
        return bridge.start(task, self.pool)

    def check_interrupted(self) -> bridge.Task:
        """Offer to resume batches that a crash or a quit left unfinished."""
        task = bridge.Task(jobs.interrupted_jobs(self.catalog), self)
        task.finished.connect(self._offer_resume)
        return bridge.start(task, self.pool)

    def _offer_resume(self, found: object) -> None:
        found = list(found)  # type: ignore[call-overload]
        if not found:
            return
        left = sum(n for _, n in found)
        if self.ask("Resume enhancing?", f"An earlier batch stopped with {left} photo"
                    f"{'s' if left != 1 else ''} left. Resume it now?"):
            self.tabs.setCurrentIndex(BATCH)
            self.batcher.run(found[-1][0])
        else:
            self.batcher.job_id = found[-1][0]
            self.batch.set_running(False, resumable=True)
            self.batch.status.setText(f"{left} photos are waiting from an earlier batch. "
                                      "Resume continues it.")

    # --- settings, quit -------------------------------------------------------------------
    def open_settings(self) -> SettingsDialog:
        roots = self.library.root_strings()
        dialog = SettingsDialog(self.settings, roots, self)
        dialog.accepted.connect(lambda: self._settings_saved(dialog))
        dialog.open()
        return dialog

    def _settings_saved(self, dialog: SettingsDialog) -> None:
        self.apply_settings(dialog.result_settings())
        added = [Path(f) for f in dialog.added_folders()]
        if added:
            self.library.start_scan(added)  # a folder added to watch joins the library

    def apply_settings(self, settings: Settings) -> None:
        if settings.device != self.settings.device:
            self.enhancer.reset()  # reloads on the new device the next time it is needed
        self.lane.set_threads(settings.threads)
        self.settings = settings
        self._save_settings()
        self.threshold.setValue(round(settings.threshold * 100))
        self.compare.strength.setValue(round(settings.strength * 100))
        self.comparer.set_auto_strength(settings.auto_strength)
        self.comparer.set_tone(settings.tone)
        self.library.update_count()
        self.library.update_watch(restart=True)

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("Could not save settings: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.batcher.running:
            if not self.ask("Quit photoenhance?", "A batch is running. Quit now? It stops "
                            "at once and is offered for resume next time you start."):
                event.ignore()
                return
            self.batcher.cancel()
        self.library.stop()
        self.thumbs.clear_pending()
        self.comparer.cancel()
        self.lane.close(10.0)  # queued work is dropped; the running job stops at its next tile
        self.pool.waitForDone(10_000)  # a cancelled scan commits what it did, then stops
        self._save_settings()
        save_layout(self, [self.split])
        event.accept()
