"""Store and read the user's ratings of how much photos gained from enhancement."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Photo, Rating, photo_by_path
from photoenhance.core.imaging import read_metadata

#: CLI words for the rating labels (the patent's four classes).
RATING_WORDS = {"significant": 2, "moderate": 1, "neutral": 0, "regressed": -1}


def rate(catalog: Catalog, path: Path, label: int) -> int:
    """Store ``label`` for the photo at ``path`` (added to the catalog if absent); its id.

    Raises:
        ImageReadError: ``path`` is missing or is not an image photoenhance can read (its
            header is checked, so a text file named ``.jpg`` is refused).
    """
    path = path.resolve()
    read_metadata(path)
    with catalog.session() as session:
        photo = photo_by_path(session, path)
        if photo is None:
            st = path.stat()
            photo = Photo(path=path, size=st.st_size, mtime_ns=st.st_mtime_ns)
            session.add(photo)
            session.flush()
        session.add(Rating(photo_id=photo.id, label=label))
        return photo.id


def latest_ratings(catalog: Catalog) -> list[tuple[Path, int]]:
    """(path, label) of every rated photo, by its most recent rating."""
    with catalog.session() as session:
        rows = session.execute(
            select(Photo.path, Rating.label, Rating.photo_id)
            .join(Rating, Rating.photo_id == Photo.id)
            .order_by(Rating.rated_at, Rating.id)
        ).all()
    latest: dict[int, tuple[Path, int]] = {}
    for path, label, pid in rows:
        latest[pid] = (path, int(label))
    return list(latest.values())
