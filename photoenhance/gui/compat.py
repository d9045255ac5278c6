"""Work around a PySide6 reference-count bug that crashes the app on Python 3.11.

PySide6/shiboken6 6.12.0 returns ``None`` (and ``True``/``False``) from C++ calls without
taking a reference. From Python 3.12 these objects are immortal and nothing happens; on 3.11
every ``label.setText()`` or ``painter.setPen()`` takes one reference away, and after a few
thousand calls the interpreter aborts with "Fatal Python error: none_dealloc". Painting the
library grid gets there within seconds of scrolling.

:func:`guard_singletons` detects the bug with a harmless probe and, only when it is present,
gives those singletons a reference count so large that it cannot run out (which is what
Python 3.12 does for them anyway). The proper fix is a PySide6 release without the bug.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: A reference count that leaked references cannot exhaust (2**50 calls).
_HUGE = 1 << 52


def leaks_none() -> bool:
    """Whether a void Qt call takes a reference from ``None`` (the bug is present)."""
    from PySide6.QtCore import QRect

    rect = QRect(0, 0, 1, 1)
    before = sys.getrefcount(None)
    for _ in range(100):
        rect.setWidth(1)
    return sys.getrefcount(None) - before <= -50


_guarded = False


def guard_singletons() -> bool:
    """Make None, True and False immune to the leak when needed; True if applied."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not leaks_none():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _HUGE
    _guarded = True
    log.warning("PySide6 leaks references to None on this Python; guarded against it. "
                "Install a PySide6 release without the bug to remove this work-around.")
    return True
