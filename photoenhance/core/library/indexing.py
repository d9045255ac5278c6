"""Index and score: how photos on disk get into the catalog with their scores.

``photoenhance scan``, the app's Scan button and the watch service all call
:func:`index_and_score`: one scan of the roots (unchanged files cost nothing), then the
improvability scorer on what is new or changed. Progress comes through one
:class:`~photoenhance.core.progress.Progress` stream, a phase per ``message`` (the scan's
phases, then :data:`SCORED`), each with its own time-left estimate; a
:class:`~photoenhance.core.progress.CancelToken` stops it between files, keeping what was
committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Photo, unscored_photo_ids
from photoenhance.core.errors import ModelError
from photoenhance.core.library.scan import ScanSummary, scan
from photoenhance.core.progress import CancelToken, EtaEstimator, Progress, ProgressCallback

if TYPE_CHECKING:  # the scorer imports torch: loaded only when scoring runs
    from photoenhance.core.rank.scorer import Scorer

#: The progress ``message`` of the scoring phase.
SCORED = "scored"


class ScorerLike(Protocol):
    """What scoring needs of a scorer (:class:`~photoenhance.core.rank.scorer.Scorer`)."""

    model_id: str
    version: str

    def score_paths(self, paths: Sequence[Path], batch_size: int = ..., progress: Any = ...,
                    cancel: Any = ...) -> list[Any]: ...


#: Gives the scorer when scoring starts; None (or a :class:`ModelError`): no scores this time.
ScorerSource = Callable[[], ScorerLike | None]


@dataclass
class IndexOutcome:
    """What one :func:`index_and_score` did."""

    summary: ScanSummary
    scored: int | None = None  # photos scored; None: scoring did not run
    failed: list[tuple[int, str]] = field(default_factory=list)  # (photo id, why) unscored
    scoring_note: str | None = None  # why scoring did not run (the model is missing ...)
    photo_ids: list[int] = field(default_factory=list)  # the photos it tried to score


def shipped_scorer() -> Scorer:
    """The shipped improvability model (with the user's calibration); raises ModelError."""
    from photoenhance.core.rank.scorer import Scorer

    return Scorer.load()


def index_and_score(catalog: Catalog, roots: Sequence[Path], scorer: ScorerSource | None,
                    *, only: Sequence[Path] | None = None,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None,
                    on_indexed: Callable[[ScanSummary], None] | None = None) -> IndexOutcome:
    """Scan ``roots`` into the catalog, then score the photos this model has not scored.

    Args:
        scorer: called once the scan is done; None only indexes.
        only: score just these files (the watcher's new arrivals), scored before or not.
        on_indexed: called with the scan's summary before scoring starts.

    Raises:
        Cancelled: ``cancel`` was set (what was committed stays).
        PhotoEnhanceError: a root is not a readable folder.
    """
    report = _Reporter(progress)
    summary = _index(catalog, roots, report, cancel)
    if on_indexed is not None:
        on_indexed(summary)
    outcome = IndexOutcome(summary)
    if scorer is None:
        return outcome
    try:
        model = scorer()
    except ModelError as exc:
        outcome.scoring_note = str(exc)
        return outcome
    if model is not None:
        _score(catalog, model, roots, only, outcome, report, cancel)
    return outcome


def _index(catalog: Catalog, roots: Sequence[Path], report: _Reporter,
           cancel: CancelToken | None) -> ScanSummary:
    for event in scan(catalog, roots, cancel=cancel):
        if isinstance(event, ScanSummary):
            return event
        report(event)
    raise AssertionError("scan ended without a summary")  # pragma: no cover


def _score(catalog: Catalog, model: ScorerLike, roots: Sequence[Path], only: Sequence[Path] | None,
           outcome: IndexOutcome, report: _Reporter, cancel: CancelToken | None) -> None:
    from photoenhance.core.rank.catalog_scoring import score_photo_ids

    with catalog.session() as session:
        if only is None:
            ids = unscored_photo_ids(session, model.model_id, model.version, roots)
        else:
            ids = list(session.scalars(select(Photo.id).where(
                Photo.path.in_(list(only)), Photo.is_output.is_(False))))
    outcome.photo_ids = ids

    def relay(p: Progress) -> None:
        report(Progress(p.done, p.total, p.current, SCORED))

    result = score_photo_ids(catalog, ids, model, relay, cancel)  # type: ignore[arg-type]
    outcome.scored, outcome.failed = result.scored, list(result.failed)


class _Reporter:
    """Passes progress on with a time-left estimate, a new one for each phase."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.phase: str | None = None
        self.eta: EtaEstimator | None = None

    def __call__(self, p: Progress) -> None:
        if self.progress is None:
            return
        if p.message != self.phase:
            self.phase, self.eta = p.message, None
        if p.total and self.eta is None:
            self.eta = EtaEstimator(p.total)
        left = self.eta.update(p.done) if self.eta else None
        self.progress(Progress(p.done, p.total, p.current, p.message, left))
