"""First run: the demo library is written, scanned and scored; the grid is ranked."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from photoenhance.core.jobs.lane import LazyModel  # noqa: E402
from photoenhance.core.settings import Settings  # noqa: E402
from photoenhance.gui.demo import VARIANTS, demo_sources  # noqa: E402
from photoenhance.gui.main_window import MainWindow  # noqa: E402


def test_first_run_demo_library_scanned_and_ranked(qtbot, catalog, scorer) -> None:
    win = MainWindow(catalog, Settings(), scorer=scorer, watch=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        pass
    assert win.empty_hint.isVisibleTo(win) and win.demo_button.isVisibleTo(win)
    expected = len(demo_sources()) * len(VARIANTS)
    with qtbot.waitSignal(win.rows_loaded, timeout=30_000,
                          check_params_cb=lambda n: n == expected):
        win.demo_button.click()
    assert not win.empty_hint.isVisibleTo(win)
    scores = [win.proxy.index(r, 0).data(win.model.ROW_ROLE).score
              for r in range(win.proxy.rowCount())]
    assert None not in scores and scores == sorted(scores, reverse=True)
    n = sum(s >= 0.4 for s in scores)
    assert win.count_label.text().strip() == f"{n} photos above 0.40"
    assert win.enhance_button.text() == f"Enhance {n} worth-fixing"


def test_missing_scoring_model_is_said_plainly(qtbot, tmp_path, catalog, photo) -> None:
    from photoenhance.core.errors import ModelError

    def missing():
        raise ModelError("the improvability model is missing; reinstall photoenhance")

    photo(tmp_path / "lib" / "a.jpg")
    win = MainWindow(catalog, Settings(), scorer=LazyModel(missing, "Scores"), watch=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000):
        pass
    with qtbot.waitSignal(win.rows_loaded, timeout=10_000, check_params_cb=lambda n: n == 1):
        win.library.start_scan([tmp_path / "lib"])
    assert "scoring model is not available" in win.count_label.text()
    assert "Scores not available" in win.statusBar().currentMessage()
