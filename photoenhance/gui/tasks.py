"""Core calls the GUI runs in the background, wrapped as ``func(progress, cancel)``.

Each opens its own catalog session on the worker thread and returns plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from photoenhance.core.catalog import Catalog
from photoenhance.core.catalog.queries import NOT_IMPROVED, library_state
from photoenhance.core.jobs.lane import Remote
from photoenhance.core.library.indexing import index_and_score
from photoenhance.core.progress import CancelToken, Progress
from photoenhance.core.rank.ratings import rate
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
            state = library_state(session)
        copies, ratings = state.copies, state.ratings
        rows = [
            PhotoRow(
                id=pid, path=path, score=score,
                factors=None if score is None else
                {"noise": noise, "blur": blur, "jpeg": jpeg, "clipping": clipping},
                width=width, height=height, camera=camera_name(make, model),
                captured=captured[:16] if captured else None,
                enhanced=pid in copies, rating=ratings.get(pid),
                not_improved=pid in copies and copies[pid][0] == NOT_IMPROVED,
                verified_delta=copies[pid][1] if pid in copies else None,
                tone=state.tones.get(pid), gain_db=gain,
            )
            for (pid, path, score, noise, blur, jpeg, clipping, width, height, make, model,
                 captured, gain) in state.rows
        ]
        rows.extend(PhotoRow(id=pid, path=path, score=None, factors=None, width=w, height=h,
                             camera=None, captured=None, unreadable=reason)
                    for pid, path, reason, w, h in state.unreadable)
        return state.roots, rows

    return run


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
               scorer: Remote | None = None) -> Callable[..., object]:
    """Index ``roots`` and score what is new or changed, as ``photoenhance scan`` does.
    Scanning runs on the calling (I/O) worker; ``scorer`` runs on the inference lane.

    Returns an :class:`~photoenhance.core.library.indexing.IndexOutcome`; a missing scoring
    model is reported, not raised.
    """

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        return index_and_score(catalog, roots, None if scorer is None else scorer.get,
                               progress=progress, cancel=cancel)

    return run


def rate_photo(catalog: Catalog, path: str, label: int) -> Callable[..., object]:
    """Store a rating with the same function as ``photoenhance rate``."""

    def run(progress: Callable[[Progress], None], cancel: CancelToken) -> object:
        photo_id = rate(catalog, Path(path), label)
        return path, label, photo_id

    return run
