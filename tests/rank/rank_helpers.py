"""Helpers for the ranking tests: a tiny random-weight net and generated images."""

from __future__ import annotations

import numpy as np
import torch

from photoenhance.core.ml.nets.improvability import ImprovabilityNet

TINY_STAGES = ((1, 8, 1, 1), (2, 8, 1, 2), (2, 16, 1, 2))


def tiny_net(seed: int = 0) -> ImprovabilityNet:
    torch.manual_seed(seed)
    return ImprovabilityNet(stem=8, stages=TINY_STAGES, feat=16, hidden=8).eval()


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB image with some edges, uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / (7 + seed)) * np.cos(yy / 11)
    img = np.stack([base, base * 0.8 + 20, 255 - base], axis=-1)
    img[h // 3: h // 2, w // 4: w // 2] = rng.integers(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)
