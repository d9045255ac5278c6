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
so the guarded photo has no seams.

Its work is kept small: the nine per-pixel products (residual x detail, detail^2, residual^2
and the six lags) go into one buffer padded to whole blocks and are summed by reshaping (the
block statistics are means of products, so correlations, slopes and autocorrelations all come
from these sums); the box blur is shifted sums; luma is taken once per plane; the bilinear
maps are two small matrix products; all in float32. Work whose result cannot matter is
skipped: every check at weight 0, the detail pass where no block gives detail back, the
strength map where no block repeats. ``bench/guard_cost.py`` and ``bench/harm.py`` measure
its time as a ratio to the rest of the enhancement; ``tests/ml/test_guard_fast.py`` checks it
against the straightforward implementation.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

#: Side of the guard's statistics blocks (pixels of the tile).
BLOCK = 16
#: Side of the box blur whose difference is "the detail the output still shows".
DETAIL = 5  # the size :func:`_box5` computes
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
    """Luma (1, 1, H, W) of an RGB (1, 3, H, W) tensor."""
    a, b, c = _LUMA
    return (x[:, 0:1] * a).add_(x[:, 1:2], alpha=b).add_(x[:, 2:3], alpha=c)


def _box(x: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` x ``k`` box blur of a small map, same size (edges replicated)."""
    p = k // 2
    return F.avg_pool2d(F.pad(x, (p, p, p, p), mode="replicate"), k, stride=1)


def _box5(x: torch.Tensor) -> torch.Tensor:
    """5 x 5 :func:`_box` for full-resolution planes: sums of shifted rows, then of
    shifted columns, pairs first (a few times faster on CPU than a pooling window)."""
    h, w = x.shape[-2:]
    xp = F.pad(x, (2, 2, 2, 2), mode="replicate")
    s2 = xp[..., :, : w + 3] + xp[..., :, 1 : w + 4]  # x[j] + x[j + 1]
    rows = s2[..., :, :w] + s2[..., :, 2 : w + 2]  # four in a row
    rows += xp[..., :, 4 : w + 4]
    s2 = rows[..., : h + 3, :] + rows[..., 1 : h + 4, :]
    out = s2[..., :h, :] + s2[..., 2 : h + 2, :]
    out += rows[..., 4 : h + 4, :]
    return out.div_(25.0)


def _sum_squares(t: torch.Tensor) -> float:
    """Sum of the squares of a dense tensor (contiguous in any order): one pass."""
    flat = t.permute(0, 2, 3, 1) if t.dim() == 4 and not t.is_contiguous() else t
    flat = flat.reshape(-1)
    return float(torch.dot(flat, flat))


def _padded(h: int, w: int, hp: int, wp: int, device: torch.device) -> torch.Tensor:
    """An (hp, wp) plane to write an (h, w) one into, zero around it."""
    buf = torch.empty(hp, wp, device=device)
    buf[h:].zero_()
    buf[:, w:].zero_()
    return buf


class _Blocks:
    """Means over the ``BLOCK`` x ``BLOCK`` cells of an H x W tile (a last partial cell
    included, as ``avg_pool2d(..., ceil_mode=True)``): planes padded with zeros to whole
    cells are summed by reshaping and divided by the cell sizes."""

    def __init__(self, h: int, w: int, like: torch.Tensor) -> None:
        self.h, self.w = h, w
        self.hb, self.wb = -(-h // BLOCK), -(-w // BLOCK)
        ch = torch.full((self.hb, 1), float(BLOCK), device=like.device)
        cw = torch.full((1, self.wb), float(BLOCK), device=like.device)
        ch[-1] = h - (self.hb - 1) * BLOCK
        cw[0, -1] = w - (self.wb - 1) * BLOCK
        self.count = ch * cw
        self.like = like

    def buffer(self, n: int) -> torch.Tensor:
        """(n, H', W') planes, H' and W' whole cells, zero outside the tile; write the tile
        into ``[:, :H, :W]``."""
        buf = torch.empty(n, self.hb * BLOCK, self.wb * BLOCK, dtype=torch.float32,
                          device=self.like.device)
        buf[:, self.h :].zero_()
        buf[:, :, self.w :].zero_()
        return buf

    def means(self, buf: torch.Tensor) -> torch.Tensor:
        """(n, hb, wb) cell means of a :meth:`buffer`."""
        n = buf.shape[0]  # rows of a cell first (whole rows added), then its columns
        rows = buf.view(n, self.hb, BLOCK, self.wb * BLOCK).sum(2)
        return rows.view(n, self.hb, self.wb, BLOCK).sum(3) / self.count


def _smooth(m: torch.Tensor) -> torch.Tensor:
    """A block map (1, C, hb, wb) smoothed over 3 x 3 cells (when it has that many)."""
    return _box(m, 3) if m.shape[-1] >= 3 and m.shape[-2] >= 3 else m


@functools.lru_cache(maxsize=16)
def _interp_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """(n_out, n_in) weights of a bilinear resize along one axis, as
    ``F.interpolate(..., mode="bilinear", align_corners=False)`` computes them."""
    scale = n_in / n_out
    src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * scale - 0.5).clamp(min=0.0)
    i0 = src.floor().long().clamp(max=n_in - 1)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    lam = src - i0
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    rows = torch.arange(n_out)
    m.index_put_((rows, i0), 1.0 - lam, accumulate=True)
    m.index_put_((rows, i1), lam, accumulate=True)
    return m.to(device=device, dtype=torch.float32)


def _up(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A block map (1, C, hb, wb) resized bilinearly to ``size``: two small matrix products
    (several times faster on CPU than ``F.interpolate`` at these factors)."""
    ah = _interp_matrix(m.shape[-2], size[0], m.device)
    aw = _interp_matrix(m.shape[-1], size[1], m.device)
    return torch.matmul(ah, torch.matmul(m, aw.T))


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
    ``weight``: of the detail, pattern and colour checks (:func:`weight_for_noise`).

    Returned in ``y``'s memory format. The statistics are block means of per-pixel products,
    in float32; work whose result cannot matter is skipped (every check at weight 0, the
    detail where no block gives any back, the strength where no block repeats, everything
    where the net changed nothing)."""
    if x.shape[-1] < 2 * DETAIL or x.shape[-2] < 2 * DETAIL:
        return y
    start = time.perf_counter()
    x_in, y_in = x.float(), y.float()
    h, w = x.shape[-2:]
    blocks = _Blocks(h, w, x_in)
    x, y = x_in.contiguous(), y_in.contiguous()  # planes: every pass below reads them so
    d_buf = blocks.buffer(3)  # the residual x - y, padded to whole blocks
    torch.sub(x[0], y[0], out=d_buf[:, :h, :w])
    removed = _sum_squares(d_buf)  # zero outside the tile
    back_mean = 0.0
    out = y_in
    if weight > 0.0 and removed > 0.0:
        hp, wp = blocks.hb * BLOCK, blocks.wb * BLOCK
        # the luma residual, zero outside the tile (two spare rows and columns for the lags)
        r_pad = _padded(h, w, hp + 2, wp + 2, x.device)
        r = r_pad[:h, :w]
        lw = _LUMA
        torch.mul(d_buf[0, :h, :w], lw[0], out=r)
        r.add_(d_buf[1, :h, :w], alpha=lw[1]).add_(d_buf[2, :h, :w], alpha=lw[2])
        ly = _luma(y)
        hy_pad = _padded(h, w, hp, wp, x.device)  # the luma of the detail left
        torch.sub(ly[0, 0], _box5(ly)[0, 0], out=hy_pad[:h, :w])
        lags = _LAGS if patterns else ()
        # the products, three planes at a time in one scratch buffer (the size of the others,
        # so the allocator reuses it: fresh memory is costly to touch)
        rp = r_pad[:hp, :wp]
        pairs = [(rp, hy_pad), (hy_pad, hy_pad), (rp, rp)]
        for dy, dx in lags:  # r[i + dy, j + max(dx, 0)] * r[i, j + max(-dx, 0)]
            pairs.append((r_pad[dy : dy + hp, max(dx, 0) : max(dx, 0) + wp],
                          r_pad[:hp, max(-dx, 0) : max(-dx, 0) + wp]))
        scratch = torch.empty(3, hp, wp, device=x.device)
        parts = []
        for k in range(0, len(pairs), 3):
            group = pairs[k : k + 3]
            for i, (a, b) in enumerate(group):
                torch.mul(a, b, out=scratch[i])
            parts.append(blocks.means(scratch[: len(group)]))
        del scratch
        m = torch.cat(parts)[None]
        s_rh, s_hh, s_rr = _smooth(m[:, 0:1]), _smooth(m[:, 1:2]), _smooth(m[:, 2:3])
        eps = 1e-10
        rho = s_rh / torch.sqrt(s_rr * s_hh + eps)
        beta = (s_rh / (s_hh + eps)).clamp(0.0, BETA_MAX)
        ramp = ((rho - RHO_RAMP[0]) / (RHO_RAMP[1] - RHO_RAMP[0])).clamp(0.0, 1.0)
        back = ramp * beta * weight
        back_mean = float(back.mean())
        res_buf: torch.Tensor | None = d_buf  # x - out, padded (out is y until changed)
        if back_mean > 0.0:  # back >= 0: some block gives detail back
            detail = y - _box5(y)
            out = torch.addcmul(y, _up(back, (h, w)), detail)
            res_buf = None
        if lags:
            best = m[:, 3:].abs().amax(1, keepdim=True)
            pat = _smooth(best / (m[:, 2:3] + 1e-10))
            keep = ((pat - PATTERN_RAMP[0]) / (PATTERN_RAMP[1] - PATTERN_RAMP[0])).clamp(0.0, 1.0)
            if float(keep.amax()) > 0.0:
                strength = 1.0 - (1.0 - PATTERN_FLOOR) * keep * weight
                out = torch.addcmul(x, _up(strength, (h, w)), out - x)
                res_buf = None
        if res_buf is None:
            res_buf = blocks.buffer(3)
            torch.sub(x[0], out[0], out=res_buf[:, :h, :w])
        res = blocks.means(res_buf)[None]  # block means of x - out
        chroma = res - _luma(res)
        out = torch.add(out, _up(_smooth(chroma), (h, w)), alpha=weight)
    final = torch.empty_like(y_in)  # y's memory format, for the caller
    torch.clamp(out, 0.0, 1.0, out=final)
    if stats is not None:
        kept = _sum_squares(final - x_in)
        stats.add(GuardStats(h * w, blocks.hb * blocks.wb, back_mean,
                             time.perf_counter() - start, removed, kept))
    return final
