"""What the compiled CPU loops (numba) share: how they are compiled, and the threads they run
on. The loops themselves live with what they compute: :mod:`.guard_kernels` (the do-no-harm
guard), :func:`.tone_kernels.tone_rows` (the tone step at full resolution).

numba compiles a loop on its first call with a given set of argument types (a few seconds,
once: the machine code is cached on disk, next to the module or, where that cannot be
written, as in the desktop bundle, in the user's cache folder). The loops release the GIL,
so :func:`parallel` runs them on plain threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

numba: Any
try:
    import numba
except ImportError:  # the kernel modules then fail to import, and their callers fall back
    numba = None

_F = TypeVar("_F", bound=Callable[..., Any])


def _decorator(options: dict[str, Any]) -> Callable[[_F], _F]:
    """numba's ``njit(**options)``, typed for the checker (numba has no type hints); None
    where numba is missing."""
    made: Callable[[_F], _F] = numba.njit(**options) if numba is not None else None
    return made


#: Loops whose sums may be reassociated (so that they vectorise); no NaN/Inf assumptions.
jit = _decorator({"nogil": True, "cache": True, "fastmath": {"reassoc", "contract", "nsz"}})
#: Loops that must round exactly as numpy does (no fast-math at all).
jit_exact = _decorator({"nogil": True, "cache": True})


def require() -> None:
    """Raise ImportError where numba is missing (called by the kernel modules on import)."""
    if numba is None:
        raise ImportError("numba is not installed")

_POOL: ThreadPoolExecutor | None = None


def parallel(fn: Callable[..., float], n: int, threads: int, *args: object, at: int = 4
             ) -> float:
    """``fn`` over ``threads`` runs of ``[lo, hi)`` splitting ``range(n)``, each called with
    ``lo, hi`` inserted at position ``at`` of ``args``; the first run in this thread, the
    others on a shared pool. The sum of what they return."""
    global _POOL
    runs = max(1, min(threads, n))
    head, tail = args[:at], args[at:]
    if runs == 1:
        return float(fn(*head, 0, n, *tail))
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max(os.cpu_count() or 2, 2), thread_name_prefix="kernels")
    cuts = [n * k // runs for k in range(runs + 1)]
    futures = [_POOL.submit(fn, *head, cuts[k], cuts[k + 1], *tail) for k in range(1, runs)]
    total = float(fn(*head, cuts[0], cuts[1], *tail))  # the first run here
    return total + float(sum(f.result() for f in futures))
