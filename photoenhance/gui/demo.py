"""The demo library: degraded variants of the photos shipped in ``resources/demo``.

The shipped photos are clean; the ranking needs something to rank, so each one is written
once as is and a few times with a typical fault (sensor noise, soft focus, heavy JPEG,
blown highlights), at fixed seeds so every run makes the same library.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.core.paths import resources_dir


def _noise(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    arr = np.asarray(im, np.float32)
    arr += rng.normal(0, 18, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _blur(im: Image.Image, _rng: np.random.Generator) -> Image.Image:
    return im.filter(ImageFilter.GaussianBlur(2.2))


def _clip(im: Image.Image, _rng: np.random.Generator) -> Image.Image:
    arr = np.asarray(im, np.float32) * 1.6 + 20
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


#: (suffix, fault, JPEG quality of the written file)
VARIANTS: tuple[tuple[str, Callable[[Image.Image, np.random.Generator], Image.Image], int],
                ...] = (
    ("", lambda im, _r: im, 95),
    ("_noisy", _noise, 92),
    ("_soft", _blur, 92),
    ("_blocky", lambda im, _r: im, 12),
    ("_overexposed", _clip, 92),
)


def demo_sources() -> list[Path]:
    folder = resources_dir() / "demo"
    return sorted(folder.glob("*.jpg"))


def make_demo_library(folder: Path) -> Path:
    """Write the demo library into ``folder`` (kept if already there); return it."""
    sources = demo_sources()
    if not sources:
        raise PhotoEnhanceError("the demo photos are missing from this installation")
    for i, src in enumerate(sources):
        with Image.open(src) as im:
            clean = im.convert("RGB")
        for j, (suffix, fault, quality) in enumerate(VARIANTS):
            out = folder / src.stem / f"{src.stem}{suffix}.jpg"
            if out.exists():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            fault(clean, np.random.default_rng(100 * i + j)).save(out, quality=quality)
    return folder
