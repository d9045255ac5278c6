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

Its work is kept small, and what it decides is unchanged by any of it. On the CPU the
per-pixel work is three compiled loops over the tile (:mod:`.guard_kernels`, numba: about
3x less time than the torch operations); elsewhere (GPU tensors, or no numba) the torch
version below runs. Both compute the block statistics as means of products (correlations,
slopes and autocorrelations all come from these sums), and both skip work whose result
cannot matter: every check at weight 0, the detail pass where no block gives detail back,
the strength map where no block repeats. The torch version sums the nine per-pixel
products three at a time by reshaping, works in the tile's channels-last layout, computes
luma as one matrix product over eight pixels at a time and the 3-channel detail as one
depthwise convolution on the rows its map reaches, writes each bilinear map in one pass,
and keeps scratch buffers between tiles (fresh memory is slow to touch). The result may go
into the net's output tile. ``bench/guard_cost.py`` and ``bench/harm.py`` measure the
guard's time as a ratio to the rest of the enhancement; ``tests/ml/test_guard_fast.py``
checks both versions against the straightforward implementation and counts the work they
skip. ``docs/guard.md`` has the method, thresholds and cost.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

log = logging.getLogger(__name__)

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
    detail_rows: int = 0  # rows whose 3-channel detail was computed (its costliest work)

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
        self.detail_rows += other.detail_rows


class _Scratch(threading.local):
    """Buffers kept between calls, per thread: every tile writes into memory already mapped
    (on CPU, touching fresh memory costs about as much as a pass over it). Sized by the
    largest tile seen; a 1024 px tile keeps about 60 MB."""

    def __init__(self) -> None:
        self.bufs: dict[tuple[str, torch.device, bool], torch.Tensor] = {}
        self.device = torch.device("cpu")  # the current tile's, set by :func:`guard`

    def get(self, name: str, *shape: int) -> torch.Tensor:
        """An uninitialised contiguous buffer of ``shape`` on the current device. Buffers made
        under ``torch.inference_mode`` cannot be written outside it, so each mode has its own."""
        n = math.prod(shape)
        key = (name, self.device, torch.is_inference_mode_enabled())
        buf = self.bufs.get(key)
        if buf is None or buf.numel() < n:
            buf = self.bufs[key] = torch.empty(n, device=self.device)
        return buf[:n].view(*shape)


_SCRATCH = _Scratch()


def _hwc(t: torch.Tensor) -> torch.Tensor:
    """The (H, W, 3) view of a (1, 3, H, W) tensor: contiguous for channels_last tiles."""
    return t[0].permute(1, 2, 0)


@functools.lru_cache(maxsize=4)
def _luma_matrix(k: int, device: torch.device) -> torch.Tensor:
    """(3k, k): k pixels' RGB to their k lumas (a matrix product over k pixels at a time
    reads an RGB image once, and is several times faster than three strided passes)."""
    m = torch.zeros(3 * k, k)
    for i in range(k):
        m[3 * i : 3 * i + 3, i] = torch.tensor(_LUMA)
    return m.to(device)


def _luma(img: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Luma of a contiguous (..., 3) image into the contiguous ``out`` (...)."""
    k = math.gcd(out.numel(), 8)
    flat = torch.mm(img.reshape(-1, 3 * k), _luma_matrix(k, img.device), out=out.view(-1, k))
    return flat.view(out.shape)


def _smooth(m: np.ndarray) -> np.ndarray:
    """Block maps (C, hb, wb) smoothed over 3 x 3 cells, edges replicated (when they have
    that many cells). The block maps are small: numpy, not torch, whose per-operation
    overhead is larger than the work here."""
    if m.shape[-1] < 3 or m.shape[-2] < 3:
        return m
    p = np.concatenate((m[:, :, :1], m, m[:, :, -1:]), axis=2)  # np.pad is 10x slower here
    rows = p[:, :, :-2] + p[:, :, 1:-1] + p[:, :, 2:]
    rows = np.concatenate((rows[:, :1], rows, rows[:, -1:]), axis=1)
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / np.float32(9.0)


def _detail_plane(x: torch.Tensor, out: torch.Tensor) -> None:
    """``x - box5(x)`` of an (h, w) plane (edges replicated) into ``out``: shifted sums
    along rows, then columns, pairs first, in scratch buffers."""
    h, w = x.shape
    xp = _SCRATCH.get("pad", h + 4, w + 4)
    xp[2:-2, 2:-2] = x
    xp[2:-2, :2] = x[:, :1]
    xp[2:-2, -2:] = x[:, -1:]
    xp[:2] = xp[2:3]
    xp[-2:] = xp[-3:-2]
    s2 = torch.add(xp[:, : w + 3], xp[:, 1 : w + 4], out=_SCRATCH.get("s2", h + 4, w + 3))
    rows = torch.add(s2[:, :w], s2[:, 2 : w + 2], out=_SCRATCH.get("rows", h + 4, w))
    rows += xp[:, 4 : w + 4]
    s2 = torch.add(rows[: h + 3], rows[1 : h + 4], out=_SCRATCH.get("s2", h + 3, w))
    torch.add(s2[:h], s2[2 : h + 2], out=out)
    out.add_(rows[4 : h + 4]).mul_(-1.0 / DETAIL**2).add_(x)


@functools.lru_cache(maxsize=4)
def _detail_kernel(device: torch.device) -> torch.Tensor:
    """Depthwise 5 x 5 kernel of ``t - box5(t)`` for three channels."""
    k = torch.full((5, 5), -1.0 / DETAIL**2)
    k[2, 2] += 1.0
    return k.expand(3, 1, 5, 5).to(device).contiguous(memory_format=torch.channels_last)


def _detail(t: torch.Tensor) -> torch.Tensor:
    """``t - box5(t)`` of a (1, 3, H, W) channels_last tensor with its edges replicated:
    one depthwise oneDNN convolution padded with zeros, then the 2 px next to each edge
    again from thin replicate-padded strips."""
    k = _detail_kernel(t.device)
    out = F.conv2d(t, k, padding=2, groups=3)
    for axis in (2, 3):
        n = t.shape[axis]
        for a in (0, n - 4):  # outputs a..a+1 (top) or n-2..n-1 (bottom), 4 inputs
            strip = t.narrow(axis, a, min(4, n - a))
            lo, hi = (2, 0) if a == 0 else (0, 2)
            pad = (2, 2, lo, hi) if axis == 2 else (lo, hi, 2, 2)
            part = F.conv2d(F.pad(strip, pad, mode="replicate"), k, groups=3)
            keep = part.narrow(axis, 0 if a == 0 else part.shape[axis] - 2, 2)
            out.narrow(axis, 0 if a == 0 else n - 2, 2).copy_(keep)
    return out


@functools.lru_cache(maxsize=16)
def _interp_source(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index of a bilinear resize along one axis (as ``F.interpolate(...,
    mode="bilinear", align_corners=False)``): the two source cells it reads and the second
    one's weight (float64)."""
    scale = n_in / n_out
    src = ((np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5).clip(min=0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    return i0, np.minimum(i0 + 1, n_in - 1), src - i0


def _interp_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """(n_out, n_in) weights of a bilinear resize along one axis (:func:`_interp_source`)."""
    i0, i1, lam = _interp_source(n_in, n_out)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return torch.from_numpy(m).to(device=device, dtype=torch.float32)


@functools.lru_cache(maxsize=16)
def _interp_index(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_interp_source` with the weight in float32, as the compiled loops read it."""
    i0, i1, lam = _interp_source(n_in, n_out)
    return i0, i1, lam.astype(np.float32)


def _up(m: torch.Tensor, h: int, w: int, out: torch.Tensor) -> torch.Tensor:
    """A block map (hb, wb, C) resized bilinearly to ``out`` (h, w, C): a small matrix
    product along the columns, then along the rows one pass writing the output (each
    ``BLOCK`` rows between two block centres are a straight line between two rows)."""
    hb, wb, c = m.shape
    cols = torch.einsum("ijc,wj->iwc", m, _interp_matrix(wb, w, m.device)).reshape(hb, w * c)
    flat = out.view(h, w * c)
    if h != hb * BLOCK or hb < 2:  # a partial last block: the general product
        return torch.mm(_interp_matrix(hb, h, m.device), cols, out=flat).view(h, w, c)
    half = BLOCK // 2
    flat[:half] = cols[0]
    flat[h - half :] = cols[-1]
    lam = (torch.arange(BLOCK, dtype=torch.float32, device=m.device) + 0.5) / BLOCK
    mid = flat[half : h - half].view(hb - 1, BLOCK, w * c)
    torch.addcmul(cols[:-1, None], lam[None, :, None], (cols[1:] - cols[:-1])[:, None], out=mid)
    return out


def _rows_of(m: np.ndarray, h: int) -> tuple[int, int]:
    """The rows [a, b) outside which a block map (hb, wb), resized bilinearly to h rows, is
    0: a row reads the two nearest block rows (half a block from the centres)."""
    hb = m.shape[0]
    on = np.flatnonzero(m.max(1) > 0)
    scale = h / hb  # block k is read by rows i with (k - 0.5) s - 0.5 < i < (k + 1.5) s - 0.5
    a = math.floor((int(on[0]) - 0.5) * scale - 0.5)
    b = math.ceil((int(on[-1]) + 1.5) * scale - 0.5) + 1
    return max(a, 0), min(b, h)


def weight_for_noise(sigma: float | None) -> float:
    """The weight of the detail and pattern checks for a photo whose luma noise measures
    ``sigma`` (None: not measured, full weight)."""
    if sigma is None:
        return 1.0
    lo, hi = NOISE_FADE
    return float(min(max((hi - sigma) / (hi - lo), 0.0), 1.0))


class _Grid:
    """The ``BLOCK`` x ``BLOCK`` cells of an h x w tile (a last partial cell included, as
    ``avg_pool2d(..., ceil_mode=True)``)."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.hb, self.wb = -(-h // BLOCK), -(-w // BLOCK)
        self.hp, self.wp = self.hb * BLOCK, self.wb * BLOCK  # padded to whole cells
        ch = torch.full((self.hb, 1), float(BLOCK), device=_SCRATCH.device)
        cw = torch.full((1, self.wb), float(BLOCK), device=_SCRATCH.device)
        ch[-1] = h - (self.hb - 1) * BLOCK
        cw[0, -1] = w - (self.wb - 1) * BLOCK
        self.count = ch * cw  # pixels of each cell in the tile

    def plane_means(self, t: torch.Tensor) -> torch.Tensor:
        """(n, hb, wb) cell means of (n, hp, wp) planes, zero outside the tile."""
        n = t.shape[0]  # whole rows of cells first, then their columns
        rows = t.view(n, self.hb, BLOCK, self.wp).sum(2)
        return rows.view(n, self.hb, self.wb, BLOCK).sum(3) / self.count

    def image_means(self, t: torch.Tensor) -> torch.Tensor:
        """(hb, wb, C) cell means of an (>= hp, W, C) image, zero outside the tile."""
        c, width = t.shape[-1], t.shape[1]
        rows = t[: self.hp].reshape(self.hb, BLOCK, width * c).sum(1)[:, : self.wp * c]
        return rows.reshape(self.hb, self.wb, BLOCK, c).sum(2) / self.count[..., None]

    def padded(self, name: str, rows: int, cols: int, *rest: int) -> torch.Tensor:
        """A scratch buffer (rows, cols, ...), zero outside the tile's (h, w)."""
        buf = _SCRATCH.get(name, rows, cols, *rest)
        buf[self.h :].zero_()
        buf[:, self.w :].zero_()
        return buf


def _statistics(e_pad: torch.Tensor, y: torch.Tensor, grid: _Grid, lags: tuple) -> torch.Tensor:
    """Block means (1, 3 + len(lags), hb, wb): ``E[r h]``, ``E[h^2]``, ``E[r^2]`` and
    ``E[r r']`` at each lag, with ``r`` the luma of the residual in ``e_pad`` (zero outside
    the tile, two spare rows and eight columns) and ``h`` the luma detail of ``y``."""
    h, w, hp, wp = grid.h, grid.w, grid.hp, grid.wp
    r_pad = _luma(e_pad, _SCRATCH.get("r", *e_pad.shape[:2]))  # zero outside the tile too
    ly = _luma(_hwc(y), _SCRATCH.get("ly", h, w))
    hy = grid.padded("hy", hp, wp)
    _detail_plane(ly, hy[:h, :w])
    ra = r_pad[:hp, :wp]
    pairs = [(ra, hy), (hy, hy), (ra, ra)]
    for dy, dx in lags:  # r[i + dy, j + max(dx, 0)] * r[i, j + max(-dx, 0)]
        pairs.append((r_pad[dy : dy + hp, max(dx, 0) : max(dx, 0) + wp],
                      r_pad[:hp, max(-dx, 0) : max(-dx, 0) + wp]))
    prods = _SCRATCH.get("prods", 3, hp, wp)  # three at a time, summed while in cache
    means = []
    for k in range(0, len(pairs), 3):
        group = pairs[k : k + 3]
        for i, (a, b) in enumerate(group):
            torch.mul(a, b, out=prods[i])
        means.append(grid.plane_means(prods[: len(group)]))
    return torch.cat(means)[None]


def _maps(m: np.ndarray, weight: float, patterns: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """From the block statistics (n, hb, wb): the detail to give back, ``w * beta``
    (hb, wb), and the strength (None where no block repeats: 1 everywhere)."""
    s_rh, s_hh, s_rr = _smooth(m[:3])
    eps = np.float32(1e-10)
    rho = s_rh / np.sqrt(s_rr * s_hh + eps)
    beta = np.clip(s_rh / (s_hh + eps), 0.0, BETA_MAX)
    back = np.clip((rho - RHO_RAMP[0]) / (RHO_RAMP[1] - RHO_RAMP[0]), 0.0, 1.0) * beta * weight
    if not patterns:
        return back, None
    best = np.abs(m[3:]).max(0, keepdims=True)
    pat = _smooth(best / (m[2:3] + eps))[0]
    keep = np.clip((pat - PATTERN_RAMP[0]) / (PATTERN_RAMP[1] - PATTERN_RAMP[0]), 0.0, 1.0)
    if float(keep.max()) <= 0.0:
        return back, None
    return back, 1.0 - (1.0 - PATTERN_FLOOR) * keep * weight


def _correct(x: torch.Tensor, y: torch.Tensor, e_pad: torch.Tensor, grid: _Grid,
             patterns: bool, weight: float, overwrite: bool
             ) -> tuple[torch.Tensor, float, int]:
    """The guarded output (h, w, 3), not clamped (in ``y`` when ``overwrite``), the mean
    detail given back and the rows whose detail was computed. ``e_pad`` holds the residual
    ``x - y`` and is left holding ``x - output``."""
    h, w = grid.h, grid.w
    e = e_pad[:h, :w]
    back_np, strength_np = _maps(
        _statistics(e_pad, y, grid, _LAGS if patterns else ())[0].cpu().numpy(), weight,
        patterns)
    back_mean = float(back_np.mean())
    back = torch.from_numpy(back_np).to(x.device)
    strength = None if strength_np is None else torch.from_numpy(strength_np).to(x.device)
    three = _SCRATCH.get("map", h, w, 3)
    detail_rows = 0
    if back_mean > 0.0:  # back >= 0: some block gives detail back
        a, b = _rows_of(back_np, h)  # the rows where the map is not 0
        band = _up(back[..., None].expand(-1, -1, 3), h, w, three)[a:b]
        lo, hi = max(a - 2, 0), min(b + 2, h)  # and the detail's context
        detail = _hwc(_detail(y[:, :, lo:hi]))[a - lo : b - lo]
        detail_rows = b - a
        e[a:b].addcmul_(band, detail, value=-1.0)
    if strength is not None:
        e.mul_(_up(strength[..., None].expand(-1, -1, 3), h, w, three))
    res = grid.image_means(e_pad)  # block means of x - output
    colour = torch.from_numpy(_colour(res.cpu().numpy(), weight)).to(x.device)
    e.sub_(_up(colour, h, w, three))  # the colour given back
    out = torch.sub(_hwc(x), e, out=_hwc(y)) if overwrite else torch.sub(_hwc(x), e)
    return out, back_mean, detail_rows


def _colour(res: np.ndarray, weight: float) -> np.ndarray:
    """The colour to give back (hb, wb, 3): the chroma of the block means ``res`` (hb, wb,
    3) of the corrected residual, smoothed over 3 x 3 blocks, times ``weight``."""
    chroma = res - (res @ np.array(_LUMA, np.float32))[..., None]
    smooth = _smooth(np.ascontiguousarray(chroma.transpose(2, 0, 1)))
    return np.ascontiguousarray(smooth.transpose(1, 2, 0) * np.float32(weight))


def _load_kernels() -> ModuleType | None:
    """:mod:`.guard_kernels`, or None where numba cannot be imported (the torch guard
    then runs: the same decisions, about three times the time)."""
    try:
        from photoenhance.core.ml import guard_kernels
    except ImportError as exc:  # numba missing or broken on this platform
        log.warning("Guard: compiled kernels unavailable (%s); using the torch version", exc)
        return None
    assert guard_kernels.BLOCK == BLOCK
    return guard_kernels


#: The compiled per-pixel loops for CPU tiles (None: the torch version everywhere).
_KERNELS = _load_kernels()


def _expand(m: np.ndarray, ix: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """A block map (hb, wb, 1 or 3) resized along the columns, as (hb, 3 w) interleaved
    values (:func:`.guard_kernels.expand`)."""
    assert _KERNELS is not None
    out = np.empty((m.shape[0], 3 * ix[0].shape[0]), np.float32)
    _KERNELS.expand(np.ascontiguousarray(m, dtype=np.float32), *ix, out)
    return out


@functools.cache
def warm() -> None:
    """Compile the CPU guard's loops now (about 5 s the first time; then numba loads them
    from its disk cache in about 0.2 s), so that the first photo enhanced does not wait
    for it. Runs each loop once on a blank 32 px tile, with the argument types of
    :func:`_fused` (one compiled version each)."""
    if _KERNELS is None:
        return
    k = _KERNELS
    h = w = 2 * BLOCK
    xf = np.zeros((h, 3 * w), np.float32)
    sums, esum = np.zeros((2, 2, 9)), np.zeros((2, 2, 3))
    k.stats_rows(xf, xf, h, w, 0, 2, True, sums, esum)
    iy, ix = _interp_index(2, h), _interp_index(2, w)
    one = _expand(np.zeros((2, 2, 1), np.float32), ix)
    colour = _expand(np.zeros((2, 2, 3), np.float32), ix)
    k.correct_rows(xf, xf, h, w, 0, 2, one, (0, h), one, True, True, *iy, xf.copy(), esum)
    k.write_rows(xf, xf.copy(), h, w, 0, 2, xf, True, one, True, colour, *iy)


def _statistics_fused(xf: np.ndarray, yf: np.ndarray, grid: _Grid, count: np.ndarray,
                      patterns: bool, threads: int) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`_statistics` by the compiled loops: block means (3 or 9, hb, wb), the
    block sums of ``x - y`` (hb, wb, 3) and the sum of its squares (``count``: the pixels
    of each block, (hb, wb, 1))."""
    assert _KERNELS is not None
    sums = np.zeros((grid.hb, grid.wb, 9))
    esum = np.zeros((grid.hb, grid.wb, 3))
    removed = _KERNELS.parallel(_KERNELS.stats_rows, grid.hb, threads, xf, yf, grid.h,
                                grid.w, patterns, sums, esum)
    means = (sums[..., : 9 if patterns else 3] / count).astype(np.float32)
    return np.ascontiguousarray(means.transpose(2, 0, 1)), esum, removed


def _fused(x: torch.Tensor, y: torch.Tensor, grid: _Grid, patterns: bool, weight: float,
           overwrite: bool) -> tuple[torch.Tensor, float, float, float, int]:
    """The guard of a CPU tile by :mod:`.guard_kernels`: the output (1, 3, h, w)
    channels_last (in ``y`` when ``overwrite``), removed, kept, the mean detail given back
    and the rows whose detail was computed."""
    assert _KERNELS is not None
    k = _KERNELS
    h, w = grid.h, grid.w
    threads = torch.get_num_threads()
    xf = _hwc(x).detach().numpy().reshape(h, 3 * w)
    yf = _hwc(y).detach().numpy().reshape(h, 3 * w)
    count = grid.count.numpy().astype(np.float64)[..., None]
    means, esum, removed = _statistics_fused(xf, yf, grid, count, patterns, threads)
    back, strength = _maps(means, weight, patterns)
    back_mean = float(back.mean())
    iy, ix = _interp_index(grid.hb, h), _interp_index(grid.wb, w)
    none = np.zeros((1, 3 * w), np.float32)
    s_map = none if strength is None else _expand(strength[..., None], ix)
    rows, detail_rows = (0, 0), 0
    ef = np.zeros((1, 1), np.float32)
    if back_mean > 0.0 or strength is not None:  # the residual changes: its new block sums
        b_map = none
        if back_mean > 0.0:
            rows = _rows_of(back, h)
            ef = _SCRATCH.get("ef", h, 3 * w).numpy()
            b_map = _expand(back[..., None], ix)
        esum = np.zeros_like(esum)
        detail_rows = int(k.parallel(
            k.correct_rows, grid.hb, threads, xf, yf, h, w, b_map, rows, s_map,
            back_mean > 0.0, strength is not None, *iy, ef, esum))
    colour = _expand(_colour((esum / count).astype(np.float32), weight), ix)
    out = y if overwrite else y.clone(memory_format=torch.channels_last)
    of = _hwc(out).detach().numpy().reshape(h, 3 * w)
    kept = k.parallel(k.write_rows, grid.hb, threads, xf, of, h, w, ef, back_mean > 0.0,
                      s_map, strength is not None and back_mean <= 0.0, colour, *iy)
    return out, removed, kept, back_mean, detail_rows


def guard(x: torch.Tensor, y: torch.Tensor, stats: GuardStats | None = None,
          patterns: bool = True, weight: float = 1.0, overwrite: bool = False) -> torch.Tensor:
    """The net's output ``y`` for input ``x`` (both (1, 3, H, W) float in [0, 1]) with the
    detail it ate and the colour it shifted given back (see the module docstring).

    ``patterns``: also lower the strength where the residual repeats (for denoising; a
    JPEG or blur correction is structured by nature: the 8 x 8 grid, the edges).
    ``weight``: of the detail, pattern and colour checks (:func:`weight_for_noise`).
    ``overwrite``: the result may be written into ``y`` (a float32 channels_last ``y`` then
    holds it; saves a fresh tile of memory, which is slow to touch on CPU).

    Returned in ``y``'s memory format. Work whose result cannot matter is skipped (every
    check at weight 0, the detail where no block gives any back, the strength where no
    block repeats, everything where the net changed nothing). On the CPU the per-pixel
    work runs in :mod:`.guard_kernels` where numba is available."""
    if x.shape[-1] < 2 * DETAIL or x.shape[-2] < 2 * DETAIL:
        return y
    start = time.perf_counter()
    fmt = _format(y)
    y_in = y
    x = x.float().contiguous(memory_format=torch.channels_last)
    y = y.float().contiguous(memory_format=torch.channels_last)
    _SCRATCH.device = x.device
    grid = _Grid(*x.shape[-2:])
    detail_rows, back_mean = 0, 0.0
    if _KERNELS is not None and x.device.type == "cpu" and weight > 0.0:
        own = overwrite or y.data_ptr() != y_in.data_ptr()  # y is ours to write
        final, removed, kept, back_mean, detail_rows = _fused(x, y, grid, patterns, weight,
                                                              own)
    else:
        e_pad = grid.padded("e", grid.hp + 2, grid.wp + 8, 3)  # x - output, zero outside
        e = e_pad[: grid.h, : grid.w]
        torch.sub(_hwc(x), _hwc(y), out=e)
        removed = _dot(e_pad)
        kept = removed
        if weight > 0.0 and removed > 0.0:
            out, back_mean, detail_rows = _correct(x, y, e_pad, grid, patterns, weight,
                                                   overwrite)
            out.clamp_(0.0, 1.0)
            torch.sub(_hwc(x), out, out=e)
            kept = _dot(e_pad)
            final = out.permute(2, 0, 1)[None]
        else:
            final = y.clamp_(0.0, 1.0) if overwrite else y.clamp(0.0, 1.0)
            if stats is not None:
                torch.sub(_hwc(final), _hwc(x), out=e)
                kept = _dot(e_pad)
    if stats is not None:
        stats.add(GuardStats(grid.h * grid.w, grid.hb * grid.wb, back_mean,
                             time.perf_counter() - start, removed, kept, detail_rows))
    return final.contiguous(memory_format=fmt)


def _dot(buf: torch.Tensor) -> float:
    """Sum of the squares of a contiguous buffer."""
    flat = buf.view(-1)
    return float(torch.dot(flat, flat))


def _format(t: torch.Tensor) -> torch.memory_format:
    cl = t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()
    return torch.channels_last if cl else torch.contiguous_format
