"""Random mixes of the four degradation factors, with their strengths, for ranking labels.

Each factor has a strength in [0, 1] that is also the target of its per-factor head:

- ``noise``: Gaussian noise, sigma = 50 * strength on the 0-255 scale (per channel, so
  partly chromatic, as in a camera's raw noise after demosaicing).
- ``blur``: lens blur (Gaussian, sigma = 3 * strength px) or, one time in three, motion blur
  (a box of 1 + 14 * strength px along a random axis).
- ``jpeg``: JPEG compression at quality ``round(95 - 85 * strength)`` (4:2:0); 0 means none.
- ``clipping``: over-exposure, a gain of 1 + 1.5 * strength followed by clipping at 255.

They are applied in camera order: exposure, optics (blur), sensor (noise), encoding (JPEG).
The shipped enhancer's own :mod:`photoenhance.core.ml.degrade` is not used, so that the
ranker and its benchmark are not tied to the enhancer's training distribution.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter

FACTORS = ("noise", "blur", "jpeg", "clipping")
NOISE_MAX_SIGMA = 50.0
BLUR_MAX_SIGMA = 3.0
MOTION_MAX_LEN = 14
JPEG_Q_HI, JPEG_Q_SPAN = 95, 85
CLIP_MAX_GAIN = 1.5


@dataclass(frozen=True)
class Mix:
    """Per-factor strengths in [0, 1]; ``motion`` picks motion blur over lens blur."""

    noise: float = 0.0
    blur: float = 0.0
    jpeg: float = 0.0
    clipping: float = 0.0
    motion: bool = False

    def strengths(self) -> np.ndarray:
        return np.array([self.noise, self.blur, self.jpeg, self.clipping], dtype=np.float32)

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def random_mix(rng: np.random.Generator, clean_prob: float = 0.4) -> Mix:
    """A random mix: clean or nearly clean with ``clean_prob``, else 1-3 active factors."""
    s = dict.fromkeys(FACTORS, 0.0)
    if rng.random() < clean_prob:
        for name in FACTORS:  # nearly clean: at most a trace of each factor
            if rng.random() < 0.3:
                s[name] = float(rng.uniform(0.0, 0.08))
    else:
        n_active = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        weights = np.array([0.4, 0.25, 0.25, 0.1])
        for name in rng.choice(FACTORS, size=n_active, replace=False, p=weights):
            s[str(name)] = float(rng.uniform(0.05, 1.0))
    return Mix(**s, motion=bool(rng.random() < 1 / 3))


def _motion_blur(img: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A box blur of ``length`` px along ``axis`` (0: vertical, 1: horizontal), edge-padded."""
    pad = [(0, 0)] * 3
    pad[axis] = (length // 2, length - 1 - length // 2)
    padded = np.pad(img.astype(np.float32), pad, mode="edge")
    c = np.cumsum(padded, axis=axis, dtype=np.float32)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    n = img.shape[axis]
    out = (np.take(c, np.arange(length, length + n), axis=axis)
           - np.take(c, np.arange(0, n), axis=axis)) / length
    return out


def _blur(img: np.ndarray, mix: Mix, rng: np.random.Generator) -> np.ndarray:
    if mix.blur <= 0:
        return img
    if mix.motion:
        length = 1 + round(MOTION_MAX_LEN * mix.blur)
        if length < 2:
            return img
        return _motion_blur(img, length, int(rng.integers(0, 2)))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    sigma = BLUR_MAX_SIGMA * mix.blur
    return np.asarray(pil.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32)


def _jpeg(img: np.ndarray, strength: float) -> np.ndarray:
    quality = round(JPEG_Q_HI - JPEG_Q_SPAN * strength)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality, subsampling=2)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def apply_mix(img: np.ndarray, mix: Mix, rng: np.random.Generator) -> np.ndarray:
    """Degrade an (H, W, 3) uint8 image by ``mix``; returns a new uint8 image."""
    x = img.astype(np.float32)
    if mix.clipping > 0:
        x = np.minimum(x * (1.0 + CLIP_MAX_GAIN * mix.clipping), 255.0)
    x = _blur(x, mix, rng)
    if mix.noise > 0:
        sigma = NOISE_MAX_SIGMA * mix.noise
        x = x + rng.standard_normal(x.shape, dtype=np.float32) * np.float32(sigma)
    out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if mix.jpeg > 0:
        out = _jpeg(out, mix.jpeg)
    return out
