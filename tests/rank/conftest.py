"""Fixtures for the ranking tests: a tiny random-weight model file and generated photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from rank_helpers import textured, tiny_net

from photoenhance.core.ml.nets.improvability import ImprovabilityNet
from photoenhance.core.rank.scorer import save_model


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "improvability-test.pt"
    save_model(tiny_net(), path, version="t1", card={"note": "random weights for tests"})
    return path


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    out = []
    for i, (name, size) in enumerate((("a.jpg", (300, 200)), ("b.png", (150, 220)),
                                      ("c.jpg", (64, 40)))):
        path = tmp_path / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(textured(size[1], size[0], i)).save(path)
        out.append(path)
    return out


@pytest.fixture
def wide_model(tmp_path: Path) -> Path:
    import torch

    torch.manual_seed(1)
    net = ImprovabilityNet(stem=8, stages=((1, 8, 1, 1), (2, 16, 1, 2)), feat=32, hidden=32)
    path = tmp_path / "models" / "improvability-cal.pt"
    save_model(net, path)
    return path
