"""The :class:`Catalog`: one open catalog file, its engine and its unit-of-work sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from photoenhance.core.catalog.engine import make_engine, make_session_factory
from photoenhance.core.catalog.migrations import migrate
from photoenhance.core.errors import CatalogError
from photoenhance.core.paths import default_catalog_path


class Catalog:
    """An open catalog. Each unit of work takes its own :meth:`session`; never share one
    session across threads."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._sessions = make_session_factory(engine)

    @classmethod
    def open(cls, path: Path | None = None) -> Catalog:
        """Open (creating and migrating as needed) the catalog at ``path``.

        ``None`` means the default: ``$PHOTOENHANCE_CATALOG`` or the user data folder.
        """
        path = Path(path if path is not None else default_catalog_path()).expanduser()
        if path.is_dir():
            raise CatalogError("the catalog path is a folder, not a file", path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create the catalog folder ({exc.strerror})", path) from exc
        engine = make_engine(path)
        try:
            migrate(path, engine)
        except DBAPIError as exc:
            engine.dispose()
            raise CatalogError(f"cannot open the catalog ({exc.orig})", path) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(path, engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one unit of work: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
