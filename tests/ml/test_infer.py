"""Tiled inference: seams, cancellation, odd and tiny sizes, grey and alpha, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photoenhance.core.errors import Cancelled, PhotoEnhanceError
from photoenhance.core.ml.infer import Enhancer, tile_spans, tile_starts
from photoenhance.core.ml.nets import EnhanceUNet
from photoenhance.core.progress import CancelToken, Progress


def _tiny_net(seed: int = 0, levels: int = 2) -> EnhanceUNet:
    torch.manual_seed(seed)
    widths = (8, 16, 32)[:levels]
    net = EnhanceUNet(widths=widths, enc_blocks=(1,) * levels, dec_blocks=(1,) * (levels - 1))
    # make the random correction visible but keep it moderate
    with torch.no_grad():
        net.tail.weight.mul_(0.3)
    return net


@pytest.fixture
def enhancer() -> Enhancer:
    return Enhancer.from_model(_tiny_net(), device="cpu")


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    img = np.kron(base, np.ones((8, 8, 1)))[:h, :w]
    return np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)


def test_tile_starts_cover_with_overlap() -> None:
    for length in (1000, 1001, 257, 300):
        spans = tile_spans(length, 256, 32)
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(s % 2 == 0 for s, _ in spans)  # same pixel-unshuffle phase as untiled
        assert all(a[1] - b[0] >= 32 for a, b in zip(spans, spans[1:], strict=False))
    assert tile_starts(100, 256, 32) == [0]


def test_changes_the_image(enhancer: Enhancer) -> None:
    img = _image(64, 80)
    enhancer.guarded = False  # a random net's change is structure, which the guard refuses
    out = enhancer.enhance(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() > 0.5


def test_tiled_matches_untiled_in_overlap() -> None:
    # a one-level net has a small receptive field, so agreement is a property of the blending
    enh = Enhancer.from_model(_tiny_net(levels=1), device="cpu")
    img = _image(150, 170)
    whole = enh.enhance(img, tile=512).astype(int)
    tiled = enh.enhance(img, tile=64, overlap=24).astype(int)
    spans = tile_spans(170, 64, 24)
    assert len(spans) > 2
    region = (slice(0, 150), slice(spans[1][0], spans[0][1]))  # first overlap along x
    assert np.abs(whole[region] - tiled[region]).max() <= 1
    assert np.abs(whole - tiled).mean() < 0.5


def test_strength_zero_is_identity(enhancer: Enhancer) -> None:
    img = _image(40, 40)
    assert np.array_equal(enhancer.enhance(img, strength=0.0), img)
    with pytest.raises(PhotoEnhanceError):
        enhancer.enhance(img, strength=1.5)


def test_cancel_stops_within_one_tile(enhancer: Enhancer) -> None:
    token = CancelToken()
    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        token.cancel()

    with pytest.raises(Cancelled):
        enhancer.enhance(_image(100, 100), tile=32, overlap=8, progress=on_progress, cancel=token)
    assert len(seen) == 1 and seen[0].total > 1


def test_progress_reports_every_tile(enhancer: Enhancer) -> None:
    seen: list[Progress] = []
    enhancer.enhance(_image(70, 90), tile=32, overlap=8, progress=seen.append)
    assert [p.done for p in seen] == list(range(1, seen[0].total + 1))


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 3), (17, 33), (31, 1), (2, 2)])
def test_tiny_and_odd_sizes(enhancer: Enhancer, shape: tuple[int, int]) -> None:
    img = _image(*shape)[: shape[0], : shape[1]]
    out = enhancer.enhance(img, tile=16, overlap=4)
    assert out.shape == img.shape and out.dtype == img.dtype


def test_greyscale_in_greyscale_out(enhancer: Enhancer) -> None:
    grey = _image(33, 45)[..., 0]
    out = enhancer.enhance(grey)
    assert out.shape == grey.shape and out.dtype == np.uint8
    assert enhancer.enhance(grey[..., None]).shape == (33, 45, 1)


def test_alpha_passes_through(enhancer: Enhancer) -> None:
    rgba = np.concatenate(
        [_image(30, 40), np.arange(1200, dtype=np.uint8).reshape(30, 40, 1)], axis=2
    )
    out = enhancer.enhance(rgba)
    assert out.shape == rgba.shape
    assert np.array_equal(out[..., 3], rgba[..., 3])


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_dtypes_round_trip(enhancer: Enhancer, dtype: type) -> None:
    img8 = _image(24, 24)
    img = img8.astype(np.float32) / 255 if dtype is np.float32 else img8.astype(np.uint16) * 257
    out = enhancer.enhance(img)
    assert out.dtype == img.dtype and out.shape == img.shape
    out8 = enhancer.enhance(img8)
    as8 = out.astype(np.float64) * (255 if dtype is np.float32 else 255 / 65535)
    assert np.abs(as8 - out8).max() <= 1.0


def test_rejects_bad_input(enhancer: Enhancer) -> None:
    with pytest.raises(PhotoEnhanceError):
        enhancer.enhance(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(PhotoEnhanceError):
        enhancer.enhance(np.zeros((0, 4, 3), np.uint8))


@pytest.mark.parametrize("shape", [(40, 56), (33, 47), (5, 3)])
def test_fused_forward_is_the_module(shape: tuple[int, int]) -> None:
    from photoenhance.core.ml.infer import FusedUNet

    net = _tiny_net(levels=3).eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, *shape).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.allclose(FusedUNet(net)(x), net(x), atol=1e-6)


@pytest.mark.parametrize("bf16", ["0", "1", None])
def test_fused_path_is_chosen_on_cpu_and_can_be_turned_off(monkeypatch, bf16) -> None:
    """fp32 on CPU takes the fused path; bf16 (forced, or native on this CPU) the autocast
    module. ``PHOTOENHANCE_BF16`` covers both kinds of CPU on whichever runs the test."""
    from photoenhance.core.ml.device import cpu_has_native_bf16
    from photoenhance.core.ml.infer import FusedUNet

    if bf16 is None:
        monkeypatch.delenv("PHOTOENHANCE_BF16", raising=False)
    else:
        monkeypatch.setenv("PHOTOENHANCE_BF16", bf16)
    uses_bf16 = bf16 == "1" or (bf16 is None and cpu_has_native_bf16())
    chosen = Enhancer.from_model(_tiny_net(), device="cpu")
    assert isinstance(chosen._net(None)[0], EnhanceUNet if uses_bf16 else FusedUNet)
    monkeypatch.setenv("PHOTOENHANCE_FUSED", "0")
    plain = Enhancer.from_model(_tiny_net(), device="cpu")
    assert isinstance(plain._net(None)[0], EnhanceUNet)
    # whichever path was chosen, it gives the fp32 module's picture (bf16: to rounding)
    monkeypatch.setenv("PHOTOENHANCE_BF16", "0")
    reference = Enhancer.from_model(_tiny_net(), device="cpu")
    img = _image(40, 56)
    diff = np.abs(chosen.enhance(img).astype(int) - reference.enhance(img).astype(int))
    assert diff.max() <= (4 if uses_bf16 else 1)


def test_bands_give_the_same_rows_as_one_band() -> None:
    # with tiles as wide as the image, only the row bands differ from a single tile
    enh = Enhancer.from_model(_tiny_net(levels=1), device="cpu")
    img = _image(200, 60)
    whole = enh.enhance(img, tile=512).astype(int)
    banded = enh.enhance(img, tile=64, overlap=24).astype(int)
    assert len(tile_spans(200, 64, 24)) > 3
    assert np.abs(whole - banded).max() <= 1


def test_fused_forward_follows_weights_changed_after_loading() -> None:
    from photoenhance.core.ml.infer import FusedUNet

    net = _tiny_net(levels=2).eval().to(memory_format=torch.channels_last)
    fused = FusedUNet(net)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1.1)
    x = torch.rand(1, 3, 32, 48).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.allclose(fused(x), net(x), atol=1e-6)


def _cond_net(seed: int = 0) -> EnhanceUNet:
    """A tiny net that takes a blur hint, its hint maps made non-zero so the hint shows."""
    torch.manual_seed(seed)
    net = EnhanceUNet(widths=(8, 16, 32), enc_blocks=(1, 1, 1), dec_blocks=(1, 1), cond=1)
    with torch.no_grad():
        net.tail.weight.mul_(0.3)
        for lin in [*net.cond_enc, *net.cond_up]:
            lin.weight.normal_(0, 0.5)
    return net


def test_a_grown_conditioned_net_computes_what_the_plain_one_did() -> None:
    plain = _tiny_net(levels=3)
    grown = EnhanceUNet(widths=(8, 16, 32), enc_blocks=(1, 1, 1), dec_blocks=(1, 1), cond=1)
    res = grown.load_state_dict(plain.state_dict(), strict=False)
    assert not res.unexpected_keys and all(k.startswith("cond_") for k in res.missing_keys)
    x = torch.rand(2, 3, 40, 56)
    with torch.inference_mode():
        assert torch.equal(grown(x, torch.tensor([[0.2], [0.9]])), plain(x))


@pytest.mark.parametrize("hint", [0.0, 0.6])
def test_fused_forward_folds_the_hint_into_the_biases(hint: float) -> None:
    from photoenhance.core.ml.infer import FusedUNet

    net = _cond_net().eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, 3, 40, 56).contiguous(memory_format=torch.channels_last)
    c = torch.tensor([[hint]])
    with torch.inference_mode():
        assert torch.allclose(FusedUNet(net)(x, c), net(x, c), atol=1e-5)


def test_the_blur_hint_reaches_the_net() -> None:
    enh = Enhancer.from_model(_cond_net(), device="cpu")
    assert enh.takes_blur
    img = _image(64, 80)
    none, some = (enh.enhance(img, auto=False, blur=b).astype(int) for b in (0.0, 0.8))
    assert np.abs(none - some).mean() > 0.5
    assert np.array_equal(none, enh.enhance(img, auto=False))  # no hint given: 0
    # tiled and whole agree with a hint too (the hint is the same for every tile)
    tiled = enh.enhance(img, auto=False, blur=0.8, tile=48, overlap=16).astype(int)
    assert np.abs(tiled - some)[:, 24:56].mean() < 1.0
