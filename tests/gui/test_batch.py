"""Batch enhancement from the GUI: cancel leaves the job resumable; start-up offers resume."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from photoenhance.core.jobs.lane import LazyModel  # noqa: E402
from photoenhance.core.jobs.runner import unfinished_jobs  # noqa: E402
from photoenhance.core.settings import Settings  # noqa: E402
from photoenhance.gui.batch_view import QueueModel  # noqa: E402
from photoenhance.gui.jobs import ItemState  # noqa: E402
from photoenhance.gui.main_window import BATCH, MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def _every_copy_is_improved(monkeypatch) -> None:
    """These tests are about the batch's mechanics; the verdict on the tiny random model's
    copies (tests/jobs/test_verdict.py) would skip them."""
    import photoenhance.gui.jobs as gui_jobs
    from photoenhance.core.jobs.verdict import IMPROVED, Verdict

    monkeypatch.setattr(gui_jobs, "load_judge", lambda *_: lambda *_: Verdict(IMPROVED, 2.0))


class CancelOnSecond:
    """A tiny enhancer that presses Cancel as the second photo starts."""

    def __init__(self, win_ref: list[MainWindow], inner) -> None:
        self._inner = inner
        self._win = win_ref
        self.calls = 0
        self.model_id, self.sha256, self.version = "tiny-test", "", "0"
        self.plan = inner.plan

    def enhance(self, image, **kw):
        self.calls += 1
        if self.calls == 2:
            self._win[0].batcher.task.token.cancel()
        return self._inner.enhance(image, **kw)

    def specialist(self, route):
        return self._inner.specialist(route)


def test_batch_cancel_then_resume_at_startup(qtbot, tmp_path: Path, catalog, enhancer,
                                              photo, make_window, scan) -> None:
    lib = tmp_path / "lib"
    for i in range(3):
        photo(lib / f"p{i}.jpg", seed=i)
    ref: list[MainWindow] = []
    enh = CancelOnSecond(ref, enhancer.get())
    win = make_window(Settings(threshold=0.0),
                      enhancer=LazyModel(lambda: enh, "Enhancement model"))
    ref.append(win)
    scan(win, lib, 3)
    assert win.batch.worth_button.text() == "Enhance 3 worth-fixing photos"
    with qtbot.waitSignal(win.batcher.stopped, timeout=30_000) as stopped:
        win.enhance_button.click()
    assert win.tabs.currentIndex() == BATCH
    job_id = stopped.args[0]
    assert unfinished_jobs(catalog) == [job_id]
    qtbot.waitUntil(lambda: "left" in win.batch.status.text(), timeout=5_000)
    statuses = [i.status for i in win.batch.model.items()]
    assert statuses == ["done", "queued", "queued"]
    assert win.batch.resume_button.isVisibleTo(win)

    # A new session: the interrupted job is offered, accepted, and finishes.
    asked: list[str] = []
    again = make_window(ask=lambda _t, text: asked.append(text) or True)
    with qtbot.waitSignal(again.batcher.finished, timeout=30_000) as done:
        again.check_interrupted()
    assert "2 photos left" in asked[0]
    assert [i.status for i in done.args[0].items] == ["done"] * 3
    assert all(Path(i.output).is_file() for i in done.args[0].items)
    assert unfinished_jobs(catalog) == []
    assert again.batcher.output_folder() == lib / "Enhanced"
    qtbot.waitUntil(lambda: all(r.enhanced for r in again.model.all_rows()), timeout=10_000)
    again.show_kind.setCurrentIndex(again.show_kind.findData("not_enhanced"))
    assert again.proxy.rowCount() == 0
    again.show_kind.setCurrentIndex(again.show_kind.findData("enhanced"))
    assert again.proxy.rowCount() == 3


def test_failed_item_shows_its_error(qtbot, tmp_path: Path, photo, make_window,
                                     scan) -> None:
    lib = tmp_path / "lib"
    photo(lib / "good.jpg")
    bad = photo(lib / "bad.jpg")
    win = make_window()
    scan(win, lib, 2)
    bad.write_bytes(b"\xff\xd8 truncated")
    win.table.selectAll()
    with qtbot.waitSignal(win.batcher.finished, timeout=30_000) as done:
        win.enhance_selection()
    by_name = {Path(i.source).name: i for i in done.args[0].items}
    assert by_name["good.jpg"].status == "done"
    assert by_name["bad.jpg"].status == "failed" and by_name["bad.jpg"].error
    row = [i.source for i in win.batch.model.items()].index(str(bad))
    error_col = QueueModel.COLUMNS.index("Enhanced copy or error")
    assert "bad.jpg" in win.batch.model.index(row, error_col).data()
    assert "1 failed" in win.batch.status.text()


def test_quitting_during_a_batch_asks(make_window) -> None:
    answers = [False]
    win = make_window(ask=lambda *_: answers[0])
    win.show()
    win.batcher.task = object()  # type: ignore[assignment]  # pretend a batch runs
    win.batcher.cancel = lambda: None  # type: ignore[method-assign]
    assert not win.close()
    answers[0] = True
    assert win.close()
    win.batcher.task = None


def test_queue_model_passes_qtmodeltester(qtmodeltester) -> None:
    model = QueueModel()
    model.set_items([ItemState(f"/p/{i}.jpg", s, "/o/x.jpg" if s == "done" else None,
                               "broken" if s == "failed" else None)
                     for i, s in enumerate(["done", "failed", "queued", "running"])])
    qtmodeltester.check(model)
    model.set_items([ItemState("/p/0.jpg", "done")])
    qtmodeltester.check(model)


def test_result_panel_says_what_the_tone_step_did(qtbot) -> None:
    from photoenhance.gui.batch_view import ResultPanel

    panel = ResultPanel(None)
    qtbot.addWidget(panel)
    panel.show_item(ItemState("/p/0.jpg", "done", "/o/0.jpg", tone="exposure +1.2 EV, warmer"))
    assert "tone: exposure +1.2 EV, warmer" in panel.facts.text()
    panel.show_item(ItemState("/p/1.jpg", "done", "/o/1.jpg"))
    assert "tone" not in panel.facts.text()


def test_result_panel_says_when_the_tone_correction_alone_made_the_copy(qtbot) -> None:
    from photoenhance.gui.batch_view import ResultPanel

    panel = ResultPanel(None)
    qtbot.addWidget(panel)
    panel.show_item(ItemState("/p/0.jpg", "done", "/o/0.jpg", verdict="not improved",
                              tone="exposure +2.0 EV, brighter shadows", restored=False))
    assert "tone correction alone" in panel.facts.text()
    panel.show_item(ItemState("/p/1.jpg", "done", "/o/1.jpg", verdict="improved",
                              tone="exposure +1.0 EV"))
    assert "alone" not in panel.facts.text()
