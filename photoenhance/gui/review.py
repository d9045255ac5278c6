"""Review: step through enhanced copies and decide, photo by photo, what to keep.

Each result opens at 100 % on the region where the enhancement changed the photo most, split
between the original (left) and the copy (right), with its verdict and gain. Keep leaves the
copy; Reject moves it to the system trash (never a hard delete) and marks it rejected in the
catalog; a rating is stored as ``photoenhance rate`` stores it, for ``calibrate``.

The view holds layout and keys; :class:`ReviewController` runs decoding, trashing and rating
on workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, cast

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from send2trash import send2trash

from photoenhance.core.catalog import Catalog
from photoenhance.core.catalog.queries import mark_copy_rejected
from photoenhance.core.imaging import load_image
from photoenhance.core.jobs.queries import ItemState, enhanced_items  # noqa: F401 (main_window)
from photoenhance.gui import bridge, tasks
from photoenhance.gui.change import change_magnitude, largest_change, overlay_image
from photoenhance.gui.compare_view import RATINGS
from photoenhance.gui.preview import to_display, to_qimage
from photoenhance.gui.verdicts import VERDICT_COLOURS, format_gain, item_gain, item_verdict

#: The region shown at 100 % (clipped to the photo): larger than most panes, so the pane is
#: filled, and small enough to decode and diff quickly.
CROP = (1800, 1200)
#: Decisions: what the user did with a result.
KEPT, REJECTED = "kept", "rejected"
RATING_WORDS = {label: word.lower() for label, word, _key in RATINGS}


@dataclass(frozen=True)
class ReviewPair:
    """The shown region of one result: before, after and where it changed, at 100 %."""

    source: str
    output: str
    before: QImage
    after: QImage
    change: QImage
    full_size: tuple[int, int]  # the photo's (width, height)
    origin: tuple[int, int]  # the crop's top-left in the photo


def _upright(path: str) -> np.ndarray:
    decoded = load_image(Path(path))
    return to_display(decoded.pixels, decoded.metadata.orientation)


def block_change(before: np.ndarray, after: np.ndarray, block: int = 4) -> np.ndarray:
    """Mean absolute change per ``block`` x ``block`` cell, computed in row strips so a big
    photo never needs a full-size difference array."""
    h, w = (min(before.shape[0], after.shape[0]) // block) * block, (
        min(before.shape[1], after.shape[1]) // block) * block
    out = np.zeros((h // block, w // block), np.float32)
    step = block * 64
    for y in range(0, h, step):
        a = before[y : min(y + step, h), :w, :3].astype(np.int16)
        b = after[y : min(y + step, h), :w, :3].astype(np.int16)
        d = np.abs(a - b).mean(axis=2, dtype=np.float32)
        rows = d.shape[0] // block
        out[y // block : y // block + rows] = d.reshape(rows, block, w // block, block).mean(
            axis=(1, 3))
    return out


def load_pair(source: str, output: str, crop: tuple[int, int] = CROP) -> ReviewPair:
    """Decode both files, find the crop-sized region that changed most, cut it out (runs on
    a worker). A copy of another size (it should not happen) is resized to the original's."""
    before, after = _upright(source), _upright(output)
    h, w = before.shape[:2]
    if after.shape[:2] != (h, w):
        after = np.asarray(Image.fromarray(after).resize((w, h), Image.Resampling.BILINEAR))
    cw, ch = min(crop[0], w), min(crop[1], h)
    block = 4 if min(w, h) >= 64 else 1
    cx, cy = largest_change(block_change(before, after, block), (max(1, cw // block),
                                                               max(1, ch // block)))
    x0 = int(np.clip(cx * block - cw // 2, 0, w - cw))
    y0 = int(np.clip(cy * block - ch // 2, 0, h - ch))
    a, b = before[y0 : y0 + ch, x0 : x0 + cw], after[y0 : y0 + ch, x0 : x0 + cw]
    change = overlay_image(change_magnitude(a, b))
    return ReviewPair(source, output, to_qimage(a), to_qimage(b), change, (w, h), (x0, y0))


def reject_copy(catalog: Catalog, output: str) -> list[int]:
    """Move ``output`` to the system trash and mark it rejected; the ids of its photos."""
    path = Path(output)
    if path.exists():
        send2trash(str(path))
    with catalog.session() as s:
        return mark_copy_rejected(s, path)


class ReviewPane(QWidget):
    """The before/after split at 100 % (small photos are enlarged by a whole factor)."""

    split_moved = Signal(float)

    def __init__(self) -> None:
        super().__init__()
        self.pair: ReviewPair | None = None
        self.split = 0.5
        self.show_change = False
        self.peek = False  # the original across the whole pane while a key is held
        self.message = "Nothing to review yet."
        self.setMinimumSize(320, 240)
        self.setMouseTracking(False)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 600)

    def zoom(self) -> float:
        """1 (100 %) when the region fills the pane; a smaller photo is enlarged to fit."""
        if self.pair is None:
            return 1.0
        w, h = self.pair.before.width(), self.pair.before.height()
        return max(1.0, min(4.0, self.width() / max(w, 1), self.height() / max(h, 1)))

    def image_rect(self) -> QRectF:
        assert self.pair is not None
        z = self.zoom()
        w, h = self.pair.before.width() * z, self.pair.before.height() * z
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#141414"))
        if self.pair is None:
            p.setPen(QColor("#9a9a9a"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            p.end()
            return
        target = self.image_rect()
        x = self.width() * self.split
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom() % 1 != 0)
        p.drawImage(target, self.pair.before)
        if not self.peek:
            p.setClipRect(QRectF(x, 0, self.width() - x, self.height()))
            p.drawImage(target, self.pair.after)
            p.setClipping(False)
        if self.show_change:
            p.drawImage(target, self.pair.change)
        if not self.peek:
            p.setPen(QPen(QColor("#e6e6e6"), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        self._labels(p, x)
        p.end()

    def _labels(self, p: QPainter, x: float) -> None:
        p.setPen(QColor("#e0e0e0"))
        if self.peek:
            p.drawText(QRectF(10, 8, 300, 20), "Original (held)")
        else:
            p.drawText(QRectF(x - 310, 8, 300, 20), Qt.AlignmentFlag.AlignRight, "Original")
            p.drawText(QRectF(x + 10, 8, 300, 20), "Enhanced")
        assert self.pair is not None
        w, h = self.pair.full_size
        ox, oy = self.pair.origin
        shown = self.pair.before.width(), self.pair.before.height()
        where = ("the whole photo" if shown == (w, h) else
                 f"the region that changed most, at ({ox}, {oy}) of {w} × {h}")
        note = f"{self.zoom() * 100:.0f} %  ·  {where}"
        p.drawText(QRectF(10, self.height() - 26, self.width() - 20, 20),
                   Qt.AlignmentFlag.AlignRight, note)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._move_split(e.position().x())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._move_split(e.position().x())

    def _move_split(self, x: float) -> None:
        self.split = min(1.0, max(0.0, x / max(1, self.width())))
        self.split_moved.emit(self.split)
        self.update()


def _hint(keys: str, words: str) -> str:
    return (f"<span style='background:#3a3a3a; color:#f0f0f0; border-radius:3px;'>"
            f"&nbsp;{keys}&nbsp;</span>&nbsp;{words}")


class ReviewView(QWidget):
    """Layout and keys of Review; work is asked for through signals."""

    navigated = Signal(int)  # -1 previous, +1 next
    kept = Signal()
    rejected = Signal()
    rated = Signal(int)
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Review: after a batch, or with the library's Enhanced photos "
                            "(Ctrl+R), step through the results and keep or reject each.")
        self.title.setWordWrap(True)
        self.verdict = QLabel("")
        self.gain = QLabel("")
        self.decision = QLabel("")
        self.pane = ReviewPane()
        self._build()
        self._shortcuts()
        self.set_enabled(False)

    def _build(self) -> None:
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        for w in (self.verdict, self.gain, self.decision):
            w.setTextFormat(Qt.TextFormat.RichText)
            head.addWidget(w)
        self.prev_button = QPushButton("◀ Previous")
        self.prev_button.setToolTip("Previous result (Left or K)")
        self.prev_button.clicked.connect(lambda: self.navigated.emit(-1))
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Next result (Right or J)")
        self.next_button.clicked.connect(lambda: self.navigated.emit(1))
        self.keep_button = QPushButton("Keep  P")
        self.keep_button.setToolTip("Keep the enhanced copy and go on (P or Enter)")
        self.keep_button.clicked.connect(self.kept)
        self.reject_button = QPushButton("Reject  X")
        self.reject_button.setToolTip("Move the enhanced copy to the system trash and go on "
                                      "(X or Delete). The original is never touched.")
        self.reject_button.clicked.connect(self.rejected)
        self.change_button = QPushButton("Show where it changed  C")
        self.change_button.setCheckable(True)
        self.change_button.toggled.connect(self.set_show_change)
        row = QHBoxLayout()
        for b in (self.prev_button, self.next_button, self.keep_button, self.reject_button,
                  self.change_button):
            row.addWidget(b)
        row.addStretch(1)
        rates = QHBoxLayout()
        rates.addWidget(QLabel("Rate the gain:"))
        self.rating_buttons = []
        for label, word, key in RATINGS:
            b = QPushButton(f"{key}  {word}")
            b.setToolTip(f"Rate the gain as {word.lower()} (key {key}); ratings feed "
                         "calibrate")
            b.clicked.connect(lambda _=False, v=label: self.rated.emit(v))
            self.rating_buttons.append(b)
            rates.addWidget(b)
        for b in (*self.rating_buttons, self.prev_button, self.next_button, self.keep_button,
                  self.reject_button, self.change_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        keys = QLabel("   ".join(_hint(k, w) for k, w in (
            ("← →  J K", "move"), ("P", "keep"), ("X", "reject to trash"),
            ("1–4", "rate"), ("C", "show where it changed"), ("Space", "hold for original"),
            ("Esc", "back"))))
        keys.setTextFormat(Qt.TextFormat.RichText)
        keys.setWordWrap(True)
        keys.setStyleSheet("color: #b0b0b0;")
        rates.addSpacing(16)
        rates.addWidget(keys, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(head)
        lay.addWidget(self.pane, 1)
        lay.addLayout(row)
        lay.addLayout(rates)

    def _shortcuts(self) -> None:
        keys: dict[str, Any] = {
            "Right": lambda: self.navigated.emit(1), "J": lambda: self.navigated.emit(1),
            "Left": lambda: self.navigated.emit(-1), "K": lambda: self.navigated.emit(-1),
            "P": self.kept.emit, "Return": self.kept.emit, "Enter": self.kept.emit,
            "X": self.rejected.emit, "Delete": self.rejected.emit,
            "C": self.change_button.toggle, "Escape": self.closed.emit,
        }
        for label, _word, key in RATINGS:
            keys[key] = lambda v=label: self.rated.emit(v)
        for key, slot in keys.items():
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_enabled(self, on: bool) -> None:
        for b in (self.prev_button, self.next_button, self.keep_button, self.reject_button,
                  *self.rating_buttons):
            b.setEnabled(on)

    def set_show_change(self, on: bool) -> None:
        self.pane.show_change = on
        self.pane.update()

    def show_item(self, item: ItemState, position: int, total: int, decision: str | None,
                  rating: int | None) -> None:
        self.set_enabled(True)
        name = PurePath(item.source).name
        self.title.setText(f"<b>{name}</b>  ·  {position + 1} of {total}")
        verdict = item_verdict(item)
        colour = VERDICT_COLOURS.get(verdict or "", "#a0a0a0")
        self.verdict.setText(f"<span style='color:{colour}; font-weight:bold;'>"
                             f"{verdict or 'not verified'}</span>")
        gain = item_gain(item)
        text = f"predicted gain {format_gain(gain)}" if gain is not None else ""
        if item.verified_delta is not None:
            text += f"  ·  measured {item.verified_delta:+.1f} dB"
        self.gain.setText(text)
        self.set_decision(decision, rating)
        self.pane.pair = None
        self.pane.message = f"Loading {name}…"
        self.pane.update()

    def set_decision(self, decision: str | None, rating: int | None) -> None:
        parts = []
        if decision == KEPT:
            parts.append("<span style='color:#7bd88f;'>kept</span>")
        elif decision == REJECTED:
            parts.append("<span style='color:#ff6b6b;'>rejected: in the trash</span>")
        if rating is not None:
            parts.append(f"rated {RATING_WORDS[rating]}")
        self.decision.setText("  ·  ".join(parts))

    def show_pair(self, pair: ReviewPair) -> None:
        self.pane.pair = pair
        self.pane.update()

    def show_message(self, text: str) -> None:
        self.pane.pair = None
        self.pane.message = text
        self.pane.update()

    def show_empty(self, text: str) -> None:
        self.set_enabled(False)
        self.title.setText(text)
        for w in (self.verdict, self.gain, self.decision):
            w.setText("")
        self.show_message("Nothing to review.")

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.pane.peek = True
            self.pane.update()
            return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.pane.peek = False
            self.pane.update()
            return
        super().keyReleaseEvent(e)


class ReviewController(QObject):
    """The results under review, the current one, and what was decided for each."""

    pair_shown = Signal(str)  # output path, once its region is on screen
    decided = Signal(str, str)  # output path, KEPT or REJECTED
    rating_saved = Signal(str, int, int)  # source path, label, photo id
    rejected_photos = Signal(list)  # photo ids whose copy went to the trash
    finished = Signal()  # stepped past the last result

    def __init__(self, view: ReviewView, catalog: Catalog, io: QThreadPool,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.view, self.catalog, self.io = view, catalog, io
        self.items: list[ItemState] = []
        self.index = 0
        self.decisions: dict[str, str] = {}
        self.ratings: dict[str, int] = {}
        self._load: bridge.Task | None = None
        view.navigated.connect(self.step)
        view.kept.connect(self.keep)
        view.rejected.connect(self.reject)
        view.rated.connect(self.rate)

    def start(self, items: list[ItemState], start_at: str | None = None) -> int:
        """Review the written copies among ``items`` (from the one written to ``start_at``);
        how many there are."""
        self.items = [it for it in items if it.output and it.status == "done"]
        outputs = [it.output for it in self.items]
        self.index = outputs.index(start_at) if start_at in outputs else 0
        self.decisions, self.ratings = {}, {}
        if not self.items:
            self.view.show_empty("Nothing to review: no enhanced copy in this set.")
        else:
            self._show()
        return len(self.items)

    @property
    def current(self) -> ItemState | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def step(self, delta: int) -> None:
        if not self.items:
            return
        i = self.index + delta
        if i >= len(self.items):
            self.finished.emit()
            kept = sum(v == KEPT for v in self.decisions.values())
            gone = sum(v == REJECTED for v in self.decisions.values())
            self.view.decision.setText(f"End of the results: {kept} kept, {gone} rejected.")
            return
        if i < 0:
            return
        self.index = i
        self._show()

    def _show(self) -> None:
        item = self.current
        assert item is not None and item.output is not None
        self.view.show_item(item, self.index, len(self.items), self.decisions.get(item.output),
                            self.ratings.get(item.output))
        if self._load is not None:
            self._load.cancel()
        if self.decisions.get(item.output) == REJECTED:
            self.view.show_message("This copy is in the trash (restore it from there).")
            return
        source, output = item.source, item.output
        task = bridge.Task(lambda _p, _c: load_pair(source, output), self)
        task.finished.connect(self._loaded)
        task.failed.connect(lambda msg, o=output: self._load_failed(o, msg))
        self._load = task
        bridge.start(task, self.io)

    def _loaded(self, pair: ReviewPair) -> None:
        item = self.current
        if item is None or item.output != pair.output:
            return  # the user moved on
        self.view.show_pair(pair)
        self.pair_shown.emit(pair.output)

    def _load_failed(self, output: str, message: str) -> None:
        item = self.current
        if item is not None and item.output == output:
            self.view.show_message(message)

    def keep(self) -> None:
        item = self.current
        if item is None or item.output is None or self.decisions.get(item.output) == REJECTED:
            return
        self.decisions[item.output] = KEPT
        self.decided.emit(item.output, KEPT)
        self.step(1)

    def reject(self) -> None:
        item = self.current
        if item is None or item.output is None or self.decisions.get(item.output) == REJECTED:
            return
        output = item.output
        task = bridge.Task(lambda _p, _c: reject_copy(self.catalog, output), self)
        task.finished.connect(lambda ids, o=output: self._rejected(o, ids))
        task.failed.connect(self.view.show_message)
        bridge.start(task, self.io)

    def _rejected(self, output: str, photo_ids: object) -> None:
        self.decisions[output] = REJECTED
        self.decided.emit(output, REJECTED)
        self.rejected_photos.emit(list(photo_ids))  # type: ignore[call-overload]
        item = self.current
        if item is not None and item.output == output:
            self.step(1)

    def rate(self, label: int) -> None:
        item = self.current
        if item is None or item.output is None:
            return
        output = item.output
        task = bridge.Task(tasks.rate_photo(self.catalog, item.source, label), self)
        task.finished.connect(lambda result, o=output: self._rated(o, result))
        task.failed.connect(self.view.show_message)
        bridge.start(task, self.io)

    def _rated(self, output: str, result: object) -> None:
        path, label, photo_id = cast(tuple[str, int, int], result)
        self.ratings[output] = label
        item = self.current
        if item is not None and item.output == output:
            self.view.set_decision(self.decisions.get(output), label)
        self.rating_saved.emit(path, label, photo_id)
