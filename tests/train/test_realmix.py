"""The realistic fault mix: each kind sets its own factors, the same seed gives the same
photo, and an old four-factor net warm-starts the six-factor one by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from photoenhance.core.ml.nets.improvability import OLD_FACTORS, ImprovabilityNet
from photoenhance.train.rank.realmix import FACTORS, KINDS, realistic_fault
from photoenhance.train.rank.train import warm_start

pytest.importorskip("cv2")


def _photo() -> np.ndarray:
    y, x = np.mgrid[0:96, 0:128]
    base = 150 + 80 * np.sin(x / 3.0) * np.cos(y / 5.0)
    return np.clip(np.stack([base, base * 0.9, base * 0.8], 2), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("kind", "factor"), [
    ("camera_noise", "noise"), ("web_jpeg", "jpeg"), ("shake", "blur"), ("defocus", "blur"),
    ("clipping", "clipping"), ("shake+noise", "blur")])
def test_each_kind_sets_its_factor(kind: str, factor: str) -> None:
    f = realistic_fault(_photo(), np.random.default_rng(3), kind=kind)
    assert f.strengths[FACTORS.index(factor)] > 0.05 and f.image.shape == _photo().shape
    assert not np.array_equal(f.image, _photo())


def test_clean_is_untouched_and_seeds_repeat() -> None:
    f = realistic_fault(_photo(), np.random.default_rng(0), kind="clean")
    assert np.array_equal(f.image, _photo()) and not f.strengths.any()
    a, b = (realistic_fault(_photo(), np.random.default_rng(9)) for _ in range(2))
    assert a.kind == b.kind and np.array_equal(a.image, b.image)
    assert set(KINDS) >= {"camera_noise", "web_jpeg", "shake", "tone"}


def test_warm_start_maps_old_factor_rows_by_name(tmp_path: Path) -> None:
    kw = {"stem": 8, "stages": ((1, 8, 1, 1),), "feat": 16, "hidden": 8}
    old = ImprovabilityNet(**kw, factors=OLD_FACTORS, tone=False)
    path = tmp_path / "old.pt"
    torch.save({"config": {k: v for k, v in old.config.items() if k != "factors"},
                "state_dict": old.state_dict()}, path)
    new = ImprovabilityNet(**kw)
    missing = warm_start(new, path)
    assert missing == ["tone.bias", "tone.weight"]
    for i, name in enumerate(OLD_FACTORS):
        j = FACTORS.index(name)
        assert torch.equal(new.factors.weight[j], old.factors.weight[i])
