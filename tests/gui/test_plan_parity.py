"""The compare view's preview and the batch run one plan per photo and give the same pixels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QRect

from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions, enhance_batch
from photoenhance.core.ml import autostrength
from photoenhance.gui.preview import decode_for_display, enhance_region


def _noisy_photo(path: Path, sigma: float = 10.0) -> Path:
    """A smooth photo under moderate noise: the guard's weight is neither 0 nor 1 there."""
    rng = np.random.default_rng(4)
    cells = Image.fromarray(rng.integers(40, 216, (12, 16, 3), np.uint8))
    base = np.asarray(cells.resize((160, 120), Image.Resampling.BICUBIC)).astype(np.float32)
    noisy = np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(path)
    return path


@pytest.fixture
def measures(monkeypatch) -> list[int]:
    """Counts the photo measurements: the plan is the only caller of ``measure``."""
    calls: list[int] = []
    real = autostrength.measure

    def spy(image):
        calls.append(1)
        return real(image)

    monkeypatch.setattr(autostrength, "measure", spy)
    return calls


def _qimage_array(img) -> np.ndarray:
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(),
                                                                  img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def test_preview_and_batch_give_the_same_pixels(tmp_path: Path, measures, enhancer) -> None:
    src = _noisy_photo(tmp_path / "noisy.png")
    enhancer = enhancer.get()
    (done,) = enhance_batch([EnhanceItem(src)], enhancer, EnhanceOptions(strength=0.8))
    assert done.status == "done" and done.output is not None
    batch = np.asarray(Image.open(done.output).convert("RGB"))
    assert len(measures) == 1  # the batch planned the photo once

    measures.clear()
    shown = decode_for_display(str(src))
    plan = shown.plan
    assert plan is not None and plan.measured and 0.0 < plan.guard_weight < 1.0
    assert plan.need > 0.0
    whole = QRect(0, 0, *shown.size)
    patches = [enhance_region(shown, whole, 1.0, enhancer, 0.8) for _ in range(3)]
    assert len(measures) == 1  # planned at decode, once; every preview reuses the plan
    preview = _qimage_array(patches[-1].image)
    assert np.array_equal(preview, batch)

    # the guard's noise weight matters on this photo: without it (the old preview) the
    # pixels differ from the copy's
    unweighed = enhancer.enhance(np.asarray(Image.open(src)), 0.8, tile=1280,
                                 plan=replace(plan, noise=None))
    assert not np.array_equal(unweighed, batch)
