"""Column types shared by the catalog models."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_POSIX = os.sep == "/"


def utcnow() -> datetime:
    """The current time in UTC (stored naive by SQLite, read back as UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_posix(path: PurePath | str) -> str:
    """The POSIX spelling of a path, as the catalog stores it."""
    return path.as_posix() if isinstance(path, PurePath) else PurePath(path).as_posix()


class PathType(TypeDecorator[Path]):
    """Stores a :class:`pathlib.Path` as a POSIX string; reads it back as a ``Path``."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and _POSIX:
            return value  # already POSIX: the scanner's hot path binds plain strings
        return to_posix(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Path | None:
        return None if value is None else Path(value)
