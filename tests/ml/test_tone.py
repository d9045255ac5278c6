"""The tone and colour step: identity at strength 0, no extra clipping, words, shapes, and a
smoke test of the shipped weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.core.ml.nets.tone import (
    CURVE0,
    N_PARAMS,
    Z_SCALE,
    ToneParams,
    anchor,
    build_tone,
    render,
)
from photoenhance.core.ml.registry import weights_path
from photoenhance.core.ml.tone import MAX_EXTRA_CLIP, TONE, ToneModel, apply_tone


def _fixed(ev: float = 0.0, temp: float = 0.0, sat: float = 0.0,
           curve: list[float] | None = None) -> ToneModel:
    """A model whose net predicts the same edit for every photo (``ev``, ``temp`` and ``sat``
    about as decoded; ``curve`` as logits)."""
    net = build_tone({"widths": [4, 8], "hidden": 8})
    z = torch.zeros(N_PARAMS)
    z[0], z[1], z[6] = ev, temp, sat
    if curve is not None:
        z[CURVE0:] = torch.tensor(curve)
    with torch.no_grad():
        net.head[-1].bias.copy_(z / Z_SCALE)
    return ToneModel.from_net(net)


def _scene(h: int = 96, w: int = 128, ev: float = 0.0, sky: bool = True) -> np.ndarray:
    """A smooth colourful scene with a bright sky band, exposed ``ev`` stops off."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    img = np.stack([0.2 + 0.6 * xx, 0.15 + 0.5 * yy, 0.5 + 0.3 * np.sin(6 * xx)], axis=2)
    if sky:
        img[: h // 6] = 0.97
    lin = (img ** 2.2) * 2.0**ev
    return np.clip(np.rint(np.clip(lin, 0, 1) ** (1 / 2.2) * 255), 0, 255).astype(np.uint8)


def _luma(img: np.ndarray) -> float:
    return float((img / 255.0 @ np.array([0.2126, 0.7152, 0.0722])).mean())


def test_strength_zero_is_identity() -> None:
    model = _fixed(ev=1.5, temp=0.5, sat=0.4)
    img = _scene()
    out, edit = model.apply(img, strength=0.0)
    assert np.array_equal(out, img) and edit.description == "no change"
    out_full, _ = model.apply(img, strength=1.0)
    assert not np.array_equal(out_full, img)


def test_untrained_net_leaves_photos_alone() -> None:
    img = _scene()
    out, desc = apply_tone(img, 1.0, model=_fixed())
    assert np.array_equal(out, img) and desc == "no change"


def test_strength_scales_the_edit() -> None:
    model = _fixed(ev=2.0)
    img = _scene(ev=-2.0)
    half, full = model.apply(img, 0.5)[1], model.apply(img, 1.0)[1]
    assert 0.3 * full.exposure_ev < half.exposure_ev < 0.7 * full.exposure_ev
    assert full.exposure_ev > 1.0


def test_highlights_are_not_clipped_more() -> None:
    img = _scene(ev=-2.0)  # a sixth of it is bright sky: +3 EV would clip it
    before = float((img >= 255).any(axis=2).mean())
    out, edit = _fixed(ev=3.0).apply(img)
    after = float((out >= 255).any(axis=2).mean())
    assert after - before <= MAX_EXTRA_CLIP
    assert _luma(out) > _luma(img) + 0.05  # it still brightened the rest
    assert edit.strength > 0


def test_words_describe_the_edit() -> None:
    out, desc = apply_tone(_scene(ev=-2.0), 1.0, model=_fixed(ev=1.5, temp=0.6))
    assert desc.startswith("exposure +") and "EV" in desc and "warmer" in desc
    _, desc = apply_tone(_scene(), 1.0, model=_fixed(temp=-0.6))
    assert "cooler" in desc
    _, desc = apply_tone(_scene(), 1.0, model=_fixed(sat=-0.5))
    assert "less saturated" in desc


def test_lookup_tables_match_the_rendering() -> None:
    """The full-resolution path (tables) computes the same edit as the training one."""
    model = _fixed(ev=0.8, temp=0.3, sat=0.3, curve=[0.3 * np.sin(i) for i in range(16)])
    img = _scene(ev=-1.0, sky=False)
    out, edit = model.apply(img)
    assert edit.strength == pytest.approx(1.0, abs=1e-6)
    p = ToneParams.decode(model.net(torch.zeros(1, 3, 64, 64)))
    with torch.no_grad():
        ref = render(torch.from_numpy(img / 255.0).float().permute(2, 0, 1)[None], p)
    ref8 = np.rint(ref[0].permute(1, 2, 0).numpy() * 255)
    assert np.abs(out.astype(float) - ref8).max() <= 1.0


@pytest.mark.parametrize("kind", ["grey", "rgba", "uint16", "float32"])
def test_shapes_and_dtypes_pass_through(kind: str) -> None:
    img8 = _scene(ev=-1.5)
    img: np.ndarray
    if kind == "grey":
        img = img8[..., 1]
    elif kind == "rgba":
        img = np.dstack([img8, np.full(img8.shape[:2], 77, np.uint8)])
    elif kind == "uint16":
        img = img8.astype(np.uint16) * 257
    else:
        img = img8.astype(np.float32) / 255
    out, _ = _fixed(ev=1.0).apply(img)
    assert out.shape == img.shape and out.dtype == img.dtype
    if kind == "rgba":
        assert np.all(out[..., 3] == 77)
    assert out.astype(np.float64).mean() > img.astype(np.float64).mean()


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(PhotoEnhanceError):
        _fixed().apply(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(PhotoEnhanceError):
        _fixed().apply(_scene(), strength=1.5)


def test_shipped_model_brightens_a_dark_photo() -> None:
    if not weights_path(TONE).exists():
        pytest.skip("models/tone-v1.pt not trained yet")
    model = ToneModel.load()
    assert model.sha256 and model.model_id
    dark = _scene(ev=-2.5, sky=False)
    out, edit = model.apply(dark)
    assert _luma(out) > _luma(dark) + 0.05
    assert edit.description.startswith("exposure +")


def test_batch_records_the_tone_step(tmp_path: Path) -> None:
    from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions, enhance_batch
    from photoenhance.core.ml.infer import Enhancer
    from photoenhance.core.ml.nets import build

    if not weights_path(TONE).exists():
        pytest.skip("models/tone-v1.pt not trained yet")
    torch.manual_seed(0)
    enhancer = Enhancer.from_model(build({"widths": [8, 16], "enc_blocks": [1, 1],
                                          "dec_blocks": [0]}), device="cpu")
    src = tmp_path / "dark.png"
    Image.fromarray(_scene(ev=-2.5, sky=False)).save(src)
    out_dir = tmp_path / "out"
    from photoenhance.core.imaging import OutputPolicy

    on, off = (OutputPolicy(folder=out_dir / n) for n in ("on", "off"))
    (r_on,) = enhance_batch([EnhanceItem(src)], enhancer, EnhanceOptions(policy=on, tone=True))
    (r_off,) = enhance_batch([EnhanceItem(src)], enhancer,
                             EnhanceOptions(policy=off, tone=False))
    assert r_on.status == r_off.status == "done"
    assert r_on.tone and r_on.tone.startswith("exposure +") and r_off.tone is None
    assert r_on.output is not None and r_off.output is not None
    assert _luma(np.asarray(Image.open(r_on.output))) > _luma(np.asarray(Image.open(r_off.output)))


def test_synthetic_cast_is_undone_by_the_predicted_white_balance() -> None:
    """The trainer's white-balance fault and the model's white balance are the same gains
    (same axes, same sign): the target ``synth_faults`` hands to the loss undoes the cast."""
    from photoenhance.train.tone import synth_one, wb_loss

    clean = torch.from_numpy(_scene(ev=-1.0, sky=False) / 255.0).float().permute(2, 0, 1)
    g = torch.Generator().manual_seed(3)
    info: dict[str, float] = {}
    while not info.get("temp"):  # draw until a sample carries a white-balance fault alone
        faulty, names = synth_one(clean, g, {"white_balance": 1.0}, 0.0, info=info)
    assert names == ["white_balance"]
    target = torch.tensor([[-info["temp"], -info["tint"]]])
    p = ToneParams.decode(torch.zeros(1, N_PARAMS))
    p.temp, p.tint = target[:, 0], target[:, 1]
    fixed = render(faulty[None], p)[0]
    assert (fixed - clean).abs().mean() < 0.01 < (faulty - clean).abs().mean()
    assert float(wb_loss(p, target)) == 0.0
    p.temp = -p.temp  # the opposite sign doubles the cast instead
    assert (render(faulty[None], p)[0] - clean).abs().mean() > (faulty - clean).abs().mean()


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img / 255.0).float().permute(2, 0, 1)[None]


def test_anchor_undoes_under_exposure_and_flat_contrast() -> None:
    """The anchored net's starting edit: an exposure that brings the white point back to
    white, or, for lifted blacks, a black and white point; a normal photo gets ~nothing."""
    s = _scene(sky=True).astype(float)
    clean = np.rint((s - s.min()) / (s.max() - s.min()) * 255).astype(np.uint8)  # full range
    net = build_tone({"widths": [4, 8], "hidden": 8, "anchored": True})
    lin = np.where(clean <= 10, clean / 255 / 12.92, ((clean / 255 + 0.055) / 1.055) ** 2.4)
    v = lin / 4  # -2 EV in linear light
    dark = np.rint(255 * np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055))
    dark = dark.astype(np.uint8)
    flat = np.rint(0.12 * 255 + 0.76 * clean.astype(float)).astype(np.uint8)
    for faulty in (dark, flat):
        with torch.no_grad():
            out = render(_tensor(faulty), ToneParams.decode(net(_tensor(faulty))))
        err_in = np.abs(faulty / 255.0 - clean / 255.0).mean()
        err_out = np.abs(out[0].permute(1, 2, 0).numpy() - clean / 255.0).mean()
        assert err_out < 0.25 * err_in
    p = ToneParams.decode(anchor(_tensor(clean)))
    assert abs(float(p.ev[0])) < 0.1 and float(p.black[0]) == 0.0 and float(p.white[0]) == 1.0
    assert float(ToneParams.decode(anchor(_tensor(dark))).ev[0]) > 1.5


def test_levels_scale_with_strength_and_match_the_tables() -> None:
    z = torch.zeros(1, N_PARAMS)
    z[0, 7], z[0, 8] = 0.1 / Z_SCALE[7], -0.15 / Z_SCALE[8]
    p = ToneParams.decode(z)
    assert float(p.black[0]) == pytest.approx(0.1) and float(p.white[0]) == pytest.approx(0.85)
    half = p.scaled(0.5)
    assert float(half.black[0]) == pytest.approx(0.05)
    assert float(half.white[0]) == pytest.approx(0.925)
    net = build_tone({"widths": [4, 8], "hidden": 8})
    with torch.no_grad():
        net.head[-1].bias.copy_(z[0])
    model = ToneModel.from_net(net)
    img = np.rint(0.1 * 255 + 0.75 * _scene(sky=False).astype(float)).astype(np.uint8)
    out, edit = model.apply(img)
    assert edit.strength == pytest.approx(1.0, abs=1e-6) and "more contrast" in edit.description
    ref = render(_tensor(img), p)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(out.astype(float) - np.rint(ref)).max() <= 1.0


def test_training_targets_are_normalised() -> None:
    """Dark training photos are brightened to the white floor; colours near the typical
    one move towards it, far ones (sunsets) are kept and get no cast fault."""
    from photoenhance.train.tone import WHITE_FLOOR, _colour, normalise

    dark = torch.from_numpy(_scene(ev=-1.5) / 255.0).float().permute(2, 0, 1)
    out, near = normalise(dark)
    assert float(torch.quantile(out.amax(0).flatten(), 0.998)) > WHITE_FLOOR - 0.02
    orange = dark * torch.tensor([1.0, 0.55, 0.25]).reshape(3, 1, 1)
    kept, near_orange = normalise(orange)
    assert near and not near_orange
    assert _colour(kept)[0] == pytest.approx(_colour(orange)[0], abs=0.05)


def test_plan_renders_what_apply_writes_on_the_photo_and_its_regions() -> None:
    """The compare view previews a region with the photo's plan: the region comes out as
    the same region of the corrected photo, and the plan's words are the copy's."""
    model = _fixed(ev=1.2, temp=0.4)
    img = _scene(ev=-1.5, sky=False)
    out, edit = model.apply(img, strength=0.8)
    plan = model.plan(img, strength=0.8)
    assert plan.params is not None and plan.edit == edit
    assert np.array_equal(plan.render(img), out)
    region = img[10:70, 20:100]
    assert np.array_equal(plan.render(region), out[10:70, 20:100])
    nothing = model.plan(img, strength=0.0)
    assert nothing.params is None and nothing.edit.description == "no change"
    assert np.array_equal(nothing.render(region), region)


def _night(h: int = 96, w: int = 128) -> np.ndarray:
    """A low-light photo: a dim scene (sRGB 0.02-0.2) with two small lamps at white, so the
    anchor's exposure cannot brighten it."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    img = np.stack([0.02 + 0.18 * xx, 0.02 + 0.12 * yy, 0.03 + 0.1 * xx * yy], axis=2)
    img[10:14, 20:24] = 1.0
    img[40:43, 90:94] = 1.0
    return np.rint(img * 255).astype(np.uint8)


def test_anchor_lifts_a_low_light_photo_without_clipping_and_leaves_normal_ones() -> None:
    """Issue 22's low-light photos: where the lamps hold the white point, the anchor's power
    curve lifts the mean luma into 0.3-0.65 with no pixel newly at 255; a normal photo and
    an under-exposed one get no lift (their curve is the identity)."""
    night = _tensor(_night())
    p = ToneParams.decode(anchor(night))
    out = render(night, p)
    lum = (out * torch.tensor([0.2126, 0.7152, 0.0722]).reshape(1, 3, 1, 1)).sum(1).mean()
    assert 0.3 <= float(lum) <= 0.65
    clipped_in = (night >= 1 - 0.5 / 255).any(1).float().mean()
    clipped_out = (out >= 1 - 0.5 / 255).any(1).float().mean()
    assert float(clipped_out) <= float(clipped_in)
    for img in (_scene(), _scene(ev=-2.0)):
        curve = ToneParams.decode(anchor(_tensor(img))).curve
        assert torch.allclose(curve, torch.full_like(curve, 1 / curve.shape[1]), atol=1e-6)


def test_anchor_exposure_leaves_a_white_point_at_white_alone() -> None:
    """A white point within 1 % of white gets no exposure: the gain is invisible, but it
    pushed the pixels at 253-254 to 255."""
    img = _scene()
    img[: 96 // 6] = 253  # the sky just below white
    assert float(ToneParams.decode(anchor(_tensor(img))).ev[0]) == 0.0


def test_confidence_reads_the_net_not_the_anchor() -> None:
    """The three views differ in framing, so the anchor's rule differs between them (the
    centre of a night photo misses its lamps); the confidence measures only how far the
    net's own residuals disagree. An anchored net with no residual is fully confident."""
    net = build_tone({"widths": [4, 8], "hidden": 8, "anchored": True})
    model = ToneModel.from_net(net)
    img = np.full((160, 160, 3), 8, np.uint8)  # a dark room, its lamps off centre
    img[4:12, 4:12] = 255
    img[148:156, 148:156] = 255
    img[20:140, 20:140] = 70  # a dim centre: alone, it would be exposed up, not lifted
    base = ToneParams.decode(anchor(_tensor(img)))
    centre = ToneParams.decode(anchor(_tensor(img[20:140, 20:140])))
    ramp = torch.linspace(0, 1, 32).reshape(1, 1, 1, 32).expand(1, 3, 1, 32).contiguous()
    gap = (render(ramp, base) - render(ramp, centre)).abs().mean() * 255
    assert float(gap) > 10  # the rule disagrees by framing (the old confidence: 0.03)
    _, conf = model.predict(img)
    assert conf == pytest.approx(1.0)


def test_a_shadow_lift_is_described_as_such() -> None:
    night = _night()
    net = build_tone({"widths": [4, 8], "hidden": 8, "anchored": True})
    out, edit = ToneModel.from_net(net).apply(night)
    assert "brighter shadows" in edit.description
    assert _luma(out) > 2 * _luma(night)


@pytest.mark.parametrize("sat", [0.0, 0.4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("alpha", [False, True])
def test_compiled_tone_step_matches_numpy_to_the_bit(monkeypatch, sat: float, dtype: type,
                                                     alpha: bool) -> None:
    """The full-resolution step as one compiled loop (tone_kernels) writes exactly what the
    numpy tables did, with and without a saturation change, for every sample type and with
    an alpha channel."""
    import photoenhance.core.ml.tone as T

    assert T._KERNELS is not None
    img = _scene(120, 90)
    if dtype is np.uint16:
        img = img.astype(np.uint16) * 257
    elif dtype is np.float32:
        img = img.astype(np.float32) / 255
    if alpha:
        img = np.concatenate([img, img[..., :1]], axis=2)
    model = _fixed(ev=0.7, temp=0.3, sat=sat, curve=[0.3] * 4 + [0.0] * 12)
    fast, _ = model.apply(img)
    monkeypatch.setattr(T, "_KERNELS", None)
    plain, _ = model.apply(img)
    assert fast.dtype == plain.dtype and np.array_equal(fast, plain)
