"""Smoke test of the shipped improvability weights (skipped until they exist)."""

from __future__ import annotations

import numpy as np
import pytest
from rank_helpers import textured

from photoenhance.core.paths import models_dir
from photoenhance.core.rank.scorer import MODEL_NAME, Scorer


def test_shipped_model_flags_a_noisy_photo_over_its_clean_original() -> None:
    path = models_dir() / f"{MODEL_NAME}.pt"
    if not path.is_file():
        pytest.skip("no shipped improvability weights yet")
    assert path.stat().st_size < 10 * 2**20
    scorer = Scorer.load(path, use_user_head=False)
    clean = textured(384, 512, seed=1)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255)
    res = scorer.score_arrays([clean, noisy.astype(np.uint8)])
    assert res[1].score is not None and res[0].score is not None
    assert res[1].score > res[0].score and res[1].score >= 0.4
    assert res[1].factors["noise"] > res[0].factors["noise"]
