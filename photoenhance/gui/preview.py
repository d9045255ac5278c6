"""Pixels for display: upright 8-bit RGB, QImages, and enhanced preview patches.

Enhancement previews work on the upright (display) array: the model is orientation-agnostic,
so a region of the screen maps straight to a crop. A patch is the enhanced crop of the
visible region, downscaled first when the view is zoomed out, so its cost follows the size of
the viewport, not of the photo. Zoomed out far enough, the crop comes from the reduced copy
made once at decode time, so a fit-view preview never touches the full-resolution pixels.

A JPEG is decoded in two steps: first the reduced copy alone, straight from the file with
libjpeg's DCT scaling (Pillow ``draft``, ~4x faster than a full decode), so the photo and its
fit-view preview appear at once; then the full pixels, which reuse that copy. Each photo is
decoded once per open; panning and zooming only crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from photoenhance.core.imaging import decode_rgb, load_image, read_metadata
from photoenhance.core.imaging.orient import apply_orientation
from photoenhance.core.ml.plan import EnhancePlan, plan_photo
from photoenhance.core.progress import CancelToken
from photoenhance.gui.change import change_magnitude, largest_change, overlay_image

if TYPE_CHECKING:
    from photoenhance.core.ml.tone import TonePlan

#: Tile side for previews: a whole viewport-sized region in one tile (no overlap work).
PREVIEW_TILE = 1280

#: The reduced copy painted (and previewed) when zoomed out has its longest side in
#: [PROXY_SIDE, 2 * PROXY_SIDE): 1500 x 1000 for a 24 MP photo, enough for a fit view on
#: panes up to 1500 px; bigger panes paint and preview from the full pixels.
PROXY_SIDE = 1200


@dataclass(frozen=True)
class DisplayImage:
    """An upright photo for the compare view: full pixels plus a reduced copy.

    A *quick* image (from :func:`decode_quick`) has only the reduced copy: ``pixels`` and
    ``image`` are None until the full decode replaces it; ``full_size`` gives its size.
    """

    path: str
    pixels: np.ndarray | None  # H x W x 3 uint8, upright
    image: QImage | None
    proxy: QImage
    proxy_pixels: np.ndarray | None = None  # the reduced copy as an array (``proxy``'s pixels)
    full_size: tuple[int, int] | None = None  # (width, height) while ``pixels`` is None
    #: the enhancement plan (:func:`plan_photo`), made once on the full pixels as stored,
    #: exactly as the batch makes it (None until decoded)
    plan: EnhancePlan | None = None

    @property
    def auto_strength(self) -> float | None:
        """The enhancer's automatic strength for the photo (None until decoded)."""
        return None if self.plan is None else self.plan.need

    @property
    def auto_reason(self) -> str:
        """What it answers to: "noise", "JPEG compression" or "softness"."""
        return "" if self.plan is None else self.plan.reason

    @property
    def size(self) -> tuple[int, int]:
        if self.pixels is None:
            assert self.full_size is not None
            return self.full_size
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def complete(self) -> bool:
        return self.pixels is not None

    def max_scale(self) -> float:
        """The largest preview scale its pixels can serve (1 once complete)."""
        if self.pixels is not None or self.proxy_pixels is None:
            return 1.0
        return min(
            self.proxy_pixels.shape[1] / self.size[0], self.proxy_pixels.shape[0] / self.size[1]
        )


@dataclass(frozen=True)
class Patch:
    """An enhanced region: ``rect`` in image pixels, ``image`` possibly smaller (zoomed out)."""

    rect: QRect
    image: QImage
    strength: float
    scale: float
    #: where it changed: a translucent heat map of |enhanced - original| over ``rect``
    change: QImage | None = None
    #: the image point (x, y) at the centre of the largest change in ``rect``
    focus: tuple[int, int] | None = None
    #: what the tone step did to the patch, in words (None: the step was off)
    tone: str | None = None


def to_display(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """Upright, contiguous H x W x 3 uint8 from decoded pixels in stored orientation."""
    arr = pixels
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    arr = arr[:, :, :3]
    return np.ascontiguousarray(apply_orientation(arr, orientation or 1))


def to_qimage(arr: np.ndarray) -> QImage:
    """A QImage that owns a copy of an H x W x 3 uint8 array."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def reduce(arr: np.ndarray, side: int) -> np.ndarray:
    """A copy whose longest side is in ``[side, 2 * side)``: a box filter by a whole factor.

    Pillow's ``reduce`` is about twice as fast as a bilinear resize of a 24 MP photo and
    averages every pixel (no aliasing); the painter scales the rest of the way.
    """
    h, w = arr.shape[:2]
    factor = max(h, w) // side
    if factor < 2:
        return arr
    return np.asarray(Image.fromarray(arr).reduce(factor))


def decode_quick(path: str) -> DisplayImage | None:
    """Only the reduced copy of a big JPEG, by DCT scaling; None for other files (runs on a
    worker)."""
    meta = read_metadata(Path(path))
    w, h = meta.size
    if meta.format != "JPEG" or meta.mode not in ("RGB", "L") or max(w, h) < 2 * PROXY_SIDE:
        return None
    picture = decode_rgb(Path(path), long_side=PROXY_SIDE)  # libjpeg scales it by 2, 4 or 8
    small = np.asarray(picture.image)
    return DisplayImage(path, None, None, to_qimage(small), small, full_size=picture.full_size)


def decode_for_display(path: str, quick: DisplayImage | None = None) -> DisplayImage:
    """Decode ``path`` and make it upright (runs on a worker); reuses ``quick``'s reduced copy."""
    decoded = load_image(Path(path))
    # planned as stored (before turning upright), where the JPEG 8x8 grid is, as the batch does
    plan = plan_photo(decoded.pixels)
    arr = to_display(decoded.pixels, decoded.metadata.orientation)
    if quick is not None and quick.size == (arr.shape[1], arr.shape[0]):
        return DisplayImage(path, arr, to_qimage(arr), quick.proxy, quick.proxy_pixels, plan=plan)
    small = reduce(arr, PROXY_SIDE)
    return DisplayImage(path, arr, to_qimage(arr), to_qimage(small), small, plan=plan)


def clamp_rect(rect: QRect, width: int, height: int, margin: int = 0) -> QRect:
    """``rect`` grown by ``margin`` and clipped to the image."""
    grown = rect.adjusted(-margin, -margin, margin, margin)
    return grown.intersected(QRect(0, 0, width, height))


def enhance_region(
    pixels: np.ndarray | DisplayImage,
    rect: QRect,
    scale: float,
    enhancer: Any,
    strength: float,
    cancel: CancelToken | None = None,
    auto: bool = True,
    tone: TonePlan | None = None,
) -> Patch:
    """Enhance the crop ``rect`` of ``pixels`` at ``scale`` (<= 1) of its resolution, then,
    given the photo's ``tone`` plan, correct its tone as the copy's will be (restore first,
    then tone, as the batch does).

    Given a :class:`DisplayImage` zoomed out to no more than its reduced copy's resolution,
    the crop is taken from that copy instead of the full pixels.
    """
    scale = min(1.0, scale)
    if isinstance(pixels, DisplayImage):
        scale = min(scale, pixels.max_scale())  # a quick image has only its reduced copy
    crop = _source_crop(pixels, rect, scale)
    size = (rect.width(), rect.height())
    if scale < 1.0:
        size = (max(16, round(rect.width() * scale)), max(16, round(rect.height() * scale)))
    if (crop.shape[1], crop.shape[0]) != size:
        crop = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR))
    crop = np.ascontiguousarray(crop)
    out = enhancer.enhance(crop, strength=strength, tile=PREVIEW_TILE, cancel=cancel,
                           plan=preview_plan(pixels, crop, scale, auto))
    if tone is not None:
        out = tone.render(out)
    magnitude = change_magnitude(crop, out)
    fx, fy = largest_change(magnitude, (max(1, round(400 * scale)), max(1, round(300 * scale))))
    focus = (rect.left() + round(fx / scale), rect.top() + round(fy / scale))
    return Patch(QRect(rect), to_qimage(out), strength, scale, overlay_image(magnitude), focus,
                 None if tone is None else tone.edit.description)


def preview_plan(image: np.ndarray | DisplayImage, crop: np.ndarray, scale: float,
                 auto: bool) -> EnhancePlan:
    """The plan a preview of ``crop`` (of ``image``, reduced by ``scale``) runs: the whole
    photo's, so a region looks as it will in the copy (:meth:`EnhancePlan.at_scale` for a
    reduced crop); the crop's own while only a quick image's reduced copy is there."""
    if not auto:
        return EnhancePlan()
    plan = image.plan if isinstance(image, DisplayImage) else None
    return plan_photo(crop) if plan is None else plan.at_scale(scale)


def _source_crop(src: np.ndarray | DisplayImage, rect: QRect, scale: float) -> np.ndarray:
    """The pixels of ``rect`` from the smallest source that still has ``scale``'s detail."""
    full = src.pixels if isinstance(src, DisplayImage) else src
    small = src.proxy_pixels if isinstance(src, DisplayImage) else None
    if small is not None and small is not full:
        w, h = src.size  # type: ignore[union-attr]
        kx, ky = small.shape[1] / w, small.shape[0] / h
        if scale <= min(kx, ky) or full is None:
            x0, y0 = int(rect.left() * kx), int(rect.top() * ky)
            x1 = max(x0 + 1, round((rect.left() + rect.width()) * kx))
            y1 = max(y0 + 1, round((rect.top() + rect.height()) * ky))
            return small[y0:y1, x0:x1]
    assert full is not None
    return full[rect.top() : rect.top() + rect.height(), rect.left() : rect.left() + rect.width()]
