"""The global tone and colour model: a small CNN that reads a thumbnail and predicts a few
white-box photo edits, and the differentiable rendering of those edits.

Form, and why. The faults this model undoes (wrong exposure, a colour cast, a flat or too
steep tone curve, gamma, haze, saturation) are global and have a physical form, so the
model predicts the parameters of that form rather than pixels: the white-box filters of
Hu et al. 2018 ("Exposure: a white-box photo post-processing framework"), with the
monotone piecewise-linear tone curve they and Zero-DCE (Guo et al. 2020) use. Compared
with image-adaptive 3D LUTs (Zeng et al. 2020) this needs far fewer outputs (23 numbers),
is identity when the net outputs zeros (so a well-exposed photo is easy to leave alone),
scales with a strength slider in parameter space, and can be described in words
("exposure +1.2 EV, warmer"). At full resolution it is three 1-D lookups per pixel plus
a 3x3 saturation mix (:mod:`photoenhance.core.ml.tone`).

The edit, on sRGB values ``x`` in [0, 1]:

1. per channel, in linear light: ``v = (lin(x) - d_c) / (1 - d_c) * 2 ** g_c``: a black
   offset ``d_c`` (haze or lifted blacks; negative lifts) and a gain ``g_c`` (exposure
   ``ev`` plus a white balance along a temperature and a tint axis);
2. clipping to [0, 1] and back to sRGB. (A highlight shoulder that mapped the input's
   white to white was tried first: for a dark photo it compresses the whole useful range,
   so training learnt to brighten with the tone curve instead of the exposure. Clipping is
   limited at run time instead: see :mod:`photoenhance.core.ml.tone`);
3. saturation: ``y = Y + e ** s * (y - Y)`` (``Y`` the Rec. 709 luma), which keeps greys;
4. levels shared by the channels, in sRGB: ``(y - b) / (w - b)`` clipped (black point ``b``
   and white point ``w``: the exact inverse of a flattened contrast), then one tone curve:
   ``K`` linear pieces, increasing, ending at 0 and 1 (gamma, S-curves and their inverses).

Anchored nets (v2, ``anchored`` in the config). A simple auto-levels peer beat v1 by 2.5 dB
although v1 saw the same global statistics: v1 had to learn "the brightest pixels of a
normal photo are near white" from 51 wallpapers, many of them dark on purpose. An anchored
net starts from that rule instead, computed from the photo (:func:`anchor`): an exposure
that brings the 99.8th percentile of the brightest channel to white, or, where the blacks
are lifted (a flat photo), a black and white point in sRGB. The net's outputs are
residuals on top of the anchor (zero at initialisation), so training only has to learn when
and how far to depart from it: casts, gamma, saturation, curves, and photos that are dark
on purpose.

The anchor also lifts low-light photos (tone-v1 2.1): where, after its exposure, the mean
luma is still under LIFT_RAMP (lamps or windows hold the white point, so no exposure can
brighten the room), a power curve on the tone curve's lower 15 pieces brings the mean luma
to LIFT_TARGET; the top piece stays the identity, so nothing near white is pushed to 255.
The bench's normal photos sit above the ramp (CBSD68's darkest at 0.184), LIME's low-light
photos mostly below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

#: number of pieces of the tone curve
K = 16
#: outputs of the net: ev, temperature, tint, 3 black offsets, saturation, black point,
#: white point, K curve logits
N_PARAMS = 9 + K
#: index of the first curve logit
CURVE0 = 9
#: side of the square thumbnail the net's convolutions read
THUMB = 64
#: side of the square downscale the global statistics and the anchor are measured on
STATS_SIDE = 128
LUMA = (0.2126, 0.7152, 0.0722)

#: bounds of the decoded parameters (tanh-scaled)
EV_MAX, TEMP_MAX, TINT_MAX, OFFSET_MAX, SAT_MAX = 3.5, 1.0, 0.6, 0.45, 1.0
#: highest black point and lowest white point (sRGB), and their least distance
BLACK_MAX, WHITE_MIN, LEVELS_GAP = 0.35, 0.55, 0.3


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0, 1)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: torch.Tensor) -> torch.Tensor:
    v = v.clamp(0, 1)
    return torch.where(v <= 0.0031308, v * 12.92, 1.055 * v.clamp_min(1e-12) ** (1 / 2.4) - 0.055)


def _z_scale() -> torch.Tensor:
    s = torch.ones(N_PARAMS)
    s[0], s[1:3], s[7:9], s[CURVE0:] = 4.0, 2.0, 0.25, 0.25
    return s


#: scale of each raw output before decoding. With equal scales Adam moves the 16 curve
#: outputs together much further per step than the one exposure output, and training
#: settled on brightening dark photos with the curve (found while training v1); this
#: makes exposure and white balance the cheap explanations.
Z_SCALE = _z_scale()


@dataclass
class ToneParams:
    """Decoded edit parameters, each with a leading batch dimension (B,) or (B, n)."""

    ev: torch.Tensor  # (B,) log2 gain
    temp: torch.Tensor  # (B,) log2 red-over-blue, positive is warmer
    tint: torch.Tensor  # (B,) positive is magenta (less green)
    offset: torch.Tensor  # (B, 3) black offset per channel, linear light
    sat: torch.Tensor  # (B,) log saturation factor
    black: torch.Tensor  # (B,) sRGB black point, 0 for none
    white: torch.Tensor  # (B,) sRGB white point, 1 for none
    curve: torch.Tensor  # (B, K) positive piece heights summing to 1

    @classmethod
    def decode(cls, z: torch.Tensor) -> ToneParams:
        """Parameters from the net's raw outputs ``z`` (B, N_PARAMS); zeros decode to the
        identity edit."""
        z = z * Z_SCALE.to(z)
        white = (1.0 + z[:, 8]).clamp(WHITE_MIN, 1.0)
        return cls(
            ev=EV_MAX * torch.tanh(z[:, 0] / EV_MAX),
            temp=TEMP_MAX * torch.tanh(z[:, 1] / TEMP_MAX),
            tint=TINT_MAX * torch.tanh(z[:, 2] / TINT_MAX),
            offset=OFFSET_MAX * torch.tanh(z[:, 3:6] / OFFSET_MAX),
            sat=SAT_MAX * torch.tanh(z[:, 6] / SAT_MAX),
            black=torch.minimum(z[:, 7].clamp(0.0, BLACK_MAX), white - LEVELS_GAP),
            white=white,
            curve=torch.softmax(z[:, CURVE0:], dim=1),
        )

    def scaled(self, strength: float) -> ToneParams:
        """The edit moved ``strength`` (0..1) of the way from the identity."""
        s = float(strength)
        flat = torch.full_like(self.curve, 1.0 / self.curve.shape[1])
        return ToneParams(self.ev * s, self.temp * s, self.tint * s, self.offset * s,
                          self.sat * s, self.black * s, 1.0 + s * (self.white - 1.0),
                          flat + s * (self.curve - flat))

    def log_gains(self) -> torch.Tensor:
        """(B, 3) log2 gain of R, G, B: exposure plus temperature and tint axes (their
        mean is the exposure)."""
        t, m = self.temp, self.tint
        return torch.stack([self.ev + t / 2 + m / 3, self.ev - 2 * m / 3,
                            self.ev - t / 2 + m / 3], dim=1)


def channel_curves(x: torch.Tensor, p: ToneParams) -> torch.Tensor:
    """Steps 1-2 on ``x`` (B, 3, ...) in sRGB [0, 1]: per-channel offset and gain, clipped
    to [0, 1]; returns sRGB values."""
    shape = (x.shape[0], 3) + (1,) * (x.dim() - 2)
    d = p.offset.reshape(shape)
    gain = torch.exp2(p.log_gains()).reshape(shape)
    v = (srgb_to_linear(x) - d) / (1 - d) * gain
    return linear_to_srgb(v)


def saturate(y: torch.Tensor, p: ToneParams) -> torch.Tensor:
    """Step 3 on ``y`` (B, 3, ...): scale the distance from the luma by ``e ** sat``."""
    w = torch.tensor(LUMA, dtype=y.dtype, device=y.device).reshape(1, 3, *([1] * (y.dim() - 2)))
    luma = (y * w).sum(dim=1, keepdim=True)
    f = torch.exp(p.sat).reshape(-1, *([1] * (y.dim() - 1)))
    return (luma + f * (y - luma)).clamp(0, 1)


def levels(y: torch.Tensor, p: ToneParams) -> torch.Tensor:
    """Step 4's black and white points on ``y`` (B, C, ...), clipped to [0, 1]."""
    shape = (y.shape[0],) + (1,) * (y.dim() - 1)
    b, w = p.black.reshape(shape), p.white.reshape(shape)
    return ((y - b) / (w - b)).clamp(0, 1)


def tone_curve(y: torch.Tensor, p: ToneParams) -> torch.Tensor:
    """Step 4: the levels, then the piecewise-linear curve (B, K heights), on ``y``
    (B, C, ...)."""
    b, k = p.curve.shape
    knots = torch.cat([p.curve.new_zeros(b, 1), torch.cumsum(p.curve, dim=1)], dim=1)
    pos = levels(y, p) * k
    idx = pos.floor().clamp(max=k - 1)
    frac = pos - idx
    flat_idx = idx.long().reshape(b, -1)
    lo = torch.gather(knots, 1, flat_idx).reshape(y.shape)
    hi = torch.gather(knots, 1, flat_idx + 1).reshape(y.shape)
    return lo + frac * (hi - lo)


def render(x: torch.Tensor, p: ToneParams) -> torch.Tensor:
    """The whole edit on ``x`` (B, 3, H, W) sRGB in [0, 1] (differentiable; for training
    and thumbnails; full-resolution photos go through lookup tables instead)."""
    return tone_curve(saturate(channel_curves(x, p), p), p)


def _levels_points(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) sRGB white point (99.8th percentile of the brightest channel) and black point
    (0.2th percentile of the darkest channel) of ``x`` (B, 3, H, W)."""
    white = torch.quantile(x.amax(dim=1).flatten(1), 0.998, dim=1)
    black = torch.quantile(x.amin(dim=1).flatten(1), 0.002, dim=1)
    return white, black


def anchor(x: torch.Tensor, points: tuple[torch.Tensor, torch.Tensor] | None = None
           ) -> torch.Tensor:
    """The rule-based starting edit for ``x`` (B, 3, H, W), as raw outputs (B, N_PARAMS)
    that :meth:`ToneParams.decode` reads.

    Where the blacks are not lifted, an exposure (linear light) that brings the white point
    to 1, as a normal photo's brightest pixels are near white; where they are (black point
    above 0.03, fully from 0.07: a flat or hazy photo), a black and white point in sRGB,
    which is what a flattened contrast needs. ``points``: the white and black points of
    ``x`` where already measured."""
    white, black = points if points is not None else _levels_points(x)
    flat = ((black - 0.03) / 0.04).clamp(0, 1)
    ev = -torch.log2(srgb_to_linear(white).clamp_min(2.0**-EV_MAX))
    # none where the white point is already within 1-2 % of white: a gain that small is not
    # seen, but it pushes every pixel at 253-254 to 255 (2.4 % of LIME 9, lamp halos)
    ev = ev * ((0.99 - white) / 0.01).clamp(0, 1)
    ev = ((1 - flat) * ev).clamp(-EV_MAX * 0.99, EV_MAX * 0.99)
    z = x.new_zeros(x.shape[0], N_PARAMS)
    z[:, 0] = torch.atanh(ev / EV_MAX) * EV_MAX
    z[:, 7] = flat * black
    z[:, 8] = flat * (white - 1)
    z[:, CURVE0:] = _lift_logits(render(x, ToneParams.decode(z / Z_SCALE.to(z))))
    return z / Z_SCALE.to(z)


#: mean sRGB luma, after the anchor's exposure or levels, under which a photo gets the full
#: shadow lift and over which none: a low-light photo whose lamps or windows already hold
#: the white point (the exposure cannot brighten it). The bench's normal photos read 0.18
#: and more (CBSD68's darkest, 108082, 0.184), LIME's low-light photos 0.08-0.15 (and 0.20,
#: 0.26, 0.32).
LIFT_RAMP = (0.15, 0.18)
#: mean sRGB luma the lift aims at, and its strongest power curve
LIFT_TARGET, LIFT_GAMMA_MIN = 0.42, 0.18


def _lift_knots(g: torch.Tensor) -> torch.Tensor:
    """Knots (B, K + 1) of the lift for powers ``g`` (B,): ``v ** g`` scaled onto all but
    the top piece, which stays the identity (values near white keep their place instead of
    being pushed to 255: LIME 9's lamp halos were clipped)."""
    top = (K - 1) / K
    knots = top * (torch.arange(K, dtype=g.dtype, device=g.device) / (K - 1)) ** g[:, None]
    return torch.cat([knots, torch.ones_like(knots[:, :1])], dim=1)


def _lift_logits(y: torch.Tensor) -> torch.Tensor:
    """Curve logits (B, K) of the anchor's shadow lift for ``y`` (B, 3, H, W), the photo
    after the anchor's exposure: zeros (the identity) for a photo that is not dark, else the
    curve of :func:`_lift_knots` with the power chosen so that the mean luma through the
    K-piece curve (as applied) reaches LIFT_TARGET, phased in over LIFT_RAMP."""
    w = torch.tensor(LUMA, dtype=y.dtype, device=y.device).reshape(1, 3, 1, 1)
    mean = (y * w).sum(1).flatten(1).mean(1)
    amount = ((LIFT_RAMP[1] - mean) / (LIFT_RAMP[1] - LIFT_RAMP[0])).clamp(0, 1)
    logits = y.new_zeros(y.shape[0], K)
    if float(amount.max()) <= 0.0:
        return logits
    pos = y.flatten(1) * K
    idx = pos.floor().clamp(max=K - 1)
    frac, idx = pos - idx, idx.long()
    lo, hi = torch.full_like(mean, LIFT_GAMMA_MIN), torch.ones_like(mean)
    for _ in range(16):  # bisection: the mean luma falls as g rises
        g = (lo + hi) / 2
        knots = _lift_knots(g)
        a, b = torch.gather(knots, 1, idx), torch.gather(knots, 1, idx + 1)
        curved = (a + frac * (b - a)).reshape(y.shape)
        bright = (curved * w).sum(1).flatten(1).mean(1) > LIFT_TARGET
        lo, hi = torch.where(bright, g, lo), torch.where(bright, hi, g)
    inc = torch.log(_lift_knots(1 - amount * (1 - (lo + hi) / 2)).diff(dim=1).clamp_min(1e-6))
    return inc - inc.mean(1, keepdim=True)


def thumb_stats(x: torch.Tensor, points: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
    """Global statistics of images (B, 3, H, W) the net gets besides its own features.

    Exposure and white balance are gains in linear light, so most of these are log2 of
    linear-light values, where a gain is a shift: the mean and the 1/10/50/90/99 %
    quantiles of the linear luma, each channel's log2 mean relative to the luma's (a
    colour cast), and the same three channel ratios on the brightest tenth (a white
    reference); plus sRGB luma std, the shares of clipped and near-black pixels, the
    mean chroma, and the sRGB white and black points of :func:`anchor` (``points`` where
    already measured; 18 numbers, roughly unit scale)."""
    lin = srgb_to_linear(x).flatten(2)
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).reshape(1, 3, 1)
    luma = (lin * w).sum(dim=1)
    eps = 1e-4
    log_mean = torch.log2(luma.mean(1, keepdim=True) + eps)
    q = torch.quantile(luma, torch.tensor([0.01, 0.1, 0.5, 0.9, 0.99], dtype=x.dtype,
                                           device=x.device), dim=1).T
    cast = torch.log2(lin.mean(2) + eps) - log_mean
    bright = (luma >= torch.quantile(luma, 0.9, dim=1, keepdim=True)).unsqueeze(1).float()
    bright_mean = (lin * bright).sum(2) / bright.sum(2).clamp_min(1)
    bright_cast = torch.log2(bright_mean + eps) - torch.log2(
        (bright_mean * w[..., 0]).sum(1, keepdim=True) + eps)
    flat = x.flatten(2)
    srgb_luma = (flat * w).sum(dim=1)
    clip = (flat.amax(dim=1) >= 0.998).float().mean(dim=1, keepdim=True)
    dark = (srgb_luma <= 0.02).float().mean(dim=1, keepdim=True)
    chroma = (flat.amax(dim=1) - flat.amin(dim=1)).mean(dim=1, keepdim=True)
    white, black = points if points is not None else _levels_points(x)
    return torch.cat([log_mean / 4, torch.log2(q + eps) / 4, cast, bright_cast,
                      srgb_luma.std(1, keepdim=True) * 4, clip, dark, chroma * 2,
                      (1 - white[:, None]) * 4, black[:, None] * 4], dim=1)


N_STATS = 18


class ToneNet(nn.Module):
    """Four stride-2 convolutions on a THUMB x THUMB thumbnail, global pooling, the global
    statistics of :func:`thumb_stats`, and a two-layer head to the N_PARAMS raw outputs
    (zero-initialised, so an untrained net is the identity edit, or with ``anchored`` the
    rule-based edit of :func:`anchor`)."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128), hidden: int = 128,
                 anchored: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, stride=2, padding=1), nn.LeakyReLU(0.1)]
            c = w
        self.features = nn.Sequential(*layers)
        last = nn.Linear(hidden, N_PARAMS)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.head = nn.Sequential(nn.Linear(c + N_STATS, hidden), nn.LeakyReLU(0.1), last)
        self.widths = tuple(widths)
        self.hidden = hidden
        self.anchored = anchored

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs (B, N_PARAMS) for images (B, 3, H, W) in sRGB [0, 1], best a
        STATS_SIDE square (the statistics are measured on ``x``, the convolutions read its
        THUMB thumbnail); decode them with :meth:`ToneParams.decode`."""
        residual, base = self.parts(x)
        return residual if base is None else residual + base

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The net's own outputs and the anchor's (None for an unanchored net), whose sum
        is :meth:`forward`'s."""
        f = self.features(make_thumb(x) * 2 - 1).mean(dim=(2, 3))
        points = _levels_points(x)
        out: torch.Tensor = self.head(torch.cat([f, thumb_stats(x, points)], dim=1))
        return out, anchor(x, points) if self.anchored else None


def make_thumb(x: torch.Tensor, side: int = THUMB) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, side, side) by area averaging (aspect not kept)."""
    if x.shape[-2:] == (side, side):
        return x
    return F.interpolate(x, size=(side, side), mode="area") if min(x.shape[-2:]) >= side \
        else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def build_tone(config: dict[str, Any] | None = None) -> ToneNet:
    """A ToneNet from a model card's ``architecture.config``."""
    cfg = dict(config or {})
    widths = tuple(int(w) for w in cfg.get("widths", (16, 32, 64, 128)))
    return ToneNet(widths=widths, hidden=int(cfg.get("hidden", 128)),
                   anchored=bool(cfg.get("anchored", False)))
