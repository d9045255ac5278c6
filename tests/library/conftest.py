"""Fixtures shared by the library tests (scan, indexing, watch)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from photoenhance.core.catalog import Catalog


@pytest.fixture
def catalog(tmp_path: Path):
    """An empty catalog in the test's own folder."""
    with Catalog.open(tmp_path / "catalog.sqlite") as cat:
        yield cat


@pytest.fixture
def lock_folder(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], str]:
    """Makes ``os.scandir`` refuse a folder as an unreadable one does; returns its path."""

    def lock(folder: Path) -> str:
        locked, real = str(folder), os.scandir

        def scandir(path: str = "."):
            if os.fspath(path) == locked:
                raise PermissionError(13, "Permission denied", path)
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
        return locked

    return lock
