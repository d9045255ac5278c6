"""Review: step through a batch's results with the keyboard, keep, reject to the trash, rate."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from sqlalchemy import select  # noqa: E402

from photoenhance.core.catalog import Enhancement  # noqa: E402
from photoenhance.core.catalog.queries import REJECTED as REJECTED_STATUS  # noqa: E402
from photoenhance.core.rank.ratings import latest_ratings  # noqa: E402
from photoenhance.core.settings import Settings  # noqa: E402
from photoenhance.gui import review  # noqa: E402
from photoenhance.gui.change import largest_change  # noqa: E402
from photoenhance.gui.jobs import ItemState  # noqa: E402
from photoenhance.gui.main_window import BATCH, LIBRARY, REVIEW, MainWindow  # noqa: E402
from photoenhance.gui.verdicts import item_verdict  # noqa: E402


@pytest.fixture(autouse=True)
def _every_copy_is_improved(monkeypatch) -> None:
    """Review is about stepping through written copies; the verdict on the tiny random
    model's copies (tests/jobs/test_verdict.py) would skip some of them."""
    import photoenhance.gui.jobs as gui_jobs
    from photoenhance.core.jobs.verdict import IMPROVED, Verdict

    monkeypatch.setattr(gui_jobs, "load_judge", lambda *_: lambda *_: Verdict(IMPROVED, 2.0))


@pytest.fixture
def trash(tmp_path: Path, monkeypatch) -> Path:
    """Point the trash library at a folder of the test: files sent there land in it."""
    folder = tmp_path / "Trash"
    folder.mkdir()

    def send(path: str) -> None:
        Path(path).rename(folder / Path(path).name)

    monkeypatch.setattr(review, "send2trash", send)
    return folder


@pytest.fixture
def win(qtbot, tmp_path: Path, photo, make_window, scan) -> MainWindow:
    for i in range(3):
        photo(tmp_path / "lib" / f"p{i}.jpg", seed=i, size=(160, 120))
    w = make_window(Settings(threshold=0.0))
    w.resize(1100, 700)
    w.show()
    scan(w, tmp_path / "lib", 3)
    with qtbot.waitSignal(w.batcher.finished, timeout=60_000):
        w.enhance_worth_fixing()
    return w


def _start(qtbot, win: MainWindow) -> None:
    assert win.batch.review_button.isEnabled()
    assert win.batch.review_button.text().startswith("Review 3 results")
    with qtbot.waitSignal(win.reviewer.pair_shown, timeout=20_000):
        win.batch.review_button.click()
    assert win.tabs.currentIndex() == REVIEW


def _key(qtbot, win: MainWindow, key: Qt.Key, signal=None) -> None:
    with qtbot.waitSignal(signal or win.reviewer.pair_shown, timeout=20_000):
        qtbot.keyClick(win.review, key)


def test_keyboard_flow(qtbot, win: MainWindow) -> None:
    _start(qtbot, win)
    outputs = [it.output for it in win.reviewer.items]
    assert len(outputs) == 3 and all(Path(o).is_file() for o in outputs)
    pair = win.review.pane.pair
    assert pair is not None and pair.output == outputs[0]
    assert (pair.before.width(), pair.before.height()) == (160, 120)  # 100 %: every pixel
    assert "1 of 3" in win.review.title.text()
    _key(qtbot, win, Qt.Key.Key_Right)
    assert win.reviewer.index == 1 and win.review.pane.pair.output == outputs[1]
    _key(qtbot, win, Qt.Key.Key_J)
    assert win.reviewer.index == 2 and "3 of 3" in win.review.title.text()
    _key(qtbot, win, Qt.Key.Key_K)
    _key(qtbot, win, Qt.Key.Key_Left)
    assert win.reviewer.index == 0
    qtbot.keyClick(win.review, Qt.Key.Key_Left)  # the first: stays
    assert win.reviewer.index == 0
    qtbot.keyClick(win.review, Qt.Key.Key_C)
    assert win.review.change_button.isChecked() and win.review.pane.show_change
    qtbot.keyClick(win.review, Qt.Key.Key_Escape)
    assert win.tabs.currentIndex() == BATCH


def test_keep_and_reject_to_trash(qtbot, win: MainWindow, trash: Path, catalog) -> None:
    _start(qtbot, win)
    first, second = (it.output for it in win.reviewer.items[:2])
    _key(qtbot, win, Qt.Key.Key_P)  # keep: on to the next
    assert win.reviewer.decisions == {first: review.KEPT}
    assert Path(first).is_file() and win.reviewer.index == 1
    with qtbot.waitSignal(win.reviewer.decided, timeout=10_000) as got:
        qtbot.keyClick(win.review, Qt.Key.Key_X)
    assert got.args == [second, review.REJECTED]
    assert not Path(second).exists()  # left its folder, through the trash library
    assert (trash / Path(second).name).is_file()
    sources = [it.source for it in win.reviewer.items]
    assert all(Path(s).is_file() for s in sources)  # originals untouched
    qtbot.waitUntil(lambda: win.reviewer.index == 2, timeout=5_000)
    with catalog.session() as s:
        status = s.scalars(select(Enhancement.status)
                           .where(Enhancement.output_path == Path(second))).all()
    assert status == [REJECTED_STATUS]
    # the library no longer counts that photo as enhanced
    qtbot.waitUntil(lambda: sum(r.enhanced for r in win.model.all_rows()) == 2, timeout=10_000)
    # going back to it says where it is, and rejecting twice does nothing
    qtbot.keyClick(win.review, Qt.Key.Key_K)
    assert "trash" in win.review.pane.message and "in the trash" in win.review.decision.text()
    qtbot.keyClick(win.review, Qt.Key.Key_X)
    assert len(list(trash.iterdir())) == 1


def test_reject_uses_the_real_trash_library(qtbot, win: MainWindow, tmp_path: Path,
                                            monkeypatch) -> None:
    plat = pytest.importorskip("send2trash.plat_other")
    if (review.send2trash.__module__ != plat.__name__ or not hasattr(plat, "HOMETRASH_B")
            or not hasattr(plat, "XDG_DATA_HOME")):
        pytest.skip("this send2trash uses another trash implementation (gio, macOS, Windows)")
    if os.stat(tmp_path).st_dev != os.stat(Path.home()).st_dev:
        pytest.skip("the test folder is on another volume than the home trash")
    home_trash = tmp_path / "data" / "Trash"  # the library's home trash, moved here
    monkeypatch.setattr(plat, "XDG_DATA_HOME", os.fsencode(tmp_path / "data"))
    monkeypatch.setattr(plat, "HOMETRASH_B", os.fsencode(home_trash))
    monkeypatch.setattr(plat, "HOMETRASH", str(home_trash), raising=False)
    _start(qtbot, win)
    output = Path(win.reviewer.items[0].output)
    with qtbot.waitSignal(win.reviewer.decided, timeout=10_000):
        qtbot.keyClick(win.review, Qt.Key.Key_Delete)
    assert not output.exists()
    assert (home_trash / "files" / output.name).is_file()
    assert (home_trash / "info" / f"{output.name}.trashinfo").is_file()


def test_rating_keys_feed_calibrate(qtbot, win: MainWindow, catalog) -> None:
    _start(qtbot, win)
    first = win.reviewer.items[0].source
    with qtbot.waitSignal(win.reviewer.rating_saved, timeout=10_000):
        qtbot.keyClick(win.review, Qt.Key.Key_2)
    assert "rated moderate" in win.review.decision.text()
    _key(qtbot, win, Qt.Key.Key_J)
    second = win.reviewer.items[1].source
    with qtbot.waitSignal(win.reviewer.rating_saved, timeout=10_000):
        qtbot.keyClick(win.review, Qt.Key.Key_4)
    assert dict((str(p), label) for p, label in latest_ratings(catalog)) == {first: 1,
                                                                              second: -1}
    ratings = {r.path: r.rating for r in win.model.all_rows()}
    assert ratings[first] == 1 and ratings[second] == -1


def test_review_from_the_enhanced_filter(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: all(r.enhanced for r in win.model.all_rows()), timeout=10_000)
    win.tabs.setCurrentIndex(LIBRARY)
    win.show_kind.setCurrentIndex(win.show_kind.findData("enhanced"))
    assert win.review_button.isEnabled()
    with qtbot.waitSignal(win.reviewer.pair_shown, timeout=20_000):
        win.review_button.click()
    assert win.tabs.currentIndex() == REVIEW and len(win.reviewer.items) == 3
    qtbot.keyClick(win.review, Qt.Key.Key_Escape)
    assert win.tabs.currentIndex() == LIBRARY


def test_batch_view_shows_time_gain_verdict_and_filters(qtbot, win: MainWindow) -> None:
    model = win.batch.model
    assert model.COLUMNS[3:6] == ("Verdict", "Gain", "Time")
    for row in range(3):
        assert model.index(row, 5).data().endswith(" s")
        assert model.index(row, 3).data() in ("improved", "not improved", "not verified")
        assert model.index(row, 4).data().endswith(" dB")  # the predicted gain, from the score
    win.batch.verdict_filter.setCurrentIndex(win.batch.verdict_filter.findData("failed"))
    assert win.batch.filtered.rowCount() == 0
    win.batch.verdict_filter.setCurrentIndex(win.batch.verdict_filter.findData("all"))
    assert win.batch.filtered.rowCount() == 3
    # the side panel follows the selection and reviews from there
    win.batch.table.setCurrentIndex(win.batch.filtered.index(1, 1))
    third = model.items()[1]
    assert Path(third.source).name in win.batch.result.facts.text()
    with qtbot.waitSignal(win.reviewer.pair_shown, timeout=20_000):
        win.batch.result.review_button.click()
    assert win.reviewer.index == 1


def test_verdict_helper_prefers_the_guard() -> None:
    done = dict(source="a", status="done", output="b")
    assert item_verdict(ItemState(**done)) is None
    assert item_verdict(ItemState(**done, verified_delta=1.2)) == "improved"
    assert item_verdict(ItemState(**done, verified_delta=0.1)) == "not improved"
    assert item_verdict(ItemState(**done, verified_delta=1.2, verdict="blocked")) == "blocked"


def test_largest_change_finds_the_changed_corner() -> None:
    mag = np.zeros((400, 600), np.float32)
    mag[300:380, 500:580] = 5.0
    x, y = largest_change(mag, (100, 100))
    assert 490 <= x <= 590 and 290 <= y <= 390


def test_load_pair_on_odd_sizes(tmp_path: Path, photo) -> None:
    src = photo(tmp_path / "a.jpg", seed=1, size=(451, 301))
    out = tmp_path / "b.jpg"
    arr = np.asarray(Image.open(src)).copy()
    arr[200:260, 300:380] = 255 - arr[200:260, 300:380]  # one changed region
    Image.fromarray(arr).save(out, quality=95)
    pair = review.load_pair(str(src), str(out), crop=(160, 120))
    assert pair.full_size == (451, 301)
    x0, y0 = pair.origin
    assert x0 <= 300 and x0 + 160 >= 380 and y0 <= 200 and y0 + 120 >= 260


def test_details_stay_on_the_photo_across_a_reload(qtbot, win: MainWindow) -> None:
    win.tabs.setCurrentIndex(LIBRARY)
    win.table.setCurrentIndex(win.proxy.index(0, 0))
    pid = win.details.row.id
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        win.library.reload()
    assert win.details.row.id == pid and win.table.currentIndex().row() >= 0
    assert win.details._labels["Enhanced"].text() == "yes"
    assert win.details._labels["Verdict"].text() == "not verified"
