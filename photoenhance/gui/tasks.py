"""Core calls the GUI runs in the background, wrapped as ``func(progress, cancel)``.

Each opens its own catalog session on the worker thread and returns plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from photoenhance.core.catalog import (
    Catalog,
    Enhancement,
    Photo,
    PhotoStatus,
    Rating,
    Root,
    library_rows,
)
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
            copies: dict[int, str] = {}
            deltas: dict[int, float | None] = {}
            for sid, status, delta in session.execute(
                    select(Enhancement.source_id, Enhancement.status, Enhancement.verified_delta)
                    .where(Enhancement.status.in_(["done", NOT_IMPROVED]))
                    .order_by(Enhancement.created_at, Enhancement.id)):
                copies[sid], deltas[sid] = status, delta
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
                    verified_delta=deltas.get(pid), gain_db=gain,
                )
                for (pid, path, score, noise, blur, jpeg, clipping, width, height, make, model,
                     captured, gain) in library_rows(session)
            ]
            rows.extend(unreadable_rows(session))
        return roots, rows

    return run


def unreadable_rows(session: Session) -> list[PhotoRow]:
    """Originals the scanner could not read, with its reason, as library rows."""
    found = session.execute(
        select(Photo.id, Photo.path, Photo.error, Photo.width, Photo.height)
        .where(Photo.status == PhotoStatus.UNREADABLE, Photo.is_output.is_(False))
        .order_by(Photo.path)).all()
    return [PhotoRow(id=pid, path=str(path), score=None, factors=None, width=w, height=h,
                     camera=None, captured=None, unreadable=error or "cannot be read")
            for pid, path, error, w, h in found]


#: EXIF tags the details panel shows beyond what the catalog keeps (Exif IFD).
_LENS_MAKE, _LENS_MODEL, _EXIF_IFD = 0xA433, 0xA434, 0x8769


def lens_of(path: str) -> Callable[..., object]:
    """The lens named in ``path``'s EXIF, or None (reads the header only; on a worker)."""

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        try:
            with Image.open(path) as im:
                exif = im.getexif().get_ifd(_EXIF_IFD)
        except (OSError, ValueError, SyntaxError):
            return path, None
        make, model = (str(exif.get(t) or "").strip("\x00 ") for t in (_LENS_MAKE, _LENS_MODEL))
        if make and model.casefold().startswith(make.casefold()):
            make = ""
        return path, " ".join(x for x in (make, model) if x) or None

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
        outcome.failed = list(result.failed)
        return outcome

    return run


@dataclass
class ScanOutcome:
    summary: ScanSummary | None
    scored: int = 0
    scoring_note: str | None = None
    failed: list[tuple[int, str]] = field(default_factory=list)  # (photo id, why) unscored


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
