"""Smoke test of the shipped weights (skips when models/enhancer-v1.pt is not there yet)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photoenhance.core.errors import ModelError
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.ml.registry import card_path, weights_path


def _smooth_image(h: int = 48, w: int = 64) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 5.0)], axis=2)
    return (img * 255).round().astype(np.uint8)


def test_shipped_model_denoises_a_small_image() -> None:
    if not weights_path().exists():
        pytest.skip("models/enhancer-v1.pt not trained yet")
    enh = Enhancer.load()
    assert enh.sha256 and enh.model_id and enh.version
    clean = _smooth_image()
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    out = enh.enhance(noisy)
    assert out.shape == noisy.shape and out.dtype == np.uint8
    err_in = np.abs(noisy.astype(int) - clean).mean()
    err_out = np.abs(out.astype(int) - clean).mean()
    assert err_out < err_in * 0.8
    assert weights_path().stat().st_size < 10_000_000


def test_mismatched_weights_are_refused(tmp_path) -> None:
    if not weights_path().exists():
        pytest.skip("models/enhancer-v1.pt not trained yet")
    pt = tmp_path / "enhancer-v1.pt"
    pt.write_bytes(weights_path().read_bytes()[:-10] + b"0123456789")
    card = json.loads(card_path(weights_path()).read_text())
    card_path(pt).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="do not match"):
        Enhancer.load(pt)


def test_missing_weights_raise_model_error(tmp_path) -> None:
    with pytest.raises(ModelError):
        Enhancer.load(tmp_path / "nothing.pt")
