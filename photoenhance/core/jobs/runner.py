"""Crash-safe enhancement jobs: items live in the catalog and resume exactly where they stopped.

A job is created with all of its items queued. Running it walks the queued items through the
shared enhancement batch; each result is committed before the next photo is reported, by the
one thread that writes job state. After a crash or kill, :func:`recover` puts items that were
running back to queued. An interrupted item whose copy was already published (the crash came
between the rename and the commit) is recognised by its versioned name, its time and its
provenance, verified by decoding, and marked done instead of being enhanced twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from photoenhance.core.catalog import Catalog, Job, JobItem, JobStatus
from photoenhance.core.catalog.types import utcnow
from photoenhance.core.errors import PhotoEnhanceError, UsageError
from photoenhance.core.imaging import load_image, read_metadata
from photoenhance.core.imaging.write import (
    cleanup_stale_temp_files,
    existing_copies,
    planned_copy,
    planned_location,
)
from photoenhance.core.jobs.enhance import (
    EnhanceItem,
    EnhanceOptions,
    EnhanceResult,
    EnhancerLike,
    enhance_batch,
)
from photoenhance.core.jobs.library_items import CatalogLinks
from photoenhance.core.jobs.verdict import SKIPPED, Judge
from photoenhance.core.jobs.verify import Verifier
from photoenhance.core.progress import CancelToken, ProgressCallback

log = logging.getLogger(__name__)

ENHANCE = "enhance"


@dataclass
class JobSummary:
    job_id: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    results: list[EnhanceResult] = field(default_factory=list)


def _planned(item: EnhanceItem, opts: EnhanceOptions) -> str | None:
    try:
        return str(planned_copy(item.source, item.library_root, opts.policy))
    except PhotoEnhanceError:
        return None  # the item fails with a clear error when it runs


def create_job(catalog: Catalog, items: Sequence[EnhanceItem], opts: EnhanceOptions) -> int:
    """Store a new enhancement job with every item queued; return its id.

    Cheap (no file is read, nothing heavy imported), so a caller records the job before it
    loads a model. The parameters keep the options and each item's planned copy (``planned``,
    in item order; None where it cannot be planned), which also names the folders where an
    interrupted write may have left a temporary file."""
    p = opts.policy
    params = {"strength": opts.strength, "auto": opts.auto, "tile": opts.tile,
              "tone": opts.tone, "force": opts.force,
              "location": p.location, "format": p.format,
              "jpeg_quality_floor": p.jpeg_quality_floor,
              "folder": str(p.folder) if p.folder else None,
              "planned": [_planned(it, opts) for it in items]}
    with catalog.session() as s:
        job = Job(kind=ENHANCE, status=JobStatus.QUEUED, parameters=params)
        s.add(job)
        s.flush()
        s.add_all(JobItem(job_id=job.id, position=i, source_path=it.source,
                          library_root=it.library_root, status=JobStatus.QUEUED)
                  for i, it in enumerate(items))
        return job.id


def options_of(job: Job) -> EnhanceOptions:
    """Rebuild a job's options from what :func:`create_job` stored."""
    from photoenhance.core.imaging import OutputPolicy

    p: dict[str, Any] = job.parameters or {}
    policy = OutputPolicy(location=p.get("location", "mirror"), format=p.get("format", "keep"),
                          jpeg_quality_floor=int(p.get("jpeg_quality_floor", 90)),
                          folder=Path(p["folder"]) if p.get("folder") else None)
    return EnhanceOptions(strength=float(p.get("strength", 1.0)), auto=bool(p.get("auto", True)),
                          tile=int(p.get("tile", 1024)), policy=policy,
                          tone=bool(p.get("tone", False)),
                          force=bool(p.get("force", False)))


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _output_folders(job: Job) -> set[Path]:
    """The folders ``job`` writes its copies into (from its plan, else from its items)."""
    planned = (job.parameters or {}).get("planned")
    if isinstance(planned, list):
        return {Path(p).parent for p in planned if p}
    opts = options_of(job)
    folders = set()
    for it in job.items:
        if it.source_path is not None:
            try:
                folders.add(planned_copy(it.source_path, it.library_root, opts.policy).parent)
            except PhotoEnhanceError:
                continue
    return folders


def clean_interrupted_writes(catalog: Catalog, job_ids: Sequence[int] | None = None
                             ) -> list[Path]:
    """Remove the temporary files a killed writer left in unfinished jobs' output folders.

    Cheap: it lists only those folders (not the library), and removes only our own
    temporary files whose writing process is gone. ``job_ids`` limits it to those jobs."""
    folders: set[Path] = set()
    with catalog.session() as s:
        stmt = select(Job).where(Job.kind == ENHANCE, Job.status.in_(
            [JobStatus.QUEUED, JobStatus.RUNNING]))
        if job_ids is not None:
            stmt = select(Job).where(Job.id.in_(list(job_ids)))
        for job in s.scalars(stmt):
            folders |= _output_folders(job)
    removed = [p for f in sorted(folders) for p in cleanup_stale_temp_files(f, recursive=False)]
    for p in removed:
        log.info("Removed %s, left by an interrupted write", p)
    return removed


def recover(catalog: Catalog) -> int:
    """After a crash: running jobs and items go back to queued, and temporary files left in
    their output folders are removed. Returns items requeued."""
    clean_interrupted_writes(catalog)
    with catalog.session() as s:
        n = _rowcount(s.execute(update(JobItem).where(JobItem.status == JobStatus.RUNNING)
                                .values(status=JobStatus.QUEUED)))
        s.execute(update(Job).where(Job.status == JobStatus.RUNNING)
                  .values(status=JobStatus.QUEUED))
        return n


def unfinished_jobs(catalog: Catalog) -> list[int]:
    with catalog.session() as s:
        return list(s.scalars(select(Job.id).where(
            Job.kind == ENHANCE, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .order_by(Job.id)))


def cancel_job(catalog: Catalog, job_id: int) -> int:
    """Mark a job and its queued items cancelled; return how many items were cancelled."""
    clean_interrupted_writes(catalog, [job_id])
    with catalog.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise UsageError(f"there is no job {job_id}")
        n = _rowcount(s.execute(update(JobItem).where(
            JobItem.job_id == job_id, JobItem.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELLED)))
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            job.status = JobStatus.CANCELLED
            job.finished_at = utcnow()
        return n


def _already_written(item: JobItem, opts: EnhanceOptions) -> Path | None:
    """A whole, verified copy published for this item before a crash, if there is one."""
    if item.started_at is None or item.source_path is None:
        return None
    try:
        folder, ext = planned_location(item.source_path, item.library_root, opts.policy)
    except PhotoEnhanceError:
        return None
    since = (item.started_at - timedelta(seconds=2)).timestamp()
    for cand in reversed(existing_copies(item.source_path, folder, ext)):
        try:
            if cand.stat().st_mtime < since:
                continue
            xmp = read_metadata(cand).xmp or b""
            if b"photoenhance" in xmp and item.source_path.name.encode() in xmp:
                load_image(cand)  # decodes whole: never trust a damaged file
                return cand
        except (OSError, PhotoEnhanceError):
            continue
    return None


def _resume_items(catalog: Catalog, job_id: int,
                  opts: EnhanceOptions) -> list[tuple[int, EnhanceItem]]:
    """Queued items of a job, finishing those whose copy was already written."""
    todo = []
    with catalog.session() as s:
        items = s.scalars(select(JobItem).where(JobItem.job_id == job_id,
                                                JobItem.status == JobStatus.QUEUED)
                          .order_by(JobItem.position)).all()
        for it in items:
            found = _already_written(it, opts)
            if found is not None:
                it.status, it.output_path, it.finished_at = JobStatus.DONE, found, utcnow()
                continue
            assert it.source_path is not None
            todo.append((it.id, EnhanceItem(it.source_path, it.library_root)))
    return todo


def _mark(catalog: Catalog, item_id: int, **values: Any) -> None:
    with catalog.session() as s:
        s.execute(update(JobItem).where(JobItem.id == item_id).values(**values))


#: key of the job's parameters holding what the tone step did to each item, in words, by
#: item id (the job items have no column for it; see :func:`tone_edits`)
TONE_EDITS = "tone_edits"
#: key of the job's parameters listing the items whose copy has the tone correction alone
#: (their restoration was not kept: :attr:`EnhanceResult.restored`)
TONE_ONLY = "tone_only"


def _note_tone(catalog: Catalog, item_id: int, words: str, restored: bool = True) -> None:
    with catalog.session() as s:
        item = s.get(JobItem, item_id)
        if item is None:
            return
        job = item.job
        params = dict(job.parameters or {})
        params[TONE_EDITS] = {**params.get(TONE_EDITS, {}), str(item_id): words}
        if not restored:
            params[TONE_ONLY] = sorted({*params.get(TONE_ONLY, []), item_id})
        job.parameters = params


def tone_edits(job: Job) -> dict[int, str]:
    """What the tone step did to each item of ``job``, in words, by item id."""
    stored = (job.parameters or {}).get(TONE_EDITS) or {}
    return {int(k): str(v) for k, v in stored.items()}


def tone_only(job: Job) -> set[int]:
    """The items of ``job`` whose copy has the tone correction alone."""
    return {int(i) for i in (job.parameters or {}).get(TONE_ONLY) or []}


def run_job(catalog: Catalog, job_id: int, enhancer: EnhancerLike, *,
            progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, verify: Verifier | None = None,
            judge: Judge | None = None) -> JobSummary:
    """Run (or resume) job ``job_id`` to the end, or until cancelled (then it stays queued).

    With ``judge`` (:func:`photoenhance.core.jobs.verdict.load_judge`, as the CLI and the GUI
    pass), each photo gets its verdict before its copy is written; the verdict and predicted
    gain are stored on the job item, and the realised gain with the catalog's Enhancement
    row. A ``blocked`` or ``not improved`` photo's copy is not written unless the job was
    created with ``force`` (the item is ``skipped``). ``verify`` (older callers) re-scores
    written copies from their files instead."""
    with catalog.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise UsageError(f"there is no job {job_id}")
        if job.status in (JobStatus.DONE, JobStatus.CANCELLED):
            raise UsageError(f"job {job_id} is already {job.status}")
        opts = options_of(job)
        job.status, job.started_at = JobStatus.RUNNING, job.started_at or utcnow()
    links = CatalogLinks(catalog)
    opts.is_original = links.is_original
    todo = _resume_items(catalog, job_id, opts)
    ids = {it.source: item_id for item_id, it in todo}
    summary = JobSummary(job_id)

    def on_start(item: EnhanceItem) -> None:
        _mark(catalog, ids[item.source], status=JobStatus.RUNNING, started_at=utcnow())

    try:
        for r in enhance_batch([it for _, it in todo], enhancer, opts, progress=progress,
                               cancel=cancel, on_start=on_start, judge=judge):
            _record(catalog, ids[r.source], r, summary)
            delta = r.verified_delta if judge is not None else _verified(verify, r)
            links.record(r, enhancer, opts, delta)
    except BaseException:
        recover(catalog)  # cancelled or interrupted: the rest stays queued for a resume
        raise
    _finish_job(catalog, job_id, summary)
    return summary


def _verified(verify: Verifier | None, r: EnhanceResult) -> float | None:
    if verify is None or r.output is None:
        return None
    try:
        r.verified_delta = verify(r.source, r.output)
    except Exception:  # verification is advisory: never fail a written copy over it
        log.exception("Could not verify %s", r.output)
        return None
    return r.verified_delta


def _record(catalog: Catalog, item_id: int, r: EnhanceResult, summary: JobSummary) -> None:
    status = {"done": JobStatus.DONE, "failed": JobStatus.FAILED}.get(r.status, JobStatus.QUEUED)
    if r.status == "skipped" and r.verdict in SKIPPED:  # judged, not cancelled: never resumed
        status = JobStatus.SKIPPED
    _mark(catalog, item_id, status=status, output_path=r.output, error=r.error,
          verdict=r.verdict, predicted_gain=r.predicted_gain,
          finished_at=utcnow() if status != JobStatus.QUEUED else None)
    if r.tone is not None:
        _note_tone(catalog, item_id, r.tone, r.restored)
    summary.results.append(r)
    if r.status == "done":
        summary.done += 1
    elif r.status == "failed":
        summary.failed += 1
    else:
        summary.skipped += 1


def _finish_job(catalog: Catalog, job_id: int, summary: JobSummary) -> None:
    with catalog.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        left = s.scalars(select(JobItem.id).where(JobItem.job_id == job_id,
                                                  JobItem.status == JobStatus.QUEUED)).first()
        if left is None:
            failed = s.scalars(select(JobItem.id).where(JobItem.job_id == job_id,
                                                        JobItem.status == JobStatus.FAILED)).first()
            job.status = JobStatus.FAILED if failed is not None else JobStatus.DONE
            job.finished_at = utcnow()
            job.error = "some photos failed" if failed is not None else None
        else:
            job.status = JobStatus.QUEUED
