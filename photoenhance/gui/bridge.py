"""The one place that turns core callbacks into Qt signals.

Core work runs on a worker and reports through plain callbacks: I/O (scanning, decoding) on a
QThreadPool (:func:`start`), model work on the inference lane (:func:`start_on_lane`);
:class:`Task` re-emits the callbacks as queued signals so slots run on the GUI thread.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from photoenhance.core.errors import Cancelled, PhotoEnhanceError
from photoenhance.core.jobs.lane import InferenceLane
from photoenhance.core.progress import CancelToken, Progress

log = logging.getLogger(__name__)

#: A core function called as ``func(progress_callback, cancel_token)``.
CoreCall = Callable[[Callable[[Progress], None], CancelToken], Any]


class Task(QObject):
    """A cancellable background call whose results arrive on the GUI thread."""

    progressed = Signal(object)  # Progress
    finished = Signal(object)  # the return value
    failed = Signal(str)  # a readable message, never a traceback
    cancelled = Signal()

    def __init__(self, func: CoreCall, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._func = func
        self.token = CancelToken()

    def cancel(self) -> None:
        self.token.cancel()

    def _emit(self, signal: Any, *args: Any) -> None:
        """Emit, unless the window that owns this task is already gone (app quitting): then
        stop the work instead of raising on the worker thread."""
        try:
            signal.emit(*args)
        except RuntimeError:  # "Signal source has been deleted"
            self.token.cancel()

    def run(self) -> None:
        """Run the call in the current (worker) thread, emitting the outcome."""
        try:
            result = self._func(lambda p: self._emit(self.progressed, p), self.token)
        except Cancelled:
            self._emit(self.cancelled)
        except PhotoEnhanceError as exc:
            self._emit(self.failed, str(exc))
        except Exception as exc:  # a bug: log it in full, show one line
            log.error("Background task failed:\n%s", traceback.format_exc())
            self._emit(self.failed, f"Something went wrong: {exc}. Details are in the log.")
        else:
            self._emit(self.finished, result)


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task.run()


def start(task: Task, pool: QThreadPool | None = None) -> Task:
    """Queue ``task`` on ``pool`` (the global pool by default) and return it."""
    (pool or QThreadPool.globalInstance()).start(_Runnable(task))
    return task


class Relay(QObject):
    """Turns a plain callback called on any thread (``relay.callback``) into a queued signal.

    Long-lived core services (the watch service) report through a callback; pass
    ``relay.callback`` as that callback and connect ``received`` on the GUI thread.
    """

    received = Signal(object)

    def callback(self, event: object) -> None:
        self.received.emit(event)


def start_on_lane(task: Task, lane: InferenceLane, key: str | None = None,
                  interactive: bool = False) -> Task:
    """Queue ``task`` on the inference lane (see :meth:`InferenceLane.submit` for ``key`` and
    ``interactive``); a task the lane drops unstarted emits ``cancelled``."""
    lane.submit(lambda _c: task.run(), cancel=task.token, key=key, interactive=interactive,
                on_dropped=lambda: task._emit(task.cancelled))  # noqa: SLF001
    return task
