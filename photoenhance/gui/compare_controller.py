"""Behaviour of the compare view: decode, preview (visible region first), rate.

A photo is decoded once per open, on the I/O pool: a big JPEG's reduced copy first (shown and
previewed at once), then the full pixels, started once that preview is done (so the two do
not share the CPU) or at once when the view needs more detail than the copy has; meanwhile
the inference lane loads the model if it is not loaded yet. Previews then only crop: the
visible region plus a margin, from the reduced copy when zoomed out.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRect, QThreadPool, QTimer, Signal

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import ModelError
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.jobs.verdict import header_verdict
from photoenhance.gui import bridge, tasks
from photoenhance.gui.compare_view import CompareView
from photoenhance.gui.inference import ENHANCER
from photoenhance.gui.models import PhotoRow
from photoenhance.gui.preview import (
    DisplayImage,
    Patch,
    decode_for_display,
    decode_quick,
    enhance_region,
)

if TYPE_CHECKING:
    from photoenhance.core.ml.tone import TonePlan

#: The full decode of a big JPEG starts after the reduced copy's first preview, or this long
#: after the copy is shown if no preview is asked for (the compare tab hidden, say).
FULL_DECODE_AFTER_MS = 1000

RATING_NAMES = {2: "significant", 1: "moderate", 0: "neutral", -1: "regressed"}


def _tone_plan(plans: dict[float, TonePlan | str], image: DisplayImage,
               strength: float) -> TonePlan | str:
    """The photo's tone plan at ``strength`` (runs on the inference lane; made once per
    strength from the reduced copy, which the tone net's 128 px input does not tell apart
    from the full pixels), or why there is none (the tone model cannot be loaded: the
    preview then shows the restoration alone and says so)."""
    plan = plans.get(strength)
    if plan is None:
        from photoenhance.core.ml.tone import plan_tone  # torch is loaded on the lane already

        pixels = image.proxy_pixels if image.proxy_pixels is not None else image.pixels
        assert pixels is not None
        try:
            plan = plan_tone(pixels, strength)
        except ModelError as exc:
            plan = f"not available ({exc})"
        plans[strength] = plan
    return plan


def _enhanced_patch(image: DisplayImage, rect: QRect, scale: float, enhancer: Any,
                    strength: float, cancel: Any, auto: bool,
                    tone: TonePlan | str | None) -> Patch:
    """:func:`enhance_region` with the tone plan, or, where the tone model is missing, the
    restoration alone with the reason in its ``tone`` words."""
    if isinstance(tone, str):
        patch = enhance_region(image, rect, scale, enhancer, strength, cancel, auto)
        return dataclasses.replace(patch, tone=tone)
    return enhance_region(image, rect, scale, enhancer, strength, cancel, auto, tone)


class CompareController(QObject):
    """Runs the compare view's work on workers and hands results back to it."""

    image_shown = Signal(str)
    preview_ready = Signal(object)  # Patch
    rating_saved = Signal(str, int, int)  # path, label, photo id
    message = Signal(str)  # for the status bar

    def __init__(
        self,
        view: CompareView,
        catalog: Catalog,
        lane: InferenceLane,
        io: QThreadPool,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.view, self.catalog = view, catalog
        self.lane, self.io = lane, io
        self.row: PhotoRow | None = None
        self.image: DisplayImage | None = None
        self._preview: bridge.Task | None = None
        self._full_started: str | None = None  # path whose full decode has been started
        self.auto = True  # scale the strength by the photo's measured need (a setting)
        self.tone = False  # correct exposure, contrast and colour after restoring (a setting)
        #: the open photo's tone plans by strength, made on the inference lane
        self._tone_plans: dict[float, TonePlan | str] = {}
        self._tone_words: str | None = None  # what the preview's tone step did
        view.preview_wanted.connect(self.request_preview)
        view.rated.connect(self.rate)

    def open(self, row: PhotoRow) -> None:
        """Show ``row``: decode on the I/O pool, then ask for the visible region."""
        self.row, self.image = row, None
        self._tone_plans, self._tone_words = {}, None
        self._cancel_preview()
        self.view.show_image(None, f"{row.name}  — loading…")
        path = row.path
        self._full_started = None

        def decode(_progress: Any, _cancel: Any) -> DisplayImage | None:
            return decode_quick(path)  # a big JPEG's reduced copy, shown at once

        task = bridge.Task(decode, self)
        task.finished.connect(lambda img, p=path: self._quick_decoded(p, img))
        task.failed.connect(lambda msg: self.view.set_message(msg))
        bridge.start(task, self.io)
        self._warm_up()

    def _quick_decoded(self, path: str, quick: DisplayImage | None) -> None:
        """Show the reduced copy; the full decode waits for its fit-view preview (they would
        share two cores) unless something needs the full pixels sooner."""
        if quick is None:
            self._start_full(path)
            return
        self._decoded(path, quick)
        QTimer.singleShot(FULL_DECODE_AFTER_MS, lambda p=path: self._start_full(p))

    def _start_full(self, path: str) -> None:
        """Decode the full pixels of ``path`` (once), reusing the reduced copy if shown."""
        if self.row is None or self.row.path != path or self._full_started == path:
            return
        self._full_started = path
        quick = self.image if self.image is not None and self.image.path == path else None

        def decode(_progress: Any, _cancel: Any) -> DisplayImage:
            return decode_for_display(path, quick)

        task = bridge.Task(decode, self)
        task.finished.connect(lambda img, p=path: self._decoded(p, img))
        task.failed.connect(lambda msg: self.view.set_message(msg))
        bridge.start(task, self.io)

    def _warm_up(self) -> None:
        """Load the model on the inference lane while the photo decodes (first open only)."""
        if self.lane.models[ENHANCER].loaded:
            return
        lane = self.lane
        task = bridge.Task(lambda _p, _c: lane.model_or_none(ENHANCER), self)
        bridge.start_on_lane(task, self.lane, key="warm-up", interactive=True)

    def set_auto_strength(self, on: bool) -> None:
        """Follow the "adjust to each photo" setting; the preview is redone if it changed."""
        if on != self.auto:
            self.auto = on
            self._redo()

    def set_tone(self, on: bool) -> None:
        """Follow the tone setting; the preview is redone if it changed."""
        if on != self.tone:
            self.tone, self._tone_words = on, None
            self._redo()

    def _redo(self) -> None:
        """A setting that changes the preview changed: new header, new patches."""
        if self.image is not None:
            self._cancel_preview()
            self.view.title.setText(self._title(self.image))
            self.view.redo_preview()

    def _title(self, image: DisplayImage) -> str:
        assert self.row is not None
        w, h = image.size
        text = f"{self.row.name}  ·  {w} × {h}"
        if self.row.score is not None:
            text += f"  ·  score {self.row.score:.2f}"
            said = header_verdict(self.row.score, self.row.not_improved, self.row.gain_db)
            text += f" ({said})"
        if self.tone and self._tone_words:
            text += f"  ·  tone: {self._tone_words}"
        elif self.row.tone and self.row.tone != "no change":
            text += f"  ·  last copy's tone: {self.row.tone}"
        if self.auto and image.auto_strength is not None:
            text += (
                "  ·  measured clean: left as it is"
                if image.auto_strength <= 0.0
                else f"  ·  auto strength {image.auto_strength:.2f}"
                + (f" ({image.auto_reason})" if image.auto_reason else "")
            )
        return text

    def _decoded(self, path: str, image: DisplayImage) -> None:
        if self.row is None or self.row.path != path:
            return  # the user moved on
        if self.image is not None:  # the full pixels after the quick reduced copy
            self.image = image
            self.view.title.setText(self._title(image))
            self.view.replace_image(image)
            return
        self.image = image
        self.view.show_image(image, self._title(image))
        self.image_shown.emit(path)

    def cancel(self) -> None:
        """Stop the preview in flight (the window is closing)."""
        self._cancel_preview()

    def _cancel_preview(self) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None

    def request_preview(self, rect: QRect, scale: float, strength: float) -> None:
        if self.image is None:
            return
        if not self.image.complete and scale >= self.image.max_scale() - 1e-6:
            self._start_full(self.image.path)  # zoomed in past the reduced copy
        self._cancel_preview()
        image, lane, auto = self.image, self.lane, self.auto
        plans = self._tone_plans if self.tone else None

        def run(_progress: Any, cancel: Any) -> object:
            tone = None if plans is None else _tone_plan(plans, image, strength)
            return _enhanced_patch(image, rect, scale, lane.model(ENHANCER), strength, cancel,
                                   auto, tone)

        task = bridge.Task(run, self)
        task.finished.connect(lambda patch, p=image.path: self._patch(p, patch))
        task.failed.connect(self.view.set_message)
        if not image.complete:  # after this preview, the full pixels
            task.finished.connect(lambda _r, p=image.path: self._start_full(p))
            task.failed.connect(lambda _m, p=image.path: self._start_full(p))
            task.cancelled.connect(lambda p=image.path: self._start_full(p))
        self._preview = task  # a newer preview replaces this one while it waits in the lane
        bridge.start_on_lane(task, self.lane, key="preview", interactive=True)

    def _patch(self, path: str, patch: object) -> None:
        if self.image is None or self.image.path != path:
            return
        self.view.add_patch(patch)  # type: ignore[arg-type]
        words = getattr(patch, "tone", None)
        if words is not None and words != self._tone_words:
            self._tone_words = words
            self.view.title.setText(self._title(self.image))
        self.preview_ready.emit(patch)

    def rate(self, label: int) -> None:
        if self.row is None:
            return
        task = bridge.Task(tasks.rate_photo(self.catalog, self.row.path, label), self)
        task.finished.connect(self._rated)
        task.failed.connect(self.view.set_message)
        bridge.start(task, self.io)

    def _rated(self, result: object) -> None:
        path, label, photo_id = result  # type: ignore[misc]
        self.message.emit(f"Rated {PurePath(path).name}: {RATING_NAMES[label]}")
        self.rating_saved.emit(path, label, photo_id)
