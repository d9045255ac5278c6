"""Shared fixtures for the job tests: a tiny random-weight enhancer saved with a model card."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from photoenhance.core.ml.nets import build
from photoenhance.core.ml.registry import write_card

TINY_CONFIG = {"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Weights + card of a tiny untrained enhancer (fast; loads like the shipped one)."""
    torch.manual_seed(0)
    net = build(TINY_CONFIG)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    torch.save(net.state_dict(), path)
    write_card(path, {"model_id": "tiny-test", "version": "0",
                      "architecture": {"config": net.config}})
    return path
