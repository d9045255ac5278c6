"""Synthetic photo degradations for training the enhancer and labelling improvability.

Everything is vectorised over a batch in torch (per-sample parameters, batched ops, blur
kernels applied with one grouped ``conv2d``), except JPEG, which goes through Pillow per
image so the artefacts are those of a real encoder. Given the same seed, :func:`degrade`
returns exactly the same result.

Each sample gets a *mode* (probabilities in :class:`DegradeConfig`):

========  =====  ===========================================================================
mode      share  what happens
========  =====  ===========================================================================
clean     12 %   nothing: the model must learn to leave good photos alone
noise     30 %   noise only
jpeg      20 %   JPEG only
blur      13 %   blur only
mixed     25 %   each of blur, noise, JPEG with probability 1/2 (at least one), clipping 1/4
========  =====  ===========================================================================

Parameter ranges (values in [0, 1] image units unless said otherwise):

- **noise** (one of three kinds per sample):
  - Gaussian, i.i.d. per pixel and channel: sigma uniform in 1-55 /255 (50 % of noisy samples);
  - Poisson-Gaussian in a simple camera pipeline (25 %): image -> linear (gamma 2.2), per
    channel variance ``a*x + b`` with ``a`` log-uniform 1e-4-2e-2, ``b`` log-uniform
    1e-6-1e-3, red/blue noise x 1-2 (white-balance gains), then back to gamma 1/2.2;
  - luminance/chroma-correlated (25 %): in YCbCr, luma sigma uniform 1-25 /255, chroma sigma
    1-3x the luma one and spatially correlated (Gaussian-smoothed, sigma 0.5-1.5 px).
- **blur** (one kind per sample, kernel up to 21x21): defocus disk of radius 0.5-4 px
  (anti-aliased edge); Gaussian lens blur sigma 0.3-3 px; motion blur along a random
  smooth trajectory (random walk of the direction, 64 steps) of length 3-17 px.
- **JPEG**: Pillow at quality 10-95 (skewed to low quality: ``q = 10 + 85*u**1.5``) with
  4:2:0 (70 %) or 4:4:4 (30 %) chroma subsampling.
- **clipping**: exposure gain 1.1-2.0, then clipped at 1. This also changes the *target*
  (the lost highlights cannot be restored); the model learns not to add halos around them.

Order: clipping first; blur and noise in random order per batch (blur then noise, the
physical order, 70 % of the time); JPEG last (the storage step). Strengths (0-1) returned
per sample and factor: noise = measured noise std / (50/255); blur = kernel spatial std / 4
px; jpeg = (95 - q) / 85; clipping = 4 x the fraction of newly clipped values. All clamp to 1.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

FACTORS = ("noise", "blur", "jpeg", "clipping")
KERNEL = 21


@dataclass(frozen=True)
class DegradeConfig:
    """Probabilities of each sample mode and the parameter ranges (see module docstring)."""

    p_clean: float = 0.12
    p_noise: float = 0.30
    p_jpeg: float = 0.20
    p_blur: float = 0.13  # the rest (0.25) is "mixed"
    gauss_sigma: tuple[float, float] = (1 / 255, 55 / 255)
    disk_radius: tuple[float, float] = (0.5, 4.0)
    gauss_blur: tuple[float, float] = (0.3, 3.0)
    motion_length: tuple[float, float] = (3.0, 17.0)
    jpeg_q: tuple[int, int] = (10, 95)
    clip_gain: tuple[float, float] = (1.1, 2.0)


@dataclass
class Degraded:
    image: torch.Tensor  # degraded input, (N, 3, H, W) in [0, 1]
    target: torch.Tensor  # what the model should output (clean, or clean-and-clipped)
    strengths: torch.Tensor  # (N, 4): noise, blur, jpeg, clipping in [0, 1]


# ---------------------------------------------------------------- blur kernels


def _grid(k: int = KERNEL) -> tuple[torch.Tensor, torch.Tensor]:
    r = torch.arange(k, dtype=torch.float32) - k // 2
    return torch.meshgrid(r, r, indexing="ij")


def disk_kernels(radius: torch.Tensor, k: int = KERNEL) -> torch.Tensor:
    """Anti-aliased defocus disks, one per radius (px): (N, k, k), each summing to 1."""
    yy, xx = _grid(k)
    d = torch.sqrt(yy**2 + xx**2)[None]
    w = (radius[:, None, None] + 0.5 - d).clamp(0, 1)
    return w / w.sum(dim=(1, 2), keepdim=True)


def gaussian_kernels(sigma: torch.Tensor, k: int = KERNEL) -> torch.Tensor:
    yy, xx = _grid(k)
    w = torch.exp(-(yy**2 + xx**2)[None] / (2 * sigma[:, None, None] ** 2))
    return w / w.sum(dim=(1, 2), keepdim=True)


def motion_kernels(
    length: torch.Tensor, gen: torch.Generator, k: int = KERNEL, steps: int = 64
) -> torch.Tensor:
    """Random smooth camera-shake trajectories of the given lengths (px), splatted bilinearly."""
    n = length.shape[0]
    angle0 = torch.rand(n, 1, generator=gen) * 2 * math.pi
    turn = torch.randn(n, steps, generator=gen).mul(0.15).cumsum(1)
    ang = angle0 + turn
    step = torch.stack([torch.cos(ang), torch.sin(ang)], -1)  # (n, steps, 2)
    pos = step.cumsum(1)
    pos = pos - pos.mean(1, keepdim=True)
    extent = (pos.amax(1) - pos.amin(1)).norm(dim=-1).clamp_min(1e-6)  # (n,)
    pos = pos * (length / extent)[:, None, None] + k // 2
    pos = pos.clamp(0, k - 1.001)
    p0 = pos.floor()
    f = pos - p0
    p0 = p0.long()
    ker = torch.zeros(n, k * k)
    for dy in (0, 1):
        for dx in (0, 1):
            wy = f[..., 1] if dy else 1 - f[..., 1]
            wx = f[..., 0] if dx else 1 - f[..., 0]
            idx = (p0[..., 1] + dy).clamp(max=k - 1) * k + (p0[..., 0] + dx).clamp(max=k - 1)
            ker.scatter_add_(1, idx, wy * wx)
    ker = ker.view(n, k, k)
    return ker / ker.sum(dim=(1, 2), keepdim=True)


def kernel_std(ker: torch.Tensor) -> torch.Tensor:
    """Spatial standard deviation (px) of each kernel (N, k, k)."""
    yy, xx = _grid(ker.shape[-1])
    my = (ker * yy).sum((1, 2))
    mx = (ker * xx).sum((1, 2))
    var = (ker * ((yy - my[:, None, None]) ** 2 + (xx - mx[:, None, None]) ** 2)).sum((1, 2))
    return var.sqrt()


def apply_kernels(x: torch.Tensor, ker: torch.Tensor) -> torch.Tensor:
    """Blur each image of ``x`` (N, C, H, W) with its own kernel (N, k, k) (reflect padding)."""
    n, c, h, w = x.shape
    k = ker.shape[-1]
    weight = ker.flip(-1, -2)[:, None].repeat_interleave(c, 0)  # true convolution
    pad = k // 2
    mode = "reflect" if pad < h and pad < w else "replicate"
    xp = F.pad(x.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode=mode)
    return F.conv2d(xp, weight, groups=n * c).view(n, c, h, w)


# ---------------------------------------------------------------- noise

_RGB2YCC = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)


def _rand(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def _logrand(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return torch.exp(_rand(n, math.log(lo), math.log(hi), gen))


def gaussian_noise(x: torch.Tensor, sigma: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """i.i.d. Gaussian noise of per-sample std ``sigma`` (N,)."""
    return x + sigma.view(-1, 1, 1, 1) * torch.randn(x.shape, generator=gen)


def camera_noise(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Signal-dependent Poisson-Gaussian noise per channel, added in linear light."""
    n = x.shape[0]
    a = _logrand(n, 1e-4, 2e-2, gen).view(n, 1, 1, 1)
    b = _logrand(n, 1e-6, 1e-3, gen).view(n, 1, 1, 1)
    wb = torch.ones(n, 3, 1, 1)
    wb[:, 0, 0, 0] = _rand(n, 1.0, 2.0, gen)
    wb[:, 2, 0, 0] = _rand(n, 1.0, 2.0, gen)
    lin = x.clamp(0, 1) ** 2.2
    std = torch.sqrt(a * lin + b) * wb.sqrt()
    noisy = (lin + std * torch.randn(x.shape, generator=gen)).clamp_min(0)
    return noisy ** (1 / 2.2)


def correlated_noise(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Luma noise plus stronger, spatially smooth chroma noise (demosaic + NR look)."""
    n = x.shape[0]
    sy = _rand(n, 1 / 255, 25 / 255, gen)
    sc = sy * _rand(n, 1.0, 3.0, gen)
    smooth = gaussian_kernels(_rand(n, 0.5, 1.5, gen), k=7)
    ny = torch.randn(n, 1, *x.shape[-2:], generator=gen) * sy.view(n, 1, 1, 1)
    nc = apply_kernels(torch.randn(n, 2, *x.shape[-2:], generator=gen), smooth)
    nc = nc / nc.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6) * sc.view(n, 1, 1, 1)
    ycc_noise = torch.cat([ny, nc], 1)
    rgb_noise = torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB2YCC), ycc_noise)
    return x + rgb_noise


# ---------------------------------------------------------------- JPEG


def jpeg(x: torch.Tensor, quality: list[int], subsampling: list[int]) -> torch.Tensor:
    """Re-compress each image through Pillow (``subsampling`` 2 = 4:2:0, 0 = 4:4:4)."""
    out = torch.empty_like(x)
    arr = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i in range(x.shape[0]):
        buf = io.BytesIO()
        Image.fromarray(arr[i]).save(
            buf, "JPEG", quality=int(quality[i]), subsampling=int(subsampling[i])
        )
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert("RGB"))
        out[i] = torch.from_numpy(dec.copy()).permute(2, 0, 1).float() / 255
    return out


# ---------------------------------------------------------------- the pipeline


def _modes(n: int, cfg: DegradeConfig, gen: torch.Generator) -> torch.Tensor:
    """Per-sample on/off for (noise, blur, jpeg, clipping), shape (n, 4) bool."""
    u = torch.rand(n, generator=gen)
    edges = torch.tensor([cfg.p_clean, cfg.p_noise, cfg.p_jpeg, cfg.p_blur]).cumsum(0)
    mode = torch.bucketize(u, edges, right=True)  # 0 clean, 1 noise, 2 jpeg, 3 blur, 4 mixed
    on = torch.zeros(n, 4, dtype=torch.bool)
    on[:, 0] = mode == 1
    on[:, 2] = mode == 2
    on[:, 1] = mode == 3
    mixed = mode == 4
    pick = torch.rand(n, 4, generator=gen) < torch.tensor([0.5, 0.5, 0.5, 0.25])
    none = ~pick[:, :3].any(1)
    pick[none, torch.randint(0, 3, (n,), generator=gen)[none]] = True
    on[mixed] = pick[mixed]
    return on


def _blur(
    x: torch.Tensor, idx: torch.Tensor, cfg: DegradeConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    m = idx.numel()
    kind = torch.randint(0, 3, (m,), generator=gen)
    ker = torch.where(
        (kind == 0)[:, None, None],
        disk_kernels(_rand(m, *cfg.disk_radius, gen)),
        torch.where(
            (kind == 1)[:, None, None],
            gaussian_kernels(_rand(m, *cfg.gauss_blur, gen)),
            motion_kernels(_rand(m, *cfg.motion_length, gen), gen),
        ),
    )
    x = x.clone()
    x[idx] = apply_kernels(x[idx], ker)
    return x, (kernel_std(ker) / 4.0).clamp(0, 1)


def _noise(
    x: torch.Tensor, idx: torch.Tensor, cfg: DegradeConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    m = idx.numel()
    sub = x[idx]
    kind = torch.rand(m, generator=gen)
    g = gaussian_noise(sub, _rand(m, *cfg.gauss_sigma, gen), gen)
    c = camera_noise(sub, gen)
    r = correlated_noise(sub, gen)
    noisy = torch.where(
        (kind < 0.5).view(-1, 1, 1, 1), g, torch.where((kind < 0.75).view(-1, 1, 1, 1), c, r)
    ).clamp(0, 1)
    x = x.clone()
    x[idx] = noisy
    std = (noisy - sub).flatten(1).std(1)
    return x, (std / (50 / 255)).clamp(0, 1)


def degrade(clean: torch.Tensor, seed: int, cfg: DegradeConfig | None = None) -> Degraded:
    """Degrade a batch of clean images (N, 3, H, W) in [0, 1]; same seed, same result."""
    cfg = cfg or DegradeConfig()
    gen = torch.Generator().manual_seed(seed)
    n = clean.shape[0]
    on = _modes(n, cfg, gen)
    strengths = torch.zeros(n, 4)
    target = clean.float().clone()
    ci = on[:, 3].nonzero().flatten()
    if ci.numel():
        gain = _rand(ci.numel(), *cfg.clip_gain, gen).view(-1, 1, 1, 1)
        before = (target[ci] >= 1).float().mean((1, 2, 3))
        target[ci] = (target[ci] * gain).clamp(0, 1)
        after = (target[ci] >= 1).float().mean((1, 2, 3))
        strengths[ci, 3] = (4 * (after - before)).clamp(0, 1)
    x = target.clone()
    steps = [("blur", 1, _blur), ("noise", 0, _noise)]
    if torch.rand(1, generator=gen).item() < 0.3:
        steps.reverse()
    for _, col, fn in steps:
        idx = on[:, col].nonzero().flatten()
        if idx.numel():
            x, s = fn(x, idx, cfg, gen)
            strengths[idx, col] = s
    ji = on[:, 2].nonzero().flatten()
    if ji.numel():
        u = torch.rand(ji.numel(), generator=gen)
        lo, hi = cfg.jpeg_q
        q = (lo + (hi - lo) * u**1.5).round().int()
        sub = torch.where(torch.rand(ji.numel(), generator=gen) < 0.7, 2, 0)
        x[ji] = jpeg(x[ji], q.tolist(), sub.tolist())
        strengths[ji, 2] = ((hi - q.float()) / (hi - lo)).clamp(0, 1)
    # photos are stored as 8-bit: quantise like a real file would be
    x = (x.clamp(0, 1) * 255).round() / 255
    return Degraded(image=x, target=target, strengths=strengths)
