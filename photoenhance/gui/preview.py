"""Pixels for display: upright 8-bit RGB, QImages, and enhanced preview patches.

Enhancement previews work on the upright (display) array: the model is orientation-agnostic,
so a region of the screen maps straight to a crop. A patch is the enhanced crop of the
visible region, downscaled first when the view is zoomed out, so its cost follows the size of
the viewport, not of the photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from photoenhance.core.imaging import load_image
from photoenhance.core.imaging.orient import apply_orientation
from photoenhance.core.jobs.cancel import CancelToken

#: Tile side for previews: a whole viewport-sized region in one tile (no overlap work).
PREVIEW_TILE = 1280

#: Longest side of the reduced copy painted when the view is zoomed out.
PROXY_SIDE = 1600


@dataclass(frozen=True)
class DisplayImage:
    """An upright photo for the compare view: full pixels plus a reduced copy."""

    path: str
    pixels: np.ndarray  # H x W x 3 uint8, upright
    image: QImage
    proxy: QImage

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


@dataclass(frozen=True)
class Patch:
    """An enhanced region: ``rect`` in image pixels, ``image`` possibly smaller (zoomed out)."""

    rect: QRect
    image: QImage
    strength: float
    scale: float


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
    h, w = arr.shape[:2]
    if max(h, w) <= side:
        return arr
    k = side / max(h, w)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BILINEAR))


def decode_for_display(path: str) -> DisplayImage:
    """Decode ``path`` and make it upright (runs on a worker)."""
    from pathlib import Path

    decoded = load_image(Path(path))
    arr = to_display(decoded.pixels, decoded.metadata.orientation)
    return DisplayImage(path, arr, to_qimage(arr), to_qimage(reduce(arr, PROXY_SIDE)))


def clamp_rect(rect: QRect, width: int, height: int, margin: int = 0) -> QRect:
    """``rect`` grown by ``margin`` and clipped to the image."""
    grown = rect.adjusted(-margin, -margin, margin, margin)
    return grown.intersected(QRect(0, 0, width, height))


def enhance_region(pixels: np.ndarray, rect: QRect, scale: float, enhancer: Any,
                   strength: float, cancel: CancelToken | None = None) -> Patch:
    """Enhance the crop ``rect`` of ``pixels`` at ``scale`` (<= 1) of its resolution."""
    crop = pixels[rect.top():rect.top() + rect.height(), rect.left():rect.left() + rect.width()]
    scale = min(1.0, scale)
    if scale < 1.0:
        h, w = crop.shape[:2]
        size = (max(16, round(w * scale)), max(16, round(h * scale)))
        crop = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR))
    out = enhancer.enhance(np.ascontiguousarray(crop), strength=strength, tile=PREVIEW_TILE,
                           cancel=cancel)
    return Patch(QRect(rect), to_qimage(out), strength, scale)
