"""Thread counts of the numerical libraries, chosen for a CPU that other work may fill.

numpy's BLAS (OpenBLAS in the wheels) starts one spinning thread per core for a matrix
product. When another process keeps the cores busy, those threads wait for each other to
be scheduled: the 36 x 36 patch covariance of :mod:`.autostrength` went from 2 ms to
0.4-1.9 s, and measuring one photo from 0.1 s to 6 s (bench/watch.py --load 2). photoenhance
runs its numpy work on several threads of its own (decoding, the I/O pool), so one BLAS
thread costs nothing and keeps that time steady. torch's threads are not touched.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)


@functools.cache
def single_threaded_blas() -> bool:
    """Limit numpy's BLAS to one thread, process-wide, once. False where it cannot be
    done (threadpoolctl missing or a BLAS it does not know)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        log.debug("threadpoolctl is not installed; numpy's BLAS keeps its threads")
        return False
    try:
        threadpool_limits(1, user_api="blas")
    except Exception:  # an unknown library layout must never stop the app
        log.debug("Could not limit BLAS threads", exc_info=True)
        return False
    return True
