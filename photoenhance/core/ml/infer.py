"""Run the enhancement model on whole photos: tiled, bounded in memory, cancellable.

``Enhancer.load()`` reads the shipped ``models/enhancer-v1.pt`` (checked against the sha256 in
its model card, as are the specialists the card lists) and ``Enhancer.enhance(image)``
restores an HxW, HxWx3 or HxWx4 array of uint8, uint16 or float32 and returns the same shape
and dtype.

The image is cut into ``tile``-sized tiles overlapping by ``overlap`` pixels and processed one
row of tiles (a band) at a time. Each tile is converted to float on its own, the overlaps are
blended with linear ramps (normalised up front, so no weight-sum image and no division), and
rows are written to the output in its own dtype as soon as no later tile touches them: float
memory is bounded by about two bands, never the whole photo. The CancelToken is checked
before every tile and the progress callback called after each. Call from one worker thread:
``torch.inference_mode`` is entered per call.

On CPU the net runs through :class:`FusedUNet`: the same weights and the same oneDNN
convolutions, with each ResBlock's ReLU and residual add fused into its convolutions
(bit-identical output, fewer passes over memory). It checks itself against the plain module
once and falls back to it where the fused ops are missing or disagree.

Every tile's output passes the do-no-harm guard (:mod:`photoenhance.core.ml.guard`) before
it is blended: it gives back the detail and colour the net removed where the removed part
is not noise. It sees the tile with its overlap, so its smooth maps blend without seams.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from photoenhance.core.errors import ModelError, PhotoEnhanceError
from photoenhance.core.ml import autostrength
from photoenhance.core.ml.device import pick_device, use_bf16
from photoenhance.core.ml.guard import GuardStats, guard
from photoenhance.core.ml.guard import warm as warm_guard
from photoenhance.core.ml.nets import EnhanceUNet, build
from photoenhance.core.ml.plan import EnhancePlan, plan_photo
from photoenhance.core.ml.registry import read_card, verify, weights_path
from photoenhance.core.progress import CancelToken, EtaEstimator, Progress, ProgressCallback

_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}

#: Default tile side. Bigger tiles waste less on overlap (512: ~16 % extra work on a 24 MP
#: photo, 1024: ~8 %) at about the same speed per pixel on CPU; a 1024 tile needs ~0.3 GB.
DEFAULT_TILE = 1024


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of each tile along one axis, neighbours sharing at least ``overlap`` px.

    Uses as few tiles as ``tile`` allows, then shrinks them evenly (to a multiple of 16) so
    little work is wasted on overlap. Starts are even, so every tile sees the same
    pixel-unshuffle phase as the whole image; the last tile runs to the end.
    """
    if length <= tile + 1:
        return [(0, length)]
    n = math.ceil((length - overlap) / max(1, tile - overlap - 2))
    t = min(tile, -(-(math.ceil((length + (n - 1) * overlap) / n) + 2) // 16) * 16)
    starts = [(i * (length - t) // (n - 1)) // 2 * 2 for i in range(n)]
    return [(st, st + t) for st in starts[:-1]] + [(starts[-1], length)]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    return [st for st, _ in tile_spans(length, tile, overlap)]


def _ramp(n: int, lo: int, hi: int) -> np.ndarray:
    """Blend weights along one tile axis for overlaps of ``lo`` and ``hi`` px at its ends.

    Inside an overlap the outer quarter (next to the tile's edge, where the net saw padding
    instead of real context) gets almost no weight; the middle half ramps linearly.
    """
    w = np.ones(n, np.float32)
    for o, side in ((lo, 1), (hi, -1)):
        if o <= 0:
            continue
        m = o // 4
        r = np.clip((np.arange(o, dtype=np.float32) - m + 1) / (o - 2 * m + 1), 1e-3, 1.0)
        if side == 1:
            w[:o] = np.minimum(w[:o], r)
        else:
            w[n - o :] = np.minimum(w[n - o :], r[::-1])
    return w


class FusedUNet:
    """Inference-only forward of an :class:`EnhanceUNet` with oneDNN post-op fusion (CPU).

    Reads the module's own parameters (nothing is copied or renamed, so a fine-tuned
    checkpoint loads as before). ``conv -> ReLU`` runs as one oneDNN convolution with a ReLU
    post-op and ``x + conv(t)`` as one convolution that accumulates into ``x`` (a sum
    post-op), which is exactly what the module computes, minus three passes over memory
    per ResBlock. The head (pixel-unshuffle, then a 3x3 conv at half resolution) runs as the
    equivalent 6x6 stride-2 conv on the full-resolution input, which oneDNN does ~1.5x
    faster and without the unshuffle pass.
    """

    def __init__(self, net: EnhanceUNet) -> None:
        self.net = net
        self._ops = torch.ops.mkldnn

    def _head6(self) -> torch.Tensor:
        """The head's weights as a 6x6 stride-2 kernel (tiny; rebuilt per call, so it always
        follows the module's current weights)."""
        hw = self.net.head.weight.detach()  # (out, 4 * in, 3, 3), input channel c*4 + 2*i + j
        o, c4 = hw.shape[:2]
        k6 = hw.reshape(o, c4 // 4, 2, 2, 3, 3).permute(0, 1, 4, 2, 5, 3)  # [o,c,dy,i,dx,j]
        return k6.reshape(o, c4 // 4, 6, 6).contiguous(memory_format=torch.channels_last)

    def _conv(
        self, x: torch.Tensor, conv: Any, attr: str = "none", offset: torch.Tensor | None = None
    ) -> torch.Tensor:
        pad = [int(p) for p in conv.padding]
        bias = conv.bias if offset is None else conv.bias + offset
        y: torch.Tensor = self._ops._convolution_pointwise(
            x, conv.weight, bias, pad, list(conv.stride), [1, 1], 1, attr, [], ""
        )
        return y

    def _stage(self, x: torch.Tensor, stage: Any) -> torch.Tensor:
        for block in stage:
            t = self._conv(x, block.conv1, "relu")
            c2 = block.conv2
            x = self._ops._convolution_pointwise_(  # x += conv2(t), in place
                x, t, c2.weight, c2.bias, [1, 1], [1, 1], [1, 1], 1, "add", 1.0, None, [], None
            )
        return x

    def __call__(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The net on ``x`` (one image); ``cond`` (1, n) as for :meth:`EnhanceUNet.forward`,
        folded into the biases it offsets."""
        net = self.net
        xp, h, w = net._pad(x)  # noqa: SLF001 - the module's own padding rule
        enc_off, up_off = net.cond_offsets(cond, 1)
        enc_b: list[torch.Tensor | None] = [o.flatten() for o in enc_off] or [None] * len(net.enc)
        up_b: list[torch.Tensor | None] = [o.flatten() for o in up_off] or [None] * len(net.up)
        head_b = net.head.bias if enc_b[0] is None else net.head.bias + enc_b[0]  # type: ignore[operator]
        f: torch.Tensor = self._ops._convolution_pointwise(
            xp, self._head6(), head_b, [2, 2], [2, 2], [1, 1], 1, "none", [], ""
        )
        skips = []
        for i, stage in enumerate(net.enc):
            f = self._stage(f, stage)
            if i < len(net.down):
                skips.append(f)
                f = self._conv(f, net.down[i], offset=enc_b[i + 1])
        for i in reversed(range(len(net.up))):
            up: Any = net.up[i]
            f = F.pixel_shuffle(self._conv(f, up[0], offset=up_b[i]), 2)
            f = (
                f.add_(skips[i])
                if f.is_contiguous(memory_format=torch.channels_last)
                else (f + skips[i])
            )
            f = self._stage(f, net.dec[i])
        out = xp + F.pixel_shuffle(self._conv(f, net.tail), 2)
        return out[..., :h, :w].clamp_(0.0, 1.0)


def fast_forward(model: torch.nn.Module, device: torch.device) -> Any:
    """The fastest exact forward for ``model`` on ``device``: fused on CPU, else the module.

    The fused path is used only after it reproduces the module on a small input (it relies
    on oneDNN ops that a PyTorch build may lack); ``PHOTOENHANCE_FUSED=0`` turns it off.
    """
    if (
        device.type != "cpu"
        or not isinstance(model, EnhanceUNet)
        or os.environ.get("PHOTOENHANCE_FUSED") == "0"
        or not torch.backends.mkldnn.is_available()  # type: ignore[no-untyped-call]
    ):
        return model
    fused = FusedUNet(model)
    try:
        with torch.inference_mode():
            g = torch.Generator().manual_seed(0)
            x = torch.rand(1, 3, 40, 56, generator=g).contiguous(memory_format=torch.channels_last)
            same = torch.allclose(fused(x), model(x), atol=1e-4)
            if model.n_cond:
                c = torch.rand(1, model.n_cond, generator=g)
                same = same and torch.allclose(fused(x, c), model(x, c), atol=1e-4)
    except Exception:  # noqa: BLE001 - an op missing from this build: use the module
        return model
    return fused if same else model


class Enhancer:
    """A loaded restoration model. Build with :meth:`load` (or :meth:`from_model` in tests).

    A model card may list specialists (``"experts": {"noise": "enhancer-v1-noise.pt"}``):
    networks of the same family trained mostly on one fault (each built from the shape in
    its own card), used for photos whose automatic measurement routes there
    (:attr:`AutoStrength.route`). They load on first use.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        device: torch.device,
        card: dict[str, Any],
        sha256: str,
        experts: dict[str, Path] | None = None,
        expert_ids: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self._device = device
        self._bf16 = use_bf16(device)
        self._card = card
        self._sha256 = sha256
        self._experts = dict(experts or {})
        #: (model id, sha256) of each specialist, for the provenance of the copies it makes
        self._expert_ids = dict(expert_ids or {})
        self._nets: dict[str | None, tuple[Any, int]] = {None: self._prepare(model)}
        self._lock = threading.Lock()
        #: run the do-no-harm guard (:mod:`photoenhance.core.ml.guard`) on every tile
        self.guarded = True
        #: what the guard did in the last :meth:`enhance` call
        self.guard_stats = GuardStats()
        if device.type == "cpu":
            warm_guard()  # its compiled loops load with the model, not on the first tile

    def _prepare(self, model: torch.nn.Module) -> tuple[Any, int]:
        """The forward to call for ``model`` on this device, and its number of hints."""
        model = model.eval().to(self._device).to(memory_format=torch.channels_last)
        forward = model if self._bf16 else fast_forward(model, self._device)
        return forward, int(getattr(model, "n_cond", 0))

    def _net(self, route: str | None) -> tuple[Any, int]:
        """The network for ``route`` (the general one where there is no such specialist)."""
        if route in self._nets:
            return self._nets[route]
        if route not in self._experts:
            return self._nets[None]
        with self._lock:
            if route not in self._nets:
                model, _, _ = load_weights(self._experts[route])
                self._nets[route] = self._prepare(model)
            return self._nets[route]

    @classmethod
    def load(
        cls, path: Path | str | None = None, device: str | torch.device | None = None
    ) -> Enhancer:
        """Load weights (default: the shipped model), verified against their model card."""
        weights = Path(path) if path is not None else weights_path()
        model, card, digest = load_weights(weights)
        experts = specialist_paths(weights, card)
        ids = {}
        for route, expert in experts.items():
            expert_card = read_card(expert)  # a missing or damaged file fails now, not later
            ids[route] = (str(expert_card.get("model_id", expert.stem)),
                          verify(expert, expert_card))
        return cls(model, pick_device(device), card, digest, experts, ids)

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        device: str | torch.device | None = None,
        model_id: str = "custom",
        version: str = "0",
        experts: dict[str, torch.nn.Module] | None = None,
    ) -> Enhancer:
        enh = cls(model, pick_device(device), {"model_id": model_id, "version": version}, "")
        for route, net in (experts or {}).items():
            enh._nets[route] = enh._prepare(net)
            enh._expert_ids[route] = (f"{model_id}-{route}", "")
        return enh

    @property
    def model_id(self) -> str:
        return str(self._card.get("model_id", "photoenhance-enhancer"))

    @property
    def version(self) -> str:
        return str(self._card.get("version", ""))

    @property
    def sha256(self) -> str:
        return self._sha256

    @property
    def card(self) -> dict[str, Any]:
        return dict(self._card)

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def takes_blur(self) -> bool:
        """Whether the model can be told how blurred a photo is (the ``blur`` argument)."""
        return self._nets[None][1] > 0

    @property
    def routes(self) -> tuple[str, ...]:
        """The faults this enhancer has a specialist network for."""
        return tuple(dict.fromkeys([*self._experts, *(r for r in self._nets if r)]))

    def specialist(self, route: str | None) -> tuple[str, str] | None:
        """(model id, sha256) of the specialist that serves ``route``; ``None``: the general
        network does."""
        return self._expert_ids.get(route) if route else None

    @staticmethod
    def plan(image: np.ndarray, auto: bool = True) -> EnhancePlan:
        """Decide once what to do with ``image`` (the whole photo): the strength it needs, the
        network, the blur hint and the guard's weight (:func:`plan_photo`). Pass the plan to
        :meth:`enhance`; with ``auto`` False nothing is measured."""
        return plan_photo(image, auto)

    def enhance(
        self,
        image: np.ndarray,
        strength: float = 1.0,
        tile: int | None = None,
        overlap: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        auto: bool = True,
        blur: float | None = None,
        route: str | None = None,
        noise: float | None = None,
        plan: EnhancePlan | None = None,
    ) -> np.ndarray:
        """Restore ``image``; returns an array of the same shape and dtype.

        Args:
            image: HxW (grey), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA: alpha passes through), in
                uint8, uint16 or float32/float64 in [0, 1].
            strength: 0 returns the input, 1 the full model output, in between a blend.
            tile: tile side in pixels (memory is bounded by it, not by the image size);
                ``None``: :data:`DEFAULT_TILE`.
            overlap: pixels shared by neighbouring tiles, blended with linear ramps.
            plan: what to do with the photo (:meth:`plan`, made once per photo by the batch
                and the preview): its need scales ``strength``, and it gives the network, the
                blur hint and the guard's weight. ``None``: planned here, from ``auto``.
            auto: without ``plan``, measure ``image`` to plan it, so clean photos are left
                alone; ``False``: the unmeasured plan (plain strength, general network).
            blur, route, noise: override the plan's blur hint (0-1, for a model that
                :attr:`takes_blur`), route (which picks a specialist network) and noise
                sigma (which weighs the guard's checks, :func:`guard.weight_for_noise`).
        """
        if not 0.0 <= strength <= 1.0:
            raise PhotoEnhanceError(f"Strength must be between 0 and 1, not {strength}.")
        rgb, out, write = _to_rgb(image)  # validates the shape and dtype
        plan = plan if plan is not None else self.plan(image, auto)
        if blur is not None or route is not None or noise is not None:
            plan = replace(plan, blur=plan.blur if blur is None else blur,
                           route=plan.route if route is None else route,
                           noise=plan.noise if noise is None else noise)
        strength *= plan.need
        self.guard_stats = GuardStats()  # this call's, even when it returns the photo as is
        if strength <= 0.0:  # nothing to correct: the photo comes back as it is
            if progress is not None:
                progress(Progress(1, 1, message="Enhancing"))
            return np.array(image, copy=True)
        forward, n_cond = self._net(plan.route)  # a specialist loads only when it has work
        patterns, weight = plan.patterns, plan.guard_weight
        cond = None
        if n_cond:
            cond = torch.zeros(1, n_cond, device=self._device)
            cond[0, 0] = float(np.clip(plan.blur or 0.0, 0.0, 1.0))
        tile = max(16, int(tile or DEFAULT_TILE))
        overlap = max(0, min(int(overlap), tile // 2))
        h, w = rgb.shape[:2]
        scale = _SCALE.get(rgb.dtype, 1.0)
        ys, xs = tile_spans(h, tile, overlap), tile_spans(w, tile, overlap)
        wys, wxs = _weights(ys), _weights(xs)
        total = len(ys) * len(xs)
        eta = EtaEstimator(total)
        done, base = 0, 0
        acc = torch.zeros(0, w, 3)  # rows [base, base + len(acc)) not yet written
        with torch.inference_mode():
            for yi, (y0, y1) in enumerate(ys):
                acc = _extend(acc, y1 - base)
                wy = wys[yi][:, None, None]
                for xi, (x0, x1) in enumerate(xs):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    res = self._run(forward, rgb[y0:y1, x0:x1], scale, strength, cond,
                                    patterns, weight)
                    wt = wy * wxs[xi][None, :, None]
                    acc[y0 - base : y1 - base, x0:x1].addcmul_(res, wt)
                    done += 1
                    if progress is not None:
                        progress(Progress(done, total, message="Enhancing", eta_s=eta.update(done)))
                final = ys[yi + 1][0] if yi + 1 < len(ys) else h
                write(out, base, acc[: final - base])
                acc, base = acc[final - base :].clone(), final
        return out

    def _run(
        self,
        forward: Any,
        src: np.ndarray,
        scale: float,
        strength: float,
        cond: torch.Tensor | None = None,
        patterns: bool = True,
        weight: float = 1.0,
    ) -> torch.Tensor:
        """Model on one HxWx3 tile, guarded; returns a float32 HxWx3 CPU tensor in [0, 1]."""
        arr = np.ascontiguousarray(src)
        if not arr.flags.writeable:  # torch warns on read-only arrays (decoded photos are)
            arr = arr.copy()
        t = torch.from_numpy(arr).to(torch.float32)
        if scale != 1.0:
            t.div_(scale)
        t = t.clamp_(0, 1).permute(2, 0, 1)[None]  # HWC memory is channels_last already
        t = t.to(self._device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(self._device.type, dtype=torch.bfloat16, enabled=self._bf16):
            y = forward(t) if cond is None else forward(t, cond)
        y = y.float()
        if self.guarded:
            y = guard(t, y, self.guard_stats, patterns, weight, overwrite=True)
        if strength < 1.0:
            y = t + strength * (y - t)
        out: torch.Tensor = y[0].permute(1, 2, 0).clamp_(0, 1).cpu()
        return out


def specialist_paths(weights: Path, card: dict[str, Any]) -> dict[str, Path]:
    """The specialist weights ``card`` (the general model's) lists, by route, next to it."""
    listed = card.get("experts") or {}
    if not isinstance(listed, dict):
        raise ModelError(f"Model card of {weights.name} lists its specialists wrongly.")
    for route in listed:
        if route not in autostrength.ROUTES:
            raise ModelError(f"Model card of {weights.name} names an unknown route {route!r}.")
    return {str(k): weights.with_name(str(v)) for k, v in listed.items()}


def load_weights(weights: Path) -> tuple[torch.nn.Module, dict[str, Any], str]:
    """The network in ``weights``, its model card and sha256, checked against each other."""
    card = read_card(weights)
    digest = verify(weights, card)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model = build(card.get("architecture", {}).get("config"))
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as e:  # corrupt pickle, wrong keys, wrong shapes
        raise ModelError(f"Model weights {weights.name} cannot be loaded: {e}") from e
    return model, card, digest


def _extend(acc: torch.Tensor, rows: int) -> torch.Tensor:
    """``acc`` grown (with zeros) to ``rows`` rows."""
    if len(acc) >= rows:
        return acc
    grown = torch.zeros(rows, *acc.shape[1:])
    grown[: len(acc)] = acc
    return grown


def _weights(spans: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Blend ramps for each span, divided by their sum so every pixel's weights add up to 1.

    The tile grid is a product of row and column spans, so normalising each axis normalises
    the 2-D weights too.
    """
    length = spans[-1][1]
    ramps = [_ramp(b - a, *_overlaps(spans, i)) for i, (a, b) in enumerate(spans)]
    total = np.zeros(length, np.float32)
    for (a, b), r in zip(spans, ramps, strict=True):
        total[a:b] += r
    return [torch.from_numpy(r / total[a:b]) for (a, b), r in zip(spans, ramps, strict=True)]


def _overlaps(spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
    """Pixels tile ``i`` shares with its previous and its next neighbour along one axis."""
    lo = spans[i - 1][1] - spans[i][0] if i > 0 else 0
    hi = spans[i][1] - spans[i + 1][0] if i + 1 < len(spans) else 0
    return lo, hi


def _to_rgb(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """Split ``image`` into an HxWx3 view, an output array like it, and a row writer.

    ``write(out, y, rows)`` stores float RGB ``rows`` (a tensor, values in [0, 1]) into
    ``out`` from row ``y`` on, in the image's own form (grey, alpha, dtype).
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise PhotoEnhanceError("Expected a non-empty HxW, HxWx3 or HxWx4 image array.")
    dtype = image.dtype
    if dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise PhotoEnhanceError(f"Unsupported image sample type {dtype}.")
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels not in (1, 3, 4):
        raise PhotoEnhanceError(f"Unsupported number of channels: {channels}.")
    if channels == 1:
        grey = image if image.ndim == 2 else image[..., 0]
        rgb = np.repeat(grey[..., None], 3, axis=2)
    else:
        rgb = image[..., :3]
    out = np.empty_like(image)
    if channels == 4:
        out[..., 3:] = image[..., 3:]
    scale = _SCALE.get(np.dtype(dtype))

    def write(dst: np.ndarray, y: int, rows: torch.Tensor) -> None:
        res = rows.mean(dim=2, keepdim=True) if channels == 1 else rows
        if scale is not None:
            res = (res * scale).round_()
            arr = res.to(torch.uint8).numpy() if dtype == np.uint8 else res.numpy().astype(dtype)
        else:
            arr = res.numpy().astype(dtype, copy=False)
        n = arr.shape[0]
        if image.ndim == 2:
            dst[y : y + n] = arr[..., 0]
        else:
            dst[y : y + n, :, : arr.shape[2]] = arr

    return rgb, out, write
