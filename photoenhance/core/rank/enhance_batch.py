"""Run the shipped enhancer on batches of same-sized images (labels and benchmarks).

Loads ``models/enhancer-v1.pt`` through its model card (architecture config, sha256) and
runs the network directly on whole batches, bf16 autocast and channels_last where the CPU
supports bf16: the same weights the app's enhancer uses, without its tiling, and with the
same automatic strength and blur hint per image (:mod:`photoenhance.core.ml.autostrength`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from photoenhance.core.ml.autostrength import measure
from photoenhance.core.ml.device import cpu_has_native_bf16
from photoenhance.core.ml.nets import build
from photoenhance.core.ml.registry import read_card, verify, weights_path


class BatchEnhancer:
    """``enhancer(uint8 batch (N, H, W, 3)) -> uint8 batch``, the shipped weights."""

    def __init__(self, path: Path | None = None, auto: bool = True) -> None:
        self.auto = auto
        self.path = path or weights_path()
        card = read_card(self.path)
        self.sha256 = verify(self.path, card)
        self.card = card
        self.net = build(card["architecture"]["config"])
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        self.net.load_state_dict({k: v.float() for k, v in state.items()})
        self.net.eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.bf16 = cpu_has_native_bf16()

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255)
        x = x.contiguous(memory_format=torch.channels_last)
        measured = [measure(img) for img in batch] if self.auto else []
        cond = None
        if self.net.n_cond:  # the blur hint; none without the automatic measurement
            cond = torch.zeros(len(batch), self.net.n_cond)
            cond[:, 0] = torch.tensor([m.blur for m in measured]) if measured else 0.0
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            y = self.net(x, cond)
        y = y.float()
        if measured:
            s = torch.tensor([m.strength for m in measured], dtype=torch.float32)
            y = x + s.view(-1, 1, 1, 1) * (y - x)
        y = y.clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        return y.permute(0, 2, 3, 1).contiguous().numpy()

    def run(self, images: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """Enhance an (N, H, W, 3) uint8 array in batches."""
        return np.concatenate([self(images[i:i + batch_size])
                               for i in range(0, len(images), batch_size)])
