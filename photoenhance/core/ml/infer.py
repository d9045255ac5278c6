"""Run the enhancement model on whole photos: tiled, bounded in memory, cancellable.

``Enhancer.load()`` reads the shipped ``models/enhancer-v1.pt`` (checked against the sha256 in
its model card) and ``Enhancer.enhance(image)`` restores an HxW, HxWx3 or HxWx4 array of
uint8, uint16 or float32 and returns the same shape and dtype.

The image is cut into ``tile``-sized tiles overlapping by ``overlap`` pixels. Each tile is
converted to float on its own (the whole image is never held in float at once besides the
output accumulator) and the overlaps are blended with linear ramps, so there are no seams.
The CancelToken is checked before every tile and the progress callback called after each.
Call from one worker thread: ``torch.inference_mode`` is entered per call.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photoenhance.core.errors import ModelError, PhotoEnhanceError
from photoenhance.core.jobs.cancel import CancelToken, EtaEstimator, Progress, ProgressCallback
from photoenhance.core.ml.device import pick_device, use_bf16
from photoenhance.core.ml.nets import build
from photoenhance.core.ml.registry import read_card, verify, weights_path

_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


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


class Enhancer:
    """A loaded restoration model. Build with :meth:`load` (or :meth:`from_model` in tests)."""

    def __init__(
        self, model: torch.nn.Module, device: torch.device, card: dict[str, Any], sha256: str
    ) -> None:
        self._model = model.eval().to(device).to(memory_format=torch.channels_last)
        self._device = device
        self._bf16 = use_bf16(device)
        self._card = card
        self._sha256 = sha256

    @classmethod
    def load(
        cls, path: Path | str | None = None, device: str | torch.device | None = None
    ) -> Enhancer:
        """Load weights (default: the shipped model), verified against their model card."""
        weights = Path(path) if path is not None else weights_path()
        card = read_card(weights)
        digest = verify(weights, card)
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            model = build(card.get("architecture", {}).get("config"))
            model.load_state_dict({k: v.float() for k, v in state.items()})
        except Exception as e:  # corrupt pickle, wrong keys, wrong shapes
            raise ModelError(f"Model weights {weights.name} cannot be loaded: {e}") from e
        return cls(model, pick_device(device), card, digest)

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        device: str | torch.device | None = None,
        model_id: str = "custom",
        version: str = "0",
    ) -> Enhancer:
        return cls(model, pick_device(device), {"model_id": model_id, "version": version}, "")

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

    def enhance(
        self,
        image: np.ndarray,
        strength: float = 1.0,
        tile: int = 512,
        overlap: int = 32,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Restore ``image``; returns an array of the same shape and dtype.

        Args:
            image: HxW (grey), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA: alpha passes through), in
                uint8, uint16 or float32/float64 in [0, 1].
            strength: 0 returns the input, 1 the full model output, in between a blend.
            tile: tile side in pixels (memory is bounded by it, not by the image size).
            overlap: pixels shared by neighbouring tiles, blended with linear ramps.
        """
        rgb, restore = _to_rgb(image)
        if not 0.0 <= strength <= 1.0:
            raise PhotoEnhanceError(f"Strength must be between 0 and 1, not {strength}.")
        tile = max(16, int(tile))
        overlap = max(0, min(int(overlap), tile // 2))
        h, w = rgb.shape[:2]
        scale = _SCALE.get(rgb.dtype, 1.0)
        acc = np.zeros((h, w, 3), np.float32)
        wsum = np.zeros((h, w, 1), np.float32)
        ys, xs = tile_spans(h, tile, overlap), tile_spans(w, tile, overlap)
        total = len(ys) * len(xs)
        eta = EtaEstimator(total)
        done = 0
        with torch.inference_mode():
            for yi, (y0, y1) in enumerate(ys):
                wy = _ramp(y1 - y0, *_overlaps(ys, yi))
                for xi, (x0, x1) in enumerate(xs):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    out = self._run(rgb[y0:y1, x0:x1], scale, strength)
                    wt = wy[:, None, None] * _ramp(x1 - x0, *_overlaps(xs, xi))[None, :, None]
                    acc[y0:y1, x0:x1] += out * wt
                    wsum[y0:y1, x0:x1] += wt
                    done += 1
                    if progress is not None:
                        progress(Progress(done, total, message="Enhancing", eta_s=eta.update(done)))
        acc /= wsum
        return restore(acc)

    def _run(self, src: np.ndarray, scale: float, strength: float) -> np.ndarray:
        """Model on one HxWx3 tile; returns float32 HxWx3 in [0, 1]."""
        t = torch.from_numpy(np.ascontiguousarray(src).astype(np.float32))
        if scale != 1.0:
            t /= scale
        t = t.clamp_(0, 1).permute(2, 0, 1)[None].to(self._device)
        t = t.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self._device.type, dtype=torch.bfloat16, enabled=self._bf16):
            y = self._model(t)
        y = y.float()
        if strength < 1.0:
            y = t + strength * (y - t)
        return y[0].permute(1, 2, 0).clamp_(0, 1).cpu().numpy()


def _overlaps(spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
    """Pixels tile ``i`` shares with its previous and its next neighbour along one axis."""
    lo = spans[i - 1][1] - spans[i][0] if i > 0 else 0
    hi = spans[i][1] - spans[i + 1][0] if i + 1 < len(spans) else 0
    return lo, hi


def _to_rgb(image: np.ndarray) -> tuple[np.ndarray, Any]:
    """Split ``image`` into an HxWx3 view and a function turning float RGB back into its form."""
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

    def restore(out: np.ndarray) -> np.ndarray:
        res = out.mean(axis=2, keepdims=True) if channels == 1 else out
        if dtype in (np.uint8, np.uint16):
            res = np.rint(res * _SCALE[np.dtype(dtype)]).astype(dtype)
        else:
            res = res.astype(dtype)
        if channels == 1:
            return res[..., 0] if image.ndim == 2 else res
        if channels == 4:
            return np.concatenate([res, image[..., 3:]], axis=2)
        return res

    return rgb, restore
