"""Settings: grouped as Enhancement, Ranking, Watch, Performance; aligned; folders editable."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QFormLayout, QGroupBox  # noqa: E402

from photoenhance.core.settings import load_settings  # noqa: E402
from photoenhance.gui.settings_dialog import NUMBER_WIDTH  # noqa: E402


def test_groups_align_and_numbers_do_not_stretch(qtbot, make_window) -> None:
    win = make_window()
    dialog = win.open_settings()
    qtbot.addWidget(dialog)
    dialog.resize(900, 700)
    groups = dialog.findChildren(QGroupBox)
    assert [g.title() for g in groups] == ["Enhancement", "Ranking", "Watch", "Performance"]
    enhancement = groups[0].layout()
    assert isinstance(enhancement, QFormLayout)
    fields = [enhancement.itemAt(r, QFormLayout.ItemRole.FieldRole).widget()
              for r in range(enhancement.rowCount())]
    assert dialog.strength in fields and dialog.auto_strength in fields
    assert dialog.location in fields and dialog.format in fields
    label_widths = {g.layout().itemAt(0, QFormLayout.ItemRole.LabelRole).widget().width()
                    for g in groups}
    assert len(label_widths) == 1  # one label column for every group
    for spin in (dialog.strength, dialog.threshold, dialog.threads, dialog.jpeg_floor):
        assert spin.width() == NUMBER_WIDTH


def test_watch_folders_add_and_remove(qtbot, tmp_path: Path, photo, make_window,
                                      scan) -> None:
    lib, extra = tmp_path / "lib", tmp_path / "extra"
    photo(lib / "a.jpg")
    photo(extra / "b.jpg", seed=1)
    win = make_window()
    scan(win, lib, 1)
    dialog = win.open_settings()
    qtbot.addWidget(dialog)
    assert dialog.folders() == [str(lib)]
    dialog.choose_folder = lambda: str(extra)
    assert dialog.add_folder() == str(extra)
    assert dialog.add_folder() is None  # not twice
    dialog.watched.setCurrentRow(0)
    assert dialog.remove_selected() == str(lib)
    assert dialog.folders() == [str(extra)]
    with qtbot.waitSignal(win.rows_loaded, timeout=20_000, check_params_cb=lambda n: n == 2):
        dialog.accept()  # the added folder is scanned into the library
    saved = load_settings()
    assert str(lib) in saved.unwatched_roots
    assert str(extra) in saved.watched_roots and str(lib) not in saved.watched_roots


def test_tone_checkbox_reaches_gui_batches(qtbot, make_window) -> None:
    """The tone step is off by default; ticking it in Settings turns it on for GUI batches
    (and, through the same settings file, for the CLI)."""
    from photoenhance.gui.jobs import options_from

    win = make_window()
    assert options_from(load_settings()).tone is False
    dialog = win.open_settings()
    qtbot.addWidget(dialog)
    assert not dialog.tone.isChecked()
    dialog.tone.setChecked(True)
    dialog.accept()
    assert load_settings().tone is True
    assert options_from(load_settings()).tone is True
