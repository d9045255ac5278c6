"""Enhancer training pieces: the textured patch cut, batches that mix both sets, the blur
range options, growing a net from smaller weights (--arch), and a two-step run end to end
on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoenhance.core.ml.nets import build
from photoenhance.train import data
from photoenhance.train import enhancer as tr


def _textured_photo(path: Path, size: tuple[int, int] = (1200, 900)) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size[1] // 6, size[0] // 6, 3), dtype=np.uint8)
    Image.fromarray(base).resize(size, Image.Resampling.NEAREST).save(path)


def test_cut_textured_keeps_only_detailed_patches(tmp_path: Path) -> None:
    _textured_photo(tmp_path / "busy.png")
    Image.new("RGB", (1200, 900), (90, 120, 200)).save(tmp_path / "sky.png")
    busy = data.Photo("pkg", tmp_path / "busy.png", "busy.png", "busy.png")
    sky = data.Photo("pkg", tmp_path / "sky.png", "sky.png", "sky.png")
    held_out = data.Photo("pkg", tmp_path / "busy.png", "busy.png", "fog.jpg")  # a val key
    data.cut_textured(tmp_path, [busy, held_out], size=64)
    train = np.load(tmp_path / "patches_train_tex_64.npy")
    val = np.load(tmp_path / "patches_val_tex_64.npy")
    assert train.shape[1:] == (64, 64, 3) and train.dtype == np.uint8
    assert len(train) > 0 and len(val) > 0
    assert data.grad_energy(train).min() >= min(g for _, g in data.TEXTURED_PASSES)
    data.cut_textured(tmp_path, [sky, held_out], size=64)  # a flat photo gives nothing
    assert len(np.load(tmp_path / "patches_train_tex_64.npy")) == 0


def test_batches_mix_plain_and_textured_patches_reproducibly() -> None:
    plain = np.zeros((20, 32, 32, 3), np.uint8)
    textured = np.full((10, 32, 32, 3), 255, np.uint8)
    args = tr.parse_args(["--batch", "8", "--patch", "24", "--textured-share", "0.75"])
    a = tr.batch_at(plain, 5, args, None, textured)
    b = tr.batch_at(plain, 5, args, None, textured)
    assert a.shape == (8, 3, 24, 24)
    assert (a.flatten(1).mean(1) == 1.0).sum() == 6  # 75 % from the textured set
    assert np.array_equal(a.numpy(), b.numpy())
    only_plain = tr.batch_at(plain, 5, args, None, None)
    assert float(only_plain.max()) == 0.0


def test_range_options_reach_the_degradation_config() -> None:
    args = tr.parse_args(["--mix", "0.1", "0.2", "0.3", "0.2", "--disk-radius", "0.5", "2"])
    cfg = tr.degrade_config(args)
    assert (cfg.p_clean, cfg.p_blur) == (0.1, 0.2)
    assert cfg.disk_radius == (0.5, 2.0)
    assert cfg.motion_length == tr.deg.DegradeConfig().motion_length
    assert cfg.jpeg_q == tr.deg.DegradeConfig().jpeg_q
    assert tr.degrade_config(tr.parse_args(["--jpeg-q", "10", "60"])).jpeg_q == (10, 60)


def _tiny_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> np.random.Generator:
    """Random patch sets in ``tmp_path``, with the trainer pointed at them; returns the rng."""
    rng = np.random.default_rng(seed)
    for name, n in (("train_128", 6), ("val_128", 2), ("train_tex_128", 4), ("val_tex_128", 2)):
        np.save(tmp_path / f"patches_{name}.npy", rng.integers(0, 256, (n, 128, 128, 3), np.uint8))
    monkeypatch.setattr(tr, "data_root", lambda: tmp_path)
    monkeypatch.setattr(tr, "CKPT_DIR", tmp_path / "ckpt")
    return rng


def test_two_step_run_exports_a_loadable_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = _tiny_data(tmp_path, monkeypatch, seed=1)
    out = tmp_path / "enhancer.pt"
    tr.run(["--steps", "2", "--batch", "2", "--patch", "32", "--threads", "1",
            "--prefetch", "1", "--out", str(out)])
    assert out.exists() and (tmp_path / "ckpt" / "enhancer-last.pt").exists()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training"]["steps"] == 2
    assert card["training"]["textured_patches"] == 4
    assert "gauss25_tex" in card["training"]["val_psnr_in_out"]

    from photoenhance.core.ml.infer import Enhancer

    enh = Enhancer.load(out)
    img = rng.integers(0, 256, (40, 56, 3), np.uint8)
    assert enh.enhance(img, auto=False).shape == img.shape


def test_blur_hints_are_drawn_by_kind() -> None:
    """Blurred samples mostly get high hints, unblurred ones mostly none; noisy blurred ones
    are drawn as unblurred (noise hides blur from the softness measure)."""
    import torch

    s = torch.zeros(3000, 4)
    s[:1000, 1] = 0.3  # blurred
    s[1000:2000, 1], s[1000:2000, 0] = 0.3, 0.5  # blurred and noisy
    h = tr.blur_hint(s, seed=3)
    assert h.shape == (3000, 1) and float(h.min()) >= 0 and float(h.max()) <= 1
    assert float(h[:1000].mean()) > 0.6
    assert float(h[2000:].mean()) < 0.3 and float(h[1000:2000].mean()) < 0.3
    assert torch.equal(h, tr.blur_hint(s, seed=3))


def test_a_conditioned_net_grows_from_an_unconditioned_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = _tiny_data(tmp_path, monkeypatch, seed=2)
    plain, cond = tmp_path / "plain.pt", tmp_path / "cond.pt"
    common = ["--steps", "1", "--batch", "2", "--patch", "32", "--threads", "1"]
    tr.run([*common, "--out", str(plain)])
    tr.run([*common, "--out", str(cond), "--cond-blur", "--init", str(plain)])
    card = json.loads(cond.with_suffix(".json").read_text())
    assert card["architecture"]["config"]["cond"] == 1
    assert card["training"]["blur_hint"]["deciles_blurred"] == list(tr.HINT_DECILES_BLURRED)

    from photoenhance.core.ml.infer import Enhancer

    enh = Enhancer.load(cond)
    assert enh.takes_blur and not Enhancer.load(plain).takes_blur
    img = rng.integers(0, 256, (40, 56, 3), np.uint8)
    assert enh.enhance(img, auto=False, blur=0.7).shape == img.shape
    with pytest.raises(SystemExit):  # a conditioned checkpoint does not fit a plain net
        tr.run([*common, "--out", str(tmp_path / "x.pt"), "--init", str(cond)])


def test_init_grows_identity_blocks_and_drops_others() -> None:
    torch.manual_seed(0)
    shape = {"widths": [8, 16], "enc_blocks": [1, 2], "dec_blocks": [0]}
    small = build(shape).eval()
    x = torch.rand(1, 3, 24, 40)
    grown = build({**shape, "dec_blocks": [2]}).eval()
    tr.load_init(grown, small.state_dict(), reshape=True, name="small")
    assert torch.equal(grown(x), small(x))  # new blocks start as identities
    assert float(grown.dec[0][1].conv1.weight.detach().abs().sum()) > 0  # ... that can learn
    cut = build({**shape, "enc_blocks": [1, 1]})
    tr.load_init(cut, small.state_dict(), reshape=True, name="small")
    assert torch.equal(cut.enc[1][0].conv2.weight, small.enc[1][0].conv2.weight)
    with pytest.raises(SystemExit):  # without --arch the blocks must match
        tr.load_init(build({**shape, "dec_blocks": [2]}), small.state_dict(), False, "small")
    with pytest.raises(SystemExit):  # other widths never fit
        tr.load_init(build({**shape, "widths": [12, 16]}), small.state_dict(), True, "small")


def test_arch_option_shapes_the_exported_net(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tiny_data(tmp_path, monkeypatch, seed=3)
    out = tmp_path / "small.pt"
    arch = '{"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [1]}'
    common = ["--steps", "1", "--batch", "2", "--patch", "32", "--threads", "1"]
    tr.run([*common, "--arch", arch, "--out", str(out)])
    for bad in ("[1, 2]", '{"widths": [8, 16], "depth": 3}'):
        with pytest.raises(SystemExit):  # refused at argument parsing
            tr.parse_args(["--arch", bad])
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["architecture"]["config"]["widths"] == [8, 16]
    assert card["architecture"]["config"]["dec_blocks"] == [1]

    from photoenhance.core.ml.infer import Enhancer

    img = np.zeros((20, 30, 3), np.uint8)
    assert Enhancer.load(out).enhance(img, auto=False).shape == img.shape


def test_patches_pack_small_and_unpack_close(tmp_path: Path) -> None:
    from photoenhance.train import pack

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    base = np.linspace(0, 255, 128 * 128 * 3).reshape(128, 128, 3)
    sets = {}
    for i, name in enumerate(pack.SETS):
        n = 40 if name.startswith("train") else 3
        sets[name] = np.stack([np.roll(base, 7 * k + i, axis=1) for k in range(n)]).astype(np.uint8)
        np.save(src / f"patches_{name}.npy", sets[name])
    raw = sum(a.nbytes for a in sets.values())
    kept = pack.pack(src, tmp_path / "pack.npz", budget_mb=0.1)
    assert (tmp_path / "pack.npz").stat().st_size <= 0.1 * 2**20 < raw
    assert kept["val_128"] == 3 and kept["val_tex_128"] == 3  # validation travels whole
    assert 1 <= kept["train_128"] < 40
    assert pack.unpack(tmp_path / "pack.npz", dst) == kept
    back = np.load(dst / "patches_val_128.npy")
    assert back.shape == sets["val_128"].shape
    assert np.abs(back.astype(int) - sets["val_128"]).mean() < 2  # JPEG quality 95


def test_prefetched_batches_are_the_ones_made_in_the_loop() -> None:
    """Batches made ahead by worker threads come back in step order and equal those made one
    at a time, degradations and blur hints included."""
    patches = np.random.default_rng(3).integers(0, 256, (12, 48, 48, 3), np.uint8)
    args = tr.parse_args(["--batch", "4", "--patch", "32", "--textured-share", "0"])

    def make(at: int) -> tr.Batch:
        d = tr.deg.degrade(tr.batch_at(patches, at, args), seed=at, cfg=tr.deg.DegradeConfig())
        return d.image, d.target, tr.blur_hint(d.strengths, at)

    inline, ahead = tr.Prefetch(make, 5, 0), tr.Prefetch(make, 5, 3)
    try:
        for _ in range(7):
            for a, b in zip(inline.get(), ahead.get(), strict=True):
                assert a is not None and b is not None and torch.equal(a, b)
    finally:
        ahead.close()
    assert not torch.equal(make(5)[0], make(6)[0])  # the step matters, so order was checked


def test_prefetch_defaults_to_none_on_the_cpu() -> None:
    auto = tr.parse_args([])
    assert tr.prefetch_workers(auto, torch.device("cpu")) == 0
    assert 1 <= tr.prefetch_workers(auto, torch.device("cuda")) <= 6
    assert tr.prefetch_workers(tr.parse_args(["--prefetch", "2"]), torch.device("cpu")) == 2


def test_camera_v2_option_trains_on_device_made_camera_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two steps with half of each batch through the camera model (and blur hints), then a
    loadable export whose card names the degradation model and its settings."""
    rng = _tiny_data(tmp_path, monkeypatch, seed=4)
    out = tmp_path / "cam.pt"
    argv = ["--steps", "2", "--batch", "4", "--patch", "32", "--threads", "1", "--cond-blur"]
    argv += [
        "--prefetch",
        "1",
        "--degradations",
        "camera-v2",
        "--camera-share",
        "0.5",
        "--out",
        str(out),
    ]
    argv += ["--camera", '{"p_web": 1.0, "blur_shares": [0, 1, 0]}']
    tr.run(argv)
    card = json.loads(out.with_suffix(".json").read_text())
    model = card["training"]["degradation_model"]
    assert model["name"] == "camera-v2" and model["share"] == 0.5
    assert model["config"]["p_web"] == 1.0 and model["config"]["blur_shares"] == [0, 1, 0]
    assert {"camera1600", "shake"} <= set(card["training"]["val_psnr_in_out"])

    from photoenhance.core.ml.infer import Enhancer

    img = rng.integers(0, 256, (40, 56, 3), np.uint8)
    assert Enhancer.load(out).enhance(img, auto=False).shape == img.shape


def test_camera_batch_degrades_only_its_share_and_keeps_the_targets() -> None:
    args = tr.parse_args(["--degradations", "camera-v2", "--camera-share", "0.5", "--seed", "1"])
    args.camera = {"p_clean": 0.0, "p_noise": 1.0, "iso": [6400, 6400]}
    clean = torch.rand(4, 3, 32, 32)
    xb = clean.clone()
    xb[:2] += 0.01  # the v1 part
    hint = torch.zeros(4, 1)
    x, y, h = tr.camera_batch(xb, clean, hint, 7, args, torch.device("cpu"))
    assert torch.equal(x[:2], xb[:2]) and torch.equal(y, clean)
    assert float((x[2:] - clean[2:]).abs().mean()) > 0.01  # noisy now
    assert h is not None and h.shape == (4, 1)
    again, _, _ = tr.camera_batch(xb, clean, hint, 7, args, torch.device("cpu"))
    assert torch.equal(x, again)  # seeded by the step


def test_camera_options_are_checked() -> None:
    for bad in (["--camera-share", "1.5"], ["--camera", '{"nope": 1}'], ["--camera", "[1]"]):
        with pytest.raises(SystemExit):
            tr.parse_args(["--degradations", "camera-v2", *bad])


def test_training_folders_are_in_the_checkout() -> None:
    """Data and checkpoints go next to pyproject.toml, wherever the training code lives
    (moving it under photoenhance/train once sent them to /data and /checkpoints)."""
    from photoenhance.train import REPO, enhancer, tone
    from photoenhance.train.data import data_root
    from photoenhance.train.rank import train as rank_train

    assert (REPO / "pyproject.toml").is_file()
    assert data_root() == REPO / "data"
    assert enhancer.CKPT_DIR == REPO / "checkpoints" == rank_train.CKPT.parent
    assert tone.REPO == REPO
