"""Fixtures shared by the library tests (scan, indexing, watch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoenhance.core.catalog import Catalog


@pytest.fixture
def catalog(tmp_path: Path):
    """An empty catalog in the test's own folder."""
    with Catalog.open(tmp_path / "catalog.sqlite") as cat:
        yield cat
