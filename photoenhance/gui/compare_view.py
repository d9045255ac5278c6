"""The compare view: original and enhanced preview with synchronised zoom and pan.

Layout and painting only. The view asks for work through signals (``preview_wanted``,
``rated``, ``navigated``); the main window runs that work on workers and hands results back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from photoenhance.gui.preview import DisplayImage, Patch, clamp_rect

#: Regions bigger than this (in enhanced pixels) get a quick half-resolution pass first. A
#: 1 MP viewport (plus margin) is enhanced sharp straight away: on a 2-core CPU that takes
#: about 0.6 s, and a coarse pass first would delay it by a third.
COARSE_FIRST_PX = 1_500_000
#: Wait this long after the last pan/zoom step before asking for a preview; discrete actions
#: (open, 100 %, fit, strength, a patch arriving) ask at once.
DEBOUNCE_MS = 150
#: Enhanced patches kept per photo (older ones are dropped).
MAX_PATCHES = 12

#: Rating buttons: (label stored, word, shortcut key).
RATINGS = (
    (2, "Significant", "1"),
    (1, "Moderate", "2"),
    (0, "Neutral", "3"),
    (-1, "Regressed", "4"),
)
MAX_ZOOM = 8.0
#: Split is chosen for a photo (until the user picks a mode) when it shows the photo this
#: many times bigger than the best two-pane layout.
AUTO_SPLIT = 1.4


class ViewState(QObject):
    """Zoom and centre shared by every pane, so they move together."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.zoom: float | None = None  # None: fit the whole photo
        self.center = QPointF(0, 0)  # in image pixels

    def set(self, zoom: float | None, center: QPointF | None = None) -> None:
        self.zoom = None if zoom is None else max(0.02, min(MAX_ZOOM, zoom))
        if center is not None:
            self.center = QPointF(center)
        self.changed.emit()


class ImagePane(QWidget):
    """Paints the original, the enhanced patches, or both split at ``split`` (0-1)."""

    def __init__(self, state: ViewState, enhanced: bool, title: str) -> None:
        super().__init__()
        self.state = state
        self.enhanced = enhanced
        self.title = title
        self.split: float | None = None
        self.peek = False  # show the original while a key is held
        self.show_change = False  # overlay where the enhancement changed the photo
        self.hint = ""  # a line at the bottom left (e.g. how to reach 100 %)
        self.busy = False
        self.image: DisplayImage | None = None
        self.patches: list[Patch] = []
        self._drag: QPointF | None = None
        self.setMinimumSize(200, 150)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        state.changed.connect(self.update)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, 500)

    # --- geometry ------------------------------------------------------------------------
    def scale(self) -> float:
        if self.image is None:
            return 1.0
        if self.state.zoom is not None:
            return self.state.zoom
        w, h = self.image.size
        return min(self.width() / w, self.height() / h, MAX_ZOOM)  # small photos fill too

    def _origin(self) -> QPointF:
        """Widget position of image pixel (0, 0)."""
        s = self.scale()
        if self.image is None:
            return QPointF(0, 0)
        c = (
            self.state.center
            if self.state.zoom is not None
            else QPointF(self.image.size[0] / 2, self.image.size[1] / 2)
        )
        return QPointF(self.width() / 2 - c.x() * s, self.height() / 2 - c.y() * s)

    def to_widget(self, r: QRectF) -> QRectF:
        s, o = self.scale(), self._origin()
        return QRectF(o.x() + r.x() * s, o.y() + r.y() * s, r.width() * s, r.height() * s)

    def visible_rect(self) -> QRect:
        """The image pixels this pane shows now."""
        if self.image is None:
            return QRect()
        s, o = self.scale(), self._origin()
        r = QRectF(-o.x() / s, -o.y() / s, self.width() / s, self.height() / s)
        return clamp_rect(r.toAlignedRect(), *self.image.size)

    # --- painting ------------------------------------------------------------------------
    def paintEvent(self, _event: object) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#141414"))
        if self.image is None:
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 1)
        w, h = self.image.size
        full = self.to_widget(QRectF(0, 0, w, h))
        small = self.scale() * max(w, h) <= max(self.image.proxy.width(), self.image.proxy.height())
        sharp = self.image.image
        p.drawImage(full, self.image.proxy if small or sharp is None else sharp)
        if (self.enhanced or self.split is not None) and not self.peek:
            if self.split is not None:
                p.setClipRect(QRectF(self.width() * self.split, 0, self.width(), self.height()))
            for patch in sorted(self.patches, key=lambda q: q.scale):  # sharpest on top
                p.drawImage(self.to_widget(QRectF(patch.rect)), patch.image)
            p.setClipping(False)
        if self.show_change and (self.enhanced or self.split is not None):
            if self.split is not None:
                p.setClipRect(QRectF(self.width() * self.split, 0, self.width(), self.height()))
            for patch in sorted(self.patches, key=lambda q: q.scale):
                if patch.change is not None:
                    p.drawImage(self.to_widget(QRectF(patch.rect)), patch.change)
            p.setClipping(False)
        if self.split is not None:
            x = self.width() * self.split
            p.setPen(QPen(QColor("#e6e6e6"), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        self._paint_labels(p)
        p.end()

    def _paint_labels(self, p: QPainter) -> None:
        p.setPen(QColor("#d0d0d0"))
        if self.split is not None:
            p.drawText(QRectF(10, 8, 300, 20), "Original")
            p.drawText(
                QRectF(self.width() - 310, 8, 300, 20), Qt.AlignmentFlag.AlignRight, "Enhanced"
            )
        else:
            text = "Original (held)" if self.peek and self.enhanced else self.title
            p.drawText(QRectF(10, 8, 300, 20), text)
        zoom = f"{self.scale() * 100:.0f}%"
        if self.hint and (self.enhanced or self.split is not None):
            p.drawText(QRectF(10, self.height() - 26, max(0, self.width() - 130), 20),
                       Qt.AlignmentFlag.AlignLeft, self.hint)
        p.drawText(
            QRectF(self.width() - 110, self.height() - 26, 100, 20),
            Qt.AlignmentFlag.AlignRight,
            zoom + ("  · enhancing…" if self.busy and self.enhanced else ""),
        )

    # --- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:  # noqa: N802, ANN001
        self._drag = e.position()

    def mouseMoveEvent(self, e) -> None:  # noqa: N802, ANN001
        if self._drag is None or self.image is None:
            return
        if self.state.zoom is None:
            self.state.set(self.scale(), self._center_now())
        d = (e.position() - self._drag) / self.scale()
        self._drag = e.position()
        self.state.set(self.state.zoom, self.state.center - d)

    def mouseReleaseEvent(self, _e) -> None:  # noqa: N802, ANN001
        self._drag = None

    def mouseDoubleClickEvent(self, e) -> None:  # noqa: N802, ANN001
        if self.state.zoom is None:
            self.zoom_at(1.0, e.position())
        else:
            self.state.set(None)

    def wheelEvent(self, e) -> None:  # noqa: N802, ANN001
        factor = 1.25 if e.angleDelta().y() > 0 else 0.8
        self.zoom_at(self.scale() * factor, e.position())

    def _center_now(self) -> QPointF:
        s, o = self.scale(), self._origin()
        return QPointF((self.width() / 2 - o.x()) / s, (self.height() / 2 - o.y()) / s)

    def zoom_at(self, zoom: float, at: QPointF) -> None:
        """Zoom keeping the image point under ``at`` (widget position) where it is."""
        s, o = self.scale(), self._origin()
        px = QPointF((at.x() - o.x()) / s, (at.y() - o.y()) / s)
        zoom = max(0.02, min(MAX_ZOOM, zoom))
        c = QPointF(
            px.x() - (at.x() - self.width() / 2) / zoom,
            px.y() - (at.y() - self.height() / 2) / zoom,
        )
        self.state.set(zoom, c)


class CompareView(QWidget):
    """Side by side (or split) original vs enhanced, strength, ratings, next/previous."""

    preview_wanted = Signal(object, float, float)  # QRect in image pixels, scale, strength
    strength_changed = Signal(float)
    rated = Signal(int)
    navigated = Signal(int)  # -1 previous, +1 next
    closed = Signal()

    def __init__(self, strength: float = 1.0) -> None:
        super().__init__()
        self.state = ViewState()
        self.left = ImagePane(self.state, False, "Original")
        self.right = ImagePane(self.state, True, "Enhanced")
        self.title = QLabel("No photo selected. Pick one in the library and press Enter.")
        self.message = QLabel("")
        self.message.setStyleSheet("color: #ffb347;")
        self.message.setWordWrap(True)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._want_preview)
        self.state.changed.connect(lambda: self._timer.start(DEBOUNCE_MS))
        self._pending_zoom: float | None = None  # 100 % asked for while the photo loads
        self._split_by_user = False
        self._build(strength)
        self._shortcuts()

    # --- layout --------------------------------------------------------------------------
    def _build(self, strength: float) -> None:
        panes = self.panes = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        panes.setSpacing(4)
        panes.addWidget(self.left, 1)
        panes.addWidget(self.right, 1)
        self.split_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=50)
        self.split_slider.setToolTip("Where the split falls between original and enhanced")
        self.split_slider.valueChanged.connect(self._split_moved)
        self.split_slider.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addLayout(panes, 1)
        lay.addWidget(self.split_slider)
        lay.addLayout(self._controls(strength))
        lay.addLayout(self._rating_row())

    def _controls(self, strength: float) -> QHBoxLayout:
        row = QHBoxLayout()
        self.prev_button = QPushButton("◀ Previous")
        self.prev_button.setToolTip("Previous photo (K or Left)")
        self.prev_button.clicked.connect(lambda: self.navigated.emit(-1))
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next photo (J or Right)")
        self.next_button.clicked.connect(lambda: self.navigated.emit(1))
        self.fit_button = QPushButton("Fit  F")
        self.fit_button.setToolTip("Fit the whole photo (F)")
        self.fit_button.setCheckable(True)
        self.fit_button.clicked.connect(self.fit)
        self.actual_button = QPushButton("100 %  Z")
        self.actual_button.setToolTip("Actual pixels, on the region that changed most (Z)")
        self.actual_button.setCheckable(True)
        self.actual_button.clicked.connect(self.actual_size)
        self.state.changed.connect(self._zoom_buttons)
        self.change_button = QPushButton("Show where it changed  C")
        self.change_button.setCheckable(True)
        self.change_button.setToolTip("Tint the places the enhancement changed, by how much (C)")
        self.change_button.toggled.connect(self.set_show_change)
        self.split_button = QPushButton("Split  S")
        self.split_button.setCheckable(True)
        self.split_button.setToolTip(
            "One image split between original and enhanced (S). Hold Space to see the original."
        )
        self.split_button.toggled.connect(self.set_split_mode)
        self.split_button.clicked.connect(self._split_chosen)
        self.strength = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
        self.strength.setValue(round(strength * 100))
        self.strength.setFixedWidth(140)
        self.strength.setToolTip("Enhancement strength")
        self.strength_label = QLabel(f"Strength {strength:.2f}")
        self.strength.valueChanged.connect(self._strength_moved)
        self.strength.sliderReleased.connect(self._strength_released)
        for w in (
            self.prev_button,
            self.next_button,
            self.fit_button,
            self.actual_button,
            self.split_button,
            self.change_button,
            self.strength_label,
            self.strength,
        ):
            row.addWidget(w)
            if isinstance(w, QPushButton):  # keep Space for "hold to see the original"
                w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addStretch(1)
        return row

    def _rating_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Rate the gain:"))
        self.rating_buttons = QButtonGroup(self)
        for label, word, key in RATINGS:
            b = QPushButton(f"{key}  {word}")
            b.setCheckable(True)
            b.setToolTip(f"Rate the gain as {word.lower()} (key {key})")
            self.rating_buttons.addButton(b, label + 1)
            b.clicked.connect(lambda _=False, v=label: self.rated.emit(v))
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(self.message, 1)
        return row

    def _shortcuts(self) -> None:
        keys = {
            "F": self.fit,
            "Z": self.actual_size,
            "S": self._toggle_split,
            "C": self.change_button.toggle,
            "J": lambda: self.navigated.emit(1),
            "Right": lambda: self.navigated.emit(1),
            "K": lambda: self.navigated.emit(-1),
            "Left": lambda: self.navigated.emit(-1),
            "Escape": self.closed.emit,
        }
        for label, _word, key in RATINGS:
            keys[key] = lambda v=label: self.rate(v)
        for key, slot in keys.items():
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # --- behaviour -----------------------------------------------------------------------
    def show_image(self, image: DisplayImage | None, title: str = "") -> None:
        for pane in (self.left, self.right):
            pane.image, pane.patches, pane.busy = image, [], image is not None
        self.title.setText(title)
        self.message.setText("")
        self.rating_buttons.setExclusive(False)
        for b in self.rating_buttons.buttons():
            b.setChecked(False)
        self.rating_buttons.setExclusive(True)
        if image is not None and self._pending_zoom is not None:
            w, h = image.size
            self.state.set(self._pending_zoom, QPointF(w / 2, h / 2))
            self._pending_zoom = None
        else:
            self.state.set(None)
        if image is not None:
            self._auto_split(image)
            self._arrange()
            self._timer.start(0)
        self._zoom_buttons()

    def replace_image(self, image: DisplayImage) -> None:
        """The same photo, more complete (full pixels after the quick reduced copy)."""
        for pane in (self.left, self.right):
            pane.image = image
            pane.update()
        self._timer.start(0)

    def redo_preview(self) -> None:
        """Drop the enhanced patches and ask again (a setting that changes them changed)."""
        for pane in (self.left, self.right):
            pane.patches, pane.busy = [], pane.image is not None
            pane.update()
        self._timer.start(0)

    def add_patch(self, patch: Patch) -> None:
        for pane in (self.left, self.right):
            pane.patches = [p for p in pane.patches if p.strength == patch.strength]
            pane.patches = [*pane.patches[-(MAX_PATCHES - 1) :], patch]
            pane.busy = False
            pane.update()
        if not self._timer.isActive():  # a quick pass is followed by the sharp one at once
            self._timer.start(0)

    def set_show_change(self, on: bool) -> None:
        for pane in (self.left, self.right):
            pane.show_change = on
            pane.update()

    def _zoom_buttons(self) -> None:
        zoom = self.state.zoom
        self.fit_button.setChecked(zoom is None)
        self.actual_button.setChecked(zoom is not None and abs(zoom - 1.0) < 1e-6)
        self.right.hint = ("Z: 100 % on the region that changed most" if zoom is None
                           and self.right.image is not None else "")

    def _split_chosen(self) -> None:
        self._split_by_user = True  # from now on Split stays as the user set it

    def _toggle_split(self) -> None:
        self._split_chosen()
        self.split_button.toggle()

    def _auto_split(self, image: DisplayImage) -> None:
        """Until the user picks a mode: Split when it shows the photo much bigger than two
        panes would (a landscape photo side by side leaves wide empty bands)."""
        area = self.panes.geometry()
        if self._split_by_user or area.width() < 2 or area.height() < 2:
            return
        w, h = image.size
        two = max(min(area.width() / 2 / w, area.height() / h),
                  min(area.width() / w, area.height() / 2 / h))
        one = min(area.width() / w, area.height() / h)
        self.split_button.setChecked(one >= AUTO_SPLIT * two)

    def _arrange(self) -> None:
        """Side by side or one above the other, whichever shows the photo bigger."""
        image = self.right.image
        if image is None or self.split_button.isChecked():
            return
        w, h = image.size
        area = self.left.size() + self.right.size()  # both panes, whichever way they lie
        if self.panes.direction() == QBoxLayout.Direction.LeftToRight:
            total_w, total_h = area.width(), self.right.height()
        else:
            total_w, total_h = self.right.width(), area.height()
        side = min(total_w / 2 / w, total_h / h)
        stacked = min(total_w / w, total_h / 2 / h)
        want = (QBoxLayout.Direction.TopToBottom if stacked > side * 1.1
                else QBoxLayout.Direction.LeftToRight if side > stacked * 1.1
                else self.panes.direction())
        if want != self.panes.direction():
            self.panes.setDirection(want)

    def resizeEvent(self, e) -> None:  # noqa: N802, ANN001
        super().resizeEvent(e)
        self._arrange()

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.right.busy = self.left.busy = False
        self.update()

    def fit(self) -> None:
        self._pending_zoom = None
        self.state.set(None)
        self._zoom_buttons()
        self._timer.start(0)

    def actual_size(self) -> None:
        """100 %, centred where the view is (from Fit: on the region that changed most);
        while a photo loads, it opens at 100 %."""
        pane = self._main_pane()
        if pane.image is None:
            self._pending_zoom = 1.0
            self._zoom_buttons()
            return
        focus = [p.focus for p in pane.patches if p.focus is not None]
        if self.state.zoom is not None:
            c = QPointF(pane.visible_rect().center())
        elif focus:  # from Fit: where the enhancement changed the photo most
            c = QPointF(*focus[-1])
        else:
            c = QPointF(QRect(0, 0, *pane.image.size).center())
        self.state.set(1.0, c)
        self._timer.start(0)

    def set_split_mode(self, on: bool) -> None:
        self.left.setVisible(not on)
        self.right.split = self.split_slider.value() / 100 if on else None
        self.split_slider.setVisible(on)
        self.right.update()
        self._timer.start(0)

    def _split_moved(self, value: int) -> None:
        if self.right.split is not None:
            self.right.split = value / 100
            self.right.update()

    def _strength_moved(self, value: int) -> None:
        self.strength_label.setText(f"Strength {value / 100:.2f}")
        if not self.strength.isSliderDown():
            self._strength_released()

    def _strength_released(self) -> None:
        self.strength_changed.emit(self.strength.value() / 100)
        self._timer.start(0)

    def rate(self, label: int) -> None:
        if self.right.image is None:
            return
        self.rating_buttons.button(label + 1).setChecked(True)
        self.rated.emit(label)

    def peek(self, on: bool) -> None:
        """Show the original in every pane while ``on`` (bound to holding Space)."""
        for pane in (self.left, self.right):
            pane.peek = on
            pane.update()

    def keyPressEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash) and not e.isAutoRepeat():
            self.peek(True)
            return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:  # noqa: N802, ANN001
        if e.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash) and not e.isAutoRepeat():
            self.peek(False)
            return
        super().keyReleaseEvent(e)

    def _main_pane(self) -> ImagePane:
        return self.right

    def _want_preview(self) -> None:
        pane = self._main_pane()
        if pane.image is None or not pane.isVisible():
            return
        strength = self.strength.value() / 100
        rect = clamp_rect(pane.visible_rect(), *pane.image.size, margin=48)
        scale = min(1.0, pane.scale(), pane.image.max_scale())
        covering = [
            p.scale for p in pane.patches if p.strength == strength and p.rect.contains(rect)
        ]
        if covering and max(covering) >= scale - 1e-6:
            return
        if not covering and rect.width() * rect.height() * scale * scale > COARSE_FIRST_PX:
            scale /= 2  # something to look at soon; the sharp pass follows
        pane.busy = True
        pane.update()
        self.preview_wanted.emit(rect, scale, strength)
