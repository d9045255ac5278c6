"""The library grid: thumbnails with a score badge and chips for the dominant factors."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
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


class TileDelegate(QStyledItemDelegate):
    """Paints one photo tile; asks the cache for its thumbnail."""

    def __init__(self, thumbs: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.threshold = 0.4

    def sizeHint(self, _option: QStyleOptionViewItem,  # noqa: N802
                 _index: QModelIndex | QPersistentModelIndex) -> QSize:
        return TILE

    def paint(self, p: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row: PhotoRow | None = index.data(PhotoTableModel.ROW_ROLE)
        if row is None:
            return
        r = option.rect.adjusted(4, 4, -4, -4)  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        p.save()
        base_font = QFont(p.font())
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(ACCENT) if selected else QColor("#2e2e2e"))
        p.setBrush(QColor("#2a2a2a") if selected else QColor("#222222"))
        p.drawRoundedRect(QRectF(r), 6, 6)
        img_rect = QRect(r.left() + 6, r.top() + 6, r.width() - 12, IMAGE_H)
        self._thumb(p, row, img_rect)
        self._badge(p, row, img_rect)
        self._chips(p, row, img_rect)
        if row.enhanced:
            done = QRect(img_rect.right() - 24, img_rect.top() + 4, 20, 18)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#3fa763"))
            p.drawRoundedRect(QRectF(done), 4, 4)
            p.setPen(QColor("#ffffff"))
            p.drawText(done, Qt.AlignmentFlag.AlignCenter, "✓")
        p.setFont(base_font)
        p.setPen(QColor("#e6e6e6") if selected else QColor("#bdbdbd"))
        name_rect = QRect(r.left() + 8, img_rect.bottom() + 8, r.width() - 16, 20)
        fm = QFontMetrics(p.font())
        p.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(row.name, Qt.TextElideMode.ElideMiddle, name_rect.width()))
        p.restore()

    def _thumb(self, p: QPainter, row: PhotoRow, area: QRect) -> None:
        image = self.thumbs.get(row.path)
        if image is None or image.isNull():
            p.fillRect(area, QColor("#1a1a1a"))
            return
        size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(target, image)

    def _badge(self, p: QPainter, row: PhotoRow, area: QRect) -> None:
        if row.score is None:
            return
        worth = row.score >= self.threshold
        badge = QRect(area.left() + 4, area.top() + 4, 40, 18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(WORTH_FIXING) if worth else QColor(0, 0, 0, 170))
        p.drawRoundedRect(QRectF(badge), 4, 4)
        p.setPen(QColor("#141414") if worth else QColor("#e0e0e0"))
        font = QFont(p.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, f"{row.score:.2f}")

    def _chips(self, p: QPainter, row: PhotoRow, area: QRect) -> None:
        font = QFont(p.font())
        font.setBold(False)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        fm = QFontMetrics(font)
        x = area.left() + 4
        for factor in row.dominant_factors():
            w = fm.horizontalAdvance(factor) + 12
            chip = QRect(x, area.bottom() - 20, w, 16)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(CHIP_COLOURS.get(factor, "#555555")))
            p.drawRoundedRect(QRectF(chip), 8, 8)
            p.setPen(QColor("#ffffff"))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, factor)
            x += w + 4


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
