"""Do no harm: check what the enhancer removes, and give back what is not noise.

What a good denoiser takes away from a photo looks like noise: the *method noise* of Buades,
Coll and Morel (2005), the residual ``input - output``, carries no structure of the image.
Where it does, the net is eating detail: railings, gravel, grass. The guard measures this on
a coarse grid of ``BLOCK`` x ``BLOCK`` blocks of every tile and corrects the output there:

- **Structure.** In each block, the luma residual ``r`` is regressed on the detail the
  output still shows, ``h`` (the output minus its ``DETAIL`` x ``DETAIL`` box blur: edges,
  gradients and repeating patterns at the scales the net smooths). Noise is uncorrelated
  with the photo's detail (correlation ``rho`` near 0, about +-0.06 for pure noise in a
  block); a net that shrinks texture by a factor ``k`` leaves ``r = k / (1 - k) h``, so
  ``rho`` near 1. Sharpening (deblurring) gives a negative ``rho`` and is left alone. The
  guard adds the shrunk detail back: ``output + w * beta * h`` with ``beta`` the block's
  regression slope (capped at ``BETA_MAX``) and ``w`` a ramp of ``rho`` from ``RHO_RAMP[0]``
  to ``RHO_RAMP[1]``. It is a spatially varying strength: on the detail component the
  correction's strength is ``1 - w * beta / (1 / k - 1)``, down to none where ``w = 1``,
  while noise (orthogonal to ``h``) is still removed at full strength. So a noisy sky is
  cleaned, and a fine grating under noise keeps its bars while losing its noise.
- **Repeating patterns.** Where the net wiped a pattern out, no detail is left to regress
  on. But the residual then repeats: its normalised autocorrelation at lags of one or two
  pixels (along rows, columns and both diagonals) is near 1, against under 0.15 for the
  net's residual on white noise. A smooth **strength map** falls from 1 to
  ``PATTERN_FLOOR`` as the largest of these autocorrelations rises over ``PATTERN_RAMP``
  (computed on the net's own residual, smoothed over 3 x 3 blocks and upsampled
  bilinearly), and scales the correction there. It is applied when the photo is being
  denoised (the general or the noise network): JPEG and blur corrections are structured by
  nature, along the 8 x 8 grid and the edges, and the check would undo them (LIVE1 q20
  -0.15 dB, Kodak defocus -0.64 dB when tried).
- **Colour.** Noise is zero-mean, so over a block it cannot change a colour. The block-mean
  chroma of the residual (its RGB minus its luma) is added back: the output keeps the
  input's colours at ``BLOCK`` scale and larger, so saturation and hue drift only by what
  the removed noise accounts for, at the finest scales.

The maps (``w * beta``, the strength and the block chroma) are block statistics smoothed over 3 x 3
blocks and upsampled bilinearly, so they vary smoothly inside a tile; tiles are computed
with their overlapping context and blended by :mod:`photoenhance.core.ml.infer` as before,
so the guarded photo has no seams. Its work is a few box filters and six lagged products per
pixel, plus statistics on a map ``BLOCK**2`` times smaller (``bench/harm.py`` measures its
time as a ratio to the rest of the enhancement).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

#: Side of the guard's statistics blocks (pixels of the tile).
BLOCK = 16
#: Side of the box blur whose difference is "the detail the output still shows".
DETAIL = 5
#: Residual-vs-detail correlation where the guard starts giving detail back, and where it
#: gives back all that the regression finds. Pure noise in a block of 256 pixels reads
#: |rho| < 0.2 (three standard deviations, before the 3 x 3 smoothing); clean textured
#: photos read 0.5-0.9.
RHO_RAMP = (0.3, 0.6)
#: Largest detail gain: the output's detail is amplified by at most 1 + BETA_MAX, which
#: undoes a shrink of texture by up to 1 / (1 + BETA_MAX) (four fifths at 4.0).
BETA_MAX = 4.0
#: Residual autocorrelation (largest over the lags in ``_LAGS``) where the pattern check
#: starts lowering the strength, and where it reaches ``PATTERN_FLOOR``. The net's residual
#: on white noise reads under 0.15, a wiped-out grating 0.7 and more.
PATTERN_RAMP = (0.35, 0.7)
PATTERN_FLOOR = 0.0
#: The photo's measured luma noise sigma (8-bit units) over which the detail and pattern
#: checks fade out. On a clean or slightly noisy photo all the net removes beyond the noise
#: is harm; on a very noisy one, shrinking texture along with the noise is the better
#: trade (the net is trained for it), and giving it back brings the noise back with it
#: (CBSD68 with white noise of sigma 15 / 50, first 4 photos: -0.22 / -0.90 dB with the
#: checks at full weight). The colour check fades too: strong noise is not zero-mean over
#: a block (sigma 50: about 3 levels per 16 x 16 block), so its block chroma is noise
#: (-0.2 dB at sigma 50 when kept).
NOISE_FADE = (5.0, 9.0)
_LAGS = ((0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0))
_LUMA = (0.299, 0.587, 0.114)


@dataclass
class GuardStats:
    """What the guard did to one tile (for benchmarks and tests)."""

    pixels: int = 0
    map_cells: int = 0
    detail_back: float = 0.0  # mean of w * beta over the tile's map
    seconds: float = 0.0  # time spent in the guard
    removed: float = 0.0  # squared change the net made (sum over pixels and channels)
    kept: float = 0.0  # squared change left after the guard

    @property
    def kept_share(self) -> float | None:
        """The share of the net's change (in energy) that the guard let through; None when
        the net changed nothing."""
        return self.kept / self.removed if self.removed > 0 else None

    def add(self, other: GuardStats) -> None:
        self.seconds += other.seconds
        self.removed += other.removed
        self.kept += other.kept
        total = self.map_cells + other.map_cells
        if total:
            self.detail_back = (self.detail_back * self.map_cells
                                + other.detail_back * other.map_cells) / total
        self.pixels += other.pixels
        self.map_cells = total


def _luma(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _box(x: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` x ``k`` box blur, same size (edges replicated)."""
    p = k // 2
    return F.avg_pool2d(F.pad(x, (p, p, p, p), mode="replicate"), k, stride=1)


def _block_mean(x: torch.Tensor) -> torch.Tensor:
    """Block means over ``BLOCK`` x ``BLOCK`` cells (a last partial cell included)."""
    return F.avg_pool2d(x, BLOCK, stride=BLOCK, ceil_mode=True)


def _smooth_up(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A block map smoothed over 3 x 3 cells, then bilinearly upsampled to ``size``."""
    if m.shape[-1] >= 3 and m.shape[-2] >= 3:
        m = _box(m, 3)
    return F.interpolate(m, size=size, mode="bilinear", align_corners=False)


def _pattern(r: torch.Tensor) -> torch.Tensor:
    """Per block, the largest normalised autocorrelation of the residual ``r`` (1, 1, H, W)
    over the lags in ``_LAGS``: near 0 for noise, near 1 for a repeating pattern."""
    rr = _block_mean(r * r)
    best = torch.zeros_like(rr)
    h, w = r.shape[-2:]
    for dy, dx in _LAGS:
        a = r[..., max(dy, 0):h, max(dx, 0):w]
        b = r[..., : h - max(dy, 0), max(-dx, 0): w - max(dx, 0)]
        a = a[..., :, : b.shape[-1]]
        prod = F.pad(a * b, (0, w - a.shape[-1], 0, h - a.shape[-2]))
        best = torch.maximum(best, _block_mean(prod).abs())
    return best / (rr + 1e-10)


def weight_for_noise(sigma: float | None) -> float:
    """The weight of the detail and pattern checks for a photo whose luma noise measures
    ``sigma`` (None: not measured, full weight)."""
    if sigma is None:
        return 1.0
    lo, hi = NOISE_FADE
    return float(min(max((hi - sigma) / (hi - lo), 0.0), 1.0))


def guard(x: torch.Tensor, y: torch.Tensor, stats: GuardStats | None = None,
          patterns: bool = True, weight: float = 1.0) -> torch.Tensor:
    """The net's output ``y`` for input ``x`` (both (1, 3, H, W) float in [0, 1]) with the
    detail it ate and the colour it shifted given back (see the module docstring).

    ``patterns``: also lower the strength where the residual repeats (for denoising; a
    JPEG or blur correction is structured by nature: the 8 x 8 grid, the edges).
    ``weight``: of the detail, pattern and colour checks (:func:`weight_for_noise`)."""
    if x.shape[-1] < 2 * DETAIL or x.shape[-2] < 2 * DETAIL:
        return y
    start = time.perf_counter()
    x, y = x.float(), y.float()
    h, w = x.shape[-2:]
    r = _luma(x) - _luma(y)
    detail = y - _box(y, DETAIL)
    hy = _luma(detail)
    s_rh = _block_mean(r * hy)
    s_hh = _block_mean(hy * hy)
    s_rr = _block_mean(r * r)
    if s_rh.shape[-1] >= 3 and s_rh.shape[-2] >= 3:
        s_rh, s_hh, s_rr = _box(s_rh, 3), _box(s_hh, 3), _box(s_rr, 3)
    eps = 1e-10
    rho = s_rh / torch.sqrt(s_rr * s_hh + eps)
    beta = (s_rh / (s_hh + eps)).clamp(0.0, BETA_MAX)
    ramp = ((rho - RHO_RAMP[0]) / (RHO_RAMP[1] - RHO_RAMP[0])).clamp(0.0, 1.0)
    back = ramp * beta * weight
    out = y + F.interpolate(back, size=(h, w), mode="bilinear", align_corners=False) * detail
    if patterns and weight > 0.0:
        pat = _pattern(r)
        if pat.shape[-1] >= 3 and pat.shape[-2] >= 3:
            pat = _box(pat, 3)
        keep = ((pat - PATTERN_RAMP[0]) / (PATTERN_RAMP[1] - PATTERN_RAMP[0])).clamp(0.0, 1.0)
        strength = 1.0 - (1.0 - PATTERN_FLOOR) * keep * weight
        out = x + F.interpolate(strength, size=(h, w), mode="bilinear",
                                align_corners=False) * (out - x)
    if weight > 0.0:
        res = x - out
        chroma = res - _luma(res)
        out = out + weight * _smooth_up(_block_mean(chroma), (h, w))
    out = out.clamp_(0.0, 1.0)
    if stats is not None:
        stats.add(GuardStats(h * w, back.numel(), float(back.mean()),
                             time.perf_counter() - start, float(torch.sum((y - x) ** 2)),
                             float(torch.sum((out - x) ** 2))))
    return out
