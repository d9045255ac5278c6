"""The library grid: upright thumbnails cached on disk, tiles, shared selection, sorting."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402

from photoenhance.gui.thumbs import THUMB_SIDE, cache_file, make_thumbnail  # noqa: E402


def test_thumbnail_is_upright_small_and_cached(tmp_path: Path) -> None:
    src = tmp_path / "r.jpg"
    exif = Image.Exif()
    exif[274] = 6  # stored landscape, displayed portrait
    Image.new("RGB", (600, 300), (200, 30, 30)).save(src, exif=exif.tobytes())
    image = make_thumbnail(str(src), tmp_path / "cache")
    assert image.height() == THUMB_SIDE and image.width() == THUMB_SIDE // 2
    assert cache_file(tmp_path / "cache", str(src)).is_file()
    again = make_thumbnail(str(src), tmp_path / "cache")  # from the disk cache
    assert (again.width(), again.height()) == (image.width(), image.height())


def test_grid_shows_thumbnails_and_shares_selection(qtbot, tmp_path: Path, photo,
                                                    make_window, scan) -> None:
    for i in range(4):
        photo(tmp_path / "lib" / f"g{i}.jpg", seed=i)
    win = make_window()
    win.resize(1200, 800)
    win.show()
    scan(win, tmp_path / "lib", 4)
    assert win.views.currentWidget() is win.grid
    paths = {win.proxy.index(r, 0).data(win.model.ROW_ROLE).path for r in range(4)}
    qtbot.waitUntil(lambda: all(win.thumbs.get(p) is not None for p in paths), timeout=10_000)
    pixmap = win.grid.viewport().grab()
    assert not pixmap.isNull() and pixmap.width() > 0
    win.grid.setCurrentIndex(win.proxy.index(2, 0))
    assert win.table.currentIndex().row() == 2  # one selection behind both views
    win.list_action.trigger()
    assert win.views.currentWidget() is win.table and not win.grid_action.isChecked()
    win.sort.setCurrentIndex(1)  # by name
    names = [win.proxy.index(r, 1).data() for r in range(4)]
    assert names == sorted(names)
    win.sort.setCurrentIndex(0)  # most improvable first
    scores = [win.proxy.index(r, 0).data(win.model.ROW_ROLE).score for r in range(4)]
    assert scores == sorted(scores, reverse=True)
