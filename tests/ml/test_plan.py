"""One plan per photo: what it holds, and that the enhancer follows it without re-deciding."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from photoenhance.core.ml import autostrength
from photoenhance.core.ml.guard import weight_for_noise
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.ml.nets import EnhanceUNet
from photoenhance.core.ml.plan import EnhancePlan, plan_photo


@pytest.fixture
def enhancer() -> Enhancer:
    torch.manual_seed(0)
    net = EnhanceUNet(widths=(8, 16), enc_blocks=(1, 1), dec_blocks=(1,))
    with torch.no_grad():
        net.tail.weight.mul_(0.3)
    return Enhancer.from_model(net, device="cpu")


def _noisy(sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.kron(rng.integers(40, 216, (10, 12, 3)), np.ones((12, 12, 1)))
    return np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8)


def test_plan_holds_the_measurement() -> None:
    img = _noisy(12.0)
    m = autostrength.measure(img)
    plan = plan_photo(img)
    assert plan.measured and plan.need == m.strength and plan.route == m.route
    assert plan.noise == m.noise_sigma and plan.blur == m.blur and plan.reason == m.reason
    assert plan.guard_weight == weight_for_noise(m.noise_sigma)
    assert plan_photo(img, auto=False) == EnhancePlan()
    assert EnhancePlan().guard_weight == 1.0 and EnhancePlan().patterns
    assert not EnhancePlan(route="jpeg").patterns and not EnhancePlan(route="blur").patterns


def test_plan_at_scale_shrinks_the_blur_and_keeps_the_decisions() -> None:
    plan = EnhancePlan(need=0.7, route="blur", blur=0.9, noise=6.0, measured=True)
    half = plan.at_scale(0.5)
    assert half.blur == pytest.approx(0.45) and half.route is None  # no longer reads blurred
    assert (half.need, half.noise) == (0.7, 6.0)
    assert plan.at_scale(1.0) is plan and EnhancePlan().at_scale(0.25) == EnhancePlan()
    assert EnhancePlan(route="noise", blur=0.1, measured=True).at_scale(0.5).route == "noise"


def test_enhance_follows_a_given_plan_without_measuring(enhancer: Enhancer, monkeypatch) -> None:
    img = _noisy(8.0)
    plan = enhancer.plan(img)
    auto = enhancer.enhance(img, strength=0.9)
    calls: list[int] = []
    monkeypatch.setattr(autostrength, "measure", lambda *_: calls.append(1))
    planned = enhancer.enhance(img, strength=0.9, plan=plan)
    assert calls == [] and np.array_equal(planned, auto)
    # every part of the plan is used: the guard's weight changes the pixels
    assert not np.array_equal(enhancer.enhance(img, 0.9, plan=replace(plan, noise=None)), auto)
    assert np.array_equal(enhancer.enhance(img, 0.9, plan=replace(plan, need=0.0)), img)
