"""Qt item models over plain rows loaded from the catalog (never ORM objects).

A library holds 100,000 photos or more, so nothing here calls into Python once per row per
comparison or per layout pass: :class:`PhotoTableModel` filters and sorts plain lists with
precomputed keys, and :class:`PhotoFilterModel` is a pass-through Qt proxy that gives the
views C++ ``index()`` calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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

from photoenhance.core.rank.chips import chips
from photoenhance.core.rank.scale import score_to_gain
from photoenhance.gui.theme import WORTH_FIXING

FACTORS = ("noise", "blur", "jpeg", "clipping")
#: Photos with a shorter side below this get no factor chips: too small to judge.
MIN_SIDE = 64
Index = QModelIndex | QPersistentModelIndex


def _last_sep(path: str) -> int:
    return max(path.rfind("/"), path.rfind(os.sep))


@dataclass(slots=True)
class PhotoRow:
    """One row of the library table, copied out of the catalog on a worker thread.

    Treat it as read-only: change a row with :meth:`PhotoTableModel.update_row`. (Not a
    frozen dataclass: its ``__init__`` costs half as much, which counts at 100,000 rows.)
    """

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
    unreadable: str | None = None  # why the file cannot be read, when it cannot
    verified_delta: float | None = None  # the latest copy's re-scored gain (dB), if verified
    tone: str | None = None  # what the tone step did to the latest copy, in words
    gain_db: float | None = None  # the ranker's predicted gain (dB) behind ``score``

    @property
    def name(self) -> str:
        return self.path[_last_sep(self.path) + 1 :]

    @property
    def folder(self) -> str:
        return str(PurePath(self.path).parent)

    @property
    def tiny(self) -> bool:
        """Too small for its factors to mean anything (an icon, a tracking pixel)."""
        return bool(self.width and self.height and min(self.width, self.height) < MIN_SIDE)

    def dominant_factors(self) -> list[str]:
        """The factors that account for a material part of the predicted gain (core's
        :func:`~photoenhance.core.rank.chips.chips`, the gain read back from the score);
        none for unscored, unreadable or tiny images."""
        if self.unreadable or self.tiny or self.score is None or self.score <= 0:
            return []
        return chips(self.factors, score_to_gain(self.score))


class ColumnsTableModel(QAbstractTableModel):
    """A flat table whose column titles are the class's ``COLUMNS``."""

    COLUMNS: tuple[str, ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(  # noqa: N802
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None


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


#: The sort key of each column (the library's order: "Most improvable first" is column 0).
SORT_KEYS: tuple[Callable[[PhotoRow], Any], ...] = (
    lambda r: -1.0 if r.score is None else r.score,
    lambda r: r.name.casefold(),
    lambda r: _display(r, 2).casefold(),
    lambda r: (r.width or 0) * (r.height or 0),
    lambda r: (r.camera or "").casefold(),
    lambda r: (r.captured or "").casefold(),
    lambda r: r.path[: _last_sep(r.path)].casefold(),  # the folder, without a PurePath per row
)


_UNSET: Any = object()


class PhotoTableModel(ColumnsTableModel):
    """The library: one row per photo shown, in the order shown.

    It filters (file name, kind, minimum score) and sorts the loaded rows itself, in plain
    lists: 100,000 rows in a few tens of milliseconds, where a :class:`QSortFilterProxyModel`
    calls Python for every row it filters and twice for every comparison it sorts (seconds).
    Ties keep the catalog's order (reversed when descending), as Qt's sort does. A changed row
    is filtered and placed again, and filter and sort changes keep persistent indexes (the
    selection, the current photo) on their rows.
    """

    COLUMNS = ("Score", "Name", "Factors", "Size", "Camera", "Captured", "Folder")
    SORT_ROLE = Qt.ItemDataRole.UserRole + 1
    ROW_ROLE = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._all: list[PhotoRow] = []
        self._rows: list[int] = []  # the index in _all of each row shown
        self._where: list[int] | None = None  # index in _all -> row shown or -1, when needed
        self._pos: dict[int, int] | None = None  # photo id -> index in _all, when needed
        self._keys: dict[int, list[Any]] = {}  # column -> sort key of each row in _all
        self._text = ""
        self._kind = "all"
        self._min_score: float | None = None
        self._column = -1
        self._order = Qt.SortOrder.AscendingOrder

    def set_rows(self, rows: list[PhotoRow]) -> None:
        self.beginResetModel()
        self._all, self._pos, self._keys = rows, None, {}
        self._compute()
        self.endResetModel()

    def all_rows(self) -> list[PhotoRow]:
        """Every loaded row, shown or filtered out, in the catalog's order."""
        return self._all

    def shown_rows(self) -> list[PhotoRow]:
        """The rows shown, in the order shown."""
        rows = self._all
        return [rows[i] for i in self._rows]

    def row_of(self, photo_id: int) -> int:
        """Where the photo ``photo_id`` is shown, or -1."""
        if self._pos is None:
            self._pos = {r.id: i for i, r in enumerate(self._all)}
        i = self._pos.get(photo_id)
        return -1 if i is None else self._where_map()[i]

    def update_row(self, photo_id: int, **changes: Any) -> PhotoRow | None:
        """Change one row in place (e.g. after a rating); None if it is not loaded."""
        if self._pos is None:
            self._pos = {r.id: i for i, r in enumerate(self._all)}
        i = self._pos.get(photo_id)
        if i is None:
            return None
        row = self._all[i] = replace(self._all[i], **changes)
        for column, keys in self._keys.items():
            keys[i] = SORT_KEYS[column](row)
        shown, accepted = self._where_map()[i], self._accepts(row)
        if shown >= 0 and accepted and self._in_place(shown):
            self.dataChanged.emit(self.index(shown, 0), self.index(shown, len(self.COLUMNS) - 1))
        elif shown >= 0 or accepted:
            self._relayout()
        return row

    # --- filtering and sorting ----------------------------------------------------------
    def set_filter(
        self, *, text: str = _UNSET, kind: str = _UNSET, min_score: float | None = _UNSET
    ) -> None:
        """Show only names containing ``text`` (case-folded), photos of ``kind`` (one of
        :data:`FILTER_KINDS`) and scores of at least ``min_score`` (None: any, or none)."""
        new = (
            self._text if text is _UNSET else text.casefold().strip(),
            self._kind if kind is _UNSET else kind,
            self._min_score if min_score is _UNSET else min_score,
        )
        if new != (self._text, self._kind, self._min_score):
            self._text, self._kind, self._min_score = new
            self._relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._column, self._order = column, order
        self._relayout()

    def _accepts(self, row: PhotoRow) -> bool:
        if self._text and self._text not in row.name.casefold():
            return False
        if not FILTER_KINDS[self._kind][1](row):
            return False
        return self._min_score is None or (row.score is not None and row.score >= self._min_score)

    def _sort_keys(self, column: int) -> list[Any]:
        """The sort key of every loaded row by ``column``, made once per load."""
        keys = self._keys.get(column)
        if keys is None:
            keys = self._keys[column] = list(map(SORT_KEYS[column], self._all))
        return keys

    def _compute(self) -> None:
        """What :meth:`_accepts` accepts, in order: one comprehension per filter in use."""
        rows, shown = self._all, list(range(len(self._all)))
        if self._text:  # the name column's keys are the case-folded names
            text, names = self._text, self._sort_keys(1)
            shown = [i for i in shown if text in names[i]]
        if self._kind != "all":
            test = FILTER_KINDS[self._kind][1]
            shown = [i for i in shown if test(rows[i])]
        if (least := self._min_score) is not None:
            shown = [i for i in shown if (s := rows[i].score) is not None and s >= least]
        if 0 <= self._column < len(SORT_KEYS):
            keys = self._sort_keys(self._column)
            shown.sort(key=keys.__getitem__)
            if self._order == Qt.SortOrder.DescendingOrder:
                shown.reverse()  # as Qt's: ties come in reverse source order
        self._rows, self._where = shown, None

    def _where_map(self) -> list[int]:
        if self._where is None:
            where = [-1] * len(self._all)
            for shown, i in enumerate(self._rows):
                where[i] = shown
            self._where = where
        return self._where

    def _relayout(self) -> None:
        """Filter and sort again; persistent indexes (selection, current) follow their rows."""
        self.layoutAboutToBeChanged.emit()  # PySide6 emits only the argument-less overload
        old_rows = self._rows
        persistent = self.persistentIndexList()
        sources = [(old_rows[p.row()], p.column()) if p.isValid() else (-1, 0) for p in persistent]
        self._compute()
        if persistent:
            where = self._where_map()
            self.changePersistentIndexList(
                persistent,
                [
                    self.createIndex(where[i], c) if i >= 0 and where[i] >= 0 else QModelIndex()
                    for i, c in sources
                ],
            )
        self.layoutChanged.emit()

    def _before(self, a: int, b: int) -> bool:
        """Whether loaded row ``a`` is shown above loaded row ``b``."""
        if not 0 <= self._column < len(SORT_KEYS):
            return a < b
        keys = self._sort_keys(self._column)
        ka, kb = keys[a], keys[b]
        if self._order == Qt.SortOrder.DescendingOrder:
            return ka > kb or (ka == kb and a > b)
        return ka < kb or (ka == kb and a < b)

    def _in_place(self, shown: int) -> bool:
        rows, i = self._rows, self._rows[shown]
        return (shown == 0 or self._before(rows[shown - 1], i)) and (
            shown == len(rows) - 1 or self._before(i, rows[shown + 1])
        )

    # --- the item model -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        """As Qt's, in one Python call instead of three (rowCount and columnCount)."""
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < len(self.COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._value(self._all[self._rows[index.row()]], index.column(), role)

    def multiData(self, index: Index, roleDataSpan: Any) -> None:  # noqa: N802, N803
        """Every role a view asks for at once (a table cell asks for seven each paint): one
        Python call instead of one per role."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            for role_data in roleDataSpan:
                role_data.clearData()
            return
        row, col = self._all[self._rows[index.row()]], index.column()
        for role_data in roleDataSpan:
            role = role_data.role()
            role_data.setData(self._value(row, col, role) if role in _ANSWERED else None)

    def _value(self, row: PhotoRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, col)
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path
        if role == self.SORT_ROLE:
            return SORT_KEYS[col](row)
        if col != 0:
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and row.score is not None:
            return QColor(WORTH_FIXING) if row.score >= 0.4 else None
        return None


_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ANSWERED = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        PhotoTableModel.SORT_ROLE,
        PhotoTableModel.ROW_ROLE,
    }
)


class PhotoFilterModel(QSortFilterProxyModel):
    """What the library views show: :class:`PhotoTableModel`'s rows, passed through.

    The filters and the sort order are the source's (see there why). Qt's proxy stays in
    between because its ``index()`` and row mapping are C++: a grid lays out by asking for
    every row's index, twice, on each reset, filter change and resize, and a Python
    ``index()`` made that half a second at 100,000 rows.
    """

    def _library(self) -> PhotoTableModel | None:
        source = self.sourceModel()
        return source if isinstance(source, PhotoTableModel) else None

    def set_text(self, text: str) -> None:
        if (library := self._library()) is not None:
            library.set_filter(text=text)

    def set_kind(self, kind: str) -> None:
        """One of :data:`FILTER_KINDS`."""
        if (library := self._library()) is not None:
            library.set_filter(kind=kind)

    def set_min_score(self, value: float | None) -> None:
        if (library := self._library()) is not None:
            library.set_filter(min_score=value)

    def multiData(self, index: Index, roleDataSpan: Any) -> None:  # noqa: N802, N803
        """Hands the whole request to the source (Qt's proxy asks it one role at a time)."""
        if (library := self._library()) is not None:
            library.multiData(self.mapToSource(index), roleDataSpan)
        else:
            super().multiData(index, roleDataSpan)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the library (the source sorts; this proxy keeps its order)."""
        if (library := self._library()) is not None:
            library.sort(column, order)


#: Library filters: key -> (words, test).
FILTER_KINDS: dict[str, tuple[str, Any]] = {
    "all": ("All photos", lambda r: True),
    "enhanced": ("Enhanced", lambda r: r.enhanced),
    "not_enhanced": ("Not enhanced yet", lambda r: not r.enhanced),
    "not_improved": ("Not improved", lambda r: r.not_improved),
    "rated": ("Rated", lambda r: r.rating is not None),
    "unreadable": ("Unreadable", lambda r: r.unreadable is not None),
}
