"""What the front ends show of enhancement jobs, read from the catalog.

``photoenhance jobs`` lists :func:`job_rows`; the app's batch view shows :func:`item_states`
and its review, :func:`enhanced_items`. Each call opens its own short session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from photoenhance.core.catalog import Catalog, Enhancement, Job, JobItem, Photo, Score
from photoenhance.core.catalog.queries import NOT_IMPROVED
from photoenhance.core.jobs.runner import tone_edits, tone_only

#: Item statuses, in the order ``photoenhance jobs`` counts them.
ITEM_STATUSES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class ItemState:
    """One photo of a job as the batch view shows it."""

    source: str
    status: str  # queued, running, done, failed, cancelled
    output: str | None = None
    error: str | None = None
    photo_id: int | None = None
    seconds: float | None = None  # time spent on it, once finished
    verified_delta: float | None = None  # the copy's re-scored gain (dB), when verified
    score: float | None = None  # the source's improvability score
    verdict: str | None = None  # the do-no-harm guard's verdict, where stored
    predicted_gain: float | None = None  # and its predicted gain (dB)
    tone: str | None = None  # what the tone step did, in words, where it ran
    restored: bool = True  # False: the copy has the tone correction alone


def job_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """Every job, oldest first: id, kind, status, created (ISO time) and a count of its
    items in each of :data:`ITEM_STATUSES`."""
    with catalog.session() as s:
        counts = {(jid, st): n for jid, st, n in s.execute(
            select(JobItem.job_id, JobItem.status, func.count()).group_by(
                JobItem.job_id, JobItem.status)).all()}
        return [{"id": j.id, "kind": j.kind, "status": j.status,
                 "created": j.created_at.isoformat(timespec="seconds"),
                 **{k: counts.get((j.id, k), 0) for k in ITEM_STATUSES}}
                for j in s.scalars(select(Job).order_by(Job.id))]


def job_size(catalog: Catalog, job_id: int) -> int:
    """How many photos job ``job_id`` holds, whatever their state."""
    with catalog.session() as s:
        return int(s.scalar(select(func.count()).where(JobItem.job_id == job_id)) or 0)


def item_states(catalog: Catalog, job_id: int) -> list[ItemState]:
    """Every item of job ``job_id`` in order, with its timing, score and verification."""
    # job items name their source by path (photo_id is not always set)
    latest = (select(Score.score).join(Photo, Photo.id == Score.photo_id)
              .where(Photo.path == JobItem.source_path, Photo.is_output.is_(False))
              .order_by(Score.computed_at.desc(), Score.id.desc()).limit(1)
              .correlate(JobItem).scalar_subquery())
    source_id = (select(Photo.id).where(Photo.path == JobItem.source_path,
                                        Photo.is_output.is_(False))
                 .limit(1).correlate(JobItem).scalar_subquery())
    delta = (select(Enhancement.verified_delta)
             .where(Enhancement.output_path == JobItem.output_path)
             .order_by(Enhancement.id.desc()).limit(1).correlate(JobItem).scalar_subquery())
    guard = [getattr(JobItem, c) for c in ("verdict", "predicted_gain") if hasattr(JobItem, c)]
    stmt = (select(JobItem.id, JobItem.source_path, JobItem.status, JobItem.output_path,
                   JobItem.error, func.coalesce(JobItem.photo_id, source_id), JobItem.started_at,
                   JobItem.finished_at, delta, latest, *guard)
            .where(JobItem.job_id == job_id).order_by(JobItem.position))
    with catalog.session() as s:
        rows = s.execute(stmt).all()
        job = s.get(Job, job_id)
        tones = tone_edits(job) if job is not None else {}
        alone = tone_only(job) if job is not None else set()
    out = []
    for item_id, src, st, output, err, pid, started, finished, realised, score, *extra in rows:
        verdict, gain = (*extra, None, None)[:2]
        seconds = ((finished - started).total_seconds() if started and finished else None)
        out.append(ItemState(str(src), str(getattr(st, "value", st)),
                             str(output) if output else None, err, pid, seconds, realised, score,
                             None if verdict is None else str(verdict), gain,
                             tones.get(item_id), item_id not in alone))
    return out


def enhanced_items(catalog: Catalog, photo_ids: Sequence[int]) -> list[ItemState]:
    """The latest written copy of each photo in ``photo_ids`` (in that order), for review."""
    latest: dict[int, tuple[Any, ...]] = {}
    scores: dict[int, float] = {}
    with catalog.session() as s:
        for i in range(0, len(photo_ids), 500):
            part = list(photo_ids[i : i + 500])
            for row in s.execute(
                select(Enhancement.source_id, Enhancement.output_path, Enhancement.status,
                       Enhancement.verified_delta, Photo.path)
                .join(Photo, Photo.id == Enhancement.source_id)
                .where(Enhancement.source_id.in_(part),
                       Enhancement.status.in_(["done", NOT_IMPROVED]),
                       Enhancement.output_path.is_not(None))
                .order_by(Enhancement.created_at, Enhancement.id)):
                latest[row[0]] = row
            scores.update((pid, score) for pid, score in s.execute(
                select(Score.photo_id, Score.score).where(Score.photo_id.in_(part))
                .order_by(Score.computed_at, Score.id)))
    out = []
    for pid in photo_ids:
        if pid not in latest:
            continue
        _sid, output, status, delta, source = latest[pid]
        out.append(ItemState(str(source), "done", str(output), None, pid,
                             verified_delta=delta, score=scores.get(pid),
                             verdict="not improved" if status == NOT_IMPROVED else None))
    return out
