"""The label pool's batch enhancer gives what the app's enhancer gives, blur hint included."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from photoenhance.core.errors import ModelError
from photoenhance.core.ml import autostrength
from photoenhance.core.ml.infer import Enhancer, load_weights
from photoenhance.core.ml.nets import EnhanceUNet
from photoenhance.core.ml.registry import write_card
from photoenhance.train.enhancer import export
from photoenhance.train.rank.enhance_batch import BatchEnhancer


def _soft_photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((96, 96), Image.Resampling.NEAREST)
    return np.asarray(img.filter(ImageFilter.GaussianBlur(1.5)))


def test_batch_enhancer_matches_the_app_with_a_blur_hint(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = EnhanceUNet(widths=(8, 16), enc_blocks=(1, 1), dec_blocks=(1,), cond=1)
    with torch.no_grad():
        net.tail.weight.mul_(0.3)
        for lin in [*net.cond_enc, *net.cond_up]:
            lin.weight.normal_(0, 0.5)
    path = tmp_path / "enhancer-test.pt"
    export(net, path, {})
    batch = np.stack([_soft_photo(1), _soft_photo(2)])
    assert all(autostrength.measure(im).blur > 0 for im in batch)  # the hint is in play
    got = BatchEnhancer(path).run(batch, batch_size=2).astype(int)
    app = Enhancer.load(path)
    want = np.stack([app.enhance(im) for im in batch]).astype(int)
    assert np.abs(got - want).max() <= 1
    assert np.abs(got - batch).mean() > 0.5  # and it did change them


def _with_expert(tmp_path: Path) -> Path:
    """A general net and a blur specialist it lists in its model card. The specialist has a
    shape of its own (as the shipped JPEG specialist does): its card says which."""
    torch.manual_seed(1)
    general = EnhanceUNet(widths=(8, 16), enc_blocks=(1, 1), dec_blocks=(1,), cond=1)
    blur = EnhanceUNet(widths=(8, 16), enc_blocks=(1, 2), dec_blocks=(2,), cond=1)
    with torch.no_grad():
        for net in (general, blur):
            net.tail.weight.normal_(0, 0.05)
    path = tmp_path / "enhancer-test.pt"
    export(general, path, {})
    export(blur, tmp_path / "enhancer-test-blur.pt", {})
    card = json.loads(path.with_suffix(".json").read_text())
    write_card(path, {**card, "experts": {"blur": "enhancer-test-blur.pt"}})
    return path


def test_batch_enhancer_routes_as_the_app_does(tmp_path: Path) -> None:
    path = _with_expert(tmp_path)
    rng = np.random.default_rng(5)
    noisy = np.clip(_soft_photo(3) + rng.normal(0, 20, (96, 96, 3)), 0, 255).astype(np.uint8)
    batch = np.stack([_soft_photo(1), noisy, _soft_photo(2)])
    routes = [autostrength.measure(im).route for im in batch]
    assert routes == ["blur", "noise", "blur"]
    app = Enhancer.load(path)
    assert app.routes == ("blur",)
    got = BatchEnhancer(path).run(batch, batch_size=3).astype(int)
    want = np.stack([app.enhance(im) for im in batch]).astype(int)
    assert np.abs(got - want).max() <= 1
    plain = Enhancer.from_model(load_weights(path)[0], device="cpu")
    assert np.abs(got[0] - plain.enhance(batch[0]).astype(int)).mean() > 0.2  # it was routed


def test_a_missing_specialist_fails_at_load(tmp_path: Path) -> None:
    path = _with_expert(tmp_path)
    (tmp_path / "enhancer-test-blur.pt").unlink()
    with pytest.raises(ModelError, match="missing"):
        Enhancer.load(path)
