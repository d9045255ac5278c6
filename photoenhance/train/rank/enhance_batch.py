"""Run the shipped enhancer on batches of same-sized images (labels and benchmarks).

Loads ``models/enhancer-v1.pt`` through its model card (architecture config, sha256) and
runs the network directly on whole batches, bf16 autocast and channels_last where the CPU
supports bf16: the same weights the app's enhancer uses, without its tiling, and with the
same automatic strength, blur hint and specialist network per image
(:mod:`photoenhance.core.ml.autostrength`), and the same do-no-harm guard
(:mod:`photoenhance.core.ml.guard`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from photoenhance.core.ml.autostrength import measure
from photoenhance.core.ml.device import cpu_has_native_bf16
from photoenhance.core.ml.guard import guard, weight_for_noise
from photoenhance.core.ml.infer import load_weights, specialist_paths
from photoenhance.core.ml.registry import weights_path


class BatchEnhancer:
    """``enhancer(uint8 batch (N, H, W, 3)) -> uint8 batch``, the shipped weights."""

    def __init__(self, path: Path | None = None, auto: bool = True) -> None:
        self.auto = auto
        self.path = path or weights_path()
        net, self.card, self.sha256 = load_weights(self.path)
        self.nets: dict[str | None, torch.nn.Module] = {None: net}
        for route, path in specialist_paths(self.path, self.card).items():
            self.nets[route] = load_weights(path)[0]
        for net in self.nets.values():
            net.eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.bf16 = cpu_has_native_bf16()

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255)
        x = x.contiguous(memory_format=torch.channels_last)
        measured = [measure(img) for img in batch] if self.auto else []
        # each photo through the network its measurement routes it to, as in the app
        routes = [m.route if m.route in self.nets else None for m in measured] or [None] * len(x)
        y = torch.empty_like(x)
        for route in dict.fromkeys(routes):
            idx = [i for i, r in enumerate(routes) if r == route]
            net = self.nets[route]
            cond, n_cond = None, int(getattr(net, "n_cond", 0))
            if n_cond:  # the blur hint; none without the automatic measurement
                cond = torch.zeros(len(idx), n_cond)
                cond[:, 0] = torch.tensor([measured[i].blur for i in idx]) if measured else 0.0
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                y[idx] = net(x[idx], cond).float()
            for i in idx:  # the guard, per photo, as the app runs it per tile
                measured_route = measured[i].route if measured else None
                y[i : i + 1] = guard(
                    x[i : i + 1], y[i : i + 1].clamp(0, 1),
                    patterns=measured_route not in ("jpeg", "blur"),
                    weight=weight_for_noise(measured[i].noise_sigma if measured else None))
        if measured:
            s = torch.tensor([m.strength for m in measured], dtype=torch.float32)
            y = x + s.view(-1, 1, 1, 1) * (y - x)
        y = y.clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return y.permute(0, 2, 3, 1).contiguous().numpy()

    def run(self, images: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """Enhance an (N, H, W, 3) uint8 array in batches."""
        return np.concatenate(
            [self(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
        )
