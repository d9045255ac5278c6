"""Score catalog photos and store the results (the hook behind ``scan``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Embedding, Photo, Score, unscored_photo_ids
from photoenhance.core.progress import CancelToken, Progress, ProgressCallback
from photoenhance.core.rank.scorer import Scorer, ScoreResult

#: Photos scored and committed per database transaction.
CHUNK = 64


@dataclass
class ScoringSummary:
    scored: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def stored_factors(factors: dict[str, float]) -> dict[str, float]:
    """The factors the catalog has a column for (a newer net may have more)."""
    return {k: v for k, v in factors.items() if k in Score.__table__.columns}


def score_photo_ids(catalog: Catalog, ids: Sequence[int], scorer: Scorer,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, batch_size: int = 16) -> ScoringSummary:
    """Score the photos with these ids and add one :class:`Score` row each.

    Work is committed every :data:`CHUNK` photos, so a cancel keeps what was done. Photos
    that cannot be decoded are reported in ``failed`` and get no score.
    """
    summary = ScoringSummary()
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start:start + CHUNK])
        with catalog.session() as session:
            rows = session.execute(select(Photo.id, Photo.path).where(Photo.id.in_(chunk))).all()
        by_path = {path: pid for pid, path in rows}

        def relay(p: Progress, done_before: int = start) -> None:
            if progress:
                progress(Progress(done_before + p.done, len(ids), p.current, "Scoring"))

        results = scorer.score_paths(list(by_path), batch_size, relay, cancel)
        with catalog.session() as session:
            for res in results:
                assert res.path is not None
                pid = by_path[res.path]
                if res.score is None:
                    summary.failed.append((pid, res.error or "unreadable"))
                    continue
                session.add(score_row(pid, res, scorer))
                summary.scored += 1
    return summary


def score_row(photo_id: int, res: ScoreResult, scorer: Scorer) -> Score:
    """The catalog row of one result: its score, gain, factors and, when the scorer's weights
    are known, the hidden vector a recalibration re-scores from (:mod:`.rerank`)."""
    assert res.score is not None
    row = Score(photo_id=photo_id, model_id=scorer.model_id, model_version=scorer.version,
                score=res.score, gain_db=res.gain_db, **stored_factors(res.factors))
    if res.embedding is not None and scorer.sha256:
        row.embedding = Embedding(model_sha=scorer.sha256, unchanged=res.unchanged,
                                  vector=res.embedding.astype("<f2").tobytes())
    return row


def score_unscored(catalog: Catalog, scorer: Scorer, roots: Sequence[Path] | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> ScoringSummary:
    """Score every present original (under ``roots``) that this model version has not
    scored: new and changed photos, and those scored by an older model. The CLI's ``scan``
    and the app both call this after a scan."""
    with catalog.session() as session:
        ids = unscored_photo_ids(session, scorer.model_id, scorer.version, roots)
    return score_photo_ids(catalog, ids, scorer, progress, cancel)
