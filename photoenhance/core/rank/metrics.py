"""Ranking metrics in plain numpy: Spearman correlation, PR-AUC, precision at a threshold."""

from __future__ import annotations

import numpy as np


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(1, len(x) + 1)
    uniq, inv = np.unique(x, return_inverse=True)
    sums = np.bincount(inv, weights=ranks)
    counts = np.bincount(inv)
    return (sums / counts)[inv] if len(uniq) < len(x) else ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def pr_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the precision-recall curve (average precision) of ``scores``."""
    positive = np.asarray(positive, dtype=bool)
    if not positive.any():
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    hits = positive[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def precision_recall_at(scores: np.ndarray, positive: np.ndarray,
                        threshold: float) -> tuple[float, float]:
    """Precision and recall of ``scores >= threshold`` for the ``positive`` set."""
    flagged = np.asarray(scores) >= threshold
    positive = np.asarray(positive, dtype=bool)
    tp = float((flagged & positive).sum())
    precision = tp / flagged.sum() if flagged.any() else float("nan")
    recall = tp / positive.sum() if positive.any() else float("nan")
    return precision, recall


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative
    (ties count half), from the Mann-Whitney U statistic."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
