"""Baseline JPEG as batched tensor operations, so it runs on the training device.

Encodes and decodes like libjpeg with the IJG settings Pillow and OpenCV use: full-range
JFIF YCbCr rounded to 8 bits, chroma averaged over 2x2 (4:2:0) or 2x1 (4:2:2) pixels, edge
pixels repeated up to whole MCUs, 8x8 orthonormal DCT, coefficients divided by the
quantisation table and rounded, then the inverse with triangle ("fancy") chroma upsampling
and 8-bit rounding at each step. Only the entropy coding (lossless) is left out. No
gradients flow through the rounding; it is for making training inputs, not for losses.

Quantisation tables come in families (:data:`TABLES`), each scaled from a quality 1-100:

- ``ijg``: the example tables of ITU-T T.81 Annex K, scaled as libjpeg's
  ``jpeg_quality_scaling`` does (quality < 50: 5000 / q %, else 200 - 2 q %), clamped to
  1-255 (baseline). This is what Pillow, OpenCV and most libjpeg programs write.
- ``ijg-linear``: the same tables scaled linearly (2 x (100 - q) %) as some camera and phone
  encoders do, which quantises mid qualities harder than IJG and high ones less.
- ``luma-for-chroma``: the Annex K luminance table for all three planes, IJG scaling (some
  cameras spend as many bits on colour as on luma).
- ``flat``: one step for every frequency (IJG-scaled 16 at q 50), the shape of some
  encoders' "flat" option: high frequencies kept far better, low ones worse.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812

#: ITU-T T.81 Annex K, table K.1 (luminance) and K.2 (chrominance), in row-major order.
ANNEX_K_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
ANNEX_K_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
TABLES = ("ijg", "ijg-linear", "luma-for-chroma", "flat")
#: chroma subsampling codes, as Pillow's ``subsampling``: 0 4:4:4, 1 4:2:2, 2 4:2:0
SUB_444, SUB_422, SUB_420 = 0, 1, 2

_RGB2YCC = torch.tensor(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
_YCC2RGB = torch.tensor([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])


def dct_matrix(device: torch.device | str = "cpu") -> torch.Tensor:
    """The orthonormal 8-point DCT-II matrix ``D`` (a block's DCT is ``D @ B @ D.T``)."""
    k = torch.arange(8, dtype=torch.float64)
    d = torch.cos((2 * k[None] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d.float().to(device)


def _ijg_scale(quality: torch.Tensor) -> torch.Tensor:
    q = quality.clamp(1, 100).float()
    return torch.where(q < 50, torch.floor(5000 / q), 200 - 2 * q)


def quant_tables(quality: torch.Tensor, family: torch.Tensor) -> torch.Tensor:
    """Luma and chroma tables (N, 2, 8, 8) for per-sample qualities and families (indices
    into :data:`TABLES`)."""
    dev = quality.device
    luma = torch.tensor(ANNEX_K_LUMA, dtype=torch.float32, device=dev).view(8, 8)
    chroma = torch.tensor(ANNEX_K_CHROMA, dtype=torch.float32, device=dev).view(8, 8)
    base = torch.stack([luma, chroma])[None].repeat(quality.shape[0], 1, 1, 1)
    fam = family.to(dev).view(-1, 1, 1, 1)
    base = torch.where(fam == 2, luma.expand_as(base), base)
    base = torch.where(fam == 3, torch.full_like(base, 16.0), base)
    lin = (2 * (100 - quality.clamp(1, 100).float())).clamp_min(1)
    scale = torch.where(family.to(dev) == 1, lin, _ijg_scale(quality)).view(-1, 1, 1, 1)
    return torch.floor((base * scale + 50) / 100).clamp(1, 255)


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """(N, H, W) with H, W multiples of 8 -> (N, H/8, W/8, 8, 8)."""
    n, h, w = x.shape
    return x.view(n, h // 8, 8, w // 8, 8).transpose(2, 3)


def _unblocks(b: torch.Tensor) -> torch.Tensor:
    n, bh, bw = b.shape[:3]
    return b.transpose(2, 3).reshape(n, bh * 8, bw * 8)


def _code_plane(plane: torch.Tensor, table: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Quantise one 8-bit plane (N, H, W), H and W multiples of 8, with tables (N, 8, 8)."""
    b = _blocks(plane - 128.0)
    coef = d @ b @ d.T
    t = table[:, None, None]
    coef = torch.round(coef / t) * t
    return _unblocks(d.T @ coef @ d) + 128.0


def _pad_to(x: torch.Tensor, mh: int, mw: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    ph, pw = (-h) % mh, (-w) % mw
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x


def _round8(x: torch.Tensor) -> torch.Tensor:
    return torch.round(x).clamp(0, 255)


def _jpeg_group(x: torch.Tensor, tables: torch.Tensor, sub: int) -> torch.Tensor:
    """Round-trip images (N, 3, H, W) in 0-255 that share one subsampling mode."""
    n, _, h, w = x.shape
    fy, fx = {SUB_420: (2, 2), SUB_422: (1, 2), SUB_444: (1, 1)}[sub]
    d = dct_matrix(x.device)
    ycc = torch.einsum("ij,njhw->nihw", _RGB2YCC.to(x.device), x)
    ycc = _round8(ycc + torch.tensor([0.0, 128.0, 128.0], device=x.device).view(1, 3, 1, 1))
    ycc = _pad_to(ycc, 8 * fy, 8 * fx)
    hp, wp = ycc.shape[-2:]
    y = _code_plane(ycc[:, 0], tables[:, 0], d)
    chroma = ycc[:, 1:]
    if fy * fx > 1:
        chroma = F.avg_pool2d(chroma, (fy, fx))
    c = torch.stack([_code_plane(chroma[:, i], tables[:, 1], d) for i in (0, 1)], 1)
    c = _round8(c)
    if fy * fx > 1:  # libjpeg's "fancy" upsampling is the triangle filter
        c = F.interpolate(c, size=(hp, wp), mode="bilinear", align_corners=False)
    ycc = torch.cat([_round8(y)[:, None], c], 1)[..., :h, :w]
    ycc = ycc - torch.tensor([0.0, 128.0, 128.0], device=x.device).view(1, 3, 1, 1)
    return _round8(torch.einsum("ij,njhw->nihw", _YCC2RGB.to(x.device), ycc))


def jpeg(
    x: torch.Tensor,
    quality: torch.Tensor,
    subsampling: torch.Tensor,
    family: torch.Tensor | None = None,
) -> torch.Tensor:
    """Compress and decode images (N, 3, H, W) in [0, 1] as 8-bit baseline JPEG.

    Args:
        x: the images; any size (edges are repeated to whole MCUs, as an encoder does).
        quality: (N,) quality 1-100 per image.
        subsampling: (N,) :data:`SUB_444`, :data:`SUB_422` or :data:`SUB_420` per image.
        family: (N,) index into :data:`TABLES` per image; ``None``: all ``ijg``.

    Returns:
        The decoded images in [0, 1], on 8-bit levels.
    """
    n = x.shape[0]
    dev = x.device
    family = torch.zeros(n, dtype=torch.long, device=dev) if family is None else family
    tables = quant_tables(quality.to(dev), family.to(dev))
    img = _round8(x.float().clamp(0, 1) * 255)
    out = torch.empty_like(img)
    sub = subsampling.to(dev)
    for mode in (SUB_444, SUB_422, SUB_420):
        idx = (sub == mode).nonzero().flatten()
        if idx.numel():
            out[idx] = _jpeg_group(img[idx], tables[idx], mode)
    return out / 255
