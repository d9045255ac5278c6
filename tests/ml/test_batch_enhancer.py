"""The label pool's batch enhancer gives what the app's enhancer gives, blur hint included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from photoenhance.core.ml import autostrength
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.ml.nets import EnhanceUNet
from photoenhance.core.ml.train.enhancer import export
from photoenhance.core.rank.enhance_batch import BatchEnhancer


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
