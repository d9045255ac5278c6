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

Decoding for scoring uses one full decode (the crops need every pixel) and Pillow's C
``reduce`` for the small views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from photoenhance.core.errors import ImageReadError

GLOBAL_SIZE = 160
CROP_SIZE = 96
N_CROPS = 4
#: Cells of the energy map are this many pixels of the reduced luma map on a side.
_CELL = 8

Image.MAX_IMAGE_PIXELS = 200_000_000


@dataclass(frozen=True)
class Views:
    """``global_view`` (G, G, 3) and ``crops`` (K, C, C, 3), both uint8."""

    global_view: np.ndarray
    crops: np.ndarray


def global_view(pil: Image.Image, size: int = GLOBAL_SIZE) -> np.ndarray:
    """The whole frame as a ``size`` x ``size`` uint8 RGB array."""
    factor = min(pil.width, pil.height) // size
    small = pil.reduce(factor) if factor >= 2 else pil
    return np.asarray(small.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def _energy_cells(pil: Image.Image, crop: int) -> np.ndarray:
    """Gradient energy of each ``crop``-sized grid cell, shape (rows, cols)."""
    rows, cols = pil.height // crop, pil.width // crop
    red = max(1, crop // _CELL)
    luma = np.asarray(pil.convert("L").reduce(red), dtype=np.float32)
    step = crop / red
    gy = np.abs(np.diff(luma, axis=0, append=luma[-1:]))
    gx = np.abs(np.diff(luma, axis=1, append=luma[:, -1:]))
    g = gx + gy
    ys = np.minimum((np.arange(g.shape[0]) / step).astype(int), rows - 1)
    xs = np.minimum((np.arange(g.shape[1]) / step).astype(int), cols - 1)
    cells = np.zeros((rows, cols), dtype=np.float64)
    np.add.at(cells, (ys[:, None], xs[None, :]), g)
    return cells


def crop_origins(pil: Image.Image, n: int = N_CROPS,
                 crop: int = CROP_SIZE) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of the ``n`` most detailed ``crop`` cells (repeats if few)."""
    if pil.width < crop or pil.height < crop:
        return [(0, 0)] * n
    cells = _energy_cells(pil, crop)
    order = np.argsort(cells.ravel(), kind="stable")[::-1]
    picks = [divmod(int(i), cells.shape[1]) for i in order[:n]]
    picks += [picks[i % len(picks)] for i in range(n - len(picks))]
    return [(r * crop, c * crop) for r, c in picks]


def _pad_to(arr: np.ndarray, crop: int) -> np.ndarray:
    h, w = arr.shape[:2]
    if h >= crop and w >= crop:
        return arr
    return np.pad(arr, ((0, max(0, crop - h)), (0, max(0, crop - w)), (0, 0)), mode="edge")


def make_views(img: np.ndarray | Image.Image, n: int = N_CROPS, crop: int = CROP_SIZE,
               size: int = GLOBAL_SIZE) -> Views:
    """Build the ranker's views of an RGB image (uint8 array or Pillow image)."""
    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    pil = pil if pil.mode == "RGB" else pil.convert("RGB")
    arr = _pad_to(np.asarray(pil), crop)
    crops = np.stack([arr[y:y + crop, x:x + crop] for y, x in crop_origins(pil, n, crop)])
    return Views(global_view(pil, size), np.ascontiguousarray(crops))


def decode_rgb(path: Path) -> Image.Image:
    """Fully decode an image file to upright 8-bit RGB, or raise :class:`ImageReadError`."""
    try:
        im = Image.open(path)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"cannot open image ({exc})", path) from exc
    try:
        im.load()  # single-frame files close their file here
        ImageOps.exif_transpose(im, in_place=True)
        return im if im.mode == "RGB" else im.convert("RGB")
    except (OSError, ValueError, SyntaxError) as exc:
        im.close()
        raise ImageReadError(f"cannot decode image ({exc})", path) from exc


def load_views(path: Path, n: int = N_CROPS, crop: int = CROP_SIZE,
               size: int = GLOBAL_SIZE) -> Views:
    """Decode ``path`` and build its views (run in the decode thread pool)."""
    return make_views(decode_rgb(path), n, crop, size)
