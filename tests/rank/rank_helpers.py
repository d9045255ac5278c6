"""Helpers for the ranking tests: a tiny random-weight net and generated images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

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


def user_photos(folder: Path, n: int) -> tuple[list[Path], list[int]]:
    """Photos of random brightness and noise; the hidden rule rates bright ones improvable.

    (The random shipped head happens to rank dark photos first, so the rule disagrees.)
    """
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    paths, labels = [], []
    for i in range(n):
        gain, noise = rng.uniform(0.3, 1.6), rng.uniform(0, 30)
        img = textured(72, 96, seed=i % 5).astype(np.float32) * gain
        img += rng.normal(0, noise, img.shape)
        path = folder / f"{i}.png"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
        brightness = float(np.clip(img, 0, 255).mean())
        labels.append(-1 if brightness < 70 else 0 if brightness < 110 else 1 if brightness < 150
                      else 2)
        paths.append(path)
    return paths, labels
