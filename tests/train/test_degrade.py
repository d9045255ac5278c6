"""Degradation synthesis: determinism and that each factor moves the image the right way."""

from __future__ import annotations

import torch

from photoenhance.train import degrade as deg


def _clean(n: int = 8, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(n, 3, size // 8, size // 8, generator=g)
    img = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")
    return (img * 0.8 + 0.1).clamp(0, 1)


def _hf(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute horizontal gradient per image (high-frequency energy)."""
    return (x[..., 1:] - x[..., :-1]).abs().flatten(1).mean(1)


def test_same_seed_same_result() -> None:
    x = _clean()
    a, b = deg.degrade(x, seed=7), deg.degrade(x, seed=7)
    assert torch.equal(a.image, b.image) and torch.equal(a.strengths, b.strengths)
    c = deg.degrade(x, seed=8)
    assert not torch.equal(a.image, c.image)


def test_outputs_in_range_and_strengths_match_changes() -> None:
    x = _clean(32)
    d = deg.degrade(x, seed=3)
    assert d.image.shape == x.shape and d.strengths.shape == (32, 4)
    assert float(d.image.min()) >= 0 and float(d.image.max()) <= 1
    assert float(d.strengths.min()) >= 0 and float(d.strengths.max()) <= 1
    untouched = d.strengths.sum(1) == 0
    assert untouched.any(), "a share of samples must stay clean"
    err = (d.image - d.target).abs().flatten(1).amax(1)
    assert bool((err[untouched] <= 0.5 / 255 + 1e-6).all())  # only 8-bit quantisation
    assert bool((err[~untouched] > 0).all())


def test_noise_adds_high_frequencies() -> None:
    x = _clean()
    g = torch.Generator().manual_seed(0)
    for noisy in (
        deg.gaussian_noise(x, torch.full((8,), 0.1), g),
        deg.camera_noise(x, g),
        deg.correlated_noise(x, g),
    ):
        assert bool((_hf(noisy) > _hf(x) * 1.1).all())
    sigma = (deg.gaussian_noise(x, torch.full((8,), 0.1), g) - x).std()
    assert abs(float(sigma) - 0.1) < 0.01


def test_blurs_remove_high_frequencies_and_keep_mean() -> None:
    x = torch.rand(4, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(0)
    for ker in (
        deg.disk_kernels(torch.full((4,), 3.0)),
        deg.gaussian_kernels(torch.full((4,), 2.0)),
        deg.motion_kernels(torch.full((4,), 12.0), g),
    ):
        assert torch.allclose(ker.sum((1, 2)), torch.ones(4), atol=1e-5)
        y = deg.apply_kernels(x, ker)
        assert bool((_hf(y) < _hf(x) * 0.7).all())
        assert torch.allclose(y.mean((2, 3)), x.mean((2, 3)), atol=0.02)
    stds = deg.kernel_std(deg.disk_kernels(torch.tensor([1.0, 2.0, 4.0])))
    assert bool((stds[1:] > stds[:-1]).all())


def test_jpeg_gets_worse_with_lower_quality() -> None:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    errs = [float((deg.jpeg(x, [q, q], [2, 0]) - x).abs().mean()) for q in (95, 50, 10)]
    assert errs[0] < errs[1] < errs[2]


def test_clipping_changes_target_too() -> None:
    x = torch.full((40, 3, 16, 16), 0.8)
    cfg = deg.DegradeConfig(p_clean=0.0, p_noise=0.0, p_jpeg=0.0, p_blur=0.0)  # all mixed
    d = deg.degrade(x, seed=0, cfg=cfg)
    clipped = d.strengths[:, 3] > 0
    assert clipped.any()
    assert bool((d.target[clipped] == 1.0).all())
    assert float(d.target.min()) >= 0.8  # exposure only goes up
