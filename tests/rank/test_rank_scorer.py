"""The improvability net, its views, the Scorer and catalog scoring, with random weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from rank_helpers import textured, tiny_net
from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Photo, Score
from photoenhance.core.errors import Cancelled, ModelError
from photoenhance.core.ml.nets.improvability import FACTORS, OLD_FACTORS, ImprovabilityNet
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.core.rank.catalog_scoring import score_photo_ids
from photoenhance.core.rank.inputs import CROP_SIZE, GLOBAL_SIZE, N_CROPS, crop_origins, make_views
from photoenhance.core.rank.scale import gain_to_score, score_to_gain
from photoenhance.core.rank.scorer import Scorer


def test_net_output_shape_and_config_round_trip() -> None:
    net = tiny_net()
    g, c = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 3, 48, 48)
    out = net(g, c)
    assert out.shape == (2, 1 + len(FACTORS) + 1)  # gain, factors, tone gain
    clone = ImprovabilityNet.from_config(net.config).eval()
    clone.load_state_dict(net.state_dict())
    assert torch.allclose(clone(g, c), out)


def test_views_shapes_and_small_images() -> None:
    v = make_views(textured(400, 500))
    assert v.global_view.shape == (GLOBAL_SIZE, GLOBAL_SIZE, 3)
    assert v.crops.shape == (N_CROPS, CROP_SIZE, CROP_SIZE, 3) and v.crops.dtype == np.uint8
    for h, w in ((30, 50), (64, 300), (300, 64)):  # smaller than a crop one way: padded
        assert make_views(textured(h, w)).crops.shape == (N_CROPS, CROP_SIZE, CROP_SIZE, 3)


def test_crops_go_where_the_detail_is() -> None:
    img = np.full((384, 384, 3), 120, np.uint8)
    img[96:192, 288:384] = np.random.default_rng(1).integers(0, 255, (96, 96, 1))
    from PIL import Image

    assert crop_origins(Image.fromarray(img), n=1) == [(96, 288)]


def test_score_scale_is_monotonic_and_threshold_is_one_db() -> None:
    assert gain_to_score(1.0) == pytest.approx(0.4)
    # nothing to gain, or a loss, scores exactly 0
    assert gain_to_score(-3.0) == gain_to_score(0.0) == 0.0
    assert 0 < gain_to_score(0.01) < 0.01 and gain_to_score(0.437) == pytest.approx(0.2, abs=1e-3)
    s = gain_to_score(np.array([0.0, 0.01, 0.5, 2.0, 6.0, 10.0, 15.0]))
    assert np.all(np.diff(s) > 0) and s[-1] < 1 and np.all(np.diff(np.round(s, 4)) > 0)
    # continuous at 0 dB, and saturating: each dB adds less than the one before
    assert np.all(np.diff(np.diff(s[2:])) < 0) and gain_to_score(1e-9) < 1e-9
    for gain in (0.01, 0.5, 1.0, 2.5, 8.0):
        assert score_to_gain(float(gain_to_score(gain))) == pytest.approx(gain)
    assert score_to_gain(0.0) == 0.0


def test_scorer_paths_in_order_with_errors(model_file: Path, photos: list[Path],
                                           tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    seen: list[Progress] = []
    scorer = Scorer.load(model_file)
    results = scorer.score_paths([*photos, bad], batch_size=2, progress=seen.append)
    assert [r.path for r in results] == [*photos, bad]
    assert all(0 <= r.score <= 1 for r in results[:3] if r.score is not None)
    assert set(results[0].factors) == set(FACTORS)
    assert results[0].tone_gain_db is not None  # the default net has a tone head
    assert results[3].score is None and results[3].error
    assert seen[-1].done == 4 and seen[-1].total == 4
    again = scorer.score_paths(photos, batch_size=8)
    assert [r.score for r in again] == [r.score for r in results[:3]]


def test_scorer_cancel(model_file: Path, photos: list[Path]) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        Scorer.load(model_file).score_paths(photos, cancel=token)


def test_load_refuses_tampered_or_missing_weights(model_file: Path, tmp_path: Path) -> None:
    card = model_file.with_suffix(".json")
    data = json.loads(card.read_text())
    card.write_text(json.dumps({**data, "sha256": "0" * 64}))
    with pytest.raises(ModelError, match="sha256"):
        Scorer.load(model_file)
    with pytest.raises(ModelError, match="missing"):
        Scorer.load(tmp_path / "nope.pt")


def test_score_photo_ids_stores_scores(model_file: Path, photos: list[Path],
                                       tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "cat.sqlite") as catalog:
        with catalog.session() as s:
            s.add_all([Photo(path=p) for p in [*photos, tmp_path / "gone.jpg"]])
        with catalog.session() as s:
            ids = list(s.scalars(select(Photo.id)))
        summary = score_photo_ids(catalog, ids, Scorer.load(model_file))
        assert summary.scored == 3 and len(summary.failed) == 1
        with catalog.session() as s:
            rows = s.scalars(select(Score)).all()
            assert len(rows) == 3
            assert all(r.model_id == "improvability-test" and r.noise is not None for r in rows)


def test_a_photo_the_enhancer_leaves_alone_has_no_gain() -> None:
    """The enhancer returns photos measured clean unchanged, so their gain is exactly 0 dB."""
    from photoenhance.core.ml.autostrength import measure

    scorer = Scorer(tiny_net())
    clean = textured(256, 320)
    # sharp detail over the smooth shading, or the photo reads as soft (blurred)
    clean[::9] = clean[::9] // 2
    clean[:, ::13] = clean[:, ::13] // 2 + 100
    noisy = np.clip(clean + np.random.default_rng(3).normal(0, 20, clean.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    assert measure(clean).strength == 0.0 and measure(noisy).strength == 1.0
    r_clean, r_noisy = scorer.score_arrays([clean, noisy])
    assert r_clean.gain_db == 0.0
    assert r_clean.score == 0.0 and r_clean.unchanged and not r_noisy.unchanged
    assert r_noisy.score == round(float(gain_to_score(r_noisy.gain_db)), 4)
    assert r_noisy.gain_db != 0.0


def test_a_net_from_before_version_6_still_loads(tmp_path: Path) -> None:
    """Configs without ``factors`` are the four-factor nets without a tone head."""
    old = ImprovabilityNet(stem=8, stages=((1, 8, 1, 1),), feat=16, hidden=8,
                           factors=OLD_FACTORS, tone=False)
    config = {k: v for k, v in old.config.items() if k not in ("factors", "tone")}
    net = ImprovabilityNet.from_config(config)
    net.load_state_dict(old.state_dict())
    img = (np.random.default_rng(0).random((200, 240, 3)) * 255).astype(np.uint8)
    res = Scorer(net).score_arrays([img])[0]
    assert set(res.factors) == set(OLD_FACTORS) and res.tone_gain_db is None


def test_folded_batch_norms_give_the_same_scores() -> None:
    """Scorer.load folds each batch norm into its convolution (a quarter of the backbone's
    time): the net computes the same, to float rounding, and has no batch norm left."""
    import copy

    from photoenhance.core.ml.nets.improvability import ImprovabilityNet, fold_batch_norms

    torch.manual_seed(0)
    net = ImprovabilityNet()
    for m in net.modules():  # batch statistics far from the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    folded = copy.deepcopy(net)
    assert fold_batch_norms(folded) > 10
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    g, c = torch.rand(2, 3, 96, 96), torch.rand(2, 4, 3, 64, 64)
    with torch.inference_mode():
        assert torch.allclose(folded.embed(g, c), net.embed(g, c), atol=1e-4, rtol=1e-4)
