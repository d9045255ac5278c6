"""Batch enhancement for the GUI: the same job runner as ``photoenhance enhance``.

Functions here run on a worker thread (through :mod:`photoenhance.gui.bridge`) and return
plain data; they never touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from photoenhance.core.catalog import Catalog, Enhancement, Job, JobItem, Photo, Score
from photoenhance.core.imaging import OutputPolicy
from photoenhance.core.jobs.enhance import EnhanceOptions
from photoenhance.core.jobs.library_items import CatalogLinks, pick_from_catalog
from photoenhance.core.jobs.runner import (
    JobSummary,
    cancel_job,
    create_job,
    recover,
    run_job,
    tone_edits,
    unfinished_jobs,
)
from photoenhance.core.jobs.verdict import load_judge
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.core.settings import Settings
from photoenhance.gui.engines import ModelHolder


@dataclass(frozen=True)
class ItemState:
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


@dataclass(frozen=True)
class BatchProgress:
    """One progress report of a running batch: the runner's numbers plus every item."""

    job_id: int
    progress: Progress
    items: tuple[ItemState, ...] = ()


@dataclass
class BatchOutcome:
    job_id: int
    summary: JobSummary | None
    items: list[ItemState] = field(default_factory=list)


def options_from(settings: Settings) -> EnhanceOptions:
    """Enhancement options from the settings, as the CLI builds them."""
    policy = OutputPolicy(location=settings.output_location, format=settings.output_format,
                          jpeg_quality_floor=settings.jpeg_min_quality)
    return EnhanceOptions(strength=settings.strength, auto=settings.auto_strength, policy=policy)


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
    out = []
    for item_id, src, st, output, err, pid, started, finished, realised, score, *extra in rows:
        verdict, gain = (*extra, None, None)[:2]
        seconds = ((finished - started).total_seconds() if started and finished else None)
        out.append(ItemState(str(src), str(getattr(st, "value", st)),
                             str(output) if output else None, err, pid, seconds, realised, score,
                             None if verdict is None else str(verdict), gain,
                             tones.get(item_id)))
    return out


def new_job(catalog: Catalog, settings: Settings, files: list[str] | None,
            min_score: float | None) -> Callable[..., object]:
    """Create a job for ``files`` or, when None, for every photo scoring ``min_score``+."""

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        if files is None:
            items = pick_from_catalog(catalog, None, min_score)
        else:
            items = CatalogLinks(catalog).items_for_files([Path(f) for f in files])
        if not items:
            return None
        return create_job(catalog, items, options_from(settings))

    return run


def run_batch(catalog: Catalog, job_id: int, enhancer: ModelHolder) -> Callable[..., object]:
    """Run or resume job ``job_id``; progress carries every item's state."""

    def run(progress: Callable[[object], None], cancel: CancelToken) -> object:
        model = enhancer.get()
        last: list[tuple[int, str | None]] = []

        def relay(p: Progress) -> None:
            key = (p.done, p.current)
            if last and last[-1] == key:
                return
            last.append(key)
            progress(BatchProgress(job_id, p, tuple(item_states(catalog, job_id))))

        progress(BatchProgress(job_id, Progress(0, 0, None, "photos"),
                               tuple(item_states(catalog, job_id))))
        summary = run_job(catalog, job_id, model, progress=relay, cancel=cancel,
                          judge=load_judge())
        return BatchOutcome(job_id, summary, item_states(catalog, job_id))

    return run


def interrupted_jobs(catalog: Catalog) -> Callable[..., object]:
    """After a crash: requeue running items, then list unfinished jobs as (id, items left)."""

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        recover(catalog)
        out = []
        for job_id in unfinished_jobs(catalog):
            left = sum(1 for it in item_states(catalog, job_id) if it.status == "queued")
            out.append((job_id, left))
        return out

    return run


def discard_jobs(catalog: Catalog, job_ids: list[int]) -> Callable[..., object]:
    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        return sum(cancel_job(catalog, j) for j in job_ids)

    return run
