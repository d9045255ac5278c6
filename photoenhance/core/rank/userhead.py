"""The user's own last layer, fitted by ``photoenhance calibrate``, kept in the data dir.

The shipped weights are never modified: the user head is a separate file keyed by the
shipped model's sha256, so a new model version ignores heads fitted for an old one.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from photoenhance.core.paths import data_dir


def user_head_path(model_sha256: str) -> Path:
    return data_dir() / "rank" / f"user-head-{model_sha256[:16]}.pt"


def save_user_head(head: nn.Linear, model_sha256: str, meta: dict[str, float | int | str]) -> Path:
    """Write ``head`` atomically; returns its path."""
    path = user_head_path(model_sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"weight": head.weight.detach().clone(), "bias": head.bias.detach().clone(),
                "meta": meta}, tmp)
    tmp.replace(path)
    return path


def load_user_head(model_sha256: str) -> nn.Linear | None:
    """The user's head for this model, or None when they have not calibrated it."""
    path = user_head_path(model_sha256)
    if not model_sha256 or not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        weight, bias = blob["weight"], blob["bias"]
    except (RuntimeError, KeyError, OSError, ValueError):
        return None  # a damaged head falls back to the shipped one
    head = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    return head


def remove_user_head(model_sha256: str) -> bool:
    path = user_head_path(model_sha256)
    if path.is_file():
        path.unlink()
        return True
    return False
