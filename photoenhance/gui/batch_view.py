"""The batch view: the queue of photos being enhanced, with progress, ETA and errors."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photoenhance.gui.jobs import BatchProgress, ItemState
from photoenhance.gui.models import ColumnsTableModel

Index = QModelIndex | QPersistentModelIndex

STATUS_WORDS = {"queued": "Waiting", "running": "Enhancing…", "done": "Done",
                "failed": "Failed", "cancelled": "Cancelled", "skipped": "Skipped"}
STATUS_COLOURS = {"done": "#7bd88f", "failed": "#ff6b6b", "running": "#4f9dff"}


class QueueModel(ColumnsTableModel):
    """One row per photo of the current batch."""

    COLUMNS = ("Photo", "Status", "Enhanced copy or error", "Output folder")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[ItemState] = []

    def set_items(self, items: list[ItemState]) -> None:
        if [i.source for i in items] == [i.source for i in self._items]:
            self._items = list(items)
            if items:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(items) - 1, len(self.COLUMNS) - 1))
            return
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[ItemState]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            out = PurePath(it.output) if it.output else None
            return (PurePath(it.source).name, STATUS_WORDS.get(it.status, it.status),
                    it.error or (out.name if out else ""), str(out.parent) if out else "")[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1 and it.status in STATUS_COLOURS:
            return QColor(STATUS_COLOURS[it.status])
        if role == Qt.ItemDataRole.ToolTipRole:
            return it.error or it.output or it.source
        return None


class BatchView(QWidget):
    """Buttons to start a batch, the queue, and overall progress."""

    enhance_worth_fixing = Signal()
    enhance_selection = Signal()
    cancel_requested = Signal()
    resume_requested = Signal()
    open_output = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model = QueueModel(self)
        self.worth_button = QPushButton("Enhance worth-fixing photos")
        self.worth_button.setToolTip("Enhance every photo above the threshold (Ctrl+E)")
        self.worth_button.clicked.connect(self.enhance_worth_fixing)
        self.selection_button = QPushButton("Enhance selection")
        self.selection_button.setToolTip("Enhance the photos selected in the library "
                                         "(Ctrl+Shift+E)")
        self.selection_button.clicked.connect(self.enhance_selection)
        self.cancel_button = QPushButton("Cancel batch")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume_requested)
        self.open_button = QPushButton("Open output folder")
        self.open_button.clicked.connect(self.open_output)
        self.overall = QProgressBar()
        self.overall.setFormat("%v / %m photos")
        self.eta = QLabel("")
        self.status = QLabel("No batch yet. Enhanced copies are written next to your "
                             "library; originals are never changed.")
        self.status.setWordWrap(True)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 240)
        header.resizeSection(1, 110)
        header.resizeSection(2, 320)
        self._build()
        self.set_running(False, resumable=False)

    def _build(self) -> None:
        top = QHBoxLayout()
        for w in (self.worth_button, self.selection_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.open_button)
        bar = QHBoxLayout()
        bar.addWidget(self.overall, 1)
        bar.addWidget(self.eta)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.resume_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)

    def set_worth_count(self, n: int, threshold: float) -> None:
        self.worth_button.setText(f"Enhance {n} worth-fixing photo{'s' if n != 1 else ''}")
        self.worth_button.setEnabled(n > 0)
        self.worth_button.setToolTip(f"Enhance every photo scoring {threshold:.2f} or more "
                                     "(Ctrl+E)")

    def set_running(self, running: bool, resumable: bool = False) -> None:
        self.cancel_button.setVisible(running)
        self.resume_button.setVisible(resumable and not running)
        self.worth_button.setDisabled(running or self.worth_button.text().startswith(
            "Enhance 0 "))
        self.selection_button.setDisabled(running)

    def show_progress(self, bp: BatchProgress, eta_text: str) -> None:
        p = bp.progress
        if bp.items:
            self.model.set_items(list(bp.items))
        total = p.total or len(bp.items)
        done = sum(1 for it in bp.items if it.status in ("done", "failed"))
        self.overall.setRange(0, max(total, 1))
        self.overall.setValue(max(p.done, done) if p.total else done)
        self.eta.setText(eta_text)
        if p.current:
            self.status.setText(f"Enhancing {PurePath(p.current).name}…")

    def show_items(self, items: list[ItemState], text: str) -> None:
        self.model.set_items(items)
        done = sum(1 for it in items if it.status in ("done", "failed"))
        self.overall.setRange(0, max(len(items), 1))
        self.overall.setValue(done)
        self.eta.setText("")
        self.status.setText(text)
