"""The library's details panel and tiles: placeholder, EXIF, gain and verdict, unreadable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from photoenhance.gui.main_window import MainWindow  # noqa: E402
from photoenhance.gui.models import PhotoRow  # noqa: E402


def _camera_jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(3).integers(0, 255, (120, 160, 3), np.uint8)
    exif = {"0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"Canon EOS 40D"},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2008:05:30 15:56:01",
                     piexif.ExifIFD.LensModel: b"EF-S 18-55mm f/3.5-5.6"}}
    Image.fromarray(arr).save(path, exif=piexif.dump(exif), quality=90)
    return path


@pytest.fixture
def win(tmp_path: Path, photo, make_window, scan) -> MainWindow:
    lib = tmp_path / "lib"
    _camera_jpeg(lib / "camera.jpg")
    photo(lib / "tiny.jpg", seed=2, size=(8, 8))
    (lib / "broken.jpg").write_bytes(b"not a photo at all")
    w = make_window()
    w.show()
    scan(w, lib, 3)
    return w


def _select(win: MainWindow, name: str) -> PhotoRow:
    for r in range(win.proxy.rowCount()):
        row = win.proxy.index(r, 0).data(win.model.ROW_ROLE)
        if row.name == name:
            win.table.setCurrentIndex(win.proxy.index(r, 0))
            return row
    raise AssertionError(name)


def test_placeholder_then_exif_and_gain(qtbot, win: MainWindow) -> None:
    details = win.details
    assert details.currentWidget() is details.placeholder
    assert "No photo selected" in details.placeholder.text()
    row = _select(win, "camera.jpg")
    assert details.currentWidget() is not details.placeholder
    labels = details._labels
    assert labels["Camera"].text() == "Canon EOS 40D"
    assert labels["Captured"].text().startswith("2008-05-30")
    qtbot.waitUntil(lambda: labels["Lens"].text() == "EF-S 18-55mm f/3.5-5.6", timeout=5_000)
    assert row.score is not None and labels["Predicted gain"].text().endswith(" dB")
    win.table.clearSelection()
    win.table.setCurrentIndex(win.proxy.index(-1, -1))
    assert details.currentWidget() is details.placeholder


def test_unreadable_and_tiny_files(win: MainWindow) -> None:
    rows = {r.name: r for r in win.model.all_rows()}
    assert rows["broken.jpg"].unreadable and rows["broken.jpg"].dominant_factors() == []
    assert rows["tiny.jpg"].tiny and rows["tiny.jpg"].dominant_factors() == []
    i = win.show_kind.findData("unreadable")
    assert win.show_kind.itemText(i) == "Unreadable (1)"
    assert not win.review_button.isEnabled()  # nothing enhanced yet
    win.show_kind.setCurrentIndex(i)
    assert win.proxy.rowCount() == 1
    _select(win, "broken.jpg")
    assert win.details._labels["Score"].text().startswith("unreadable")
    # its tile says so, in the warning colour
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionViewItem

    image = QImage(220, 200, QImage.Format.Format_RGB32)
    image.fill(0)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 220, 200)
    painter = QPainter(image)
    win.grid.delegate.paint(painter, option, win.proxy.index(0, 0))
    painter.end()
    arr = np.frombuffer(image.constBits(), np.uint8).reshape(200, 220, 4)
    red = (arr[:, :, 2] > 200) & (arr[:, :, 1] < 170) & (arr[:, :, 0] < 170)  # BGRA
    assert red.sum() > 20


def test_chips_name_only_the_faults_that_stand_out() -> None:
    def row(**factors: float) -> PhotoRow:
        full = {"noise": 0.0, "blur": 0.0, "jpeg": 0.0, "clipping": 0.0, **factors}
        return PhotoRow(1, "/p/a.jpg", 0.9, full, 640, 480, None, None)

    assert row(noise=0.16, blur=0.05, jpeg=0.05).dominant_factors() == ["noise"]
    assert row(noise=0.6, jpeg=0.4).dominant_factors() == ["noise", "jpeg"]
    assert row(noise=0.05, blur=0.04).dominant_factors() == []  # nothing stands out
