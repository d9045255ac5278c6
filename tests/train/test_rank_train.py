"""Label arithmetic, ranking metrics, and a few training steps on a fake label pool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photoenhance.core.rank.metrics import pr_auc, precision_recall_at, rankdata, spearman
from photoenhance.core.rank.scorer import Scorer
from photoenhance.train.rank import train as rank_train
from photoenhance.train.rank.labels import MSE_FLOOR, mse_batch, true_gain


def test_true_gain_is_delta_psnr_with_a_floor() -> None:
    ref = np.zeros((1, 8, 8, 3), np.uint8)
    noisy = ref + 10
    assert mse_batch(ref, noisy)[0] == pytest.approx(100.0)
    g = true_gain(np.array([100.0]), np.array([25.0]))[0]
    assert g == pytest.approx(10 * np.log10((100 + MSE_FLOOR) / (25 + MSE_FLOOR)))
    assert abs(true_gain(np.array([0.0]), np.array([0.5]))[0]) < 2  # clean: finite, small


def test_metrics() -> None:
    assert rankdata(np.array([3.0, 1.0, 3.0])).tolist() == [2.5, 1.0, 2.5]
    x = np.arange(10.0)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert pr_auc(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0])) == 1.0
    assert pr_auc(np.array([0.1, 0.8, 0.9]), np.array([1, 0, 0])) == pytest.approx(1 / 3)
    p, r = precision_recall_at(np.array([0.5, 0.3, 0.45]), np.array([1, 1, 0]), 0.4)
    assert (p, r) == (0.5, 0.5)


def _fake_pool(root: Path, n: int = 24) -> None:
    rng = np.random.default_rng(0)
    folder = root / "32x32"
    folder.mkdir(parents=True)
    np.save(folder / "global.npy", rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8))
    np.save(folder / "crops.npy", rng.integers(0, 255, (n, 2, 24, 24, 3), dtype=np.uint8))
    np.save(folder / "mse_in.npy", rng.uniform(0, 200, n).astype(np.float32))
    np.save(folder / "mse_out.npy", rng.uniform(0, 50, n).astype(np.float32))
    np.save(folder / "strengths.npy", rng.uniform(0, 1, (n, 4)).astype(np.float32))
    np.save(folder / "holdout.npy", np.arange(n) % 4 == 0)
    (folder / "enhancer.txt").write_text("f" * 64 + "\n")


def test_training_runs_and_exports_a_loadable_model(tmp_path: Path, monkeypatch) -> None:
    _fake_pool(tmp_path / "pool")
    monkeypatch.setattr(rank_train, "CKPT", tmp_path / "ckpt" / "rank-last.pt")
    out = tmp_path / "models" / "improvability-v1.pt"
    rank_train.run(["--minutes", "0.02", "--batch", "4", "--eval-every", "2", "--pool",
                    str(tmp_path / "pool"), "--out", str(out), "--threads", "1"])
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["labels"]["train_regions"] == 18 and "spearman" in card["held_out_metrics"]
    scorer = Scorer.load(out)
    assert scorer.version == "1"
    assert (tmp_path / "models" / "improvability-v1-last.pt").is_file()  # beside --out


def _first_net(tmp_path: Path, monkeypatch) -> tuple[list[str], Path]:
    """A fake pool, a net trained briefly on it, and the options both runs share."""
    _fake_pool(tmp_path / "pool")
    monkeypatch.setattr(rank_train, "CKPT", tmp_path / "ckpt" / "rank-last.pt")
    common = ["--batch", "4", "--eval-every", "2", "--pool", str(tmp_path / "pool"),
              "--threads", "1"]
    first = tmp_path / "a" / "improvability-v1.pt"
    rank_train.run(["--minutes", "0.02", "--out", str(first), *common])
    return common, first


def test_head_only_training_keeps_the_backbone(tmp_path: Path, monkeypatch) -> None:
    import torch

    common, first = _first_net(tmp_path, monkeypatch)
    with pytest.raises(SystemExit):
        rank_train.run(["--head-only", "--minutes", "0.01", *common])
    second = tmp_path / "b" / "improvability-v1.pt"
    rank_train.run(["--head-only", "--init", str(first), "--minutes", "0.02", "--lr", "0.05",
                    "--out", str(second), *common])
    before = torch.load(first, weights_only=True)["state_dict"]
    after = torch.load(tmp_path / "b" / "improvability-v1-last.pt",
                       weights_only=True)["state_dict"]
    for name, value in before.items():
        same = torch.equal(value.float(), after[name].float())
        assert same == name.startswith("backbone."), name
    assert json.loads(first.with_suffix(".json").read_text())["training"]["trained"] == "all"
    card = json.loads(second.with_suffix(".json").read_text())
    assert card["training"]["trained"] == "layers after the backbone only"
    assert card["warm_start"] == f"fine-tuned from {first}"
    assert json.loads(first.with_suffix(".json").read_text())["warm_start"].startswith("none")


def test_score_weight_counts_errors_near_the_threshold_more() -> None:
    import torch

    def loss(pred: float, gain: float, weight: float) -> float:
        out = torch.tensor([[pred, 0.0, 0.0, 0.0, 0.0]])
        return float(rank_train.loss_fn(out, torch.tensor([gain]), torch.full((1, 4), 0.5),
                                        weight))

    near, far = (1.0, 2.0), (10.0, 9.0)  # (true gain, prediction), both 1 dB off
    assert loss(near[1], near[0], 0.0) == pytest.approx(loss(far[1], far[0], 0.0))
    assert loss(near[1], near[0], 10.0) > loss(far[1], far[0], 10.0) + 0.05


def test_head_fit_features_are_what_the_net_reads_in_any_batching() -> None:
    """``headfit`` caches the backbone's pooled features once; through the net's MLP they
    must give the net's own embedding, whatever the batch size."""
    import torch

    from photoenhance.core.ml.nets.improvability import ImprovabilityNet
    from photoenhance.train.rank.headfit import backbone_features

    rng = np.random.default_rng(0)
    n = 5
    pool = rank_train.Pool(
        rng.integers(0, 255, (n, 64, 64, 3), np.uint8),
        rng.integers(0, 255, (n, 2, 32, 32, 3), np.uint8),
        np.zeros(n, np.float32), np.zeros((n, 6), np.float32), np.full(n, np.nan, np.float32),
        np.ones(n, np.float32), np.zeros(n, np.int64))
    net = ImprovabilityNet(feat=16, hidden=8).eval()
    feats = backbone_features(net, pool, batch=2)
    assert feats.shape == (n, 48)
    assert np.allclose(backbone_features(net, pool, batch=5), feats, atol=1e-5)
    g, c, *_ = rank_train.to_tensors(pool)
    with torch.inference_mode():
        want = net.embed(g, c)
        got = net.mlp(torch.from_numpy(feats))
    assert torch.allclose(got, want, atol=1e-4)


def test_a_fine_tune_is_measured_from_its_starting_weights(tmp_path: Path, monkeypatch) -> None:
    """With --init the starting weights are evaluated first: a fine-tune that never beats
    them on the held-out regions leaves them as its result."""
    import torch

    common, first = _first_net(tmp_path, monkeypatch)
    second = tmp_path / "b" / "improvability-v1.pt"
    rank_train.run(["--init", str(first), "--minutes", "1e-6", "--out", str(second), *common])
    card = json.loads(second.with_suffix(".json").read_text())
    assert card["held_out_metrics"]["step"] == 0
    before = torch.load(first, weights_only=True)["state_dict"]
    after = torch.load(second, weights_only=True)["state_dict"]
    assert all(torch.equal(v.float(), after[k].float()) for k, v in before.items())
