"""Degradation model v2: what a camera and the web do to a photo, in the order they do it.

Every stage is a batched tensor operation on the images' device (GPU at training speed, CPU in
tests), with per-sample parameters drawn from one seeded ``torch.Generator``; the same
generator state gives the same batch. Clean sRGB images are first *unprocessed* to scene-linear
light (Brooks et al. 2019, "Unprocessing images for learned raw denoising": invert the tone
curve and the gamma, then the colour matrix and the white-balance and exposure gains), then
degraded forward:

1. **Scene-linear optics** (``p_blur`` of samples): a defocus disk (radius 0.5-3 px), camera
   shake (:func:`shake_kernels`: a random trajectory with drift, momentum and jerks, 5-13 px
   across) or lens softness (Gaussian sigma 0.4-1.5 px), in linear light.
2. **Sensor**: a Bayer mosaic (RGGB, BGGR, GRBG or GBRG), then (``p_noise``) signal-dependent
   shot noise plus read noise, variance ``shot * x + read`` in raw units (heteroscedastic
   Gaussian, Foi et al. 2008). The ISO is log-uniform over 100-12800; the shot level is
   proportional to it (``SHOT_AT_ISO100 * ISO / 100``, 1e-4 to 1.2e-2, Brooks's range) and
   the read level follows it as in Brooks's fit of real camera noise profiles:
   ``log(read) = 2.18 log(shot) + 1.2 + N(0, 0.26)``. Optional row noise (``p_row``): a
   per-row offset of 0.2-1x the read noise's std. Raw values clip at 1 and are quantised to
   12 bits.
3. **ISP**: demosaicing (bilinear, Malvar-He-Cutler 2004, or Hamilton-Adams: edge-directed
   green with a second-order correction, then colour differences), white balance and
   exposure gains, the colour matrix (camera RGB to sRGB), sRGB gamma and a tone curve, and
   (``p_sharpen``) the camera's unsharp mask (amount 0.3-1.5, sigma 0.7-2 px), which makes
   halos. The ISP undoes the unprocessing exactly, so with no fault the output equals the
   input up to demosaicing error.
4. **Encoding**: 8-bit, then (``p_camera_jpeg``) a camera JPEG at q 75-98 with 4:2:0 or
   4:2:2 chroma; then (``p_web``) web re-encoding: an anti-aliased downscale to 0.5-1x, a
   JPEG at q 20-85 through one of :data:`photoenhance.train.jpegsim.TABLES` (IJG, linear
   scaling, luma-for-chroma, flat) with 4:2:0, 4:2:2 or 4:4:4 chroma, one or two rounds
   (double compression), and a bicubic upscale back to the input size (as in Real-ESRGAN,
   Wang et al. 2021: the target keeps its size and stays the clean image).

``p_clean`` of samples bypass everything, so the net learns to leave good photos alone.
:func:`degrade_batch` runs the whole chain; each stage is also a function of its own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F  # noqa: N812

from photoenhance.train import degrade as deg
from photoenhance.train import jpegsim

SHOT_AT_ISO100 = 1.2e-2 / 128
READ_SLOPE, READ_OFFSET, READ_JITTER = 2.18, 1.20, 0.26
PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
DEMOSAIC = ("bilinear", "malvar", "hamilton-adams")
BLUR_KINDS = ("none", "defocus", "shake", "lens")
KERNEL = 15


@dataclass(frozen=True)
class CameraConfig:
    """Probabilities and ranges of :func:`degrade_batch` (see the module docstring)."""

    p_clean: float = 0.08
    p_blur: float = 0.35
    blur_shares: tuple[float, float, float] = (0.35, 0.4, 0.25)  # defocus, shake, lens
    defocus_radius: tuple[float, float] = (0.5, 3.0)
    shake_extent: tuple[float, float] = (5.0, 13.0)
    lens_sigma: tuple[float, float] = (0.4, 1.5)
    p_noise: float = 0.85
    iso: tuple[float, float] = (100.0, 12800.0)
    p_row: float = 0.2
    p_sharpen: float = 0.4
    sharpen_amount: tuple[float, float] = (0.3, 1.5)
    sharpen_sigma: tuple[float, float] = (0.7, 2.0)
    p_camera_jpeg: float = 0.7
    camera_q: tuple[int, int] = (75, 98)
    p_web: float = 0.35
    web_scale: tuple[float, float] = (0.5, 1.0)
    web_q: tuple[int, int] = (20, 85)
    p_double_web: float = 0.3


@dataclass
class Params:
    """What :func:`degrade_batch` drew for each sample (tensors of length N, on the CPU)."""

    clean: torch.Tensor  # bool: left untouched
    blur_kind: torch.Tensor  # index into BLUR_KINDS
    blur_size: torch.Tensor  # disk radius, shake extent or Gaussian sigma, px
    blur_std: torch.Tensor  # the kernel's spatial std, px
    pattern: torch.Tensor  # index into PATTERNS
    iso: torch.Tensor  # 0 where no noise was added
    shot: torch.Tensor
    read: torch.Tensor
    row: torch.Tensor  # row-noise std as a fraction of the read noise's std
    demosaic: torch.Tensor  # index into DEMOSAIC
    wb: torch.Tensor  # (N, 3) gains applied by the ISP
    sharpen: torch.Tensor  # unsharp-mask amount, 0 for none
    camera_q: torch.Tensor  # 0 for no camera JPEG
    camera_sub: torch.Tensor
    web_q: torch.Tensor  # (N, 2): the web rounds' qualities, 0 for none
    web_family: torch.Tensor  # index into jpegsim.TABLES
    web_scale: float  # this batch's web downscale (1.0: none)
    noise_std: torch.Tensor  # std of what the sensor noise left in the 8-bit output
    extra: dict[str, object] = field(default_factory=dict)

    def strengths(self) -> torch.Tensor:
        """(N, 4) noise, blur, jpeg, clipping in [0, 1], as ``train.degrade`` reports them
        (noise std / (50/255); kernel std / 4 px; (95 - q) / 85 of the worst JPEG)."""
        n = self.iso.shape[0]
        q = torch.stack([self.camera_q, *self.web_q.T], 1).float()
        worst = torch.where(q > 0, q, torch.full_like(q, 95.0)).amin(1)
        out = torch.zeros(n, 4)
        out[:, 0] = (self.noise_std / (50 / 255)).clamp(0, 1)
        out[:, 1] = (self.blur_std / 4.0).clamp(0, 1)
        out[:, 2] = ((95 - worst) / 85).clamp(0, 1)
        return out

    def summary(self) -> dict[str, object]:
        return {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in asdict(self).items()}


# ------------------------------------------------------------------ random draws


def _u(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=gen.device).cpu()


def _logu(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return torch.exp(_u(n, math.log(lo), math.log(hi), gen))


def _coin(n: int, p: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=gen.device).cpu() < p


def _choice(n: int, k: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, k, (n,), generator=gen, device=gen.device).cpu()


def _randn(shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Normal noise drawn on the generator's device, then moved to ``device``."""
    return torch.randn(shape, generator=gen, device=gen.device).to(device)


# ------------------------------------------------------------------ tone and colour


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp_min(1e-8) ** (1 / 2.4) - 0.055)


def tone_curve(x: torch.Tensor) -> torch.Tensor:
    """The global S-curve Brooks et al. fit to camera output: ``3x^2 - 2x^3``."""
    x = x.clamp(0, 1)
    return 3 * x**2 - 2 * x**3


def inverse_tone_curve(y: torch.Tensor) -> torch.Tensor:
    y = y.clamp(0, 1)
    return 0.5 - torch.sin(torch.asin((1 - 2 * y).clamp(-1, 1)) / 3)


def random_ccm(n: int, gen: torch.Generator) -> torch.Tensor:
    """Random sRGB-to-camera matrices (N, 3, 3): the identity mixed with 15-45 % of a random
    row-stochastic matrix (camera primaries overlap), rows summing to 1 so grey stays grey.
    The ISP applies the inverse, whose negative off-diagonals amplify noise in colour."""
    mix = torch.rand(n, 3, 3, generator=gen, device=gen.device).cpu() + 0.05
    mix = mix / mix.sum(-1, keepdim=True)
    s = _u(n, 0.15, 0.45, gen).view(n, 1, 1)
    return (1 - s) * torch.eye(3) + s * mix


def random_gains(n: int, gen: torch.Generator) -> torch.Tensor:
    """White-balance times exposure gains (N, 3) the ISP applies: red 1.9-2.4, blue 1.5-1.9
    (Brooks et al.'s ranges), all times an exposure gain 1 / N(0.8, 0.1)."""
    red, blue = _u(n, 1.9, 2.4, gen), _u(n, 1.5, 1.9, gen)
    expo = 1 / (0.8 + 0.1 * torch.randn(n, generator=gen, device=gen.device).cpu()).clamp(0.5, 1.1)
    return torch.stack([red, torch.ones(n), blue], 1) * expo[:, None]


def _apply_matrix(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return torch.einsum("nij,njhw->nihw", m.to(x.device), x)


# ------------------------------------------------------------------ optics


def shake_kernels(
    extent: torch.Tensor, gen: torch.Generator, k: int = KERNEL, steps: int = 96
) -> torch.Tensor:
    """Camera-shake kernels (N, k, k): the path of a hand-held camera during the exposure.

    A 2-D random walk whose velocity has momentum, a constant drift and occasional jerks (a
    velocity kick in a random direction, probability 0.05 a step), as in Boracchi and Foi's
    trajectory model; so paths curve, bend back and dwell, not only run straight. Each path
    is scaled so that its bounding box's diagonal is ``extent`` px and splatted bilinearly
    with a random weight per step (the exposure lingers unevenly along the path).
    """
    n = extent.shape[0]

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, device=gen.device).cpu()

    drift = rnd(n, 1, 2) * 0.05
    kicks = (
        (torch.rand(n, steps, 1, generator=gen, device=gen.device).cpu() < 0.05)
        * rnd(n, steps, 2)
        * 2
    )
    acc = rnd(n, steps, 2) * 0.5 + kicks
    vel = torch.zeros(n, steps, 2)
    v = rnd(n, 2)
    for t in range(steps):  # momentum: the hand cannot turn instantly
        v = 0.85 * v + acc[:, t] + drift[:, 0]
        vel[:, t] = v
    pos = vel.cumsum(1)
    pos = pos - (pos.amax(1, keepdim=True) + pos.amin(1, keepdim=True)) / 2
    diag = (pos.amax(1) - pos.amin(1)).norm(dim=-1).clamp_min(1e-6)
    pos = pos * (extent / diag)[:, None, None] + k // 2
    pos = pos.clamp(0, k - 1.001)
    weight = 0.5 + torch.rand(n, steps, generator=gen, device=gen.device).cpu()
    p0 = pos.floor()
    f = pos - p0
    p0 = p0.long()
    ker = torch.zeros(n, k * k)
    for dy in (0, 1):
        for dx in (0, 1):
            wy = f[..., 1] if dy else 1 - f[..., 1]
            wx = f[..., 0] if dx else 1 - f[..., 0]
            idx = (p0[..., 1] + dy).clamp(max=k - 1) * k + (p0[..., 0] + dx).clamp(max=k - 1)
            ker.scatter_add_(1, idx, wy * wx * weight)
    ker = ker.view(n, k, k)
    return ker / ker.sum(dim=(1, 2), keepdim=True)


def optics_kernels(
    n: int, cfg: CameraConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample blur kernels (N, KERNEL, KERNEL), kind (BLUR_KINDS index) and size (px);
    kind 0 gets the identity kernel."""
    on = _coin(n, cfg.p_blur, gen)
    shares = torch.tensor(cfg.blur_shares).cumsum(0)
    kind = (
        torch.bucketize(
            torch.rand(n, generator=gen, device=gen.device).cpu() * shares[-1], shares, right=True
        ).clamp(max=2)
        + 1
    )
    kind = torch.where(on, kind, torch.zeros_like(kind))
    radius = _u(n, *cfg.defocus_radius, gen)
    extent = _u(n, *cfg.shake_extent, gen)
    sigma = _u(n, *cfg.lens_sigma, gen)
    ident = torch.zeros(n, KERNEL, KERNEL)
    ident[:, KERNEL // 2, KERNEL // 2] = 1
    kers = torch.stack(
        [
            ident,
            deg.disk_kernels(radius, KERNEL),
            shake_kernels(extent, gen),
            deg.gaussian_kernels(sigma, KERNEL),
        ]
    )
    ker = kers[kind, torch.arange(n)]
    size = torch.stack([torch.zeros(n), radius, extent, sigma])[kind, torch.arange(n)]
    return ker, kind, size


def blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Each image of ``x`` (N, C, H, W) convolved with its own kernel (reflect padding)."""
    return deg.apply_kernels(x, kernels.to(x.device))


# ------------------------------------------------------------------ sensor


def _flip_to_rggb(x: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Flip each image so that its CFA ``pattern`` reads RGGB; its own inverse.

    With even sides, flipping the columns of a BGGR/GRBG/GBRG mosaic turns it into another
    pattern, so mosaicing an image flipped like this as RGGB and flipping the result back
    is exactly mosaicing it with ``pattern``.
    """
    p = pattern.to(x.device).view(-1, 1, 1, 1)
    fw = (p == 2) | (p == 1)  # GRBG, BGGR: flip columns
    fh = (p == 3) | (p == 1)  # GBRG, BGGR: flip rows
    x = torch.where(fw, x.flip(-1), x)
    return torch.where(fh, x.flip(-2), x)


def _rggb_masks(h: int, w: int, device: torch.device) -> torch.Tensor:
    """(3, H, W) 0/1 masks of the R, G and B sites of an RGGB mosaic."""
    yy = torch.arange(h, device=device)[:, None] % 2
    xx = torch.arange(w, device=device)[None] % 2
    r = (yy == 0) & (xx == 0)
    b = (yy == 1) & (xx == 1)
    return torch.stack([r, ~(r | b), b]).float()


def mosaic(x: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Camera-RGB images (N, 3, H, W), even H and W, to raw mosaics (N, 1, H, W)."""
    rggb = _flip_to_rggb(x, pattern)
    raw = (rggb * _rggb_masks(x.shape[-2], x.shape[-1], x.device)).sum(1, keepdim=True)
    return _flip_to_rggb(raw, pattern)


def noise_levels(iso: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Shot and read variance parameters for each ISO, tied as in real camera profiles."""
    shot = SHOT_AT_ISO100 * iso / 100
    jitter = READ_JITTER * torch.randn(iso.shape, generator=gen, device=gen.device).cpu()
    read = torch.exp(READ_SLOPE * torch.log(shot) + READ_OFFSET + jitter)
    return shot, read


def sensor_noise(
    raw: torch.Tensor,
    shot: torch.Tensor,
    read: torch.Tensor,
    row: torch.Tensor,
    gen: torch.Generator,
) -> torch.Tensor:
    """Heteroscedastic Gaussian noise ``N(0, shot * x + read)`` plus row offsets of std
    ``row * sqrt(read)``; ``raw`` is (N, 1, H, W) in [0, 1]."""
    n, _, h, w = raw.shape
    dev = raw.device
    shot, read, row = (t.to(dev).view(n, 1, 1, 1) for t in (shot, read, row))
    var = shot * raw.clamp_min(0) + read
    noisy = raw + var.sqrt() * _randn((n, 1, h, w), gen, dev)
    return noisy + row * read.sqrt() * _randn((n, 1, h, 1), gen, dev)


# ------------------------------------------------------------------ demosaicing


def _conv(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) convolved with each kernel of k (K, s, s) -> (N, K, H, W), reflect pad."""
    p = k.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), k[:, None].to(x))


def demosaic_bilinear(raw: torch.Tensor) -> torch.Tensor:
    """RGGB mosaics (N, 1, H, W) to RGB by bilinear interpolation of each colour's sites."""
    m = _rggb_masks(raw.shape[-2], raw.shape[-1], raw.device)
    k_rb = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    k_g = torch.tensor([[0.0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4
    chans = [_conv(raw * m[i], k[None])[:, 0] for i, k in ((0, k_rb), (1, k_g), (2, k_rb))]
    return torch.stack(chans, 1)


# Malvar, He and Cutler (ICASSP 2004), gradient-corrected linear interpolation; /8 each.
_MHC = torch.tensor(
    [
        # G at R or B sites
        [[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]],  # noqa: E501
        # R at G in an R row (B at G in a B row): horizontal neighbours
        [[0, 0, .5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, .5, 0, 0]],  # noqa: E501
        # R at G in a B row (B at G in an R row): vertical neighbours
        [[0, 0, -1, 0, 0], [0, -1, 4, -1, 0], [.5, 0, 5, 0, .5], [0, -1, 4, -1, 0], [0, 0, -1, 0, 0]],  # noqa: E501
        # R at B sites (B at R sites)
        [[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]],  # noqa: E501
    ]
) / 8  # fmt: skip


def demosaic_malvar(raw: torch.Tensor) -> torch.Tensor:
    """RGGB mosaics to RGB with the Malvar-He-Cutler 5x5 filters."""
    h, w = raw.shape[-2:]
    m = _rggb_masks(h, w, raw.device).bool()
    est = _conv(raw, _MHC)
    yy = torch.arange(h, device=raw.device)[:, None] % 2 == 0  # R rows
    g_in_r_row = m[1] & yy
    g_in_b_row = m[1] & ~yy
    x = raw[:, 0]
    g = torch.where(m[1], x, est[:, 0])
    r = torch.where(
        m[0], x, torch.where(g_in_r_row, est[:, 1], torch.where(g_in_b_row, est[:, 2], est[:, 3]))
    )
    b = torch.where(
        m[2], x, torch.where(g_in_b_row, est[:, 1], torch.where(g_in_r_row, est[:, 2], est[:, 3]))
    )
    return torch.stack([r, g, b], 1)


def demosaic_hamilton_adams(raw: torch.Tensor) -> torch.Tensor:
    """RGGB mosaics to RGB, edge-aware (Hamilton and Adams 1997).

    Green at R and B sites is interpolated along the direction (horizontal or vertical) with
    the smaller gradient, ``|G(-1) - G(+1)| + |2 C(0) - C(-2) - C(+2)|``, with the
    second-order correction of the site's own colour; both averaged on ties. Red and blue
    are then the bilinearly interpolated colour differences R - G and B - G, plus G.
    """
    m = _rggb_masks(raw.shape[-2], raw.shape[-1], raw.device)
    row = torch.zeros(4, 5, 5)
    row[0, 2] = torch.tensor([0, 0.5, 0, 0.5, 0])  # horizontal green average
    row[1, 2] = torch.tensor([-0.25, 0, 0.5, 0, -0.25])  # horizontal correction
    row[2, 2] = torch.tensor([0, 1.0, 0, -1, 0])  # horizontal green difference
    row[3, 2] = torch.tensor([-1.0, 0, 2, 0, -1])  # horizontal second derivative
    kern = torch.cat([row, row.transpose(1, 2)])
    e = _conv(raw, kern)
    g_h, g_v = e[:, 0] + e[:, 1], e[:, 4] + e[:, 5]
    d_h = e[:, 2].abs() + e[:, 3].abs()
    d_v = e[:, 6].abs() + e[:, 7].abs()
    g_est = torch.where(d_h < d_v, g_h, torch.where(d_v < d_h, g_v, (g_h + g_v) / 2))
    g = torch.where(m[1].bool(), raw[:, 0], g_est)[:, None]
    k_rb = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4
    r = _conv((raw - g) * m[0], k_rb[None]) + g
    b = _conv((raw - g) * m[2], k_rb[None]) + g
    return torch.cat([r, g, b], 1)


_DEMOSAIC_FNS = (demosaic_bilinear, demosaic_malvar, demosaic_hamilton_adams)


def demosaic(raw: torch.Tensor, pattern: torch.Tensor, method: torch.Tensor) -> torch.Tensor:
    """Raw mosaics (N, 1, H, W) of per-sample CFA ``pattern`` to RGB, each sample with its
    own ``method`` (index into :data:`DEMOSAIC`)."""
    rggb = _flip_to_rggb(raw, pattern)
    out = torch.empty(raw.shape[0], 3, *raw.shape[-2:], device=raw.device, dtype=raw.dtype)
    for i, fn in enumerate(_DEMOSAIC_FNS):
        idx = (method == i).nonzero().flatten().to(raw.device)
        if idx.numel():
            out[idx] = fn(rggb[idx])
    return _flip_to_rggb(out, pattern)


# ------------------------------------------------------------------ ISP and encoding


def unsharp_mask(x: torch.Tensor, amount: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``x + amount * (x - gaussian(x, sigma))`` per sample, as cameras sharpen (halos)."""
    soft = deg.apply_kernels(x, deg.gaussian_kernels(sigma, 11).to(x.device))
    return x + amount.to(x.device).view(-1, 1, 1, 1) * (x - soft)


def quantise8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round() / 255


def web_resize_jpeg(
    x: torch.Tensor,
    scale: float,
    quality: torch.Tensor,
    subsampling: torch.Tensor,
    family: torch.Tensor,
) -> torch.Tensor:
    """Downscale by ``scale`` (anti-aliased bilinear), JPEG, and bicubic back to the size."""
    h, w = x.shape[-2:]
    if scale < 1.0:
        small = (max(8, round(h * scale)), max(8, round(w * scale)))
        x = F.interpolate(x, size=small, mode="bilinear", antialias=True, align_corners=False)
    x = jpegsim.jpeg(x, quality, subsampling, family)
    if scale < 1.0:
        x = F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    return x


# ------------------------------------------------------------------ the chain


def _draw(n: int, cfg: CameraConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
    iso = _logu(n, *cfg.iso, gen)
    shot, read = noise_levels(iso, gen)
    noisy = _coin(n, cfg.p_noise, gen)
    row = torch.where(_coin(n, cfg.p_row, gen), _u(n, 0.2, 1.0, gen), torch.zeros(n))
    sharpen = torch.where(
        _coin(n, cfg.p_sharpen, gen), _u(n, *cfg.sharpen_amount, gen), torch.zeros(n)
    )
    cam_q = torch.randint(
        cfg.camera_q[0], cfg.camera_q[1] + 1, (n,), generator=gen, device=gen.device
    ).cpu()
    web_q = torch.randint(
        cfg.web_q[0], cfg.web_q[1] + 1, (n, 2), generator=gen, device=gen.device
    ).cpu()
    web = _coin(n, cfg.p_web, gen)
    double = web & _coin(n, cfg.p_double_web, gen)
    return {
        "clean": _coin(n, cfg.p_clean, gen),
        "pattern": _choice(n, len(PATTERNS), gen),
        "iso": torch.where(noisy, iso, torch.zeros(n)),
        "shot": torch.where(noisy, shot, torch.zeros(n)),
        "read": torch.where(noisy, read, torch.zeros(n)),
        "row": torch.where(noisy, row, torch.zeros(n)),
        "demosaic": _choice(n, len(DEMOSAIC), gen),
        "ccm": random_ccm(n, gen),
        "gains": random_gains(n, gen),
        "sharpen": sharpen,
        "sharpen_sigma": _u(n, *cfg.sharpen_sigma, gen),
        "camera_q": torch.where(_coin(n, cfg.p_camera_jpeg, gen), cam_q, torch.zeros_like(cam_q)),
        "camera_sub": 1 + _choice(n, 2, gen),  # 4:2:2 or 4:2:0
        "web_q": torch.stack(
            [torch.where(web, web_q[:, 0], 0), torch.where(double, web_q[:, 1], 0)], 1
        ),
        "web_sub": _choice(n, 3, gen),
        "web_family": _choice(n, len(jpegsim.TABLES), gen),
        "web_scale": _u(1, *cfg.web_scale, gen),
    }


def unprocess(x: torch.Tensor, ccm: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """sRGB (N, 3, H, W) to scene-linear camera RGB before white balance."""
    lin = srgb_to_linear(inverse_tone_curve(x))
    return _apply_matrix(lin, ccm) / gains.to(x.device).view(-1, 3, 1, 1)


def process(cam: torch.Tensor, ccm: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """The ISP's colour and tone: white balance and exposure, colour matrix, gamma, tone."""
    lin = cam * gains.to(cam.device).view(-1, 3, 1, 1)
    lin = _apply_matrix(lin, torch.linalg.inv(ccm)).clamp(0, 1)
    return tone_curve(linear_to_srgb(lin))


def _sensor_and_isp(
    cam: torch.Tensor, d: dict[str, torch.Tensor], gen: torch.Generator, noise: bool
) -> torch.Tensor:
    raw = mosaic(cam, d["pattern"])
    if noise:
        raw = sensor_noise(raw, d["shot"], d["read"], d["row"], gen)
    raw = torch.round(raw.clamp(0, 1) * 4095) / 4095  # a 12-bit ADC that saturates
    rgb = process(demosaic(raw, d["pattern"], d["demosaic"]), d["ccm"], d["gains"])
    return unsharp_mask(rgb, d["sharpen"], d["sharpen_sigma"]).clamp(0, 1)


def degrade_batch(
    clean: torch.Tensor,
    gen: torch.Generator,
    cfg: CameraConfig | None = None,
    jpeg_backend: str = "torch",
    measure_noise: bool = True,
) -> tuple[torch.Tensor, Params]:
    """Degrade clean sRGB images (N, 3, H, W) in [0, 1] through the camera model.

    Args:
        clean: the images, on any device; H and W of any size (odd sides are padded by one
            pixel for the mosaic and cropped back).
        gen: the generator every draw comes from; on the CPU or on the images' device.
        cfg: probabilities and ranges; ``None``: :class:`CameraConfig` defaults.
        jpeg_backend: ``"torch"`` (:mod:`~photoenhance.train.jpegsim`, on the device) or
            ``"pil"`` (Pillow's encoder on the CPU, for the camera JPEG; the web rounds stay
            in torch because they need the other encoders' tables).
        measure_noise: measure ``Params.noise_std`` (what the noise left in the output) by
            running the sensor and ISP a second time without noise; ``False`` leaves it 0
            and saves that run.

    Returns:
        The degraded images (same shape, on 8-bit levels) and the drawn :class:`Params`.
        The training target is ``clean`` itself.
    """
    cfg = cfg or CameraConfig()
    n, _, h, w = clean.shape
    d = _draw(n, cfg, gen)
    ker, kind, size = optics_kernels(n, cfg, gen)
    x = clean.float().clamp(0, 1)
    xp = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    cam = blur(unprocess(xp, d["ccm"], d["gains"]), ker)
    out = _sensor_and_isp(cam, d, gen, noise=True)
    noise_std = torch.zeros(n)
    noisy = (d["shot"] > 0).nonzero().flatten()
    if noisy.numel() and measure_noise:
        sub = {
            k: (v[noisy] if torch.is_tensor(v) and v.shape[:1] == (n,) else v) for k, v in d.items()
        }
        quiet = _sensor_and_isp(cam[noisy.to(cam.device)], sub, gen, noise=False)
        diff = quantise8(out[noisy.to(out.device)]) - quantise8(quiet)
        noise_std[noisy] = diff.flatten(1).std(1).cpu()
    out = quantise8(out[..., :h, :w])
    out = _camera_jpeg(out, d, jpeg_backend)
    web = (d["web_q"][:, 0] > 0).nonzero().flatten()
    scale = float(d["web_scale"])
    if web.numel():
        wi = web.to(out.device)
        y = out[wi]
        for r in (0, 1):
            q = d["web_q"][web, r]
            y2 = web_resize_jpeg(
                y, scale if r == 0 else 1.0, q.clamp_min(1), d["web_sub"][web], d["web_family"][web]
            )
            y = torch.where((q > 0).to(y.device).view(-1, 1, 1, 1), y2, y)
        out[wi] = quantise8(y)
    keep = d["clean"].to(out.device).view(-1, 1, 1, 1)
    out = torch.where(keep, x, out)
    params = Params(
        clean=d["clean"],
        blur_kind=torch.where(d["clean"], 0, kind),
        blur_size=size,
        blur_std=torch.where(d["clean"], 0.0, deg.kernel_std(ker)),
        pattern=d["pattern"],
        iso=torch.where(d["clean"], 0.0, d["iso"]),
        shot=torch.where(d["clean"], 0.0, d["shot"]),
        read=torch.where(d["clean"], 0.0, d["read"]),
        row=d["row"],
        demosaic=d["demosaic"],
        wb=d["gains"],
        sharpen=d["sharpen"],
        camera_q=torch.where(d["clean"], 0, d["camera_q"]),
        camera_sub=d["camera_sub"],
        web_q=torch.where(d["clean"][:, None], 0, d["web_q"]),
        web_family=d["web_family"],
        web_scale=scale if web.numel() else 1.0,
        noise_std=torch.where(d["clean"], 0.0, noise_std),
    )
    return out, params


def _camera_jpeg(x: torch.Tensor, d: dict[str, torch.Tensor], backend: str) -> torch.Tensor:
    idx = (d["camera_q"] > 0).nonzero().flatten()
    if not idx.numel():
        return x
    q, sub = d["camera_q"][idx], d["camera_sub"][idx]
    ii = idx.to(x.device)
    if backend == "pil":
        x[ii] = deg.jpeg(x[ii].cpu(), q.tolist(), sub.tolist()).to(x.device)
    elif backend == "torch":
        x[ii] = jpegsim.jpeg(x[ii], q, sub)
    else:
        raise ValueError(f"unknown JPEG backend {backend!r}")
    return x
