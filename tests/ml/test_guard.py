"""The do-no-harm guard: what the net removes must look like noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photoenhance.core.ml import guard as G  # noqa: N812
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.ml.registry import weights_path


def _t(a: np.ndarray) -> torch.Tensor:
    """(H, W, 3) array in 8-bit units to a (1, 3, H, W) float tensor in [0, 1]."""
    return torch.from_numpy(np.asarray(a, np.float32) / 255.0).permute(2, 0, 1)[None]


def _grating(h: int, w: int, period: float, diagonal: bool = False) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.sin(2 * np.pi * ((xx + yy) if diagonal else xx) / period)


def test_noise_is_removed_and_shrunk_texture_given_back() -> None:
    rng = np.random.default_rng(0)
    g = _grating(96, 96, 4)[..., None].repeat(3, 2)
    clean = 128 + 30 * g
    noise = rng.normal(0, 8, clean.shape)
    # a net that removes the noise but halves the texture
    x, y = _t(clean + noise), _t(128 + 15 * g)
    out = G.guard(x, y, patterns=False)[0].permute(1, 2, 0).numpy() * 255
    amp = ((out - 128) * g).sum() / (g * g).sum()
    assert amp > 27  # the texture is (nearly) all back
    assert np.abs(out - clean).std() < 0.6 * noise.std()  # and the noise is still gone


def test_pure_noise_residual_is_left_alone() -> None:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:80, 0:112]
    smooth = np.stack([60 + xx, 80 + yy, 120 + 0 * xx], 2).astype(np.float64)
    x, y = _t(smooth + rng.normal(0, 10, smooth.shape)), _t(smooth)
    stats = G.GuardStats()
    out = G.guard(x, y, stats)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(out - smooth).std() < 1.5  # still denoised
    assert stats.kept_share is not None and stats.kept_share > 0.9


def test_colour_is_kept() -> None:
    """A net that desaturates a flat colour patch gets its colour back; noise does not."""
    rng = np.random.default_rng(2)
    pink = np.ones((64, 64, 3)) * np.array([220.0, 120.0, 150.0])
    grey = pink.mean(2, keepdims=True).repeat(3, 2)
    x = _t(pink + rng.normal(0, 3, pink.shape))
    out = G.guard(x, _t(0.5 * pink + 0.5 * grey))[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(out.mean((0, 1)) - pink.mean((0, 1))).max() < 1.0


def test_repeating_residual_lowers_the_strength() -> None:
    """A grating the net wiped out leaves a repeating residual: the strength falls there."""
    g = _grating(96, 96, 3, diagonal=True)[..., None].repeat(3, 2)
    x, y = _t(128 + 30 * g), _t(np.full(g.shape, 128.0))
    out = G.guard(x, y)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(out - (128 + 30 * g)).max() < 3
    same = G.guard(x, y, patterns=False)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(same - 128).max() < 3  # without the check the grating stays wiped out


def test_guard_work_is_bounded_by_a_downscaled_map() -> None:
    """The statistics live on a map BLOCK x BLOCK times smaller than the tile."""
    x = _t(np.random.default_rng(3).integers(0, 255, (100, 130, 3)))
    stats = G.GuardStats()
    G.guard(x, x * 0.9, stats)
    assert stats.pixels == 100 * 130
    assert stats.map_cells == -(-100 // G.BLOCK) * -(-130 // G.BLOCK)


def test_enhancer_guards_every_tile(monkeypatch) -> None:
    from photoenhance.core.ml import infer
    from tests.ml.test_infer import _image, _tiny_net

    calls: list[tuple[int, ...]] = []
    real = infer.guard

    def counting(x, y, stats=None, patterns=True, weight=1.0, overwrite=False):  # type: ignore[no-untyped-def]
        calls.append(tuple(x.shape))
        return real(x, y, stats, patterns, weight, overwrite)

    monkeypatch.setattr(infer, "guard", counting)
    enh = Enhancer.from_model(_tiny_net(), device="cpu")
    img = _image(150, 170)
    enh.enhance(img, tile=64, overlap=16, auto=False)
    assert len(calls) == len(infer.tile_spans(150, 64, 16)) * len(infer.tile_spans(170, 64, 16))
    assert enh.guard_stats.pixels == sum(c[2] * c[3] for c in calls)
    calls.clear()
    enh.guarded = False
    enh.enhance(img, tile=64, overlap=16, auto=False)
    assert not calls


def test_guarded_tiles_blend_without_seams() -> None:
    from photoenhance.core.ml.infer import tile_spans
    from tests.ml.test_infer import _image, _tiny_net

    enh = Enhancer.from_model(_tiny_net(levels=1), device="cpu")
    img = _image(150, 170)
    whole = enh.enhance(img, tile=512, auto=False).astype(int)
    tiled = enh.enhance(img, tile=64, overlap=24, auto=False).astype(int)
    spans = tile_spans(170, 64, 24)
    region = (slice(0, 150), slice(spans[1][0], spans[0][1]))
    assert np.abs(whole[region] - tiled[region]).mean() < 1.0
    assert np.abs(whole - tiled).mean() < 1.0


def _grating_run(enh: Enhancer, sigma: float, period: int, diagonal: bool,
                 **kw: object) -> dict[bool, tuple[float, float]]:
    """(grating amplitude kept, error / input error) without and with the guard."""
    rng = np.random.default_rng(0)
    g = _grating(128, 128, period, diagonal)[..., None].repeat(3, 2)
    clean = 128 + 40 * g
    noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).round().astype(np.uint8)
    out = {}
    for guarded in (False, True):
        enh.guarded = guarded
        res = enh.enhance(noisy, **kw).astype(np.float64)  # type: ignore[arg-type]
        amp = ((res - res.mean()) * g).sum() / (g * g).sum() / 40
        out[guarded] = amp, (res - clean).std() / (noisy - clean).std()
    return out


@pytest.mark.skipif(not weights_path().exists(), reason="shipped enhancer not present")
def test_fine_grating_with_noise_loses_its_noise_and_keeps_its_bars() -> None:
    """Through the app's own path (automatic strength, routing, the guard's weight)."""
    enh = Enhancer.load(device="cpu")
    r = _grating_run(enh, 6, 4, False)
    amp, err = r[True]
    assert amp > 0.95 and err < 0.7  # the bars stay, the noise goes
    # a diagonal grating at period 3 reads as noise (sigma 7) and the net wipes it out;
    # the guard gives much of it back and halves the harm
    r = _grating_run(enh, 6, 3, True)
    assert r[False][0] < 0.1
    assert r[True][0] > r[False][0] + 0.3 and r[True][1] < 0.7 * r[False][1]


@pytest.mark.skipif(not weights_path().exists(), reason="shipped enhancer not present")
def test_guard_at_full_weight_keeps_a_grating_the_net_wipes_out() -> None:
    """At full weight (a photo measured clean or slightly noisy), the guard keeps even the
    grating the net wipes out, and the copy is no worse than the photo it came from; a
    grating the net keeps loses its noise."""
    enh = Enhancer.load(device="cpu")
    r = _grating_run(enh, 15, 4, False, auto=False)
    assert r[True][0] > 0.9 and r[True][1] < 0.6 and r[True][0] >= r[False][0]
    r = _grating_run(enh, 15, 3, True, auto=False)
    assert r[False][0] < 0.35
    assert r[True][0] > 0.9 and r[True][1] < 1.05
