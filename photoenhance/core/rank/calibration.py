"""Calibrate the ranker to the user's ratings, or reset it, and re-rank the whole catalog.

The one service behind ``photoenhance calibrate [--reset]`` and the app's "Learn from my
ratings": fit the user's last layer on the rated photos (:mod:`.userfit`), save it beside the
shipped weights (:mod:`.userhead`), then re-score every photo from its stored hidden vector
(:mod:`.rerank`), so the library's order follows at once, without decoding the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photoenhance.core.catalog import Catalog
from photoenhance.core.progress import CancelToken, ProgressCallback
from photoenhance.core.rank.rerank import RerankSummary, rated_vectors, rerank_catalog
from photoenhance.core.rank.scorer import Scorer
from photoenhance.core.rank.userfit import (
    CalibrationReport,
    check_ratings,
    embed_paths,
    fit_ratings,
)
from photoenhance.core.rank.userhead import remove_user_head, save_user_head


@dataclass(frozen=True)
class CalibrationOutcome:
    """``report``: the fit (None after a reset); ``head_path``: where the user's layer was
    saved; ``removed``: a reset found a layer to remove; ``rerank``: what the re-score did."""

    rerank: RerankSummary
    report: CalibrationReport | None = None
    head_path: Path | None = None
    removed: bool = False

    def summary(self) -> str:
        """One line for the status bar: "Ranking updated from your 240 ratings: ..."."""
        r = self.rerank
        source = (f"from your {self.report.used:,} ratings" if self.report is not None
                  else "to the shipped model")
        text = f"Ranking updated {source}: {r.moved:,} photo{'s' if r.moved != 1 else ''} moved"
        if r.now_worth_fixing or r.no_longer_worth_fixing:
            text += (f", {r.now_worth_fixing:,} now worth fixing, "
                     f"{r.no_longer_worth_fixing:,} no longer")
        text += "."
        if r.need_rescore:
            text += (f" {r.need_rescore:,} photo{'s' if r.need_rescore != 1 else ''} scored "
                     "by an older version keep their score until rescored.")
        return text


def _base(scorer: Scorer) -> Scorer:
    if scorer.calibrated:
        raise ValueError("calibration starts from the shipped layer: load the scorer with "
                         "use_user_head=False")
    return scorer


def calibrate_catalog(catalog: Catalog, scorer: Scorer,
                      progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None) -> CalibrationOutcome:
    """Fit the user's layer on the catalog's latest ratings, save it, re-rank the catalog.

    ``scorer`` holds the shipped layer (``Scorer.load(use_user_head=False)``). Raises
    :class:`~photoenhance.core.errors.UsageError` when there are too few ratings.
    """
    report = _fit(catalog, _base(scorer), progress, cancel)
    path = save_user_head(report.head, scorer.sha256,
                          {"ratings": report.used, "held_out_before": report.before,
                           "held_out_after": report.after})
    rerank = rerank_catalog(catalog, report.head, scorer.sha256, progress)
    return CalibrationOutcome(rerank, report, path)


def _fit(catalog: Catalog, scorer: Scorer, progress: ProgressCallback | None,
         cancel: CancelToken | None) -> CalibrationReport:
    """Fit on the latest ratings; rated photos with a stored vector are not decoded."""
    rated = rated_vectors(catalog, scorer.sha256)
    labels = [lab for _, lab, _ in rated]
    check_ratings(labels)
    todo = [i for i, (_, _, vec) in enumerate(rated) if vec is None]
    decoded, ok = embed_paths(scorer, [rated[i][0] for i in todo], progress, cancel)
    read = iter(decoded)
    rows: list[np.ndarray] = []
    used: list[int] = []
    unreadable = {i for i, good in zip(todo, ok, strict=True) if not good}
    for i, (_, label, vec) in enumerate(rated):
        if i in unreadable:
            continue
        rows.append(np.frombuffer(vec, "<f2").astype(np.float32) if vec is not None
                    else next(read).astype(np.float16).astype(np.float32))  # as stored
        used.append(label)
    hidden = scorer.net.overall.in_features
    h = np.stack(rows) if rows else np.zeros((0, hidden), np.float32)
    return fit_ratings(h, used, scorer.net.overall, len(labels))


def reset_catalog(catalog: Catalog, scorer: Scorer, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> CalibrationOutcome:
    """Remove the user's layer and re-rank the catalog with the shipped one."""
    removed = remove_user_head(_base(scorer).sha256)
    rerank = rerank_catalog(catalog, scorer.net.overall, scorer.sha256, progress, cancel)
    return CalibrationOutcome(rerank, removed=removed)
