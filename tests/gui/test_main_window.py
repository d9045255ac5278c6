"""Drive the library window offscreen: scan, rows sorted by score, threshold count."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("PySide6")
pytestqt = pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex  # noqa: E402

from photoenhance.core.catalog import Catalog, Photo, Score  # noqa: E402
from photoenhance.core.settings import Settings  # noqa: E402
from photoenhance.gui.main_window import MainWindow, format_eta  # noqa: E402
from photoenhance.gui.models import PhotoFilterModel, PhotoRow, PhotoTableModel  # noqa: E402


def _library(root: Path, n: int = 6) -> Path:
    for i in range(n):
        sub = root / f"day{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32 + i, 24), (i * 30, 80, 120)).save(sub / f"img{i}.jpg")
    return root


@pytest.fixture
def catalog(tmp_path: Path):
    cat = Catalog.open(tmp_path / "cat.sqlite")
    yield cat
    cat.close()


def _no_model():
    from photoenhance.core.errors import ModelError

    raise ModelError("no scoring model in this test")


def _window(qtbot, catalog: Catalog) -> MainWindow:
    from photoenhance.core.jobs.lane import LazyModel

    # Scores are written by the test itself, so the window must not score with the real model.
    win = MainWindow(catalog, Settings(), scorer=LazyModel(_no_model, "Scores"), watch=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000) as first:
        pass
    assert first.args == [0]
    assert win.empty_hint.isVisibleTo(win)
    return win


def _score_all(catalog: Catalog) -> None:
    with catalog.session() as s:
        for i, photo in enumerate(s.query(Photo).order_by(Photo.path)):
            s.add(Score(photo_id=photo.id, model_id="t", model_version="1", score=i / 10))


def test_scan_then_grid_sorted_by_score(qtbot, tmp_path: Path, catalog: Catalog) -> None:
    lib = _library(tmp_path / "lib")
    win = _window(qtbot, catalog)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000) as blocker:
        win.library.start_scan([lib])
    assert blocker.args == [6]
    assert "not scored" in win.count_label.text()
    _score_all(catalog)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        win.library.reload()
    scores = [win.proxy.index(r, 0).data() for r in range(win.proxy.rowCount())]
    assert scores == ["0.50", "0.40", "0.30", "0.20", "0.10", "0.00"]
    assert win.roots.count() == 1


def test_threshold_slider_changes_count(qtbot, tmp_path: Path, catalog: Catalog) -> None:
    lib = _library(tmp_path / "lib")
    win = _window(qtbot, catalog)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        win.library.start_scan([lib])
    _score_all(catalog)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        win.library.reload()
    win.threshold.setValue(40)
    assert win.count_label.text().strip() == "2 photos above 0.40"
    win.worth_fixing.setChecked(True)
    assert win.proxy.rowCount() == 2
    win.threshold.setValue(15)
    assert win.count_label.text().strip() == "4 photos above 0.15"
    assert win.proxy.rowCount() == 4
    win.search.setText("img5")
    assert win.proxy.rowCount() == 1


def test_models_pass_qtmodeltester(qtmodeltester, qtlog) -> None:
    model = PhotoTableModel()
    model.set_rows(
        [
            PhotoRow(
                i,
                f"/p/{i}.jpg",
                i / 7 if i % 3 else None,
                {"noise": 0.5, "blur": 0.1, "jpeg": None, "clipping": 0.3} if i % 3 else None,
                100,
                80,
                "Cam",
                None,
            )
            for i in range(50)
        ]
    )
    qtmodeltester.check(model)
    proxy = PhotoFilterModel()
    proxy.setSourceModel(model)
    proxy.set_min_score(0.3)
    qtmodeltester.check(proxy)
    # Qt's own tester only logs its failures as warnings.
    assert not [r.message for r in qtlog.records if "FAIL" in r.message.upper()]


def test_large_model_shows_every_row_at_once() -> None:
    model = PhotoTableModel()
    rows = [PhotoRow(i, f"/p/{i}.jpg", None, None, None, None, None, None) for i in range(5000)]
    model.set_rows(rows)
    assert model.rowCount() == 5000  # no chunks: the filter model sorts all rows, not a few
    assert not model.canFetchMore(QModelIndex())


@pytest.mark.parametrize(
    ("secs", "text"),
    [(None, ""), (5.2, "5 s left"), (125, "2 min 05 s left"), (3720, "1 h 02 min left")],
)
def test_format_eta(secs, text) -> None:
    assert format_eta(secs) == text


def test_camera_name_drops_repeated_make() -> None:
    from photoenhance.gui.tasks import camera_name

    assert camera_name("Canon", "Canon EOS 40D") == "Canon EOS 40D"
    assert camera_name("NIKON CORPORATION", "NIKON D70") == "NIKON D70"
    assert camera_name("Sony", "ILCE-7") == "Sony ILCE-7"
    assert camera_name(None, None) is None


def test_not_improved_filter() -> None:
    from photoenhance.gui.models import FILTER_KINDS

    row = PhotoRow(1, "/p/a.jpg", 0.5, None, 10, 10, None, None, enhanced=True, not_improved=True)
    good = PhotoRow(2, "/p/b.jpg", 0.5, None, 10, 10, None, None, enhanced=True)
    test = FILTER_KINDS["not_improved"][1]
    assert test(row) and not test(good)


def test_app_icon_has_the_shipped_sizes(qapp) -> None:
    from photoenhance.gui.theme import app_icon

    sizes = {s.width() for s in app_icon().availableSizes()}
    assert {16, 32, 48, 256} <= sizes


def test_task_whose_owner_is_gone_stops_instead_of_raising() -> None:
    from photoenhance.gui.bridge import Task

    class DeletedSignal:
        def emit(self, *args):
            raise RuntimeError("Signal source has been deleted")

    steps = []

    def work(progress, cancel):
        for i in range(5):
            if cancel.cancelled:
                break
            steps.append(i)
            progress(i)
        return "done"

    task = Task(work)
    task.progressed = DeletedSignal()  # type: ignore[assignment]
    task.finished = DeletedSignal()  # type: ignore[assignment]
    task.run()  # must not raise on the worker thread
    assert task.token.cancelled and steps == [0]


def test_escape_closes_compare_there_and_cancels_scans_elsewhere(qtbot, catalog: Catalog) -> None:
    from PySide6.QtGui import QKeySequence

    from photoenhance.gui.main_window import COMPARE, LIBRARY

    win = _window(qtbot, catalog)
    esc = QKeySequence("Escape")
    assert win.cancel_button.shortcut() == esc
    win.tabs.setCurrentIndex(COMPARE)
    assert win.cancel_button.shortcut().isEmpty()  # the compare view's own Esc is unambiguous
    with qtbot.waitSignal(win.compare.closed, timeout=2_000):
        win.compare.closed.emit()
    assert win.tabs.currentIndex() == LIBRARY
    assert win.cancel_button.shortcut() == esc
