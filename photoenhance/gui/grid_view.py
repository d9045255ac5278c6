"""The library grid: thumbnails with a score badge and chips for the dominant factors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from photoenhance.gui.models import PhotoRow, PhotoTableModel
from photoenhance.gui.theme import ACCENT, WORTH_FIXING
from photoenhance.gui.thumbs import ThumbnailCache

TILE = QSize(196, 188)
IMAGE_H = 140
CHIP_COLOURS = {"noise": "#8e6bd8", "blur": "#3f8fd2", "jpeg": "#c8753a", "clipping": "#c94f6d"}


class Stamps:
    """Pre-drawn pieces of a tile (frame, score badge, factor chips, tick), blitted instead of
    drawn: antialiased rounded rectangles and text cost about 25 us each, and a page of
    tiles has over 200 of them. Keyed by everything that changes their pixels."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], QPixmap] = {}

    def get(
        self,
        key: tuple[Any, ...],
        ratio: float,
        size: QSize | Callable[[], QSize],
        draw: Callable[[QPainter, QRect], None],
        background: QColor | None = None,
    ) -> QPixmap:
        """The stamp for ``key`` at device pixel ratio ``ratio``, drawn when missing, over
        ``background`` (an opaque stamp copies; one with transparency blends, slower)."""
        full = (*key, ratio, None if background is None else background.rgba())
        pixmap = self._cache.get(full)
        if pixmap is None:
            if not isinstance(size, QSize):
                size = size()
            pixmap = QPixmap(size * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent if background is None else background)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            draw(p, QRect(QPoint(0, 0), size))
            p.end()
            if len(self._cache) > 1000:  # fonts or screens changed many times
                self._cache.clear()
            self._cache[full] = pixmap
        return pixmap


def _small(font: QFont, bold: bool) -> QFont:
    small = QFont(font)
    small.setBold(bold)
    small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
    return small


class TileDelegate(QStyledItemDelegate):
    """Paints one photo tile; asks the cache for its thumbnail."""

    def __init__(self, thumbs: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.threshold = 0.4
        self.tile = QSize(TILE)  # the grid's cell: wider than TILE to fill the row
        self.stamps = Stamps()
        self._font_cache: dict[tuple[str, bool], tuple[QFont, QFont]] = {}

    def sizeHint(  # noqa: N802
        self,
        _option: QStyleOptionViewItem,
        _index: QModelIndex | QPersistentModelIndex,
    ) -> QSize:
        return self.tile

    def paint(
        self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row: PhotoRow | None = index.data(PhotoTableModel.ROW_ROLE)
        if row is None:
            return
        r = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        ratio = p.device().devicePixelRatioF()
        p.save()
        frame = self.stamps.get(  # with room for the outline, over the view's background
            ("frame", selected, r.width(), r.height()),
            ratio,
            r.size() + QSize(2, 2),
            lambda q, box: _frame(q, box.adjusted(1, 1, -1, -1), selected),
            option.palette.color(QPalette.ColorRole.Base),
        )
        p.drawPixmap(r.topLeft() - QPoint(1, 1), frame)
        img_rect = QRect(r.left() + 6, r.top() + 6, r.width() - 12, IMAGE_H)
        self._thumb(p, row, img_rect)
        self._marks(p, row, img_rect, ratio)
        p.setPen(QColor("#e6e6e6") if selected else QColor("#bdbdbd"))
        name_rect = QRect(r.left() + 8, img_rect.bottom() + 8, r.width() - 16, 20)
        name = p.fontMetrics().elidedText(row.name, Qt.TextElideMode.ElideMiddle, name_rect.width())
        p.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        p.restore()

    def _marks(self, p: QPainter, row: PhotoRow, area: QRect, ratio: float) -> None:
        """The score badge, the chips of the dominant factors and the enhanced tick."""
        if row.unreadable:
            return
        font, scored = p.font(), row.score is not None
        fkey = font.key()  # stamps are keyed by the text font their fonts derive from
        badge_font, small = self._fonts(font, fkey, scored)
        if row.score is not None:
            text, worth = f"{row.score:.2f}", row.score >= self.threshold
            badge = self.stamps.get(
                ("badge", text, worth, fkey),
                ratio,
                QSize(40, 18),
                lambda q, box: _badge(q, box, text, worth, badge_font),
            )
            p.drawPixmap(area.left() + 4, area.top() + 4, badge)
        x = area.left() + 4
        worth = row.score is not None and row.score >= self.threshold
        for factor in row.dominant_factors() if worth else ():  # faults of photos to fix
            chip = self._chip(factor, (fkey, scored), small, ratio)
            p.drawPixmap(x, area.bottom() - 20, chip)
            x += round(chip.width() / ratio) + 4
        if row.enhanced:
            tick = self.stamps.get(
                ("done", fkey, scored), ratio, QSize(20, 18), lambda q, box: _done(q, box, small)
            )
            p.drawPixmap(area.right() - 24, area.top() + 4, tick)

    def _chip(self, factor: str, fkey: tuple[str, bool], font: QFont, ratio: float) -> QPixmap:
        return self.stamps.get(
            ("chip", factor, *fkey),
            ratio,
            lambda: QSize(QFontMetrics(font).horizontalAdvance(factor) + 12, 16),
            lambda q, box: _chip(q, box, factor, font),
        )

    def _fonts(self, font: QFont, fkey: str, scored: bool) -> tuple[QFont, QFont]:
        """The badge's font, and the chips' and tick's: a size below the badge's when scored,
        one below the text's otherwise (as they were drawn before stamps)."""
        key = (fkey, scored)
        fonts = self._font_cache.get(key)
        if fonts is None:
            badge = _small(font, True)
            fonts = self._font_cache[key] = (badge, _small(badge if scored else font, False))
        return fonts

    def _thumb(self, p: QPainter, row: PhotoRow, area: QRect) -> None:
        image = None if row.unreadable else self.thumbs.get(row.path)
        if image is None or image.isNull():
            p.fillRect(area, QColor("#1a1a1a"))
            if row.unreadable or self.thumbs.failed(row.path):
                p.setPen(QColor("#ff8a80"))
                p.drawText(area, Qt.AlignmentFlag.AlignCenter, "Unreadable")
            return
        if row.tiny:  # shown small, not blown up into a flat square
            side = max(1, min(4, area.height() // max(image.width(), image.height(), 1)))
            size = image.size() * side
        else:
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not row.tiny)
        p.drawImage(target, image)


def _frame(p: QPainter, box: QRect, selected: bool) -> None:
    p.setPen(QColor(ACCENT) if selected else QColor("#2e2e2e"))
    p.setBrush(QColor("#2a2a2a") if selected else QColor("#222222"))
    p.drawRoundedRect(QRectF(box), 6, 6)


def _badge(p: QPainter, box: QRect, text: str, worth: bool, font: QFont) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(WORTH_FIXING) if worth else QColor(0, 0, 0, 170))
    p.drawRoundedRect(QRectF(box), 4, 4)
    p.setPen(QColor("#141414") if worth else QColor("#e0e0e0"))
    p.setFont(font)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _chip(p: QPainter, box: QRect, factor: str, font: QFont) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(CHIP_COLOURS.get(factor, "#555555")))
    p.drawRoundedRect(QRectF(box), 8, 8)
    p.setPen(QColor("#ffffff"))
    p.setFont(font)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, factor)


def _done(p: QPainter, box: QRect, font: QFont) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#3fa763"))
    p.drawRoundedRect(QRectF(box), 4, 4)
    p.setPen(QColor("#ffffff"))
    p.setFont(font)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, "✓")


class LibraryGrid(QListView):
    """A virtualised grid over the library's filter model (only visible tiles paint)."""

    def __init__(self, thumbs: ThumbnailCache) -> None:
        super().__init__()
        self.thumbs = thumbs
        self.delegate = TileDelegate(thumbs, self)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        thumbs.ready.connect(lambda _path: self.viewport().update())

    def columns(self) -> int:
        return max(1, self._room() // TILE.width())

    def _room(self) -> int:
        """The width tiles can use, as if the scroll bar were shown (so a scroll bar that
        comes and goes does not make the columns flip back and forth)."""
        bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        return max(TILE.width(), self.width() - 2 * self.frameWidth() - bar - 1)

    def resizeEvent(self, e: QResizeEvent) -> None:  # noqa: N802
        """Reflow: as many columns as fit, each widened to share the row's spare room."""
        cell = QSize(self._room() // self.columns(), TILE.height())
        if cell != self.delegate.tile:
            self.delegate.tile = cell
            self.setGridSize(cell)
        super().resizeEvent(e)
