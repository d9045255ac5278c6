"""Calibration from the user's ratings: refit only the last layer (the patent's step).

Each rating (significant +2, moderate +1, neutral 0, regressed -1) becomes a target gain in
dB (:data:`LABEL_GAIN`, on the same scale as the shipped head). The network's hidden vector
is computed once per rated photo, and the new ``overall`` layer is the ridge regression
that fits those targets while being pulled toward the shipped layer (closed form, so it is
deterministic and takes milliseconds after the photos are decoded). The shipped weights
are never touched; the head is saved in the data dir (:mod:`.userhead`).

Quality is reported on a held-out fifth of the ratings: Spearman correlation between the
labels and the scores of the shipped head and of the head fitted on the other ratings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from photoenhance.core.errors import UsageError
from photoenhance.core.progress import CancelToken, Progress, ProgressCallback
from photoenhance.core.rank.inputs import Views
from photoenhance.core.rank.metrics import spearman
from photoenhance.core.rank.scorer import Scorer, decoded_batches, views_to_tensors

LABEL_GAIN = {2: 3.0, 1: 1.5, 0: 0.3, -1: -0.5}
MIN_RATINGS = 20
#: Ridge strength, relative to the mean squared norm of the hidden vectors.
RIDGE = 0.05


@dataclass(frozen=True)
class CalibrationReport:
    ratings: int
    used: int
    held_out: int
    before: float  # held-out Spearman of the shipped head
    after: float  # held-out Spearman of the head fitted without the held-out ratings
    head: nn.Linear


@torch.inference_mode()
def embed_paths(scorer: Scorer, paths: Sequence[Path], progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hidden vectors (n_ok, hidden) of the readable photos, and which paths were readable."""
    feats: list[np.ndarray] = []
    ok: list[bool] = []
    for batch in decoded_batches(paths, 16, cancel, None):
        views = [v for _, v in batch if isinstance(v, Views)]
        ok += [isinstance(v, Views) for _, v in batch]
        if views:
            g, c = views_to_tensors(views)
            feats.append(scorer.net.embed(g, c).float().numpy())
        if progress:
            progress(Progress(len(ok), len(paths), str(batch[-1][0]), "Reading rated photos"))
    hidden = scorer.net.overall.in_features
    return (np.concatenate(feats) if feats else np.zeros((0, hidden))), np.array(ok, bool)


def fit_head(h: np.ndarray, target: np.ndarray, base: nn.Linear) -> nn.Linear:
    """Ridge regression of ``target`` on ``h``, shrunk toward ``base``'s weights."""
    w0 = base.weight.detach().double().numpy().ravel()
    b0 = float(base.bias.detach().double().numpy()[0])
    x = np.hstack([h.astype(np.float64), np.ones((len(h), 1))])
    prior = np.append(w0, b0)
    lam = RIDGE * float((h * h).sum(1).mean() + 1e-9)
    reg = lam * np.eye(x.shape[1])
    reg[-1, -1] = lam * 1e-3  # barely shrink the bias
    sol = np.linalg.solve(x.T @ x + reg, x.T @ target + reg @ prior)
    head = nn.Linear(h.shape[1], 1)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(sol[:-1]).float().view(1, -1))
        head.bias.fill_(float(sol[-1]))
    return head


def _predict(head: nn.Linear, h: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return head(torch.from_numpy(h).float()).numpy().ravel()


def calibrate(scorer: Scorer, paths: Sequence[Path], labels: Sequence[int],
              progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
              seed: int = 0) -> CalibrationReport:
    """Fit a user head on rated photos; refuse clearly when there are too few ratings."""
    check_ratings(labels)
    h, ok = embed_paths(scorer, paths, progress, cancel)
    return fit_ratings(h, [lab for lab, good in zip(labels, ok, strict=True) if good],
                       scorer.net.overall, len(labels), seed)


def fit_ratings(h: np.ndarray, labels: Sequence[int], shipped: nn.Linear,
                n_ratings: int | None = None, seed: int = 0) -> CalibrationReport:
    """Fit a user head on the hidden vectors ``h`` of rated photos (one row per label),
    holding a fifth out to measure it; ``n_ratings``: the ratings before unreadable photos
    were dropped."""
    check_ratings(labels, "readable ")
    y = np.array([LABEL_GAIN[int(v)] for v in labels], dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_held = max(4, len(y) // 5)
    held, fit = order[:n_held], order[n_held:]
    before = spearman(_predict(shipped, h[held]), y[held])
    after = spearman(_predict(fit_head(h[fit], y[fit], shipped), h[held]), y[held])
    return CalibrationReport(n_ratings or len(labels), len(y), n_held, before, after,
                             fit_head(h, y, shipped))


def check_ratings(labels: Sequence[int], what: str = "") -> None:
    if len(labels) < MIN_RATINGS:
        raise UsageError(f"calibration needs at least {MIN_RATINGS} {what}rated photos; "
                         f"there are {len(labels)}. Rate more with `photoenhance rate`.")
    if len(set(labels)) < 2:
        raise UsageError("calibration needs ratings of at least two different kinds.")
