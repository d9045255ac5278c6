"""The library tab's layout: folders sidebar, the grid or list of photos, filters, details.

Layout only: :class:`photoenhance.gui.library_controller.LibraryController` fills it and
reacts to it; the main window routes its activations (open, add a folder, review).
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photoenhance.gui.details_view import DetailsPanel
from photoenhance.gui.grid_view import LibraryGrid
from photoenhance.gui.models import FILTER_KINDS, PhotoTableModel
from photoenhance.gui.thumbs import ThumbnailCache

#: Library orders: (words, model column, order).
SORTS = (("Most improvable first", 0, Qt.SortOrder.DescendingOrder),
         ("Name", 1, Qt.SortOrder.AscendingOrder),
         ("Newest first", 5, Qt.SortOrder.DescendingOrder),
         ("Oldest first", 5, Qt.SortOrder.AscendingOrder))


class LibraryView(QSplitter):
    """Folders | filters over the photos (grid or list, one selection) | details."""

    def __init__(self, proxy: QSortFilterProxyModel, thumbs: ThumbnailCache) -> None:
        super().__init__()
        self.roots = QListWidget()
        self.table = self._table(proxy)
        self.open_action = QAction(self.table, shortcut=QKeySequence(Qt.Key.Key_Return))
        self.open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.addAction(self.open_action)
        self.grid = LibraryGrid(thumbs)
        self.grid.setModel(proxy)
        self.grid.setSelectionModel(self.table.selectionModel())  # one selection, two views
        self.views = QStackedWidget()
        self.views.addWidget(self.grid)
        self.views.addWidget(self.table)
        self.details = DetailsPanel()
        self.details.setMinimumWidth(240)
        for w in (self._sidebar(), self._centre(), self.details):
            self.addWidget(w)
        self.setStretchFactor(1, 1)
        self.setCollapsible(1, False)

    def _sidebar(self) -> QWidget:
        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(6, 6, 0, 0)
        title = QLabel("LIBRARY FOLDERS")
        title.setStyleSheet("color: #8a8a8a; font-size: 11px; letter-spacing: 1px;")
        side.addWidget(title)
        side.addWidget(self.roots)
        sidebar.setMaximumWidth(260)
        return sidebar

    @staticmethod
    def _table(proxy: QSortFilterProxyModel) -> QTableView:
        table = QTableView()
        table.setModel(proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(24)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = table.horizontalHeader()
        header.setSectionResizeMode(len(PhotoTableModel.COLUMNS) - 1,
                                    QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((64, 220, 110, 84, 110, 120)):
            header.resizeSection(col, width)
        return table

    def _filters(self) -> QHBoxLayout:
        """Show, Sort, Review and Search: in the library itself, never hidden in a toolbar
        overflow."""
        self.show_kind = QComboBox()
        for key, (text, _test) in FILTER_KINDS.items():
            self.show_kind.addItem(text, key)
        self.show_kind.setToolTip("Which photos to show")
        self.sort = QComboBox()
        for text, _col, _order in SORTS:
            self.sort.addItem(text)
        self.sort.setToolTip("Sort the library")
        self.review_button = QPushButton("Review enhanced")
        self.review_button.setToolTip("Step through the enhanced photos shown: keep or reject "
                                      "each copy, rate the gain (Ctrl+R)")
        self.search = QLineEdit(placeholderText="Search file names  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(150)
        self.search.setMaximumWidth(320)
        filters = QHBoxLayout()
        filters.setContentsMargins(4, 4, 4, 0)
        for widget in (QLabel("Show"), self.show_kind, QLabel("Sort"), self.sort,
                       self.review_button):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.search, 1)
        return filters

    def _centre(self) -> QWidget:
        self.empty_hint = QWidget()
        hint = QVBoxLayout(self.empty_hint)
        text = QLabel("Your library is empty.\nAdd a folder of photos (Ctrl+O) to rank them "
                      "by how much they would gain from enhancement.")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.add_button = QPushButton("Add a photo folder…")
        self.demo_button = QPushButton("Try the demo library")
        hint.addStretch(1)
        hint.addWidget(text)
        for b in (self.add_button, self.demo_button):
            hint.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        hint.addStretch(1)
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._filters())
        lay.addWidget(self.empty_hint)
        lay.addWidget(self.views)
        return centre

    def sort_by(self, key: int) -> None:
        """Order the photos as :data:`SORTS` entry ``key`` says."""
        column, order = SORTS[key][1:]
        self.table.sortByColumn(column, order)
