"""Degradation model v2 (photoenhance.train.camera, jpegsim): each stage on synthetic images."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from photoenhance.train import camera as cam
from photoenhance.train import jpegsim

torch.set_num_threads(1)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _photo(
    n: int = 2, h: int = 64, w: int = 80, seed: int = 0, smooth: float = 3.0
) -> torch.Tensor:
    """Photo-like test images: a smoothed random texture in slowly varying colours (colour
    channels correlate, as in photos), plus a hard edge."""
    g = _gen(seed)
    lum = torch.rand(n, 1, h // 2, w // 2, generator=g)
    tint = 0.5 + torch.rand(n, 3, 2, 2, generator=g)
    up = torch.nn.functional.interpolate
    x = (
        up(lum, size=(h, w), mode="bicubic", align_corners=False)
        * up(tint, size=(h, w), mode="bilinear", align_corners=False)
        * 0.6
    )
    x = cam.deg.apply_kernels(x, cam.deg.gaussian_kernels(torch.full((n,), smooth), 9))
    x[:, :, h // 3 : h // 2, w // 4 :] *= 0.5  # an edge
    return (x.clamp(0.02, 0.98) * 255).round() / 255


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean().clamp_min(1e-12)))


def test_same_generator_state_gives_the_same_batch_and_another_differs() -> None:
    x = _photo(6)
    a, pa = cam.degrade_batch(x, _gen(3))
    b, pb = cam.degrade_batch(x, _gen(3))
    c, _ = cam.degrade_batch(x, _gen(4))
    assert torch.equal(a, b) and torch.equal(pa.iso, pb.iso)
    assert not torch.equal(a, c)


def test_unprocess_and_process_invert_each_other() -> None:
    x = _photo(4)
    ccm, gains = cam.random_ccm(4, _gen(1)), cam.random_gains(4, _gen(2))
    lin = cam.unprocess(x, ccm, gains)
    assert float(lin.max()) <= 1.0 and float(lin.min()) >= -1e-6
    assert _psnr(cam.process(lin, ccm, gains), x) > 80
    assert torch.allclose(ccm.sum(-1), torch.ones(4, 3))  # grey stays grey
    y = torch.linspace(0, 1, 101)
    assert torch.allclose(cam.tone_curve(cam.inverse_tone_curve(y)), y, atol=1e-5)
    assert torch.allclose(cam.srgb_to_linear(cam.linear_to_srgb(y)), y, atol=1e-5)


@pytest.mark.parametrize(
    ("pattern", "first_two_rows"),
    [(0, ["RG", "GB"]), (1, ["BG", "GR"]), (2, ["GR", "BG"]), (3, ["GB", "RG"])],
)
def test_mosaic_samples_each_pattern_where_it_should(
    pattern: int, first_two_rows: list[str]
) -> None:
    x = torch.empty(1, 3, 6, 8)
    x[:, 0], x[:, 1], x[:, 2] = 0.1, 0.5, 0.9
    raw = cam.mosaic(x, torch.tensor([pattern]))[0, 0]
    value = {"R": 0.1, "G": 0.5, "B": 0.9}
    for r in range(6):
        for c in range(8):
            assert float(raw[r, c]) == pytest.approx(value[first_two_rows[r % 2][c % 2]])


def test_demosaicing_restores_smooth_images_and_the_better_methods_beat_bilinear() -> None:
    flat = torch.empty(2, 3, 16, 16)
    flat[:, 0], flat[:, 1], flat[:, 2] = 0.2, 0.6, 0.4
    x = _photo(3, smooth=1.2)
    scores = {}
    for m, name in enumerate(cam.DEMOSAIC):
        for p in range(4):
            pat = torch.full((2,), p)
            back = cam.demosaic(cam.mosaic(flat, pat), pat, torch.full((2,), m))
            assert torch.allclose(back, flat, atol=1e-5), (name, p)
        pat, meth = torch.tensor([0, 1, 3]), torch.full((3,), m)
        scores[name] = _psnr(cam.demosaic(cam.mosaic(x, pat), pat, meth), x)
    assert scores["bilinear"] > 25
    assert scores["malvar"] > scores["bilinear"] + 1
    assert scores["hamilton-adams"] > scores["bilinear"] + 1


def test_hamilton_adams_interpolates_green_along_edges() -> None:
    """A vertical edge: green at R/B sites taken along the edge is exact; bilinear smears."""
    x = torch.full((1, 3, 16, 16), 0.2)
    x[..., 7:] = 0.8
    pat, rggb = torch.tensor([0]), cam._flip_to_rggb
    raw = rggb(cam.mosaic(x, pat), pat)
    ha = cam.demosaic_hamilton_adams(raw)[:, 1]
    bl = cam.demosaic_bilinear(raw)[:, 1]
    assert float((ha - x[:, 1]).abs().max()) < 1e-5
    assert float((bl - x[:, 1]).abs().max()) > 0.1


def test_noise_variance_is_shot_times_signal_plus_read() -> None:
    raw = torch.full((2, 1, 128, 128), 0.25)
    raw[1] = 0.75
    shot, read = torch.tensor([0.004, 0.004]), torch.tensor([1e-4, 1e-4])
    noisy = cam.sensor_noise(raw, shot, read, torch.zeros(2), _gen(5))
    var = (noisy - raw).flatten(1).var(1)
    expected = shot * torch.tensor([0.25, 0.75]) + read
    assert torch.allclose(var, expected, rtol=0.05)


def test_read_noise_follows_the_shot_noise_as_camera_profiles_do() -> None:
    iso = torch.exp(torch.linspace(math.log(100), math.log(12800), 4000))
    shot, read = cam.noise_levels(iso, _gen(6))
    assert torch.allclose(shot[[0, -1]], torch.tensor([cam.SHOT_AT_ISO100, 1.2e-2]), rtol=1e-4)
    ls, lr = shot.log(), read.log()
    slope = float(((ls - ls.mean()) * (lr - lr.mean())).sum() / ((ls - ls.mean()) ** 2).sum())
    resid = lr - (cam.READ_SLOPE * ls + cam.READ_OFFSET)
    assert slope == pytest.approx(cam.READ_SLOPE, abs=0.05)
    assert float(resid.std()) == pytest.approx(cam.READ_JITTER, rel=0.1)


def test_row_noise_offsets_whole_rows() -> None:
    raw = torch.full((1, 1, 64, 256), 0.5)
    args = (torch.tensor([0.0]), torch.tensor([1e-4]))
    plain = cam.sensor_noise(raw, *args, torch.tensor([0.0]), _gen(7))
    rows = cam.sensor_noise(raw, *args, torch.tensor([1.0]), _gen(7))
    assert float(rows.mean(-1).std()) > 3 * float(plain.mean(-1).std())


def test_shake_kernels_are_normalised_sized_and_not_only_straight() -> None:
    extent = torch.linspace(5, 13, 64)
    ker = cam.shake_kernels(extent, _gen(8))
    assert ker.shape == (64, cam.KERNEL, cam.KERNEL) and float(ker.min()) >= 0
    assert torch.allclose(ker.sum((1, 2)), torch.ones(64))
    ys, xs = torch.meshgrid(torch.arange(cam.KERNEL), torch.arange(cam.KERNEL), indexing="ij")
    curved = 0
    for k, e in zip(ker, extent, strict=True):
        on = k > 1e-3
        diag = math.hypot(float(ys[on].max() - ys[on].min()), float(xs[on].max() - xs[on].min()))
        assert abs(diag - float(e)) <= 2.5
        pts = torch.stack([ys[on], xs[on]], 1).float()
        w = k[on] / k[on].sum()
        c = pts - (w[:, None] * pts).sum(0)
        cov = (w[:, None, None] * c[:, :, None] * c[:, None, :]).sum(0)
        ev = torch.linalg.eigvalsh(cov)
        curved += int(float(ev[0] / ev[1]) > 0.1)
    assert 5 <= curved < 64  # many paths bend, not all


def test_unsharp_mask_overshoots_edges() -> None:
    x = torch.full((1, 3, 16, 16), 0.3)
    x[..., 8:] = 0.7
    y = cam.unsharp_mask(x, torch.tensor([1.0]), torch.tensor([1.0]))
    assert float(y.max()) > 0.75 and float(y.min()) < 0.25
    assert torch.equal(cam.unsharp_mask(x, torch.tensor([0.0]), torch.tensor([1.0])), x)


def _pillow(img: np.ndarray, q: int, sub: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=q, subsampling=sub)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.mark.parametrize("q", [20, 50, 85, 95])
@pytest.mark.parametrize("sub", [jpegsim.SUB_422, jpegsim.SUB_420])
def test_torch_jpeg_matches_pillows_encoder(q: int, sub: int) -> None:
    x = _photo(1, 75, 101, seed=q, smooth=0.8)  # sides that are not whole blocks
    img = (x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    ours = jpegsim.jpeg(x, torch.tensor([q]), torch.tensor([sub]))
    ours_u8 = (ours[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    real = _pillow(img, q, sub)

    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
        return float(10 * np.log10(255**2 / max(mse, 1e-10)))

    assert abs(psnr(ours_u8, img) - psnr(real, img)) < 0.3
    assert psnr(ours_u8, real) > 40


def test_jpeg_table_families_differ_and_quality_orders_them() -> None:
    q = torch.tensor([20, 50, 90])
    for fam in range(len(jpegsim.TABLES)):
        t = jpegsim.quant_tables(q, torch.full((3,), fam))
        assert t.shape == (3, 2, 8, 8) and float(t.min()) >= 1 and float(t.max()) <= 255
        assert bool((t[0] >= t[1]).all() and (t[1] >= t[2]).all())
    ijg = jpegsim.quant_tables(torch.tensor([50]), torch.tensor([0]))
    assert ijg[0, 0, 0, 0] == 16 and ijg[0, 1, 0, 0] == 17  # Annex K at q 50
    fams = [jpegsim.quant_tables(torch.tensor([40]), torch.tensor([f])) for f in range(4)]
    assert all(not torch.equal(fams[0], f) for f in fams[1:])
    x = _photo(2, 48, 48)
    lo = jpegsim.jpeg(x, torch.tensor([20, 20]), torch.tensor([2, 0]))
    hi = jpegsim.jpeg(x, torch.tensor([90, 90]), torch.tensor([2, 0]))
    assert _psnr(hi, x) > _psnr(lo, x)


def test_degrade_batch_keeps_shape_levels_and_reports_its_draws() -> None:
    x = _photo(12, 45, 61)  # odd sides
    y, p = cam.degrade_batch(x, _gen(9))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal((y * 255).round(), y * 255)  # 8-bit levels
    s = p.strengths()
    assert s.shape == (12, 4) and float(s.min()) >= 0 and float(s.max()) <= 1
    for i in p.clean.nonzero().flatten():
        assert torch.equal(y[i], x[i])
    assert set(p.summary()) >= {"iso", "shot", "read", "demosaic", "camera_q", "web_q"}


def test_iso_sets_how_much_noise_the_output_carries() -> None:
    x = _photo(8)
    quiet = dict(p_clean=0.0, p_blur=0.0, p_sharpen=0.0, p_camera_jpeg=0.0, p_web=0.0, p_noise=1.0)
    lo, plo = cam.degrade_batch(x, _gen(10), cam.CameraConfig(iso=(100, 100), **quiet))
    hi, phi = cam.degrade_batch(x, _gen(10), cam.CameraConfig(iso=(12800, 12800), **quiet))
    assert _psnr(lo, x) > _psnr(hi, x) + 10
    assert float(phi.noise_std.mean()) > 5 * float(plo.noise_std.mean())
    assert float(phi.strengths()[:, 0].mean()) > 0.1
    same, unmeasured = cam.degrade_batch(
        x, _gen(10), cam.CameraConfig(iso=(12800, 12800), **quiet), measure_noise=False
    )
    assert torch.equal(same, hi) and float(unmeasured.noise_std.abs().sum()) == 0


def test_pillow_backend_matches_the_torch_one_closely() -> None:
    x = _photo(4)
    cfg = cam.CameraConfig(p_clean=0.0, p_camera_jpeg=1.0, p_web=0.0)
    a, _ = cam.degrade_batch(x, _gen(11), cfg, jpeg_backend="torch")
    b, _ = cam.degrade_batch(x, _gen(11), cfg, jpeg_backend="pil")
    assert _psnr(a, b) > 38
    with pytest.raises(ValueError):
        cam.degrade_batch(x, _gen(11), cfg, jpeg_backend="nope")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_the_gpu_with_a_device_generator() -> None:
    x = _photo(8).cuda()
    y, p = cam.degrade_batch(x, torch.Generator(device="cuda").manual_seed(0))
    assert y.device.type == "cuda" and y.shape == x.shape and p.iso.device.type == "cpu"
