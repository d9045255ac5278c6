"""The library scanner: keeps the catalog in step with the disk, incrementally.

:func:`scan` is a generator. It yields :class:`~photoenhance.core.progress.Progress` at
most about 30 times a second, then one :class:`ScanSummary`. Stop iterating, or cancel the
token, to stop it; work already committed stays.

1. One ``os.scandir`` walk collects ``(path, size, mtime_ns)`` of every candidate photo,
   while a worker thread loads the same of the originals under the roots. If the two sets
   are equal, nothing changed and the scan is done.
2. Otherwise one query loads every original already in the catalog.
3. Files with the same size and mtime as their row cost nothing more: no file is opened.
4. New and changed files are fingerprinted and their headers read (:mod:`.probe`). A new
   file whose fingerprint matches a photo that is gone is a move: the old row (and the
   scores and ratings that point at it) is re-pointed at the new path.
5. Rows under the scanned roots whose files are gone are marked missing, never dropped.

Writes are committed every ``batch_size`` files, so a kill loses at most one batch.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from photoenhance.core.catalog import (
    Catalog,
    Photo,
    PhotoStatus,
    Root,
    Score,
    unreadable_photos,
)
from photoenhance.core.catalog.bulk import insert_photos
from photoenhance.core.catalog.types import to_posix, utcnow
from photoenhance.core.errors import Cancelled, PhotoEnhanceError
from photoenhance.core.library import probe
from photoenhance.core.library.walk import Found, WalkState, parse_found, walk
from photoenhance.core.progress import CancelToken, Progress

#: Called after each committed batch with the ids of photos whose content is new or changed:
#: the hook where scoring plugs in.
BatchHook = Callable[[list[int]], None]
PROGRESS_INTERVAL_S = 1 / 30


#: A catalog row as the scanner needs it: (path, id, size, mtime_ns, status). Plain tuples
#: read index-wise: on a 100k-photo rescan, row objects would cost more than the compare.
Known = tuple[str, int, int, int, str]
_ID: Final = 1
_SIZE: Final = 2
_MTIME: Final = 3
_STATUS: Final = 4
_ORIGINALS = "FROM photos WHERE NOT is_output"
_LOAD_KNOWN = f"SELECT path, id, size, mtime_ns, status {_ORIGINALS}"
_LOAD_FINGERPRINTS = f"SELECT path, fingerprint {_ORIGINALS} AND fingerprint IS NOT NULL"


@dataclass
class ScanSummary:
    """What a scan did. ``errors`` lists folders it could not read.

    Every file found is counted once: ``added + updated + moved + unreadable + unchanged``
    is the number of photo files under the roots. ``unreadable`` counts all the files there
    that cannot be read, new or already known, so a rescan reports the same number;
    ``unreadable_files`` names them with the reason.
    """

    added: int = 0
    updated: int = 0
    moved: int = 0
    missing: int = 0
    unreadable: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    unreadable_files: list[tuple[Path, str]] = field(default_factory=list)
    to_score: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0

    def counts(self) -> dict[str, int]:
        return {
            k: getattr(self, k)
            for k in ("added", "updated", "moved", "missing", "unreadable", "unchanged")
        }


ScanEvent = Progress | ScanSummary


class _Throttle:
    def __init__(self, interval: float = PROGRESS_INTERVAL_S) -> None:
        self.interval, self.last = interval, 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            return True
        return False


def check_roots(roots: Iterable[Path | str]) -> list[Path]:
    """Resolve the roots; drop those inside another. Raise if one is not a folder."""
    resolved: list[Path] = []
    for root in roots:
        path = Path(root).expanduser()
        if not path.exists():
            raise PhotoEnhanceError("folder not found", path)
        if not path.is_dir():
            raise PhotoEnhanceError("not a folder", path)
        resolved.append(path.resolve())
    unique = sorted(set(resolved), key=lambda p: len(p.parts))
    return [p for i, p in enumerate(unique) if not any(p.is_relative_to(q) for q in unique[:i])]


def _ensure_roots(session: Session, roots: list[Path]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for path in roots:
        root = session.scalars(select(Root).where(Root.path == path)).first()
        if root is None:
            root = Root(path=path)
            session.add(root)
            session.flush()
        ids[to_posix(path)] = root.id
    return ids


def _load_known(session: Session) -> dict[str, Known]:
    """Every original in the catalog, keyed by its stored POSIX path, in one query.

    Plain driver SQL: on a 100k-photo library ORM row processing would dominate a rescan.
    """
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    return {row[0]: row for row in dbapi.execute(_LOAD_KNOWN)}


def _prefix(posix: str) -> str:
    return posix if posix.endswith("/") else posix + "/"


def _load_found(engine: Engine, root_keys: list[str]) -> set[Found] | None:
    """The originals under the roots that are not missing, as the walk would find them.

    One ``group_concat`` builds all the strings inside SQLite, in a single step that
    releases the GIL, so this runs on a worker thread in parallel with the walk. Rows are
    joined by newlines: a path holding one splits into pieces without a NUL, which match
    no walk string, so that catalog simply takes the full compare. ``+path`` keeps SQLite
    on a plain table scan, cheaper than the path index when most rows match. ``None`` when
    the text would pass SQLite's length limit (about ten million photos): full compare.
    """
    ranges = " OR ".join(["(+path >= ? AND +path < ?)"] * len(root_keys))
    bounds: list[str] = []
    for key in root_keys:  # "root/" <= path < "root0": '0' sorts right after '/'
        bounds += [_prefix(key), _prefix(key)[:-1] + "0"]
    sql = (
        f"SELECT group_concat(path || char(0) || size || char(0) || mtime_ns, char(10)) "
        f"{_ORIGINALS} AND status != ? AND ({ranges})"
    )
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        try:
            (joined,) = dbapi.execute(sql, (PhotoStatus.MISSING.value, *bounds)).fetchone()
        except sqlite3.DataError:  # SQLITE_TOOBIG
            return None
    return set(joined.split("\n")) if joined else set()


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return path.startswith(prefixes)


_POSIX = os.sep == "/"


def _to_key(native: str) -> str:
    return native if os.sep == "/" else native.replace(os.sep, "/")


def _fields(
    result: probe.ProbeResult, size: int, mtime_ns: int, root_id: int | None
) -> dict[str, object]:
    status = PhotoStatus.UNREADABLE if result.error else PhotoStatus.OK
    return {
        "root_id": root_id,
        "size": size,
        "mtime_ns": mtime_ns,
        "fingerprint": result.fingerprint,
        "width": result.width,
        "height": result.height,
        "format": result.format,
        "orientation": result.orientation,
        "camera_make": result.camera_make,
        "camera_model": result.camera_model,
        "captured_at": result.captured_at,
        "status": status,
        "error": result.error,
        "updated_at": utcnow(),
    }


class _Scanner:
    def __init__(
        self,
        catalog: Catalog,
        roots: list[Path],
        cancel: CancelToken | None,
        batch_size: int,
        on_batch: BatchHook | None,
    ) -> None:
        self.catalog, self.roots, self.cancel = catalog, roots, cancel
        self.batch_size, self.on_batch = max(1, batch_size), on_batch
        self.summary = ScanSummary()
        self.state = WalkState()
        self.found: list[Found] = []
        self.seen: dict[str, tuple[int, int]] = {}
        self.known: dict[str, Known] = {}
        self.fingerprints: dict[str, str] = {}
        self.vanished: dict[str, Known] = {}
        self.by_fp: dict[str, list[str]] = {}
        self.inserts: list[dict[str, object]] = []
        self.updates: list[dict[str, object]] = []
        self.invalidate: list[int] = []
        self.rescore: list[int] = []
        self.read_unreadable = 0
        self.compared = False  # whether the walk was compared file by file with the catalog

    def run(self) -> Iterator[ScanEvent]:
        start = time.monotonic()
        with ThreadPoolExecutor(1, thread_name_prefix="scan-catalog") as pool:
            keys = [to_posix(path) for path in self.roots]
            loading = pool.submit(_load_found, self.catalog.engine, keys)
            with self.catalog.session() as session:
                self.root_ids = _ensure_roots(session, self.roots)
            yield from self._walk()
            stored = loading.result()
        if self._unchanged(stored):
            self.summary.unchanged = len(self.found)  # nothing to read, move or mark missing
        else:
            yield from self._apply_changes()
        self._count_unreadable()
        self._finish_roots()
        if self.summary.to_score or self.summary.moved or self.summary.missing:
            self._checkpoint()
        self.summary.errors = list(self.state.errors)
        self.summary.elapsed_s = time.monotonic() - start
        yield self.summary

    def _unchanged(self, stored: set[Found] | None) -> bool:
        """Whether the walk found exactly the catalog's rows (and could read every folder)."""
        found = self.found
        if self.state.errors or stored is None or len(found) != len(stored):
            return False
        return stored.issuperset(found)  # found holds no duplicates: sets are equal

    def _apply_changes(self) -> Iterator[Progress]:
        self.compared = True
        self.seen = {
            path: (size, mtime_ns) for path, size, mtime_ns in map(parse_found, self.found)
        }
        with self.catalog.session() as session:
            self.known = _load_known(session)
        work = self._classify()
        if work or len(self.known) > len(self.seen) - len(work):  # something changed
            with self.catalog.session() as session:
                rows = session.connection().exec_driver_sql(_LOAD_FINGERPRINTS)
                self.fingerprints = {path: fp for path, fp in rows}
        self._find_gone()
        yield from self._process(work)
        self._mark_missing()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            self._flush()
            raise Cancelled()

    def _walk(self) -> Iterator[Progress]:
        throttle, found = _Throttle(), self.found
        for root_key in self.root_ids:
            # Roots never nest (check_roots) and folders are visited once: no duplicates
            for _folder in walk(str(Path(root_key)), self.state, found):
                if throttle.due() and found:
                    self._check_cancel()
                    current = _to_key(parse_found(found[-1])[0])
                    yield Progress(len(found), 0, current, "Looking for photos")
        if not _POSIX:  # numbers hold no separator: convert whole strings
            self.found = [_to_key(line) for line in found]

    def _classify(self) -> list[str]:
        """Paths to read: new, changed, or back after being missing (rare, so re-read)."""
        work: list[str] = []
        known, missing = self.known, PhotoStatus.MISSING.value
        for key, (size, mtime_ns) in self.seen.items():
            row = known.get(key)
            if (
                row is None
                or row[_SIZE] != size
                or row[_MTIME] != mtime_ns
                or row[_STATUS] == missing
            ):
                work.append(key)
        self.summary.unchanged = len(self.seen) - len(work)
        work.sort()
        return work

    def _root_of(self, key: str) -> int | None:
        for root_key, root_id in self.root_ids.items():
            if key.startswith(_prefix(root_key)):
                return root_id
        return None

    def _find_gone(self) -> None:
        """Rows under the roots whose files were not seen; and fingerprints of all unseen."""
        roots = tuple(_prefix(key) for key in self.root_ids)
        err_keys = {_to_key(path) for path, _ in self.state.errors}
        err_dirs = tuple(_prefix(key) for key in err_keys)
        for key, row in self.known.items():
            if key in self.seen:
                continue
            in_scope = _under(key, roots) and key not in err_keys and not _under(key, err_dirs)
            if in_scope and row[_STATUS] != PhotoStatus.MISSING:
                self.vanished[key] = row
            fingerprint = self.fingerprints.get(key)
            if fingerprint:
                self.by_fp.setdefault(fingerprint, []).append(key)
        self.scope = roots

    def _is_gone(self, key: str) -> bool:
        if key in self.vanished or self.known[key][_STATUS] == PhotoStatus.MISSING:
            return True
        return not _under(key, self.scope) and not os.path.lexists(key)

    def _claim_gone(self, fingerprint: str) -> Known | None:
        """The row of a gone photo with this fingerprint (the source of a move), if any."""
        keys = self.by_fp.get(fingerprint, [])
        for i, key in enumerate(keys):
            if self._is_gone(key):
                del keys[i]
                self.vanished.pop(key, None)
                return self.known[key]
        return None

    def _process(self, work: list[str]) -> Iterator[Progress]:
        throttle = _Throttle()
        for done, key in enumerate(work, 1):
            self._index(key)
            if len(self.inserts) + len(self.updates) >= self.batch_size:
                self._flush()
            self._check_cancel()
            if throttle.due():
                yield Progress(done, len(work), key, "Reading new and changed photos")
        self._flush()

    def _index(self, key: str) -> None:
        size, mtime_ns = self.seen[key]
        result = probe.probe_file(key, size)
        fields = _fields(result, size, mtime_ns, self._root_of(key))
        row = self.known.get(key)
        moved = None if row or not result.fingerprint else self._claim_gone(result.fingerprint)
        if row is not None:
            self.updates.append({"id": row[_ID], **fields})
            if result.fingerprint != self.fingerprints.get(key):
                self.invalidate.append(row[_ID])
                if not result.error:
                    self.rescore.append(row[_ID])
        elif moved is not None:
            self.updates.append({"id": moved[_ID], "path": key, **fields})
        else:
            self.inserts.append({"path": key, **fields})
        if result.error:
            self.read_unreadable += 1  # counted with all the others by _count_unreadable
        elif moved is not None:
            self.summary.moved += 1
        elif row is not None:
            self.summary.updated += 1
        else:
            self.summary.added += 1

    def _count_unreadable(self) -> None:
        """Name every unreadable file under the roots; those this scan did not read again
        were counted as unchanged, and move to ``unreadable``."""
        with self.catalog.session() as session:
            files = unreadable_photos(session, self.roots)
        if self.compared:  # not those under a folder this walk could not enter
            files = [(p, e) for p, e in files if to_posix(p) in self.seen]
        self.summary.unreadable_files = files
        self.summary.unreadable = len(files)
        self.summary.unchanged -= len(files) - self.read_unreadable

    def _flush(self) -> None:
        if not (self.inserts or self.updates):
            return
        with self.catalog.session() as session:
            if self.invalidate:
                session.execute(delete(Score).where(Score.photo_id.in_(self.invalidate)))
            if self.updates:
                session.execute(update(Photo), self.updates)
            new: list[int] = []
            rows = insert_photos(session, self.inserts)
            new = [pid for pid, status in rows if status == PhotoStatus.OK]
        batch = self.rescore + new
        self.summary.to_score.extend(batch)
        self.inserts, self.updates, self.invalidate, self.rescore = [], [], [], []
        if self.on_batch is not None:
            self.on_batch(batch)

    def _mark_missing(self) -> None:
        ids = [row[_ID] for row in self.vanished.values()]
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            with self.catalog.session() as session:
                session.execute(
                    update(Photo)
                    .where(Photo.id.in_(chunk))
                    .values(status=PhotoStatus.MISSING, updated_at=utcnow())
                )
        self.summary.missing = len(ids)

    def _checkpoint(self) -> None:
        """Fold the WAL into the database now, so that this scan pays for its own writes
        rather than the next reader or small commit (SQLite checkpoints after a commit)."""
        with self.catalog.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _finish_roots(self) -> None:
        now = utcnow()
        # A Core statement on a plain connection: half the cost of an ORM-enabled update,
        # which a no-change rescan would otherwise pay on top of its walk.
        with self.catalog.engine.begin() as conn:
            for key, root_id in self.root_ids.items():
                prefix = _prefix(key)
                errors = [
                    {"path": p, "error": e}
                    for p, e in self.state.errors
                    if _to_key(p).startswith(prefix)
                ]
                conn.execute(
                    update(Root)
                    .where(Root.id == root_id)
                    .values(last_scan_at=now, scan_errors=errors or None)
                )


def scan(
    catalog: Catalog,
    roots: Iterable[Path | str],
    *,
    cancel: CancelToken | None = None,
    batch_size: int = 500,
    on_batch: BatchHook | None = None,
) -> Iterator[ScanEvent]:
    """Bring the catalog in step with the files under ``roots``.

    Yields :class:`Progress` reports (at most ~30 a second), then one :class:`ScanSummary`.
    ``on_batch`` is called after each commit with the ids of photos whose content is new or
    changed, so scoring can follow the scan. Raises :class:`PhotoEnhanceError` for a root
    that is not a folder, and :class:`Cancelled` when ``cancel`` is set.
    """
    checked = check_roots(roots)
    yield from _Scanner(catalog, checked, cancel, batch_size, on_batch).run()


def run_scan(catalog: Catalog, roots: Iterable[Path | str], **kwargs: object) -> ScanSummary:
    """Run :func:`scan` to the end, ignoring progress; return the summary."""
    summary = None
    for event in scan(catalog, roots, **kwargs):  # type: ignore[arg-type]
        if isinstance(event, ScanSummary):
            summary = event
    assert summary is not None
    return summary
