"""Keep the catalog in step with watched roots: index, score and alert on new imports.

:class:`WatchService` owns a :class:`LibraryWatcher` and one ingest thread. Complete files
and removals from the watcher are queued; the ingest thread indexes and scores them with
:func:`~photoenhance.core.library.indexing.index_and_score`, as ``photoenhance scan`` does
(a rescan of the affected roots, where unchanged files cost nothing, then the new and changed
photos scored), feeds the alert digest, and reports each step through ``on_event``. It
never touches Qt; the GUI's bridge turns the events into signals.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photoenhance.core.catalog import Catalog, Photo, latest_score
from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.core.library.alerts import Alert, AlertDigest
from photoenhance.core.library.indexing import IndexOutcome, ScorerSource, index_and_score
from photoenhance.core.library.scan import ScanSummary
from photoenhance.core.library.watch import LibraryWatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Indexed:
    """A rescan after file events finished."""

    summary: ScanSummary


@dataclass(frozen=True)
class Scored:
    """A new or changed photo was scored (``score`` None: it could not be scored)."""

    path: Path
    score: float | None
    factors: dict[str, float] | None = None
    error: str | None = None


WatchEvent = Indexed | Scored | Alert


@dataclass
class WatchService:
    catalog: Catalog
    roots: list[Path]
    on_event: Callable[[WatchEvent], None]
    scorer: ScorerSource = lambda: None
    threshold: float = 0.4
    poll: bool | None = None
    debounce_s: float = 0.4
    settle_s: float = 0.6
    alert_quiet_s: float = 3.0
    _queue: queue.Queue[tuple[str, list[Path]] | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    watcher: LibraryWatcher | None = None
    digest: AlertDigest | None = None

    def start(self) -> WatchService:
        self.roots = [r.resolve() for r in self.roots]
        self.digest = AlertDigest(self.on_event, self.threshold, quiet_s=self.alert_quiet_s)
        self.watcher = LibraryWatcher(
            self.roots, lambda p: self._queue.put(("ready", p)),
            lambda p: self._queue.put(("removed", p)), debounce_s=self.debounce_s,
            settle_s=self.settle_s, poll=self.poll, ignore=self._is_own_file).start()
        self._thread = threading.Thread(target=self._loop, name="photoenhance-ingest",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _is_own_file(self, path: Path) -> bool:
        """The catalog database and its journals are never photos, even in a root."""
        return path.name.startswith(self.catalog.path.name)

    def _loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.25)
            except queue.Empty:
                if self.digest is not None:
                    self.digest.poll()
                continue
            if item is None:
                return
            batch = [item]
            while not self._queue.empty():  # fold a burst into one rescan
                nxt = self._queue.get_nowait()
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                self.ingest([p for kind, ps in batch if kind == "ready" for p in ps],
                            [p for kind, ps in batch if kind == "removed" for p in ps])
            except PhotoEnhanceError as exc:
                log.warning("Could not index new files: %s", exc)
            except Exception:
                log.exception("Ingest failed")

    def _roots_for(self, paths: Iterable[Path]) -> list[Path]:
        return sorted({r for p in paths for r in self.roots if p.is_relative_to(r)})

    def ingest(self, ready: list[Path], removed: list[Path]) -> None:
        """Rescan the roots that changed, then score the files that became ready."""
        roots = self._roots_for([*ready, *removed])
        if not roots:
            return
        outcome = index_and_score(self.catalog, roots, self.scorer if ready else None,
                                  only=ready, on_indexed=lambda s: self.on_event(Indexed(s)))
        if outcome.scored is not None:
            self._report(outcome)

    def _report(self, outcome: IndexOutcome) -> None:
        """A :class:`Scored` event for each photo, and the good ones to the alert digest."""
        failed = dict(outcome.failed)
        with self.catalog.session() as s:
            for pid in outcome.photo_ids:
                photo = s.get(Photo, pid)
                if photo is None:
                    continue
                score = latest_score(s, pid) if pid not in failed else None
                if score is None:
                    self.on_event(Scored(photo.path, None, error=failed.get(pid)))
                    continue
                self.on_event(Scored(photo.path, score.score, score.factors()))  # type: ignore[arg-type]
                if self.digest is not None:
                    roots = self._roots_for([photo.path])
                    self.digest.add(photo.path, score.score, roots[0] if roots else None)
