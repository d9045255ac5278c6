"""'Worth fixing' alerts: one digest per burst of imports, never one per file.

:class:`AlertDigest` collects newly scored photos above the threshold. It emits one
:class:`Alert` once a burst has gone quiet for ``quiet_s`` (or has lasted ``max_wait_s``),
respects a snooze, and can be turned off per root. Time is injected so tests are exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Alert:
    """``count`` newly imported photos are worth fixing."""

    paths: tuple[Path, ...]

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def message(self) -> str:
        n = self.count
        return f"{n} new photo{'s' if n != 1 else ''} worth fixing"


@dataclass
class AlertDigest:
    emit: Callable[[Alert], None]
    threshold: float = 0.4
    quiet_s: float = 5.0
    max_wait_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    disabled_roots: set[Path] = field(default_factory=set)
    _pending: list[Path] = field(default_factory=list)
    _first: float | None = None
    _last: float | None = None
    _snoozed_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: Path, score: float, root: Path | None = None) -> None:
        """Record a newly scored photo (ignored below the threshold or in a muted root)."""
        if score < self.threshold or (root is not None and root in self.disabled_roots):
            return
        now = self.clock()
        with self._lock:
            self._pending.append(path)
            self._first = self._first if self._first is not None else now
            self._last = now

    def snooze(self, seconds: float) -> None:
        """No alerts for ``seconds``; photos found meanwhile are summed into the next one."""
        self._snoozed_until = self.clock() + seconds

    def poll(self) -> Alert | None:
        """Emit (and return) the digest if the burst is over; call this periodically."""
        now = self.clock()
        with self._lock:
            if not self._pending or self._first is None or self._last is None:
                return None
            burst_over = now - self._last >= self.quiet_s or now - self._first >= self.max_wait_s
            if not burst_over or now < self._snoozed_until:
                return None
            alert = Alert(tuple(self._pending))
            self._pending, self._first, self._last = [], None, None
        self.emit(alert)
        return alert
