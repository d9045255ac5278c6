"""Watch library roots and hand over new photos only once they are complete.

The watchdog observer thread only records events. A settle thread decides when a file is
complete: no event for ``debounce_s``, then the same size and mtime across ``settle_s``, and
its header opens. Only then does the file reach ``on_ready``, so a photo still being
copied from a card or a sync is never ingested half-written. Deletions and moves reach
``on_removed``. Neither callback runs on the observer thread.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from photoenhance.core.library.ignore import is_ignored_path

log = logging.getLogger(__name__)

#: Names of files that are still being written by a browser, a sync tool or an editor.
PARTIAL_SUFFIXES = (".part", ".crdownload", ".partial", ".download", ".tmp", "~")
#: Network file systems where inotify sees no remote changes: poll them instead.
NETWORK_FS = frozenset({"nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "fuse.sshfs",
                        "afpfs", "9p", "davfs", "fuse.rclone"})


def is_partial_name(name: str) -> bool:
    low = name.lower()
    return low.startswith(".") or low.endswith(PARTIAL_SUFFIXES)


def filesystem_type(path: Path) -> str | None:
    """The mount type of ``path`` from /proc/mounts (Linux), or None when unknown."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    best, fstype = "", None
    target = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/")
                                ) and len(parts[1]) > len(best):
            best, fstype = parts[1], parts[2]
    return fstype


@dataclass
class _Pending:
    last_event: float
    stat: tuple[int, int] | None = None
    stable_since: float | None = None


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: LibraryWatcher) -> None:
        self._w = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type != "moved":
            return
        src = os.fsdecode(event.src_path)
        if event.event_type in ("deleted", "moved"):
            self._w.note_removed(Path(src))
        if event.event_type == "moved":
            self._w.note_changed(Path(os.fsdecode(event.dest_path)))
        elif event.event_type in ("created", "modified", "closed"):
            self._w.note_changed(Path(src))


class LibraryWatcher:
    """Watches ``roots``; call :meth:`start` and :meth:`stop` (or use it as a context)."""

    def __init__(self, roots: Iterable[Path], on_ready: Callable[[list[Path]], None],
                 on_removed: Callable[[list[Path]], None] | None = None, *,
                 debounce_s: float = 0.4, settle_s: float = 0.6, poll: bool | None = None,
                 ignore: Callable[[Path], bool] | None = None) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self._on_ready, self._on_removed = on_ready, on_removed
        self.debounce_s, self.settle_s = debounce_s, settle_s
        self._poll = poll
        self._ignore = ignore
        self._pending: dict[Path, _Pending] = {}
        self._removed: list[Path] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self.backend = ""

    # -- events (observer thread) ------------------------------------------------------
    def _root_of(self, path: Path) -> Path | None:
        return next((r for r in self.roots if path.is_relative_to(r)), None)

    def _wanted(self, path: Path) -> bool:
        root = self._root_of(path)
        if root is None or is_partial_name(path.name) or is_ignored_path(path, root):
            return False
        return not (self._ignore and self._ignore(path))

    def note_changed(self, path: Path) -> None:
        if self._wanted(path):
            with self._lock:
                self._pending[path] = _Pending(time.monotonic())

    def note_removed(self, path: Path) -> None:
        if self._root_of(path) is not None:
            with self._lock:
                self._pending.pop(path, None)
                self._removed.append(path)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> LibraryWatcher:
        self._observer = self._make_observer()
        self._observer.start()
        self._thread = threading.Thread(target=self._settle_loop, name="photoenhance-watch",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LibraryWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wants_polling(self) -> bool:
        if self._poll is not None:
            return self._poll
        return any(filesystem_type(r) in NETWORK_FS for r in self.roots)

    def _schedule(self, observer: BaseObserver) -> BaseObserver:
        handler = _Handler(self)
        for root in self.roots:
            observer.schedule(handler, str(root), recursive=True)
        return observer

    def _make_observer(self) -> BaseObserver:
        if not self._wants_polling():
            try:
                observer = self._schedule(Observer())
                self.backend = type(observer).__name__
                return observer
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE, errno.ENFILE):
                    raise
                log.warning("The system's file-watch limit is reached (%s); watching by "
                            "polling instead, which notices new files within a few seconds.",
                            exc)
        else:
            log.warning("A library folder is on a network drive; watching it by polling.")
        self.backend = "PollingObserver"
        return self._schedule(PollingObserver(timeout=1.0))

    # -- completeness (settle thread) ----------------------------------------------------
    def _settle_loop(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.settle_once()
            except Exception:  # never let the watcher die on one bad path
                log.exception("Watcher check failed")

    def settle_once(self, now: float | None = None) -> None:
        """Hand over complete files and removals (called periodically by the settle thread)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            removed, self._removed = self._removed, []
            due = [(p, s) for p, s in self._pending.items()
                   if now - s.last_event >= self.debounce_s]
        ready = [p for p, s in due if self._check(p, s, now)]
        if removed and self._on_removed:
            self._on_removed(removed)
        if ready:
            self._on_ready(ready)

    def _check(self, path: Path, state: _Pending, now: float) -> bool:
        try:
            st = path.stat()
        except OSError:
            with self._lock:
                self._pending.pop(path, None)
            return False
        sig = (st.st_size, st.st_mtime_ns)
        if sig != state.stat or st.st_size == 0:
            state.stat, state.stable_since = sig, now
            return False
        if state.stable_since is None or now - state.stable_since < self.settle_s:
            return False
        with self._lock:
            if self._pending.get(path) is not state:
                return False  # a newer event arrived meanwhile
            del self._pending[path]
        return header_opens(path)


def header_opens(path: Path) -> bool:
    """Whether the file is a whole image: its header opens and, for JPEG, it ends with EOI."""
    try:
        with Image.open(path) as im:
            fmt = im.format
        if fmt == "JPEG":
            with open(path, "rb") as fh:
                fh.seek(-2, os.SEEK_END)
                return fh.read(2) == b"\xff\xd9" or _jpeg_trailer_ok(path)
        return True
    except Exception:
        return False


def _jpeg_trailer_ok(path: Path) -> bool:
    """Some cameras pad after EOI; accept an EOI within the last 4 KiB."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - 4096))
        return b"\xff\xd9" in fh.read()
