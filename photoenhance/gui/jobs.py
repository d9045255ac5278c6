"""Batch enhancement for the GUI: the same job runner as ``photoenhance enhance``.

Functions here run on a worker thread (through :mod:`photoenhance.gui.bridge`) and return
plain data; they never touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from photoenhance.core.catalog import Catalog
from photoenhance.core.imaging import OutputPolicy
from photoenhance.core.jobs.enhance import EnhanceOptions
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.jobs.library_items import CatalogLinks, pick_from_catalog
from photoenhance.core.jobs.queries import ItemState, item_states
from photoenhance.core.jobs.runner import (
    JobSummary,
    cancel_job,
    create_job,
    recover,
    run_job,
    unfinished_jobs,
)
from photoenhance.core.jobs.verdict import load_judge
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.core.settings import Settings
from photoenhance.gui.inference import ENHANCER, SCORER


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
    return EnhanceOptions(strength=settings.strength, auto=settings.auto_strength, policy=policy,
                          tone=settings.tone)


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


def run_batch(catalog: Catalog, job_id: int, lane: InferenceLane) -> Callable[..., object]:
    """Run or resume job ``job_id`` (on ``lane``, with its models); progress carries every
    item's state. The verdict is the CLI's (:func:`load_judge`), with the lane's scorer."""

    def run(progress: Callable[[object], None], cancel: CancelToken) -> object:
        model = lane.model(ENHANCER)
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
                          judge=load_judge(lambda: lane.model(SCORER)))
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
