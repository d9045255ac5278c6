"""Core calls the GUI runs in the background, wrapped as ``func(progress, cancel)``.

Each opens its own catalog session on the worker thread and returns plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Enhancement, Rating, Root, library_rows
from photoenhance.core.errors import ModelError
from photoenhance.core.jobs.verify import NOT_IMPROVED
from photoenhance.core.library.scan import ScanSummary, scan
from photoenhance.core.progress import CancelToken, EtaEstimator, Progress
from photoenhance.core.rank.catalog_scoring import score_unscored
from photoenhance.core.rank.ratings import rate
from photoenhance.gui.engines import ModelHolder
from photoenhance.gui.models import PhotoRow


def camera_name(make: str | None, model: str | None) -> str | None:
    """``"Canon EOS 40D"`` rather than ``"Canon Canon EOS 40D"``."""
    make, model = (make or "").strip(), (model or "").strip()
    if model and make and model.casefold().startswith(make.split()[0].casefold()):
        return model
    return " ".join(x for x in (make, model) if x) or None


def load_rows(catalog: Catalog) -> Callable[[Callable[[Progress], None], CancelToken], object]:
    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        with catalog.session() as session:
            roots = [str(r.path) for r in session.query(Root).order_by(Root.path)]
            # The latest written copy of each photo decides: done, or not_improved.
            copies = dict(session.execute(
                select(Enhancement.source_id, Enhancement.status)
                .where(Enhancement.status.in_(["done", NOT_IMPROVED]))
                .order_by(Enhancement.created_at, Enhancement.id)).all())
            ratings = dict(session.execute(select(Rating.photo_id, Rating.label)
                                           .order_by(Rating.rated_at, Rating.id)).all())
            rows = [
                PhotoRow(
                    id=pid, path=path, score=score,
                    factors=None if score is None else
                    {"noise": noise, "blur": blur, "jpeg": jpeg, "clipping": clipping},
                    width=width, height=height, camera=camera_name(make, model),
                    captured=captured[:16] if captured else None,
                    enhanced=pid in copies, rating=ratings.get(pid),
                    not_improved=copies.get(pid) == NOT_IMPROVED,
                )
                for (pid, path, score, noise, blur, jpeg, clipping, width, height, make, model,
                     captured) in library_rows(session)
            ]
        return roots, rows

    return run


def scan_roots(catalog: Catalog, roots: list[Path],
               scorer: ModelHolder | None = None) -> Callable[..., object]:
    """Scan ``roots``, then score what is new or changed (as ``photoenhance scan`` does).

    Returns a :class:`ScanOutcome`; a missing scoring model is reported, not raised.
    """

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        summary = _scan(catalog, roots, progress, cancel)
        outcome = ScanOutcome(summary)
        if scorer is None or summary is None:
            return outcome
        try:
            model = scorer.get()
        except ModelError as exc:
            outcome.scoring_note = str(exc)
            return outcome
        eta: EtaEstimator | None = None

        def relay(p: Progress) -> None:
            nonlocal eta
            eta = eta or EtaEstimator(p.total)
            progress(Progress(p.done, p.total, p.current, "scored", eta.update(p.done)))

        result = score_unscored(catalog, model, roots, relay, cancel)
        outcome.scored = result.scored
        return outcome

    return run


@dataclass
class ScanOutcome:
    summary: ScanSummary | None
    scored: int = 0
    scoring_note: str | None = None


def _scan(catalog: Catalog, roots: list[Path], progress: Callable[[Progress], None],
          cancel: CancelToken) -> ScanSummary | None:
    summary: ScanSummary | None = None
    eta: EtaEstimator | None = None
    for event in scan(catalog, roots, cancel=cancel):
        if isinstance(event, ScanSummary):
            summary = event
            continue
        if event.total and eta is None:
            eta = EtaEstimator(event.total)
        left = eta.update(event.done) if eta else None
        progress(Progress(event.done, event.total, event.current, event.message, left))
    return summary


def rate_photo(catalog: Catalog, path: str, label: int) -> Callable[..., object]:
    """Store a rating with the same function as ``photoenhance rate``."""

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        photo_id = rate(catalog, Path(path), label)
        return path, label, photo_id

    return run
