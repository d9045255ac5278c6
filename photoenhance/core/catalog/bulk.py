"""Fast bulk writes for the scanner's hot path (tens of thousands of rows per scan).

ORM and even Core inserts spend most of their time converting parameters in Python; these
helpers hand plain tuples to the driver's ``executemany`` instead. Values must already be in
their stored form (POSIX path strings); datetimes are formatted as SQLAlchemy stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import itemgetter

from sqlalchemy.orm import Session

from photoenhance.core.catalog.types import utcnow

#: Columns written by :func:`insert_photos`, in order.
PHOTO_INSERT_COLUMNS = (
    "root_id", "path", "size", "mtime_ns", "fingerprint", "width", "height", "format",
    "orientation", "camera_make", "camera_model", "captured_at", "status", "error",
    "added_at", "updated_at",
)
_INSERT_SQL = (
    f"INSERT INTO photos ({', '.join(PHOTO_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(PHOTO_INSERT_COLUMNS))})"
)
_GET_FIELDS = itemgetter(*PHOTO_INSERT_COLUMNS)


def sqlite_datetime(value: datetime) -> str:
    """A datetime in the text form SQLAlchemy's SQLite ``DateTime`` type stores and reads."""
    return value.isoformat(" ", "microseconds")


def _stored(value: object) -> object:
    return sqlite_datetime(value) if isinstance(value, datetime) else value


def insert_photos(session: Session, rows: Sequence[Mapping[str, object]]) -> list[tuple[int, str]]:
    """Insert original photos; return ``(id, status)`` of each new row.

    Each row maps the :data:`PHOTO_INSERT_COLUMNS` except ``added_at``/``updated_at``
    (default: now) to stored values.
    """
    if not rows:
        return []
    conn = session.connection()
    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM photos").scalar()
    now = {"added_at": utcnow(), "updated_at": utcnow()}
    params = [tuple(map(_stored, _GET_FIELDS({**now, **row}))) for row in rows]
    conn.exec_driver_sql(_INSERT_SQL, params)
    paths = {row["path"] for row in rows}
    found = conn.exec_driver_sql("SELECT id, path, status FROM photos WHERE id > ?", (before,))
    return [(int(pid), str(status)) for pid, path, status in found if path in paths]
