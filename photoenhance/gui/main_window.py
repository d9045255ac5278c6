"""The main window: roots sidebar, ranked library table, details, and background progress."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from photoenhance.core.catalog import Catalog
from photoenhance.core.jobs.cancel import Progress
from photoenhance.core.library.scan import ScanSummary
from photoenhance.core.settings import Settings, save_settings
from photoenhance.gui import bridge, tasks
from photoenhance.gui.models import FACTORS, PhotoFilterModel, PhotoRow, PhotoTableModel

log = logging.getLogger(__name__)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s left"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


class DetailsPanel(QWidget):
    """The selected photo's file facts and scores."""

    def __init__(self) -> None:
        super().__init__()
        self._form = QFormLayout(self)
        self._labels: dict[str, QLabel] = {}
        for key in ("Name", "Folder", "Size", "Camera", "Captured", "Score", *FACTORS):
            label = QLabel("")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self._labels[key] = label
            self._form.addRow(key.capitalize() if key in FACTORS else key, label)

    def show_row(self, row: PhotoRow | None) -> None:
        values: dict[str, str] = dict.fromkeys(self._labels, "")
        if row is not None:
            values.update(
                Name=row.name, Folder=row.folder, Camera=row.camera or "",
                Captured=row.captured or "",
                Size=f"{row.width} × {row.height}" if row.width and row.height else "",
                Score="not scored yet" if row.score is None else f"{row.score:.2f}",
            )
            for k in FACTORS:
                v = (row.factors or {}).get(k)
                values[k] = "" if v is None else f"{v:.2f}"
        for key, text in values.items():
            self._labels[key].setText(text)


class MainWindow(QMainWindow):
    """The library window. Every catalog or disk operation runs on a worker."""

    rows_loaded = Signal(int)  # number of rows, for tests and the status line

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        super().__init__()
        self.catalog, self.settings = catalog, settings
        self.pool = QThreadPool.globalInstance()
        self._scan_task: bridge.Task | None = None
        self.setWindowTitle("photoenhance")
        self.resize(1280, 800)
        self.model = PhotoTableModel(self)
        self.proxy = PhotoFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self._build_toolbar()
        self._build_body()
        self._build_statusbar()
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
        bar.addAction(add)
        bar.addAction(rescan)
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
        self.search = QLineEdit(placeholderText="Search file names  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setFixedWidth(260)
        self.search.textChanged.connect(self.proxy.set_text)
        find = QAction(self, shortcut=QKeySequence.StandardKey.Find)
        find.triggered.connect(self.search.setFocus)
        self.addAction(find)
        for widget in (self.worth_fixing, self.threshold, self.count_label):
            bar.addWidget(widget)
        bar.addSeparator()
        bar.addWidget(self.search)

    def _build_body(self) -> None:
        self.roots = QListWidget()
        self.roots.setMaximumWidth(260)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.details = DetailsPanel()
        self.details.setMinimumWidth(280)
        self.empty_hint = QLabel(
            "Your library is empty.\nAdd a folder of photos (Ctrl+O) to rank them by how much "
            "they would gain from enhancement."
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.empty_hint)
        lay.addWidget(self.table)
        split = QSplitter()
        for w in (self.roots, centre, self.details):
            split.addWidget(w)
        split.setStretchFactor(1, 1)
        self.setCentralWidget(split)

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
        for w in (self.eta_label, self.progress, self.cancel_button):
            lay.addWidget(w)
        self.statusBar().addPermanentWidget(box)
        self._set_busy(False)

    # --- behaviour ----------------------------------------------------------------------
    def reload(self) -> None:
        task = bridge.Task(tasks.load_rows(self.catalog), self)
        task.finished.connect(self._rows_arrived)
        task.failed.connect(self._show_error)
        bridge.start(task, self.pool)

    def _rows_arrived(self, result: object) -> None:
        roots, rows = result  # type: ignore[misc]
        self.roots.clear()
        self.roots.addItems(roots)
        self.model.set_rows(rows)
        self.empty_hint.setVisible(not rows)
        self._update_count()
        self.rows_loaded.emit(len(rows))

    def _root_paths(self) -> list[Path]:
        return [Path(self.roots.item(i).text()) for i in range(self.roots.count())]

    def _ask_add_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.start_scan([Path(folder)])

    def start_scan(self, roots: list[Path]) -> bridge.Task | None:
        if not roots or self._scan_task is not None:
            return None
        for r in roots:
            if str(r) not in self.settings.watched_roots:
                self.settings.watched_roots.append(str(r))
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("Could not save settings: %s", exc)
        task = bridge.Task(tasks.scan_roots(self.catalog, roots), self)
        task.progressed.connect(self._scan_progressed)
        task.finished.connect(self._scan_finished)
        task.failed.connect(self._scan_failed)
        task.cancelled.connect(lambda: self._scan_done("Scan cancelled."))
        self._scan_task = task
        self._set_busy(True, "Scanning…")
        return bridge.start(task, self.pool)

    def cancel_scan(self) -> None:
        if self._scan_task is not None:
            self._scan_task.cancel()
            self.statusBar().showMessage("Cancelling…")

    def _scan_progressed(self, p: Progress) -> None:
        self.progress.setRange(0, p.total or 0)
        self.progress.setValue(p.done)
        self.progress.setFormat(f"%v / %m {p.message or 'files'}")
        self.eta_label.setText(format_eta(p.eta_s))

    def _scan_finished(self, summary: object) -> None:
        if isinstance(summary, ScanSummary):
            c = summary.counts()
            text = (f"Scan finished: {c['added']} added, {c['updated']} updated, "
                    f"{c['moved']} moved, {c['missing']} missing, {c['unreadable']} unreadable.")
        else:
            text = "Scan finished."
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
            self.count_label.setText("  not scored yet")
        else:
            self.count_label.setText(f"  {n} photo{'s' if n != 1 else ''} above {t:.2f}")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.details.show_row(current.data(PhotoTableModel.ROW_ROLE) if current.isValid()
                              else None)
