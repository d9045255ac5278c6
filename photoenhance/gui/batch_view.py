"""The batch view: the queue of photos being enhanced, with progress, ETA and errors."""

from __future__ import annotations

import html
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photoenhance.gui.jobs import BatchProgress, ItemState
from photoenhance.gui.models import ColumnsTableModel
from photoenhance.gui.thumbs import ThumbnailCache
from photoenhance.gui.verdicts import VERDICT_COLOURS, format_gain, item_gain, item_verdict

Index = QModelIndex | QPersistentModelIndex

STATUS_WORDS = {"queued": "Waiting", "running": "Enhancing…", "done": "Done",
                "failed": "Failed", "cancelled": "Cancelled", "skipped": "Skipped"}
STATUS_COLOURS = {"done": "#7bd88f", "failed": "#ff6b6b", "running": "#4f9dff"}


class QueueModel(ColumnsTableModel):
    """One row per photo of the current batch."""

    COLUMNS = ("", "Photo", "Status", "Verdict", "Gain", "Time", "Enhanced copy or error")
    ITEM_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None, thumbs: ThumbnailCache | None = None) -> None:
        super().__init__(parent)
        self._items: list[ItemState] = []
        self.thumbs = thumbs

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
        if role == self.ITEM_ROLE:
            return it
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(it, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and self.thumbs is not None:
            image = self.thumbs.get(it.output or it.source)
            return None if image is None or image.isNull() else image.scaled(
                THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2 and it.status in STATUS_COLOURS:
                return QColor(STATUS_COLOURS[it.status])
            if col == 3 and (verdict := item_verdict(it)) in VERDICT_COLOURS:
                return QColor(VERDICT_COLOURS[verdict])
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return it.error or it.output or it.source
        return None

    @staticmethod
    def _text(it: ItemState, col: int) -> str:
        if col == 1:
            return PurePath(it.source).name
        if col == 2:
            return STATUS_WORDS.get(it.status, it.status)
        if col == 3:
            if it.status != "done":
                return ""
            return item_verdict(it) or "not verified"
        if col == 4:
            gain = format_gain(item_gain(it))
            if it.verified_delta is not None:
                gain += f" (measured {it.verified_delta:+.1f})"
            return gain
        if col == 5:
            return "" if it.seconds is None else f"{it.seconds:.1f} s"
        if col == 6:
            return it.error or (PurePath(it.output).name if it.output else "")
        return ""


class VerdictFilter(QSortFilterProxyModel):
    """The batch's rows whose verdict (or status) is ``key``; all when ``key`` is "all"."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.key = "all"

    def set_key(self, key: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+; invalidating is deprecated there
            self.beginFilterChange()
            self.key = key
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.key = key
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:  # noqa: N802
        if self.key == "all":
            return True
        it = self.sourceModel().index(row, 0, parent).data(QueueModel.ITEM_ROLE)
        return it is not None and item_filter_key(it) == self.key


def item_filter_key(it: ItemState) -> str:
    """Which verdict filter an item falls under."""
    if it.status != "done":
        return "failed" if it.status == "failed" else "pending"
    return item_verdict(it) or "not verified"


#: Verdict filter choices: (key, words).
VERDICT_FILTERS = (("all", "All results"), ("improved", "Improved"),
                   ("unchanged", "Unchanged"), ("not improved", "Not improved"),
                   ("blocked", "Blocked"), ("not verified", "Not verified"),
                   ("failed", "Failed"), ("pending", "Waiting"))
THUMB = QSize(72, 48)


class ResultPanel(QWidget):
    """The selected result (or the latest one): its copy, verdict, gain, time and folder."""

    review_from = Signal(str)  # output path: review, starting there

    def __init__(self, thumbs: ThumbnailCache | None) -> None:
        super().__init__()
        self.thumbs = thumbs
        self.item: ItemState | None = None
        self.image = QLabel("")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumHeight(180)
        self.image.setStyleSheet("background: #161616; border-radius: 4px;")
        self.facts = QLabel("Results appear here as the batch writes them: the enhanced "
                            "copy, its verdict, gain and time.")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.review_button = QPushButton("Review from this photo")
        self.review_button.clicked.connect(
            lambda: self.item and self.item.output and self.review_from.emit(self.item.output))
        self.review_button.setEnabled(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.addWidget(self.image)
        lay.addWidget(self.facts)
        lay.addWidget(self.review_button)
        lay.addStretch(1)
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)

    def show_item(self, item: ItemState | None) -> None:
        self.item = item
        self.review_button.setEnabled(bool(item and item.output and item.status == "done"))
        if item is None:
            return
        self.image.setPixmap(QPixmap())  # until this item's thumbnail is there
        self.image.setText("…")
        self._thumb_ready(item.output or item.source)
        verdict = item_verdict(item) if item.status == "done" else None
        colour = VERDICT_COLOURS.get(verdict or "", "#a0a0a0")
        rows = [f"<b>{PurePath(item.source).name}</b>",
                STATUS_WORDS.get(item.status, item.status)]
        if item.status == "done":
            rows.append(f"<span style='color:{colour};'>{verdict or 'not verified'}</span>")
        if (gain := item_gain(item)) is not None:
            rows.append(f"predicted gain {format_gain(gain)}")
        if item.verified_delta is not None:
            rows.append(f"measured gain {item.verified_delta:+.1f} dB")
        if item.tone:
            rows.append(f"tone: {html.escape(item.tone)}")
        if not getattr(item, "restored", True):
            rows.append("the copy has the tone correction alone: the restoration was not kept")
        if item.seconds is not None:
            rows.append(f"{item.seconds:.1f} s")
        if item.error:
            rows.append(f"<span style='color:#ff6b6b;'>{item.error}</span>")
        if item.output:
            rows.append(f"<span style='color:#9a9a9a;'>{PurePath(item.output).parent}</span>")
        self.facts.setText("<br>".join(rows))

    def _thumb_ready(self, path: str) -> None:
        item = self.item
        if self.thumbs is None or item is None or path != (item.output or item.source):
            return
        image = self.thumbs.get(path)
        if image is not None and not image.isNull():
            self.image.setPixmap(QPixmap.fromImage(image))


class BatchView(QWidget):
    """Buttons to start a batch, the queue, and overall progress."""

    enhance_worth_fixing = Signal()
    enhance_selection = Signal()
    cancel_requested = Signal()
    resume_requested = Signal()
    open_output = Signal()
    review_requested = Signal()
    review_from = Signal(str)  # review the batch, starting at this output

    def __init__(self, thumbs: ThumbnailCache | None = None) -> None:
        super().__init__()
        self.model = QueueModel(self, thumbs)
        self.filtered = VerdictFilter(self)
        self.filtered.setSourceModel(self.model)
        self.review_button = QPushButton("Review results  R")
        self.review_button.setToolTip("Step through the enhanced copies: before and after at "
                                      "100 %, keep or reject each, rate the gain (R)")
        self.review_button.clicked.connect(self.review_requested)
        self.review_button.setEnabled(False)
        self.verdict_filter = QComboBox()
        for key, words in VERDICT_FILTERS:
            self.verdict_filter.addItem(words, key)
        self.verdict_filter.setToolTip("Show only the results with this verdict")
        self.verdict_filter.currentIndexChanged.connect(
            lambda _i: self.filtered.set_key(self.verdict_filter.currentData()))
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
        self.table.setModel(self.filtered)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 8)
        self.table.setIconSize(THUMB)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(lambda _i: self.review_requested.emit())
        if thumbs is not None:
            thumbs.ready.connect(lambda _path: self.table.viewport().update())
        self.result = ResultPanel(thumbs)
        self.result.review_from.connect(self.review_from)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self.result.show_item(
                current.data(QueueModel.ITEM_ROLE) if current.isValid() else None))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(len(QueueModel.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((THUMB.width() + 16, 220, 90, 110, 170, 64)):
            header.resizeSection(col, width)
        self._build()
        self.set_running(False, resumable=False)

    def _build(self) -> None:
        top = QHBoxLayout()
        for w in (self.worth_button, self.selection_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.verdict_filter)
        top.addWidget(self.review_button)
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
        body = QSplitter()
        body.addWidget(self.table)
        body.addWidget(self.result)
        body.setStretchFactor(0, 1)
        body.setSizes([900, 320])
        lay.addWidget(body, 1)

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
            self._update_review()
        total = p.total or len(bp.items)
        done = sum(1 for it in bp.items if it.status in ("done", "failed"))
        self.overall.setRange(0, max(total, 1))
        self.overall.setValue(max(p.done, done) if p.total else done)
        self.eta.setText(eta_text)
        if p.current:
            self.status.setText(f"Enhancing {PurePath(p.current).name}…")

    def show_items(self, items: list[ItemState], text: str) -> None:
        self.model.set_items(items)
        self._update_review()
        done = sum(1 for it in items if it.status in ("done", "failed"))
        self.overall.setRange(0, max(len(items), 1))
        self.overall.setValue(done)
        self.eta.setText("")
        self.status.setText(text)

    def _follow_latest(self) -> None:
        """Without a selection, the panel shows the latest finished (or running) photo."""
        if self.table.currentIndex().isValid():
            current = self.table.currentIndex().data(QueueModel.ITEM_ROLE)
            self.result.show_item(current)
            return
        items = self.model.items()
        done = [it for it in items if it.status in ("done", "failed")]
        running = [it for it in items if it.status == "running"]
        self.result.show_item(done[-1] if done else running[0] if running else None)

    def _update_review(self) -> None:
        self._follow_latest()
        n = sum(1 for it in self.model.items() if it.status == "done" and it.output)
        self.review_button.setEnabled(n > 0)
        self.review_button.setText(f"Review {n} result{'s' if n != 1 else ''}  R" if n
                                   else "Review results  R")
