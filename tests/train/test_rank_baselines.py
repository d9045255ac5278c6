"""The single-feature baselines respond to the degradation they are meant for."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter
from rank_helpers import textured

from photoenhance.train.rank.baselines import jpeg_blockiness, laplacian_var, noise_sigma


def test_baselines_point_the_right_way() -> None:
    clean = textured(128, 160, seed=2)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    blurred = np.asarray(Image.fromarray(clean).filter(ImageFilter.GaussianBlur(2)))
    buf = io.BytesIO()
    Image.fromarray(clean).save(buf, "JPEG", quality=8)
    blocky = np.asarray(Image.open(buf).convert("RGB"))
    assert noise_sigma(noisy) > 8 > noise_sigma(clean)
    assert laplacian_var(blurred) > laplacian_var(clean)  # negated: blurry scores higher
    assert jpeg_blockiness(blocky) > jpeg_blockiness(clean) + 0.2
