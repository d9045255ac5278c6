"""Single-feature improvability baselines, each oriented so that higher means "fix me".

- ``laplacian_var``: minus the variance of the Laplacian of the luma (low = blurry).
- ``noise_sigma``: the wavelet noise estimate, median(|HH|) / 0.6745 of the finest Haar
  diagonal band (Donoho's MAD estimator).
- ``jpeg_blockiness``: mean luma step across 8 px block edges over the mean step inside
  blocks (1 = no blocking).
"""

from __future__ import annotations

import numpy as np


def _luma(img: np.ndarray) -> np.ndarray:
    x = img.astype(np.float32)
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def laplacian_var(img: np.ndarray) -> float:
    y = _luma(img)
    lap = (y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4 * y[1:-1, 1:-1])
    return -float(lap.var())


def noise_sigma(img: np.ndarray) -> float:
    y = _luma(img)
    h, w = y.shape[0] // 2 * 2, y.shape[1] // 2 * 2
    y = y[:h, :w]
    hh = (y[0::2, 0::2] - y[0::2, 1::2] - y[1::2, 0::2] + y[1::2, 1::2]) / 2
    return float(np.median(np.abs(hh)) / 0.6745)


def jpeg_blockiness(img: np.ndarray) -> float:
    y = _luma(img)
    dx = np.abs(np.diff(y, axis=1))
    dy = np.abs(np.diff(y, axis=0))
    edge_x, edge_y = dx[:, 7::8].mean(), dy[7::8, :].mean()
    mask_x = np.ones(dx.shape[1], bool)
    mask_x[7::8] = False
    mask_y = np.ones(dy.shape[0], bool)
    mask_y[7::8] = False
    inner = (dx[:, mask_x].mean() + dy[mask_y, :].mean()) / 2
    return float((edge_x + edge_y) / 2 / max(inner, 1e-3))


BASELINES = {"laplacian_var": laplacian_var, "noise_sigma": noise_sigma,
             "jpeg_blockiness": jpeg_blockiness}
