"""Device and precision choice for inference and training.

bf16 autocast only pays off on CPUs with native bf16 (AVX512-BF16 or AMX). On AVX2-only
CPUs (such as this project's AMD EPYC build machines) it was measured about 13x *slower*
than fp32, so it is used only where the CPU flags say it is native. ``PHOTOENHANCE_BF16``
(``0``/``1``) overrides the choice.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch


def pick_device(device: str | torch.device | None = None) -> torch.device:
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@functools.cache
def cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def use_bf16(device: torch.device) -> bool:
    env = os.environ.get("PHOTOENHANCE_BF16")
    if env in ("0", "1"):
        return env == "1"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()
