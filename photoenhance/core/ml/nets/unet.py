"""A small multi-scale residual U-Net that works at half resolution.

The image is pixel-unshuffled to half resolution (3 -> 12 channels), processed by a U-Net of
plain 3x3 convolutions with ReLU residual blocks, pixel-shuffled back, and added to the
input (global residual), so a zero correction means "leave the photo as it is".

Plain 3x3 convolutions are what this CPU runs fastest under bf16 autocast with channels_last
(LayerNorm, depthwise convolutions and gating cost 2-4x more per MAC here). Doubling the
width at each halving keeps the cost per convolution level constant while the receptive
field grows, so extra levels are cheap. With ``widths=(48,)`` the net is the plain half-res
residual net used as the project's baseline.

Contract: (N, 3, H, W) float in [0, 1] in, the same shape out, clamped to [0, 1]. Any H and
W work: the input is padded (reflect, or replicate when too small) inside ``forward``.

Optional conditioning (``cond > 0``): ``forward(x, cond)`` also takes ``cond`` (N, cond), a
few per-photo numbers (the enhancer uses one: how blurred the photo is, 0-1). Each is
mapped linearly to a per-channel offset added after the head, after each down-sampling and
after each up-sampling convolution: a change of those convolutions' biases only, so it costs
nothing at inference. The maps start at zero, so a net grown from an unconditioned one
computes exactly what it did until it is trained.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn


class ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3, plus the identity."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


def _stage(ch: int, n: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(ch) for _ in range(n)])


class EnhanceUNet(nn.Module):
    """Half-resolution residual U-Net restorer.

    Args:
        widths: channels at each level (level 0 is half resolution, each next one halves it).
        enc_blocks: residual blocks per level on the way down (the last entry is the bottom).
        dec_blocks: residual blocks per level on the way up (one fewer entry than ``widths``).
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (24, 48, 96, 192),
        enc_blocks: tuple[int, ...] = (1, 1, 2, 4),
        dec_blocks: tuple[int, ...] = (0, 1, 1),
        in_ch: int = 3,
        cond: int = 0,
    ) -> None:
        super().__init__()
        if len(enc_blocks) != len(widths) or len(dec_blocks) != len(widths) - 1:
            raise ValueError("enc_blocks needs one entry per width, dec_blocks one fewer")
        self.config = {
            "widths": list(widths),
            "enc_blocks": list(enc_blocks),
            "dec_blocks": list(dec_blocks),
            "in_ch": in_ch,
        }
        if cond:
            self.config["cond"] = cond
        self.n_cond = cond
        self.multiple = 2 ** len(widths)
        self.head = nn.Conv2d(in_ch * 4, widths[0], 3, padding=1)
        self.enc = nn.ModuleList(_stage(w, n) for w, n in zip(widths, enc_blocks, strict=True))
        self.down = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], 2, stride=2) for i in range(len(widths) - 1)
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1], widths[i] * 4, 1), nn.PixelShuffle(2))
            for i in range(len(widths) - 1)
        )
        self.dec = nn.ModuleList(_stage(w, n) for w, n in zip(widths, dec_blocks, strict=False))
        self.tail = nn.Conv2d(widths[0], in_ch * 4, 3, padding=1)
        # offsets for the head, each down conv (enc levels) and each up conv (before shuffle)
        enc_w, up_w = (widths, widths[:-1]) if cond else ((), ())
        self.cond_enc = nn.ModuleList(nn.Linear(cond, w, bias=False) for w in enc_w)
        self.cond_up = nn.ModuleList(nn.Linear(cond, w * 4, bias=False) for w in up_w)
        for lin in [*self.cond_enc, *self.cond_up]:
            nn.init.zeros_(lin.weight)

    def cond_offsets(self, cond: torch.Tensor | None, n: int) -> tuple[list[torch.Tensor], ...]:
        """Per-sample offsets (N, C, 1, 1) for each encoder level and each up conv (empty
        lists when the net has no conditioning). ``cond`` None means all zeros."""
        if not self.n_cond:
            return [], []
        c = cond if cond is not None else torch.zeros(n, self.n_cond)
        c = c.reshape(n, self.n_cond).to(self.head.weight.dtype).to(self.head.weight.device)
        enc = [lin(c)[:, :, None, None] for lin in self.cond_enc]
        up = [lin(c)[:, :, None, None] for lin in self.cond_up]
        return enc, up

    def _pad(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, h, w

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        xp, h, w = self._pad(x)
        enc_off, up_off = self.cond_offsets(cond, x.shape[0])
        f = self.head(F.pixel_unshuffle(xp, 2))
        if enc_off:
            f = f + enc_off[0]
        skips = []
        for i, stage in enumerate(self.enc):
            f = stage(f)
            if i < len(self.down):
                skips.append(f)
                f = self.down[i](f)
                if enc_off:
                    f = f + enc_off[i + 1]
        for i in reversed(range(len(self.up))):
            up: Any = self.up[i]  # a 1x1 conv, then a PixelShuffle
            u = up[0](f)
            if up_off:
                u = u + up_off[i]
            f = up[1](u) + skips[i]
            f = self.dec[i](f)
        out = xp + F.pixel_shuffle(self.tail(f), 2).to(xp.dtype)
        return out[..., :h, :w].clamp(0.0, 1.0)


def build(config: dict[str, object] | None = None) -> EnhanceUNet:
    """Build the net from a config dict as stored in a model card (``None``: defaults)."""
    cfg = dict(config or {})
    return EnhanceUNet(
        widths=tuple(cfg.get("widths", (24, 48, 96, 192))),  # type: ignore[arg-type]
        enc_blocks=tuple(cfg.get("enc_blocks", (1, 1, 2, 4))),  # type: ignore[arg-type]
        dec_blocks=tuple(cfg.get("dec_blocks", (0, 1, 1))),  # type: ignore[arg-type]
        in_ch=int(cfg.get("in_ch", 3)),  # type: ignore[call-overload]
        cond=int(cfg.get("cond", 0)),  # type: ignore[call-overload]
    )
