"""PySide6 6.12.0 on Python 3.11 leaks references to None; the app must not crash of it."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRect  # noqa: E402

import photoenhance.gui  # noqa: E402, F401  (applies the guard)
from photoenhance.gui.compat import leaks_none  # noqa: E402


def test_many_void_qt_calls_do_not_exhaust_none() -> None:
    rect = QRect(0, 0, 1, 1)
    for _ in range(50_000):  # far more than None's own count on a plain 3.11
        rect.setWidth(1)
    assert sys.getrefcount(None) > 0
    if leaks_none():
        assert sys.getrefcount(None) > 1 << 40  # guarded
