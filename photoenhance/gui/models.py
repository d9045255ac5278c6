"""Qt item models over plain rows loaded from the catalog (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from photoenhance.gui.theme import WORTH_FIXING

FACTORS = ("noise", "blur", "jpeg", "clipping")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class PhotoRow:
    """One row of the library table, copied out of the catalog on a worker thread."""

    id: int
    path: str
    score: float | None
    factors: dict[str, float | None] | None
    width: int | None
    height: int | None
    camera: str | None
    captured: str | None
    enhanced: bool = False  # an enhanced copy was written
    rating: int | None = None  # the latest rating: 2, 1, 0 or -1
    not_improved: bool = False  # the latest copy was re-scored and gained nothing

    @property
    def name(self) -> str:
        return PurePath(self.path).name

    @property
    def folder(self) -> str:
        return str(PurePath(self.path).parent)

    def dominant_factors(self, min_value: float = 0.25) -> list[str]:
        vals = {k: v for k, v in (self.factors or {}).items() if v is not None and v >= min_value}
        return sorted(vals, key=lambda k: -float(vals[k]))[:2]


class ColumnsTableModel(QAbstractTableModel):
    """A flat table whose column titles are the class's ``COLUMNS``."""

    COLUMNS: tuple[str, ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None


class PhotoTableModel(ColumnsTableModel):
    """The library: one row per photo. Rows arrive in chunks (``canFetchMore``) so a
    100,000-photo catalog opens at once."""

    COLUMNS = ("Score", "Name", "Factors", "Size", "Camera", "Captured", "Folder")
    SORT_ROLE = Qt.ItemDataRole.UserRole + 1
    ROW_ROLE = Qt.ItemDataRole.UserRole + 2
    CHUNK = 2000

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._all: list[PhotoRow] = []
        self._pos: dict[int, int] = {}
        self._shown = 0
        self._fetching = False

    def set_rows(self, rows: list[PhotoRow]) -> None:
        self.beginResetModel()
        self._all = rows
        self._pos = {r.id: i for i, r in enumerate(rows)}
        self._shown = min(len(rows), self.CHUNK)
        self.endResetModel()

    def update_row(self, photo_id: int, **changes: Any) -> PhotoRow | None:
        """Change one row in place (e.g. after a rating); None if it is not loaded."""
        i = self._pos.get(photo_id)
        if i is None:
            return None
        self._all[i] = replace(self._all[i], **changes)
        if i < self._shown:
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))
        return self._all[i]

    def all_rows(self) -> list[PhotoRow]:
        return self._all

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802
        return not parent.isValid() and not self._fetching and self._shown < len(self._all)

    def fetchMore(self, parent: Index) -> None:  # noqa: N802
        if parent.isValid() or self._fetching or self._shown >= len(self._all):
            return
        self._fetching = True  # views may ask again while the insert is announced
        try:
            new = min(len(self._all), self._shown + self.CHUNK)
            self.beginInsertRows(QModelIndex(), self._shown, new - 1)
            self._shown = new
            self.endInsertRows()
        finally:
            self._fetching = False

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        row = self._all[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == self.SORT_ROLE:
            return self._sort_key(row, col)
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and row.score is not None:
            return QColor(WORTH_FIXING) if row.score >= 0.4 else None
        return None

    @staticmethod
    def _display(row: PhotoRow, col: int) -> str:
        if col == 0:
            return "–" if row.score is None else f"{row.score:.2f}"
        if col == 1:
            return row.name
        if col == 2:
            return " · ".join(row.dominant_factors())
        if col == 3:
            return f"{row.width}×{row.height}" if row.width and row.height else ""
        if col == 4:
            return row.camera or ""
        if col == 5:
            return row.captured or ""
        return row.folder

    @staticmethod
    def _sort_key(row: PhotoRow, col: int) -> Any:
        if col == 0:
            return -1.0 if row.score is None else row.score
        if col == 3:
            return (row.width or 0) * (row.height or 0)
        return PhotoTableModel._display(row, col).casefold()


class PhotoFilterModel(QSortFilterProxyModel):
    """Filters the library by file name and by a minimum score ("worth fixing")."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._min_score: float | None = None
        self._kind = "all"
        self.setSortRole(PhotoTableModel.SORT_ROLE)

    def _refilter(self, name: str, value: Any) -> None:
        """Set a filter attribute and re-filter rows (the Qt 6.10+ way when available)."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            setattr(self, name, value)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # older PySide6
            setattr(self, name, value)
            self.invalidateRowsFilter()

    def set_text(self, text: str) -> None:
        self._refilter("_text", text.casefold().strip())

    def set_kind(self, kind: str) -> None:
        """One of :data:`FILTER_KINDS`."""
        self._refilter("_kind", kind)

    def set_min_score(self, value: float | None) -> None:
        self._refilter("_min_score", value)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        row = model.data(model.index(source_row, 0, source_parent), PhotoTableModel.ROW_ROLE)
        if row is None:
            return False
        if self._text and self._text not in row.name.casefold():
            return False
        if not FILTER_KINDS[self._kind][1](row):
            return False
        return self._min_score is None or (row.score is not None and row.score >= self._min_score)


#: Library filters: key -> (words, test).
FILTER_KINDS: dict[str, tuple[str, Any]] = {
    "all": ("All photos", lambda r: True),
    "enhanced": ("Enhanced", lambda r: r.enhanced),
    "not_enhanced": ("Not enhanced yet", lambda r: not r.enhanced),
    "not_improved": ("Not improved", lambda r: r.not_improved),
    "rated": ("Rated", lambda r: r.rating is not None),
}
