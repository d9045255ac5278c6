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


def test_grid_shows_thumbnails_and_shares_selection(
    qtbot, tmp_path: Path, photo, make_window, scan
) -> None:
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


def test_thumbnails_for_a_page_scrolled_past_are_dropped(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    import time

    from PySide6.QtGui import QImage

    from photoenhance.gui import thumbs

    made: list[str] = []

    def slow_thumbnail(path: str, _folder: Path) -> QImage:
        made.append(path)
        time.sleep(0.02)
        return QImage(4, 4, QImage.Format.Format_RGB888)

    monkeypatch.setattr(thumbs, "make_thumbnail", slow_thumbnail)
    cache = thumbs.ThumbnailCache(tmp_path)
    first = [f"/old/{i}.jpg" for i in range(40)]
    assert all(cache.get(p) is None for p in first)
    assert not made  # requests wait for the paint to end
    qtbot.waitUntil(lambda: len(made) > 0, timeout=5_000)
    second = [f"/new/{i}.jpg" for i in range(6)]
    for p in second:
        cache.get(p)
    qtbot.waitUntil(lambda: all(cache.get(p) is not None for p in second), timeout=5_000)
    qtbot.wait(100)
    stale = [p for p in made if p.startswith("/old/")]
    assert len(stale) <= 6  # the ones being made when the page changed, not all 40
    assert sorted(p for p in made if p.startswith("/new/")) == sorted(second)  # each once
    cache.clear_pending()
    cache.pool.waitForDone(5_000)


def test_tiles_are_stamped_from_a_few_cached_pieces(qtbot, tmp_path: Path) -> None:
    from photoenhance.gui.grid_view import LibraryGrid
    from photoenhance.gui.models import PhotoFilterModel, PhotoRow, PhotoTableModel
    from photoenhance.gui.thumbs import ThumbnailCache

    source = PhotoTableModel()
    source.set_rows(
        [
            PhotoRow(
                i,
                f"/p/IMG_{i}.jpg",
                (i % 100) / 100,
                {"noise": (i % 7) / 7, "blur": (i % 3) / 3, "jpeg": 0.3, "clipping": 0.0},
                100,  # big enough for factor chips
                100,
                None,
                None,
                enhanced=i % 2 == 0,
            )
            for i in range(500)
        ]
    )
    proxy = PhotoFilterModel()
    proxy.setSourceModel(source)
    grid = LibraryGrid(ThumbnailCache(tmp_path))
    qtbot.addWidget(grid)
    grid.setModel(proxy)
    grid.resize(900, 700)
    grid.show()
    qtbot.waitExposed(grid)
    stamps = grid.delegate.stamps
    real_get, uses = stamps.get, []
    stamps.get = lambda *args: uses.append(args[0]) or real_get(*args)  # type: ignore[method-assign]
    bar = grid.verticalScrollBar()
    for _ in range(30):
        bar.setValue(bar.value() + bar.pageStep())
        grid.viewport().repaint()
        qtbot.wait(1)
    # Frame (not selected), 100 badges (one colour per score), 4 chips, 1 tick at most,
    # however many tiles were painted.
    assert 0 < len(stamps._cache) <= 1 + 100 + 4 + 1
    assert len(uses) > 3 * len(stamps._cache)
    grid.thumbs.clear_pending()
