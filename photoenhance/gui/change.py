"""Where an enhancement changed a photo: a smoothed |after - before| map, for display.

Runs on workers (numpy and Pillow only; the QImages made here are plain pixel buffers).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter
from PySide6.QtGui import QImage

#: The overlay is scaled to the region's own strong changes (this percentile of the
#: magnitude), so it shows *where* the photo changed most, never a uniform wash; changes
#: below MIN_CHANGE 8-bit levels (smoothed) never reach full strength.
PERCENTILE, MIN_CHANGE = 99.0, 4.0
#: Opacity of the strongest change (0-255).
MAX_ALPHA = 120
#: The overlay's colour (warm, to stand out on photos and the dark theme).
HEAT = (255, 140, 40)


def change_magnitude(before: np.ndarray, after: np.ndarray, radius: int = 6) -> np.ndarray:
    """Per-pixel mean absolute change over the channels, box-smoothed (float32, H x W)."""
    h, w = min(before.shape[0], after.shape[0]), min(before.shape[1], after.shape[1])
    d = np.abs(before[:h, :w, :3].astype(np.int16) - after[:h, :w, :3].astype(np.int16))
    mag: np.ndarray = d.mean(axis=2, dtype=np.float32)
    if radius > 0:
        im = Image.fromarray(np.clip(mag * 8, 0, 255).astype(np.uint8))  # 1/8 level steps
        mag = np.asarray(im.filter(ImageFilter.BoxBlur(radius)), np.float32) / 8
    return mag


def overlay_image(magnitude: np.ndarray) -> QImage:
    """A translucent heat map of ``magnitude`` (ARGB32 premultiplied), clear where unchanged."""
    if magnitude.size == 0:
        return QImage()
    full = max(MIN_CHANGE, float(np.percentile(magnitude, PERCENTILE)))
    level = np.clip(magnitude / full, 0.0, 1.0)
    alpha = level * level * MAX_ALPHA  # weak changes fade out faster than strong ones
    h, w = alpha.shape
    argb = np.empty((h, w, 4), np.uint8)  # B, G, R, A in memory (little-endian ARGB32)
    for i, c in enumerate(reversed(HEAT)):
        argb[:, :, i] = (c * alpha / 255).astype(np.uint8)
    argb[:, :, 3] = alpha.astype(np.uint8)
    return QImage(argb.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()


def largest_change(magnitude: np.ndarray, window: tuple[int, int]) -> tuple[int, int]:
    """Centre (x, y) of the ``window`` (w, h) with the most total change."""
    h, w = magnitude.shape
    ww, wh = min(window[0], w), min(window[1], h)
    block = max(1, min(ww, wh) // 16)
    hb, wb = h // block, w // block
    if hb == 0 or wb == 0:
        return w // 2, h // 2
    small = magnitude[: hb * block, : wb * block].reshape(hb, block, wb, block).sum(axis=(1, 3))
    kw, kh = max(1, ww // block), max(1, wh // block)
    s = np.zeros((hb + 1, wb + 1), np.float64)
    s[1:, 1:] = small.cumsum(0).cumsum(1)
    sums = s[kh:, kw:] - s[:-kh, kw:] - s[kh:, :-kw] + s[:-kh, :-kw]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int((x + kw / 2) * block), int((y + kh / 2) * block)
