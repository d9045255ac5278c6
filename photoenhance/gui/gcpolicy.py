"""How the GUI keeps CPython's cyclic garbage collector out of the way of big loads.

Loading a 100,000-photo library makes a few hundred thousand objects (rows, tuples) that
live until the next reload. The collector would scan them hundreds of times while they are
made (about a third of the load) and then in every later full collection: a pause of 100 ms
or more wherever it lands, often in the middle of a scroll frame. So a bulk load runs with
the collector paused and then freezes everything alive (:func:`gc.freeze`). Frozen objects
are still freed by reference counting, just never scanned again. The price is that the few
reference cycles already garbage at that moment (about ten objects per load) stay uncollected.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_running = 0
_was_enabled = True


def bulk_load(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run with the collector paused, then everything alive frozen (any thread;
    loads may overlap: the collector resumes when the last one ends)."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        global _running, _was_enabled
        with _lock:
            if _running == 0:
                _was_enabled = gc.isenabled()
            _running += 1
            gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            with _lock:
                _running -= 1
                if _running == 0:
                    gc.freeze()
                    if _was_enabled:
                        gc.enable()

    return run
