"""The ranker's input: one downscaled global view plus a few full-resolution detail crops.

Noise, JPEG blocking and slight blur are visible at 100 % but vanish when a 24 MP photo is
shrunk to a few hundred pixels, while the composition (is this a soft portrait? a sky?) needs
the whole frame. So each photo gives:

- a *global view*: the whole frame squashed to ``GLOBAL_SIZE`` square (box-reduced, then
  bilinear), which shows content and overall exposure, clipping included;
- ``N_CROPS`` *detail crops* of ``CROP_SIZE`` px at full resolution, taken from the grid
  cells with the most gradient energy. The energy is measured on a box-reduced luma map, which
  averages noise away, so the cells picked hold real edges and texture, where noise, blur
  and compression artifacts show most, rather than whatever is noisiest.

Decoding for scoring uses one full decode (:func:`~photoenhance.core.imaging.decode_rgb`
at full size: the crops need every pixel, and JPEG ``draft`` scaling would blur away exactly
what the crops are for) and one Pillow ``reduce`` for both the energy map and the global view.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photoenhance.core.imaging.decode import decode_rgb
from photoenhance.core.ml.autostrength import measure

GLOBAL_SIZE = 160
CROP_SIZE = 96
N_CROPS = 4
#: Cells of the energy map are this many pixels of the reduced luma map on a side.
_CELL = 8


@dataclass(frozen=True)
class Views:
    """``global_view`` (G, G, 3) and ``crops`` (K, C, C, 3), both uint8, and the enhancer's
    automatic strength for the photo (0: the enhancer would return it unchanged)."""

    global_view: np.ndarray
    crops: np.ndarray
    auto_strength: float = 1.0


def _reduced(pil: Image.Image, crop: int) -> Image.Image:
    """The image box-reduced so that one ``crop`` cell is ``_CELL`` pixels (Pillow's C code)."""
    red = max(1, crop // _CELL)
    return pil.reduce(red) if red > 1 and min(pil.size) >= red else pil


def global_view(pil: Image.Image, size: int = GLOBAL_SIZE) -> np.ndarray:
    """The whole frame as a ``size`` x ``size`` uint8 RGB array (antialiased bilinear)."""
    return np.asarray(pil.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def _energy_cells(small: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Gradient energy of each grid cell, shape (rows, cols), from the reduced RGB array."""
    luma = small[..., 0] * 0.299 + small[..., 1] * 0.587 + small[..., 2] * 0.114
    g = np.abs(np.diff(luma, axis=0, append=luma[-1:])) + np.abs(
        np.diff(luma, axis=1, append=luma[:, -1:]))
    cell = max(1, min(g.shape[0] // rows, g.shape[1] // cols))
    g = g[:rows * cell, :cols * cell]
    if g.shape != (rows * cell, cols * cell):  # fewer reduced pixels than cells
        g = np.pad(g, ((0, rows * cell - g.shape[0]), (0, cols * cell - g.shape[1])))
    cells = g.reshape(rows, cell, cols, cell).sum(axis=(1, 3), dtype=np.float64)
    return cells


def crop_origins(pil: Image.Image, n: int = N_CROPS, crop: int = CROP_SIZE,
                 small: Image.Image | None = None) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of the ``n`` most detailed ``crop`` cells (repeats if few)."""
    if pil.width < crop or pil.height < crop:
        return [(0, 0)] * n
    rows, cols = pil.height // crop, pil.width // crop
    small = small or _reduced(pil, crop)
    cells = _energy_cells(np.asarray(small, dtype=np.float32), rows, cols)
    order = np.argsort(cells.ravel(), kind="stable")[::-1]
    picks = [divmod(int(i), cols) for i in order[:n]]
    picks += [picks[i % len(picks)] for i in range(n - len(picks))]
    return [(r * crop, c * crop) for r, c in picks]


def _crop(pil: Image.Image, y: int, x: int, crop: int) -> np.ndarray:
    """A ``crop`` x ``crop`` window at (y, x), edge-padded where the image is smaller."""
    arr = np.asarray(pil.crop((x, y, min(x + crop, pil.width), min(y + crop, pil.height))))
    h, w = arr.shape[:2]
    if h < crop or w < crop:
        arr = np.pad(arr, ((0, max(0, crop - h)), (0, max(0, crop - w)), (0, 0)), mode="edge")
    return arr


def make_views(img: np.ndarray | Image.Image, n: int = N_CROPS, crop: int = CROP_SIZE,
               size: int = GLOBAL_SIZE) -> Views:
    """Build the ranker's views of an RGB image (uint8 array or Pillow image).

    One box reduction serves both the energy map and the global view; the crops are cut
    from the full-resolution image, so no full-size array copy is made.
    """
    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    pil = pil if pil.mode == "RGB" else pil.convert("RGB")
    small = _reduced(pil, crop)
    origins = crop_origins(pil, n, crop, small)
    crops = np.stack([_crop(pil, y, x, crop) for y, x in origins])
    src = small if min(small.size) >= size else pil
    auto = measure(pil).strength
    return Views(global_view(src, size), np.ascontiguousarray(crops), auto)


def load_views(path: Path, n: int = N_CROPS, crop: int = CROP_SIZE,
               size: int = GLOBAL_SIZE) -> Views:
    """Decode ``path`` and build its views (run in the decode thread pool)."""
    return make_views(decode_rgb(path).image, n, crop, size)
