"""The main window: roots sidebar, ranked library table, details, and background progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QModelIndex, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from photoenhance.core.catalog import Catalog
from photoenhance.core.library.scan import ScanSummary
from photoenhance.core.paths import cache_dir
from photoenhance.core.progress import Progress
from photoenhance.core.settings import Settings, save_settings
from photoenhance.gui import bridge, gcpolicy, jobs, tasks
from photoenhance.gui.batch_controller import BatchController
from photoenhance.gui.batch_view import BatchView
from photoenhance.gui.compare_controller import CompareController
from photoenhance.gui.compare_view import CompareView
from photoenhance.gui.engines import ModelHolder, default_enhancer, default_scorer
from photoenhance.gui.eta import format_eta
from photoenhance.gui.grid_view import LibraryGrid
from photoenhance.gui.layout import restore_layout, save_layout
from photoenhance.gui.learn import add_learn_action
from photoenhance.gui.models import (
    FACTORS,
    FILTER_KINDS,
    PhotoFilterModel,
    PhotoRow,
    PhotoTableModel,
)
from photoenhance.gui.review import ReviewController, ReviewView, enhanced_items
from photoenhance.gui.settings_dialog import SettingsDialog
from photoenhance.gui.thumbs import ThumbnailCache
from photoenhance.gui.verdicts import format_gain, item_gain, item_verdict
from photoenhance.gui.watching import Tray, WatchController, watched_roots

__all__ = ["DetailsPanel", "MainWindow", "format_eta"]

RATING_WORDS = {2: "significant gain", 1: "moderate gain", 0: "neutral", -1: "regressed"}

#: Library orders: (words, model column, order).
SORTS = (("Most improvable first", 0, Qt.SortOrder.DescendingOrder),
         ("Name", 1, Qt.SortOrder.AscendingOrder),
         ("Newest first", 5, Qt.SortOrder.DescendingOrder),
         ("Oldest first", 5, Qt.SortOrder.AscendingOrder))

#: Tabs of the main window, in order.
LIBRARY, COMPARE, BATCH, REVIEW = range(4)

Ask = Callable[[str, str], bool]


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes

log = logging.getLogger(__name__)


class DetailsPanel(QStackedWidget):
    """The selected photo's file facts, EXIF, score and enhancement; a hint when none is."""

    lens_shown = Signal(str)  # the path whose lens (read on a worker) is now shown

    KEYS = ("Name", "Folder", "Size", "Camera", "Lens", "Captured", "Score", "Predicted gain",
            *FACTORS, "Enhanced", "Verdict", "Rating")

    def __init__(self) -> None:
        super().__init__()
        self.placeholder = QLabel("No photo selected.\n\nClick a photo to see its camera, lens, "
                                  "capture date, score and what enhancing it would gain.\n\n"
                                  "Enter or a double-click opens it in Compare.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #9a9a9a; padding: 16px;")
        page = QWidget()
        self._form = QFormLayout(page)
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._labels: dict[str, QLabel] = {}
        for key in self.KEYS:
            label = QLabel("")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._labels[key] = label
            name = QLabel(key.capitalize() if key in FACTORS else key)
            name.setStyleSheet("color: #9a9a9a;")
            self._form.addRow(name, label)
        self.addWidget(self.placeholder)
        self.addWidget(page)
        self.row: PhotoRow | None = None

    def show_row(self, row: PhotoRow | None) -> None:
        self.row = row
        if row is None:
            self.setCurrentWidget(self.placeholder)
            return
        self.setCurrentIndex(1)
        values: dict[str, str] = dict.fromkeys(self._labels, "")
        gain = item_gain(row)
        values.update(
            Name=row.name, Folder=row.folder, Camera=row.camera or "not recorded",
            Lens="…", Captured=row.captured or "not recorded",
            Size=f"{row.width} × {row.height}" if row.width and row.height else "",
            Score="not scored yet" if row.score is None else f"{row.score:.2f}",
        )
        values["Predicted gain"] = "" if gain is None else format_gain(gain)
        for k in FACTORS:
            v = (row.factors or {}).get(k)
            values[k] = "" if v is None else f"{v:.2f}"
        if row.unreadable:
            values.update(Score=f"unreadable: {row.unreadable}", Lens="")
        elif row.tiny:
            values["Score"] += "  (too small to judge)"
        values["Enhanced"] = "yes" if row.enhanced else "not yet"
        if row.enhanced:
            values["Verdict"] = item_verdict(row) or "not verified"
            if row.verified_delta is not None:
                values["Verdict"] += f"  ({row.verified_delta:+.1f} dB measured)"
        values["Rating"] = RATING_WORDS.get(row.rating, "") if row.rating is not None else ""
        for key, text in values.items():
            self._labels[key].setText(text)
            self._form.setRowVisible(self._labels[key], bool(text) or key == "Lens")

    def show_lens(self, path: str, lens: str | None) -> None:
        if self.row is not None and self.row.path == path:
            self._labels["Lens"].setText(lens or "not recorded")
            self.lens_shown.emit(path)


class MainWindow(QMainWindow):
    """The library, compare and batch views. Every catalog or disk operation runs on a worker.

    ``enhancer`` and ``scorer`` load models lazily on workers (tests pass tiny ones);
    ``ask`` answers yes/no questions (a dialog by default); ``watch_options`` go to the
    core watch service, and ``watch=False`` turns watching off.
    """

    rows_loaded = Signal(int)  # number of rows, for tests and the status line

    def __init__(self, catalog: Catalog, settings: Settings, *,
                 enhancer: ModelHolder | None = None, scorer: ModelHolder | None = None,
                 ask: Ask | None = None, watch: bool = True,
                 watch_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.catalog, self.settings = catalog, settings
        self.enhancer = enhancer or ModelHolder(lambda: default_enhancer(self.settings),
                                                "Enhancement model")
        self.scorer = scorer or ModelHolder(default_scorer, "Scores")
        self.ask: Ask = ask or (lambda title, text: ask_yes_no(self, title, text))
        self.pool = QThreadPool.globalInstance()
        self.preview_lane, self.batch_lane = QThreadPool(self), QThreadPool(self)
        for lane in (self.preview_lane, self.batch_lane):
            lane.setMaxThreadCount(1)  # one inference lane each: models run serially
        self._scan_task: bridge.Task | None = None
        self._unscorable: dict[int, str] = {}  # photo id -> why scoring could not read it
        self._watch_enabled = watch
        self.setWindowTitle("photoenhance")
        self.model = PhotoTableModel(self)
        self.proxy = PhotoFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self._build_toolbar()
        self._build_body()
        self._build_statusbar()
        self._build_controllers(watch_options or {})
        restore_layout(self, [self.split])
        self.reload()

    # --- layout -------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Library", self)
        bar.setMovable(False)
        self.addToolBar(bar)
        add = QAction("Add folder…", self, shortcut=QKeySequence.StandardKey.Open)
        add.triggered.connect(self._ask_add_root)
        rescan = QAction("Rescan", self, shortcut=QKeySequence(Qt.Key.Key_F5))
        rescan.triggered.connect(lambda: self.start_scan(self._root_paths()))
        settings = QAction("Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        for action in (add, rescan, settings):
            bar.addAction(action)
        self.learner = add_learn_action(self, bar)  # "Learn from my ratings"
        bar.addSeparator()
        self.worth_fixing = QCheckBox("Worth fixing")
        self.worth_fixing.setShortcut(QKeySequence("Ctrl+W"))
        self.worth_fixing.toggled.connect(self._apply_filter)
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(int(round(self.settings.threshold * 100)))
        self.threshold.setFixedWidth(160)
        self.threshold.setToolTip("Minimum improvability score of a photo worth fixing")
        self.threshold.valueChanged.connect(self._threshold_changed)
        self.count_label = QLabel("")
        self.enhance_button = QPushButton("Enhance worth-fixing")
        self.enhance_button.setToolTip("Enhance every photo above the threshold (Ctrl+E)")
        self.enhance_button.clicked.connect(self.enhance_worth_fixing)
        self.search = QLineEdit(placeholderText="Search file names  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_text)
        self.show_kind = QComboBox()
        for key, (text, _test) in FILTER_KINDS.items():
            self.show_kind.addItem(text, key)
        self.show_kind.setToolTip("Which photos to show")
        self.show_kind.currentIndexChanged.connect(
            lambda _i: self.proxy.set_kind(self.show_kind.currentData()))
        self.sort = QComboBox()
        for text, _col, _order in SORTS:
            self.sort.addItem(text)
        self.sort.setToolTip("Sort the library")
        self.sort.currentIndexChanged.connect(self.sort_by)
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
        self.search.setMinimumWidth(150)
        self.search.setMaximumWidth(320)
        self._shortcuts()

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
        self.roots = QListWidget()
        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(6, 6, 0, 0)
        title = QLabel("LIBRARY FOLDERS")
        title.setStyleSheet("color: #8a8a8a; font-size: 11px; letter-spacing: 1px;")
        side.addWidget(title)
        side.addWidget(self.roots)
        sidebar.setMaximumWidth(260)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(len(PhotoTableModel.COLUMNS) - 1,
                                    QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((64, 220, 110, 84, 110, 120)):
            header.resizeSection(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda _i: self.open_compare())
        enter = QAction(self.table, shortcut=QKeySequence(Qt.Key.Key_Return))
        enter.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        enter.triggered.connect(self.open_compare)
        self.table.addAction(enter)
        self.details = DetailsPanel()
        self.details.setMinimumWidth(240)
        split = self.split = QSplitter()
        for w in (sidebar, self._centre(), self.details):
            split.addWidget(w)
        split.setStretchFactor(1, 1)
        split.setCollapsible(1, False)
        self.compare = CompareView(self.settings.strength)
        self.batch = BatchView(self.thumbs)
        self.review = ReviewView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(split, "Library")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.addTab(self.batch, "Batch")
        self.tabs.addTab(self.review, "Review")
        self.setCentralWidget(self.tabs)

    def _centre(self) -> QWidget:
        self.empty_hint = QWidget()
        hint = QVBoxLayout(self.empty_hint)
        text = QLabel("Your library is empty.\nAdd a folder of photos (Ctrl+O) to rank them "
                      "by how much they would gain from enhancement.")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        add = QPushButton("Add a photo folder…")
        add.clicked.connect(self._ask_add_root)
        self.demo_button = QPushButton("Try the demo library")
        self.demo_button.clicked.connect(self.start_demo)
        hint.addStretch(1)
        hint.addWidget(text)
        for b in (add, self.demo_button):
            hint.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        hint.addStretch(1)
        self.thumbs = ThumbnailCache(cache_dir() / "thumbnails", parent=self)
        self.grid = LibraryGrid(self.thumbs)
        self.grid.setModel(self.proxy)
        self.grid.delegate.threshold = self.settings.threshold
        self.grid.setSelectionModel(self.table.selectionModel())  # one selection, two views
        self.grid.activated.connect(lambda _i: self.open_compare())
        self.views = QStackedWidget()
        self.views.addWidget(self.grid)
        self.views.addWidget(self.table)
        self.review_button = QPushButton("Review enhanced")
        self.review_button.setToolTip("Step through the enhanced photos shown: keep or reject "
                                      "each copy, rate the gain (Ctrl+R)")
        self.review_button.clicked.connect(self.review_enhanced)
        filters = QHBoxLayout()  # in the library itself: never hidden in a toolbar overflow
        filters.setContentsMargins(4, 4, 4, 0)
        filters.addWidget(QLabel("Show"))
        filters.addWidget(self.show_kind)
        filters.addWidget(QLabel("Sort"))
        filters.addWidget(self.sort)
        filters.addWidget(self.review_button)
        filters.addStretch(1)
        filters.addWidget(self.search, 1)
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(filters)
        lay.addWidget(self.empty_hint)
        lay.addWidget(self.views)
        return centre

    def show_grid(self, grid: bool) -> None:
        """Thumbnails (True) or the detailed list (False)."""
        self.views.setCurrentWidget(self.grid if grid else self.table)
        if not grid:
            self.thumbs.clear_pending()  # drop thumbnails queued for the grid just left
        self.grid_action.setChecked(grid)
        self.list_action.setChecked(not grid)

    def sort_by(self, key: int) -> None:
        column, order = SORTS[key][1:]
        self.table.sortByColumn(column, order)

    def _build_statusbar(self) -> None:
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(280)
        self.eta_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel_scan)
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.snooze_button = QPushButton("Snooze alerts for an hour")
        self.snooze_button.clicked.connect(self.snooze_alerts)
        self.snooze_button.hide()
        for w in (self.eta_label, self.progress, self.cancel_button, self.snooze_button):
            lay.addWidget(w)
        self.statusBar().addPermanentWidget(box)
        self._set_busy(False)

    def _build_controllers(self, watch_options: dict[str, Any]) -> None:
        self.comparer = CompareController(self.compare, self.catalog, self.enhancer,
                                          self.preview_lane, self.pool, self)
        self.comparer.message.connect(self.statusBar().showMessage)
        self.comparer.rating_saved.connect(
            lambda _path, label, pid: self.model.update_row(pid, rating=label))
        self.compare.navigated.connect(self.step)
        self.comparer.set_auto_strength(self.settings.auto_strength)
        self.compare.closed.connect(lambda: self.tabs.setCurrentIndex(LIBRARY))
        self.tabs.currentChanged.connect(self._route_escape)
        self.batcher = BatchController(self.batch, self.catalog, lambda: self.settings,
                                       self.enhancer, self.batch_lane, self.pool, self)
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
        self.watcher = WatchController(self.catalog, self.scorer, self, **watch_options)
        self._lens_soon = QTimer(self, singleShot=True, interval=120)
        self._lens_soon.timeout.connect(self._read_lens)
        self._reload_soon = QTimer(self, singleShot=True, interval=300)
        self._reload_soon.timeout.connect(self.reload)
        self.reviewer.rejected_photos.connect(lambda _ids: self._reload_soon.start())
        self._reload_scored = QTimer(self, singleShot=True, interval=1500)
        self._reload_scored.timeout.connect(self.reload)
        self.watcher.changed.connect(self._reload_soon.start)
        self.tray = Tray(self.windowIcon(), self.watcher, self)
        self.watcher.alerted.connect(self._alert)

    # --- library ------------------------------------------------------------------------
    def reload(self) -> None:
        task = bridge.Task(gcpolicy.bulk_load(tasks.load_rows(self.catalog)), self)
        task.finished.connect(self._rows_arrived)
        task.failed.connect(self._show_error)
        bridge.start(task, self.pool)

    def _rows_arrived(self, result: object) -> None:
        roots, loaded = cast(tuple[list[str], list[PhotoRow]], result)
        rows = loaded
        if self._unscorable:
            rows = [replace(r, unreadable=self._unscorable[r.id])
                    if r.id in self._unscorable and r.score is None else r for r in rows]
        self.roots.clear()
        for root in roots:
            item = QListWidgetItem(Path(root).name or root)
            item.setData(Qt.ItemDataRole.UserRole, root)
            item.setToolTip(root)
            self.roots.addItem(item)
        keep = self.details.row.id if self.details.row is not None else None
        self.model.set_rows(rows)
        if keep is not None and (at := self.model.row_of(keep)) >= 0:  # the same photo, fresh
            self.table.setCurrentIndex(self.proxy.index(at, 0))
        else:
            self.details.show_row(None)
        unreadable = enhanced = 0
        for r in rows:
            unreadable += r.unreadable is not None
            enhanced += r.enhanced
        i = self.show_kind.findData("unreadable")
        self.show_kind.setItemText(i, f"Unreadable ({unreadable})")
        self.review_button.setEnabled(enhanced > 0)
        self.review_button.setToolTip(
            f"Step through the {enhanced} enhanced photo{'s' if enhanced != 1 else ''}: keep "
            "or reject each copy, rate the gain (Ctrl+R)" if enhanced else
            "Nothing to review yet: enhanced photos appear here after a batch")
        self.empty_hint.setVisible(not rows)
        self.views.setVisible(bool(rows))
        self._update_count()
        self._update_watch()
        self.rows_loaded.emit(len(rows))

    def _root_paths(self) -> list[Path]:
        return [Path(r) for r in self._root_strings()]

    def _root_strings(self) -> list[str]:
        return [self.roots.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.roots.count())]

    def _ask_add_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.start_scan([Path(folder)])

    def start_demo(self) -> bridge.Task | None:
        """Write the demo library (degraded variants of the shipped photos), then scan it."""
        from photoenhance.core.paths import data_dir
        from photoenhance.gui.demo import make_demo_library

        folder = data_dir() / "demo-library"
        task = bridge.Task(lambda _p, _c: make_demo_library(folder), self)
        task.finished.connect(lambda root: self.start_scan([root]))
        task.failed.connect(self._show_error)
        self.statusBar().showMessage("Preparing the demo library…")
        return bridge.start(task, self.pool)

    def start_scan(self, roots: list[Path]) -> bridge.Task | None:
        if not roots or self._scan_task is not None:
            return None
        for r in roots:
            if str(r) not in self.settings.watched_roots:
                self.settings.watched_roots.append(str(r))
        self._save_settings()
        task = bridge.Task(tasks.scan_roots(self.catalog, roots, self.scorer), self)
        task.progressed.connect(self._scan_progressed)
        task.finished.connect(self._scan_finished)
        task.failed.connect(self._scan_failed)
        task.cancelled.connect(lambda: self._scan_done("Scan cancelled."))
        self._scan_task = task
        self._set_busy(True, "Scanning…")
        return bridge.start(task, self.pool)

    def _route_escape(self, index: int) -> None:
        """Esc closes the compare view there, and cancels a running scan elsewhere: two
        active Esc shortcuts would be ambiguous, and Qt would fire neither."""
        key = (QKeySequence() if index in (COMPARE, REVIEW)
               else QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.setShortcut(key)

    def cancel_scan(self) -> None:
        if self._scan_task is not None:
            self._scan_task.cancel()
            self.statusBar().showMessage("Cancelling…")

    def _scan_progressed(self, p: Progress) -> None:
        if p.message == "scored" and not self._reload_scored.isActive():
            self._reload_scored.start()  # the grid fills in as scores arrive
        self.progress.setRange(0, p.total or 0)
        self.progress.setValue(p.done)
        self.progress.setFormat(f"%v / %m {p.message or 'files'}")
        self.eta_label.setText(format_eta(p.eta_s))

    def _scan_finished(self, outcome: object) -> None:
        summary = getattr(outcome, "summary", outcome)
        if isinstance(summary, ScanSummary):
            c = summary.counts()
            text = (f"Scan finished: {c['added']} added, {c['updated']} updated, "
                    f"{c['moved']} moved, {c['missing']} missing, {c['unreadable']} unreadable.")
        else:
            text = "Scan finished."
        note = getattr(outcome, "scoring_note", None)
        if note:
            text += f" {note}"
        self._unscorable = dict(getattr(outcome, "failed", []) or [])
        if self._unscorable:
            n = len(self._unscorable)
            text += f" {n} photo{'s' if n != 1 else ''} could not be decoded for scoring."
        self._scan_done(text)

    def _scan_failed(self, message: str) -> None:
        self._scan_done("Scan stopped.")
        self._show_error(message)

    def _scan_done(self, text: str) -> None:
        self._scan_task = None
        self._set_busy(False)
        self.statusBar().showMessage(text)
        self.reload()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for w in (self.progress, self.eta_label, self.cancel_button):
            w.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
            self.statusBar().showMessage(text)

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, "photoenhance", message)

    def _threshold_changed(self, value: int) -> None:
        self.settings.threshold = value / 100
        self.grid.delegate.threshold = self.settings.threshold
        self.grid.viewport().update()
        self._apply_filter()

    def _apply_filter(self) -> None:
        on = self.worth_fixing.isChecked()
        self.proxy.set_min_score(self.settings.threshold if on else None)
        self._update_count()

    def _update_count(self) -> None:
        t = self.settings.threshold
        rows = self.model.all_rows()
        n = sum(1 for r in rows if r.score is not None and r.score >= t)
        if rows and all(r.score is None for r in rows):
            missing = self.scorer.error is not None
            self.count_label.setText("  not scored: the scoring model is not available"
                                     if missing else "  not scored yet")
            self.count_label.setToolTip(self.scorer.error or "")
        else:
            self.count_label.setText(f"  {n} photo{'s' if n != 1 else ''} above {t:.2f}")
        self.enhance_button.setText(f"Enhance {n} worth-fixing")
        self.enhance_button.setEnabled(n > 0)
        self.batch.set_worth_count(n, t)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(PhotoTableModel.ROW_ROLE) if current.isValid() else None
        self.details.show_row(row)
        if row is not None and not row.unreadable:
            self._lens_soon.start()  # once the selection settles (keys held down)

    def _read_lens(self) -> None:
        row = self.details.row
        if row is None:
            return
        task = bridge.Task(tasks.lens_of(row.path), self)
        task.finished.connect(lambda result: self.details.show_lens(*result))
        bridge.start(task, self.pool)

    def _selected_rows(self) -> list[PhotoRow]:
        rows = self.table.selectionModel().selectedRows()
        return [i.data(PhotoTableModel.ROW_ROLE) for i in rows]

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
        rows = self._selected_rows()
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
        self.reload()

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
        task.failed.connect(self._show_error)
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

    # --- watch, settings, quit ------------------------------------------------------------
    def _update_watch(self) -> None:
        roots = self._root_strings()
        on = self._watch_enabled
        self.watcher.watch(watched_roots(self.settings, roots) if on else [],
                           self.settings.threshold)

    def _alert(self, message: str) -> None:
        if not self.settings.alerts_enabled:
            return
        if not self.tray.notify(message):  # no system tray: say it in the status bar
            self.statusBar().showMessage(f"{message}.")
            self.snooze_button.show()

    def snooze_alerts(self) -> None:
        self.watcher.snooze()
        self.snooze_button.hide()
        self.statusBar().showMessage("Alerts snoozed for an hour.")

    def open_settings(self) -> SettingsDialog:
        roots = self._root_strings()
        dialog = SettingsDialog(self.settings, roots, self)
        dialog.accepted.connect(lambda: self._settings_saved(dialog))
        dialog.open()
        return dialog

    def _settings_saved(self, dialog: SettingsDialog) -> None:
        self.apply_settings(dialog.result_settings())
        added = [Path(f) for f in dialog.added_folders()]
        if added:
            self.start_scan(added)  # a folder added to watch joins the library

    def apply_settings(self, settings: Settings) -> None:
        if (settings.device, settings.threads) != (self.settings.device, self.settings.threads):
            self.enhancer.reset()  # reloads on the new device the next time it is needed
        self.settings = settings
        self._save_settings()
        self.threshold.setValue(round(settings.threshold * 100))
        self.compare.strength.setValue(round(settings.strength * 100))
        self.comparer.set_auto_strength(settings.auto_strength)
        self._update_count()
        self.watcher.stop()
        self._update_watch()

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
        if self._scan_task is not None:
            self._scan_task.cancel()
        self.watcher.stop()
        self.thumbs.clear_pending()
        self.batch_lane.waitForDone(10_000)
        self.preview_lane.waitForDone(10_000)
        self.pool.waitForDone(10_000)  # a cancelled scan commits what it did, then stops
        self._save_settings()
        save_layout(self, [self.split])
        event.accept()
