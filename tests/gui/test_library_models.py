"""The library's item models: the list-based filtering and sorting give the rows a
QSortFilterProxyModel over the same rows would, keep the selection, and pass qtmodeltester
while they change."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSortFilterProxyModel, Qt  # noqa: E402

from photoenhance.gui.models import (  # noqa: E402
    FILTER_KINDS,
    PhotoFilterModel,
    PhotoRow,
    PhotoTableModel,
)

DESC, ASC = Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder


def _rows(n: int, seed: int = 0) -> list[PhotoRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        score = None if i % 5 == 0 else rnd.choice([0.1, 0.25, 0.5, 0.5, 0.75, 0.9])
        rows.append(
            PhotoRow(
                i,
                f"/lib/{rnd.choice('abc')}/{rnd.choice(['IMG', 'img', 'Dsc'])}_{i % 7}.jpg",
                score,
                None
                if score is None
                else {"noise": rnd.random(), "blur": rnd.random(), "jpeg": None, "clipping": 0.3},
                rnd.choice([None, 100, 200]),
                80,
                rnd.choice([None, "Cam", "cam B"]),
                rnd.choice([None, "2024-01-02 10:00", "2023-05-06 08:30"]),
                enhanced=i % 3 == 0,
                rating=rnd.choice([None, 1, -1]),
                not_improved=i % 6 == 0,
            )
        )
    return rows


class ReferenceFilter(QSortFilterProxyModel):
    """What the library used before: Qt's proxy, filtering and sorting through data()."""

    def __init__(self, text: str = "", kind: str = "all", min_score: float | None = None):
        super().__init__()
        self.text, self.kind, self.min_score = text, kind, min_score
        self.setSortRole(PhotoTableModel.SORT_ROLE)

    def filterAcceptsRow(self, source_row: int, parent: Any) -> bool:  # noqa: N802
        model = self.sourceModel()
        row = model.data(model.index(source_row, 0, parent), PhotoTableModel.ROW_ROLE)
        if self.text and self.text not in row.name.casefold():
            return False
        if not FILTER_KINDS[self.kind][1](row):
            return False
        return self.min_score is None or (row.score is not None and row.score >= self.min_score)


def _ids(model: Any) -> list[int]:
    return [model.index(r, 0).data(PhotoTableModel.ROW_ROLE).id for r in range(model.rowCount())]


@pytest.mark.parametrize("column", range(len(PhotoTableModel.COLUMNS)))
@pytest.mark.parametrize("order", [ASC, DESC])
def test_filter_model_orders_like_qt(qapp, column: int, order: Qt.SortOrder) -> None:
    rows = _rows(120)
    source, plain = PhotoTableModel(), PhotoTableModel()
    source.set_rows(rows)
    plain.set_rows(rows)
    ours, ref = PhotoFilterModel(), ReferenceFilter("img", "not_enhanced", 0.2)
    ours.setSourceModel(source)
    ref.setSourceModel(plain)
    ours.sort(column, order)
    ref.sort(column, order)
    ours.set_text("IMG")
    ours.set_kind("not_enhanced")
    ours.set_min_score(0.2)
    assert 0 < ours.rowCount() < 120
    assert _ids(ours) == _ids(ref)
    for col in range(ours.columnCount()):  # the same cells, too
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            assert ours.index(3, col).data(role) == ref.index(3, col).data(role)
    assert ours.headerData(1, Qt.Orientation.Horizontal) == "Name"


def test_changed_row_is_filtered_and_placed_again(qapp) -> None:
    source, plain = PhotoTableModel(), PhotoTableModel()
    source.set_rows(_rows(60))
    plain.set_rows(source.all_rows())
    ours, ref = PhotoFilterModel(), ReferenceFilter(kind="rated")
    ours.setSourceModel(source)
    ref.setSourceModel(plain)
    for proxy in (ours, ref):
        proxy.sort(0, DESC)
    ours.set_kind("rated")
    unrated = next(r for r in source.all_rows() if r.rating is None)
    rated = next(r for r in source.all_rows() if r.rating is not None and r.id != unrated.id)
    moved = next(
        r
        for r in source.all_rows()
        if r.rating is not None and r.score is not None and r.id != rated.id
    )
    for model in (source, plain):
        model.update_row(unrated.id, rating=2)  # now shown
        model.update_row(rated.id, rating=None)  # now hidden
        model.update_row(moved.id, score=0.99)  # now first
    assert _ids(ours) == _ids(ref)
    assert _ids(ours)[0] == moved.id and unrated.id in _ids(ours) and rated.id not in _ids(ours)


def test_selection_follows_rows_through_sort_and_filter(qapp) -> None:
    source = PhotoTableModel()
    source.set_rows(_rows(50))
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    proxy.sort(0, DESC)
    selection = QItemSelectionModel(proxy)
    flag = QItemSelectionModel.SelectionFlag
    flags = flag.ClearAndSelect | flag.Rows
    selection.setCurrentIndex(proxy.index(4, 0), flags)
    chosen = proxy.index(4, 0).data(PhotoTableModel.ROW_ROLE)
    proxy.sort(1, ASC)
    assert selection.currentIndex().data(PhotoTableModel.ROW_ROLE) is chosen
    assert [i.data(PhotoTableModel.ROW_ROLE) for i in selection.selectedRows()] == [chosen]
    proxy.set_text(chosen.name)
    assert selection.currentIndex().data(PhotoTableModel.ROW_ROLE) is chosen
    proxy.set_text("no such photo")
    assert proxy.rowCount() == 0 and not selection.currentIndex().isValid()
    assert proxy.mapFromSource(source.index(0, 0)) == QModelIndex()


@pytest.mark.parametrize("force_py", [False, True])
def test_models_pass_qtmodeltester_while_they_change(qtmodeltester, qtlog, force_py) -> None:
    source = PhotoTableModel()
    source.set_rows(_rows(40))
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    qtmodeltester.check(proxy, force_py=force_py)
    proxy.sort(0, DESC)
    proxy.set_min_score(0.3)
    proxy.sort(1, ASC)
    proxy.set_text("img")
    source.update_row(source.all_rows()[3].id, score=0.95, rating=1)
    source.update_row(source.all_rows()[4].id, score=None)
    proxy.set_kind("rated")
    source.set_rows(_rows(30, seed=1))
    proxy.set_text("")
    src = source.index(2, 0)
    assert proxy.mapToSource(proxy.mapFromSource(src)) == src
    # Qt's own tester only logs its failures as warnings.
    assert not [r.message for r in qtlog.records if "FAIL" in r.message.upper()]


@pytest.mark.parametrize("force_py", [False, True])
def test_source_passes_qtmodeltester_while_it_changes(qtmodeltester, qtlog, force_py) -> None:
    source = PhotoTableModel()
    source.set_rows(_rows(40))
    qtmodeltester.check(source, force_py=force_py)
    source.sort(0, DESC)
    source.set_filter(min_score=0.3, text="img")
    source.update_row(source.all_rows()[3].id, score=0.95, rating=1)
    source.set_filter(kind="rated", min_score=None)
    source.sort(5, ASC)
    source.set_rows(_rows(30, seed=1))
    assert not [r.message for r in qtlog.records if "FAIL" in r.message.upper()]


def test_hundred_thousand_rows_sort_and_filter_in_a_blink(qapp) -> None:
    rows = [
        PhotoRow(
            i,
            f"/p/{i % 977}/IMG_{i:06d}.JPG",
            (i * 7919 % 1000) / 1000,
            {"noise": 0.5, "blur": 0.1, "jpeg": 0.2, "clipping": 0.0},
            6000,
            4000,
            None,
            None,
        )
        for i in range(100_000)
    ]
    source = PhotoTableModel()
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    proxy.sort(0, DESC)
    t = time.perf_counter()
    source.set_rows(rows)
    proxy.sort(1, ASC)
    proxy.set_min_score(0.5)
    assert len(source.all_rows()) == 100_000 and proxy.rowCount() == 50_000
    for typed in ("i", "im", "img_00", "img_000"):  # a search typed into the toolbar
        proxy.set_text(typed)
    elapsed = time.perf_counter() - t
    assert proxy.rowCount() == sum(
        1 for r in rows if "img_000" in r.name.casefold() and r.score is not None and r.score >= 0.5
    )
    assert elapsed < 2.0  # about 0.15 s on a quiet machine; a QSortFilterProxyModel takes > 5 s


def test_views_follow_a_filter_change(qtbot) -> None:
    from PySide6.QtWidgets import QListView, QTableView

    source = PhotoTableModel()
    source.set_rows(_rows(300))
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    table, grid = QTableView(), QListView()
    for view in (table, grid):
        qtbot.addWidget(view)
        view.setModel(proxy)
        view.resize(300, 200)
        view.show()
    grid.setSelectionModel(table.selectionModel())
    table.selectRow(5)
    chosen = proxy.index(5, 0).data(PhotoTableModel.ROW_ROLE)
    proxy.set_min_score(0.6)
    qtbot.wait(1)
    assert table.verticalHeader().count() == proxy.rowCount() < 300
    selected = [i.data(PhotoTableModel.ROW_ROLE) for i in table.selectionModel().selectedRows()]
    assert selected == ([chosen] if chosen.score is not None and chosen.score >= 0.6 else [])
    proxy.set_min_score(None)
    qtbot.wait(1)
    assert table.verticalHeader().count() == 300
    grid.scrollToBottom()
    assert grid.visualRect(proxy.index(299, 0)).intersects(grid.viewport().rect())


def test_bulk_load_pauses_the_collector_then_freezes() -> None:
    import gc
    import threading

    from photoenhance.gui.gcpolicy import bulk_load

    seen: list[bool] = []
    inner_started, release = threading.Event(), threading.Event()

    def slow_load() -> list[object]:
        inner_started.set()
        release.wait(5)
        seen.append(gc.isenabled())
        return [object()]

    def quick_load() -> list[object]:
        seen.append(gc.isenabled())
        return [[]]  # a container the collector tracks

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    worker = threading.Thread(target=bulk_load(slow_load))
    worker.start()
    inner_started.wait(5)
    kept = bulk_load(quick_load)()  # overlapping loads: the collector stays paused
    assert not gc.isenabled()
    release.set()
    worker.join(5)
    assert seen == [False, False] and gc.isenabled()
    assert gc.get_freeze_count() > frozen and gc.is_tracked(kept[0])
    gc.unfreeze()


def test_multidata_answers_as_data(qapp) -> None:
    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan

    source = PhotoTableModel()
    source.set_rows(_rows(10))
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    proxy.sort(0, DESC)
    roles = [*range(14), PhotoTableModel.SORT_ROLE, PhotoTableModel.ROW_ROLE]
    for model in (source, proxy):
        for index in [model.index(r, c) for r in (0, 5, 9) for c in range(7)] + [QModelIndex()]:
            for role in roles:  # PySide6 makes spans of one
                asked = QModelRoleData(role)
                model.multiData(index, QModelRoleDataSpan(asked))
                assert asked.data() == model.data(index, role)
