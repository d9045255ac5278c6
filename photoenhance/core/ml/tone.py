"""Global exposure, contrast and colour correction with the shipped ``models/tone-v1``.

``apply_tone(image, strength)`` returns the corrected image (same shape and dtype) and a
description in words ("exposure +1.2 EV, warmer"). The net
(:class:`photoenhance.core.ml.nets.tone.ToneNet`) reads a STATS_SIDE (128 px) downscale
and predicts a white-box edit (see that module for the form and why); here the edit is
turned into lookup tables and applied to the full photo band by band: per-channel tables
from the input codes, then (when saturation changes) a 3x3 mix, then the levels and the
shared tone curve as one table. That costs a few passes over the pixels, a small
fraction of the restorer's time.

Do no harm:

- ``strength`` (0..1) moves every parameter of the edit from the identity towards the
  model's prediction; 0 returns the input unchanged.
- Small edits are dropped: when the edit would change the thumbnail by less than
  :data:`DEAD_ZONE` 8-bit levels on average it is not applied at all, and it ramps in up to
  twice that. A well-exposed photo comes back bit-identical instead of nudged by the
  estimator's own noise.
- Confidence: the net also sees the thumbnail mirrored and the photo's centre; where the
  three predictions disagree (an ambiguous photo, such as a sunset or a night scene that
  may be intended), the edit is shrunk in proportion. For an anchored net, what is compared
  is each view's residual on the whole photo's anchor: the anchor's rule differs between
  views by framing alone (the centre of a night photo misses its lamps), which said nothing
  about the net's doubt and cancelled most low-light lifts.
- Highlights: the share of pixels with a channel at full scale may grow by at most
  :data:`MAX_EXTRA_CLIP` (0.5 %); the strength is lowered until it holds, checked on a
  subsample first and on the full result after.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from photoenhance.core.errors import ModelError, PhotoEnhanceError
from photoenhance.core.ml.kernels import parallel
from photoenhance.core.ml.nets.tone import (
    LUMA,
    STATS_SIDE,
    THUMB,
    ToneNet,
    ToneParams,
    build_tone,
    channel_curves,
    make_thumb,
    render,
)
from photoenhance.core.ml.registry import read_card, verify, weights_path

TONE = "tone-v1"
#: mean change (8-bit levels) below which the edit is not applied: on clean training photos
#: v1 changed less than 2.5 levels on 3 photos in 4, 3.7 on 9 in 10
#: (`python -m photoenhance.train.tone --calibrate`), its exposure fixes 39 (median). 2.1
#: changes the (often dark on purpose) clean wallpapers by 0.9 / 4.5 / 11.8 levels at the
#: 25th / 50th / 75th percentile and its exposure fixes by 19.9; 3 -> 4 levels took the
#: bench's clean photos from 53.3 / 40.9 / 79.8 dB to 55.0 / 50.3 / 91.9 dB (Kodak24 /
#: CBSD68 / LIVE1, output vs input) and moved the faulty rows by +0.02 dB
DEAD_ZONE = 4.0
#: most extra share of clipped pixels the edit may cause
MAX_EXTRA_CLIP = 0.005
#: pixels of the subsample used for the thumbnail-free checks (clipping, description)
SAMPLE_PIXELS = 250_000
#: levels of the tone-curve table applied to float values
CURVE_LEVELS = 16384
_BAND = 256
#: disagreement (8-bit levels on a grey ramp) between the three views at which the
#: confidence is one half
SPREAD = 4.0

_SCALE = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


@dataclass(frozen=True)
class ToneEdit:
    """What the tone step did to one photo."""

    description: str
    #: strength actually applied (after the dead zone, confidence and clipping guard)
    strength: float
    exposure_ev: float
    confidence: float


@dataclass(frozen=True)
class TonePlan:
    """The edit decided once for a photo, to render on the photo or any region of it (the
    compare view previews a region with the photo's own edit, as the copy will get it)."""

    #: the edit at the strength it is applied with; None when nothing is done
    params: ToneParams | None
    edit: ToneEdit

    def render(self, image: np.ndarray) -> np.ndarray:
        """``image`` (or a region of the planned photo) with the edit applied; same shape
        and dtype. A copy of ``image`` when the plan does nothing."""
        if self.params is None:
            return np.array(image, copy=True)
        return _apply_full(image, _as_rgb(image), self.params)[0]


class ToneModel:
    """The loaded tone net; :meth:`apply` corrects a photo, :meth:`plan` decides the edit
    without applying it."""

    def __init__(self, net: ToneNet, card: dict[str, Any], sha256: str) -> None:
        self.net = net.eval()
        self.card = card
        self.sha256 = sha256
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str | None = None) -> ToneModel:
        weights = Path(path) if path is not None else weights_path(TONE)
        card = read_card(weights)
        digest = verify(weights, card)
        try:
            net = build_tone(card.get("architecture", {}).get("config"))
            state = torch.load(weights, map_location="cpu", weights_only=True)
            net.load_state_dict({k: v.float() for k, v in state.items()})
        except Exception as e:  # corrupt pickle, wrong keys, wrong shapes
            raise ModelError(f"Model weights {weights.name} cannot be loaded: {e}") from e
        return cls(net, card, digest)

    @classmethod
    def from_net(cls, net: ToneNet, model_id: str = "custom") -> ToneModel:
        """A model around ``net`` (tests, checkpoints under evaluation)."""
        return cls(net, {"model_id": model_id, "version": "0"}, "")

    @property
    def model_id(self) -> str:
        return str(self.card.get("model_id", "photoenhance-tone"))

    def predict(self, rgb: np.ndarray) -> tuple[ToneParams, float]:
        """The edit for an HxWx3 image (any supported dtype) and its confidence (0..1)."""
        thumb, centre = _thumb(rgb), _thumb(_centre(rgb))
        with self._lock, torch.inference_mode():
            residual, base = self.net.parts(torch.cat([thumb, thumb.flip(-1), centre]))
            # the net's doubt, not the rule's: the views differ in framing, so each view's
            # residual is taken on the whole photo's anchor
            z = residual if base is None else residual + base[:1]
            views = ToneParams.decode(z)
            ramp = torch.linspace(0, 1, 32).reshape(1, 1, 1, 32).expand(3, 3, 1, 32)
            curves = render(ramp.contiguous(), views) * 255
        spread = float((curves - curves.mean(dim=0)).abs().mean())
        return ToneParams.decode(z[:1]), float(1.0 / (1.0 + (spread / SPREAD) ** 2))

    def apply(self, image: np.ndarray, strength: float = 1.0) -> tuple[np.ndarray, ToneEdit]:
        """Correct ``image`` (HxW, HxWx1, HxWx3 or HxWx4; uint8, uint16 or float in
        [0, 1]; alpha passes through); returns the same shape and dtype, and the edit."""
        rgb = _as_rgb(image)
        p, s, conf = self._strength(rgb, strength)
        none = ToneEdit("no change", 0.0, 0.0, conf)
        if p is None or s <= 0.0:
            return np.array(image, copy=True), none
        while True:
            out, extra = _apply_full(image, rgb, p.scaled(s))
            if extra <= MAX_EXTRA_CLIP or s < 0.02:
                break
            s *= 0.7
        if extra > MAX_EXTRA_CLIP:
            return np.array(image, copy=True), none
        return out, _edit(sample_codes(rgb), p.scaled(s), rgb.dtype, s, conf)

    def plan(self, image: np.ndarray, strength: float = 1.0) -> TonePlan:
        """The edit :meth:`apply` would make to ``image`` (its highlights checked on a
        subsample only: a reduced copy of the photo serves), to render on regions."""
        rgb = _as_rgb(image)
        p, s, conf = self._strength(rgb, strength)
        if p is None or s <= 0.0:
            return TonePlan(None, ToneEdit("no change", 0.0, 0.0, conf))
        return TonePlan(p.scaled(s), _edit(sample_codes(rgb), p.scaled(s), rgb.dtype, s, conf))

    def _strength(self, rgb: np.ndarray,
                  strength: float) -> tuple[ToneParams | None, float, float]:
        """The predicted edit, the strength to apply it with (after the dead zone, the
        confidence and the clipping guard on a subsample) and the confidence; no edit and
        no prediction at strength 0."""
        if not 0.0 <= strength <= 1.0:
            raise PhotoEnhanceError(f"Strength must be between 0 and 1, not {strength}.")
        if strength <= 0.0:
            return None, 0.0, 1.0
        p, conf = self.predict(rgb)
        sample = sample_codes(rgb)
        s = strength * conf * _dead_zone(sample, p, rgb.dtype)
        return p, _clip_guard(sample, p, s, rgb.dtype), conf


def _edit(sample: np.ndarray, p: ToneParams, dtype: np.dtype, s: float,
          conf: float) -> ToneEdit:
    return ToneEdit(describe(sample, p, dtype), s, _effective_ev(sample, p, dtype), conf)


_shipped: ToneModel | None = None
_shipped_lock = threading.Lock()


def shipped() -> ToneModel:
    """The shipped model, loaded once (raises ModelError when it is missing or damaged)."""
    global _shipped
    with _shipped_lock:
        if _shipped is None:
            _shipped = ToneModel.load()
        return _shipped


def apply_tone(image: np.ndarray, strength: float = 1.0,
               model: ToneModel | None = None) -> tuple[np.ndarray, str]:
    """Correct the exposure, contrast and colour of ``image`` with the shipped model (or
    ``model``); returns the corrected image (same shape and dtype) and what was done, in
    words ("exposure +1.2 EV, warmer", or "no change")."""
    out, edit = (model or shipped()).apply(image, strength)
    return out, edit.description


def plan_tone(image: np.ndarray, strength: float = 1.0,
              model: ToneModel | None = None) -> TonePlan:
    """The shipped model's (or ``model``'s) edit for ``image``, decided but not applied."""
    return (model or shipped()).plan(image, strength)


# ------------------------------------------------------------------ pixels


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise PhotoEnhanceError("Expected a non-empty HxW, HxWx3 or HxWx4 image array.")
    if image.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise PhotoEnhanceError(f"Unsupported image sample type {image.dtype}.")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] not in (3, 4):
        raise PhotoEnhanceError(f"Unsupported number of channels: {image.shape[2]}.")
    return image[..., :3]


def _levels(dtype: np.dtype) -> int:
    """Number of input codes the per-channel tables cover (floats are read as 16 bits)."""
    return 256 if dtype == np.uint8 else 65536


def _codes(rgb: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integer codes of ``rgb`` indexing the per-channel tables."""
    if dtype in (np.uint8, np.uint16):
        return rgb
    return np.clip(np.rint(np.asarray(rgb, np.float32) * 65535), 0, 65535).astype(np.uint16)


def sample_codes(rgb: np.ndarray) -> np.ndarray:
    """The subsample of an HxWx3 image the checks run on, as table codes."""
    return _codes(_subsample(rgb), rgb.dtype)


def _subsample(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    step = max(1, int(math.sqrt(h * w / SAMPLE_PIXELS)))
    return np.ascontiguousarray(rgb[::step, ::step])


def _centre(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[h // 8 : h - h // 8, w // 8 : w - w // 8]


def _thumb(rgb: np.ndarray) -> torch.Tensor:
    small = _subsample(rgb) if rgb.shape[0] * rgb.shape[1] > 4 * SAMPLE_PIXELS else rgb
    scale = _SCALE.get(small.dtype, 1)
    t = torch.from_numpy(np.ascontiguousarray(small, dtype=np.float32) / scale)
    return make_thumb(t.clamp(0, 1).permute(2, 0, 1)[None], STATS_SIDE)


@dataclass(frozen=True)
class _Tables:
    chan: np.ndarray  # (3, levels) sRGB after the per-channel step
    sat: float  # saturation factor
    curve: np.ndarray  # (CURVE_LEVELS,) tone curve on [0, 1]


def _tables(p: ToneParams, levels: int) -> _Tables:
    codes = torch.linspace(0, 1, levels).reshape(1, 1, levels).expand(1, 3, levels)
    with torch.inference_mode():
        chan = channel_curves(codes.contiguous(), p)[0].numpy().astype(np.float32)
        knots = np.concatenate([[0.0], np.cumsum(p.curve[0].numpy(), dtype=np.float64)])
    b, w = float(p.black[0]), float(p.white[0])
    xs = np.clip((np.linspace(0, 1, CURVE_LEVELS) - b) / (w - b), 0, 1)
    curve = np.interp(xs, np.linspace(0, 1, len(knots)), knots).astype(np.float32)
    return _Tables(chan, float(math.exp(float(p.sat[0]))), curve)


def _render_codes(codes: np.ndarray, t: _Tables) -> np.ndarray:
    """Float32 HxWx3 result in [0, 1] of the tables on integer ``codes``."""
    y = np.stack([t.chan[c][codes[..., c]] for c in range(3)], axis=-1)
    if abs(t.sat - 1.0) > 1e-6:
        luma = y @ np.asarray(LUMA, np.float32)
        y *= t.sat
        y += ((1.0 - t.sat) * luma)[..., None]
        np.clip(y, 0.0, 1.0, out=y)
    idx = (y * (CURVE_LEVELS - 1) + 0.5).astype(np.int32)
    return t.curve[idx]


def _fast_rows(codes: np.ndarray, t: _Tables, out: np.ndarray, in_top: int) -> int | None:
    """Write the edit of integer ``codes`` (HxWx3) into ``out`` (HxWx3+, its dtype) with
    table lookups only: three when saturation is unchanged, otherwise a shared luma term
    from three more tables and one add per channel. Channels are looked up as contiguous
    planes (strided lookups cost about three times more)."""
    top = CURVE_LEVELS - 1
    scale = _SCALE.get(out.dtype)
    curve = (np.rint(t.curve * scale) if scale is not None else t.curve).astype(out.dtype)
    if _KERNELS is not None:  # one compiled pass, the same arithmetic
        sat = abs(t.sat - 1.0) > 1e-6
        lut = np.stack([curve[(t.chan[c] * top + 0.5).astype(np.int32)] for c in range(3)])
        return int(parallel(
            _KERNELS.tone_rows, codes.shape[0], torch.get_num_threads(), codes, out, sat, lut,
            ((t.sat * top) * t.chan).astype(np.float32),
            (((1.0 - t.sat) * top) * np.asarray(LUMA, np.float32)[:, None] * t.chan
             ).astype(np.float32), curve, in_top, float(_SCALE.get(out.dtype, 1.0 - 0.5 / 255)),
            at=2))
    planes = np.ascontiguousarray(codes.transpose(2, 0, 1))
    if abs(t.sat - 1.0) <= 1e-6:
        for c in range(3):
            out[..., c] = curve[(t.chan[c] * top + 0.5).astype(np.int32)][planes[c]]
        return None
    a = (t.sat * top) * t.chan
    b = ((1.0 - t.sat) * top) * np.asarray(LUMA, np.float32)[:, None] * t.chan
    luma = b[0][planes[0]]
    luma += b[1][planes[1]]
    luma += b[2][planes[2]]
    luma += 0.5
    for c in range(3):
        v = a[c][planes[c]]
        v += luma
        np.clip(v, 0, top, out=v)
        out[..., c] = curve[v.astype(np.int32)]
    return None


def _load_kernels() -> ModuleType | None:
    """:mod:`.tone_kernels`, or None where numba cannot be imported (numpy then)."""
    try:
        from photoenhance.core.ml import tone_kernels
    except ImportError:
        return None
    return tone_kernels


_KERNELS = _load_kernels()


def _apply_full(image: np.ndarray, rgb: np.ndarray, p: ToneParams
                ) -> tuple[np.ndarray, float]:
    """The edit ``p`` on ``image`` (same shape and dtype), and the share of pixels it
    clips beyond the input's (counted in the same pass by the compiled loop)."""
    tables = _tables(p, _levels(rgb.dtype))
    out = np.empty_like(image)
    if image.ndim == 3 and image.shape[2] == 4:
        out[..., 3] = image[..., 3]
    scale = _SCALE.get(rgb.dtype)
    in_top = int(scale) if scale is not None else 65407  # float codes: x >= 1 - 0.5 / 255
    counted: int | None = 0
    for y0 in range(0, rgb.shape[0], _BAND):
        codes = _codes(rgb[y0 : y0 + _BAND], rgb.dtype)
        if image.ndim == 3 and image.shape[2] in (3, 4):
            extra = _fast_rows(codes, tables, out[y0 : y0 + _BAND], in_top)
            counted = None if counted is None or extra is None else counted + extra
            continue
        counted = None
        res = _render_codes(codes, tables).mean(axis=2)  # grey: the mean of the channels
        res = np.rint(res * scale) if scale is not None else res
        out[y0 : y0 + _BAND] = res.reshape(out[y0 : y0 + _BAND].shape).astype(rgb.dtype)
    if counted is None:
        return out, _clipped(_as_rgb(out)) - _clipped(rgb)
    return out, counted / (rgb.shape[0] * rgb.shape[1])


def _clipped(rgb: np.ndarray) -> float:
    """Share of pixels with a channel at full scale."""
    top = _SCALE.get(rgb.dtype, 1.0 - 0.5 / 255)
    hit = rgb[..., 0] >= top
    hit |= rgb[..., 1] >= top
    hit |= rgb[..., 2] >= top
    return float(np.count_nonzero(hit)) / hit.size


def _sample_out(sample: np.ndarray, p: ToneParams, dtype: np.dtype) -> np.ndarray:
    return _render_codes(sample, _tables(p, _levels(dtype)))


def _sample_in(sample: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return sample.astype(np.float32) / (_levels(dtype) - 1)


def edit_size(sample: np.ndarray, p: ToneParams, dtype: np.dtype) -> float:
    """Mean change (8-bit levels) the edit ``p`` makes to the subsample ``sample``."""
    return float(np.abs(_sample_out(sample, p, dtype) - _sample_in(sample, dtype)).mean()) * 255


def _dead_zone(sample: np.ndarray, p: ToneParams, dtype: np.dtype) -> float:
    """1 for edits that matter, 0 for ones under DEAD_ZONE levels of mean change, a ramp
    up to twice that."""
    return float(np.clip(edit_size(sample, p, dtype) / DEAD_ZONE - 1.0, 0.0, 1.0))


def _clip_guard(sample: np.ndarray, p: ToneParams, s: float, dtype: np.dtype) -> float:
    """The largest strength <= ``s`` (to 1/64) whose edit clips at most MAX_EXTRA_CLIP more
    of the subsample (a margin of a tenth is kept for the full photo)."""
    if s <= 0.0:
        return 0.0
    base = float((_sample_in(sample, dtype) >= 1.0 - 0.5 / 255).any(axis=2).mean())

    def extra(st: float) -> float:
        out = _sample_out(sample, p.scaled(st), dtype)
        return float((out >= 1.0 - 0.5 / 255).any(axis=2).mean()) - base

    if extra(s) <= 0.9 * MAX_EXTRA_CLIP:
        return s
    lo, hi = 0.0, s
    for _ in range(6):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if extra(mid) <= 0.9 * MAX_EXTRA_CLIP else (lo, mid)
    return lo


# ------------------------------------------------------------------ words


def _linear_luma(y: np.ndarray) -> float:
    lin = np.where(y <= 0.04045, y / 12.92, ((y + 0.055) / 1.055) ** 2.4)
    return float((lin @ np.asarray(LUMA, np.float32)).mean())


def _effective_ev(sample: np.ndarray, p: ToneParams, dtype: np.dtype) -> float:
    before = _linear_luma(_sample_in(sample, dtype))
    after = _linear_luma(_sample_out(sample, p, dtype))
    return float(math.log2(max(after, 1e-6) / max(before, 1e-6)))


def describe(sample: np.ndarray, p: ToneParams, dtype: np.dtype) -> str:
    """What the edit ``p`` does to the photo whose subsample is ``sample``, in words."""
    words = []
    ev = _effective_ev(sample, p, dtype)
    if abs(ev) >= 0.15:
        words.append(f"exposure {ev:+.1f} EV")
    w = np.asarray(LUMA, np.float32)
    sd_in = float((_sample_in(sample, dtype) @ w).std())
    sd_out = float((_sample_out(sample, p, dtype) @ w).std())
    ratio = sd_out / max(sd_in, 1e-6)
    if ratio >= 1.15:
        words.append("more contrast")
    elif ratio <= 0.87:
        words.append("less contrast")
    curve = p.curve[0]
    if float(curve[: curve.shape[0] // 4].sum()) >= 0.25 + 0.1:  # a quarter's level, lifted
        words.append("brighter shadows")
    temp, tint = float(p.temp[0]), float(p.tint[0])
    if abs(temp) >= 0.1:
        words.append("warmer" if temp > 0 else "cooler")
    if abs(tint) >= 0.08:
        words.append("less green" if tint > 0 else "more green")
    haze = float(p.offset[0].mean())
    if haze >= 0.02:
        words.append("less haze")
    elif haze <= -0.02:
        words.append("lifted shadows")
    if abs(float(p.sat[0])) >= 0.1:
        words.append("more saturated" if float(p.sat[0]) > 0 else "less saturated")
    return ", ".join(words) or "no change"


__all__ = ["DEAD_ZONE", "MAX_EXTRA_CLIP", "THUMB", "TONE", "ToneEdit", "ToneModel", "TonePlan",
           "apply_tone", "describe", "plan_tone", "shipped"]
