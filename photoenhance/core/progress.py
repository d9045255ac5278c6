"""Cancellation tokens and progress reports shared by every long core operation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from photoenhance.core.errors import Cancelled


class CancelToken:
    """A thread-safe, cooperative stop flag. Long loops call :meth:`raise_if_cancelled`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; return True early if cancelled."""
        return self._event.wait(timeout)


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` units (``total`` 0 when unknown)."""

    done: int
    total: int = 0
    current: str | None = None
    message: str = ""
    eta_s: float | None = None

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """A progress callback that ignores reports."""


@dataclass
class EtaEstimator:
    """Estimate time left from measured throughput (exponentially smoothed)."""

    total: int
    smoothing: float = 0.3
    _start: float = field(default_factory=time.monotonic)
    _last_t: float | None = None
    _last_done: int = 0
    _rate: float | None = None

    def update(self, done: int) -> float | None:
        """Record ``done`` units finished; return seconds left, or None while unknown."""
        now = time.monotonic()
        if self._last_t is not None and done > self._last_done and now > self._last_t:
            inst = (done - self._last_done) / (now - self._last_t)
            self._rate = inst if self._rate is None else (
                self.smoothing * inst + (1 - self.smoothing) * self._rate
            )
        if self._last_t is None or done > self._last_done:
            self._last_t, self._last_done = now, done
        if self._rate is None:
            elapsed = now - self._start
            if done <= 0 or elapsed <= 0:
                return None
            self._rate = done / elapsed
        return max(0.0, (self.total - done) / self._rate) if self._rate > 0 else None
