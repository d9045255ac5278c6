"""The migration ladder, run on a fixture catalog of every past schema version."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from photoenhance.core.catalog import SCHEMA_VERSION, Catalog, Photo, Rating, Score, migrations
from photoenhance.core.catalog.migrations import read_version
from photoenhance.core.errors import CatalogError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalog"


def schema(path: Path) -> dict[str, object]:
    """Tables with their columns (name, type, not-null, default, pk) and index names."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        tables = {n: sorted(tuple(c[1:]) for c in conn.execute(f"PRAGMA table_info({n})"))
                  for n in names}
        indexes = sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"))
        fks = {n: sorted(tuple(f[2:]) for f in conn.execute(f"PRAGMA foreign_key_list({n})"))
               for n in names}
        return {"tables": tables, "indexes": indexes, "fks": fks}
    finally:
        conn.close()


def copy_fixture(tmp_path: Path, version: int) -> Path:
    """The frozen catalog of schema ``version``, copied to ``tmp_path/catalog.sqlite``."""
    path = tmp_path / "catalog.sqlite"
    shutil.copy(FIXTURES / f"catalog_v{version}.sqlite", path)
    assert read_version(path) == version
    return path


def assert_migrated(path: Path, version: int) -> None:
    """``path`` is at the current version, with one backup of its old file, and has the
    schema a new catalog gets."""
    assert read_version(path) == SCHEMA_VERSION
    assert len(list(path.parent.glob(f"catalog.sqlite.v{version}.*.bak"))) == 1
    with Catalog.open(path.parent / "fresh.sqlite"):
        pass
    assert schema(path) == schema(path.parent / "fresh.sqlite")


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.sqlite"
    shutil.copy(FIXTURES / "catalog_v1.sqlite", path)
    assert read_version(path) == 1
    return path


def test_v1_fixture_migrates_to_current(v1: Path, tmp_path: Path) -> None:
    with Catalog.open(v1) as cat, cat.session() as s:
        photos = {p.path.name: p for p in s.scalars(select(Photo))}
        assert set(photos) == {"beach.jpg", "dusk.heic", "broken.jpg"}
        assert photos["dusk.heic"].camera_model == "iPhone 13"
        assert not photos["beach.jpg"].is_output and photos["beach.jpg"].derived_from_id is None
        # the v5 scale: 0.25 was -0.04 dB (nothing to gain), 0.75 was 3.26 dB
        assert s.scalars(select(Score.score).order_by(Score.id)).all() == [0.0, 0.8109]
        s.add(Rating(photo=photos["beach.jpg"], label=1))  # the new table works
    assert read_version(v1) == SCHEMA_VERSION
    backups = list(tmp_path.glob("catalog.sqlite.v1.*.bak"))
    assert len(backups) == 1 and read_version(backups[0]) == 1
    with Catalog.open(tmp_path / "fresh.sqlite"):
        pass
    assert schema(v1) == schema(tmp_path / "fresh.sqlite")


def test_current_catalog_is_not_backed_up_again(v1: Path, tmp_path: Path) -> None:
    Catalog.open(v1).close()
    Catalog.open(v1).close()
    assert len(list(tmp_path.glob("*.bak"))) == SCHEMA_VERSION - 1  # one per step, once


def test_failed_step_rolls_back_and_keeps_backup(v1: Path, monkeypatch) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE roots ADD COLUMN half_done TEXT")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setitem(migrations.STEPS, 1, broken)
    with pytest.raises(CatalogError, match="backup kept"):
        Catalog.open(v1)
    assert read_version(v1) == 1
    conn = sqlite3.connect(v1)
    assert "half_done" not in [c[1] for c in conn.execute("PRAGMA table_info(roots)")]
    conn.close()


def test_newer_catalog_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CatalogError, match="newer"):
        Catalog.open(path)


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(CatalogError, match="not a photoenhance catalog"):
        Catalog.open(path)


def test_every_step_is_registered() -> None:
    assert sorted(migrations.STEPS) == list(range(1, SCHEMA_VERSION))


def test_v2_fixture_migrates_to_current_and_keeps_jobs(tmp_path: Path) -> None:
    from photoenhance.core.catalog import JobItem

    path = copy_fixture(tmp_path, 2)
    with Catalog.open(path) as cat, cat.session() as s:
        items = s.scalars(select(JobItem).order_by(JobItem.id)).all()
        assert [(i.job_id, i.status, i.position, i.source_path) for i in items] == [
            (1, "done", 0, None), (2, "done", 0, None), (2, "running", 0, None)]
        assert s.scalars(select(Rating.label)).all() == [2]
    assert_migrated(path, 2)


def test_v3_fixture_migrates_to_current_with_empty_verdicts(tmp_path: Path) -> None:
    from photoenhance.core.catalog import JobItem

    path = copy_fixture(tmp_path, 3)
    with Catalog.open(path) as cat, cat.session() as s:
        item = s.get(JobItem, 4)
        assert item is not None and item.source_path == Path("/photos/loose.jpg")
        assert item.verdict is None and item.predicted_gain is None
        item.verdict, item.predicted_gain = "improved", 2.5  # the new columns work
    with Catalog.open(path) as cat, cat.session() as s:
        item = s.get(JobItem, 4)
        assert item is not None and (item.verdict, item.predicted_gain) == ("improved", 2.5)
    assert_migrated(path, 3)


def test_v4_fixture_migrates_scores_to_the_v5_scale(tmp_path: Path) -> None:
    from photoenhance.core.catalog import Embedding, JobItem

    path = copy_fixture(tmp_path, 4)
    with Catalog.open(path) as cat, cat.session() as s:
        rows = {r.photo_id: (r.score, r.gain_db) for r in s.scalars(select(Score))}
        # a clean photo (0 dB: 0.255 then) now scores exactly 0; 1 dB keeps 0.4
        assert rows[10] == (0.0, 0.0) and rows[11] == (0.4, 1.0)
        assert rows[1] == (0.0, -0.04) and rows[2] == (0.8109, 3.26)
        item = s.get(JobItem, 5)
        assert item is not None and item.predicted_gain == 1.0
        assert s.scalars(select(Embedding)).all() == []
        s.add(Embedding(score_id=11, model_sha="ab" * 32, unchanged=False, vector=b"\0\0"))
    with Catalog.open(path) as cat, cat.session() as s:
        s.delete(s.get(Score, 11))  # an embedding goes with its score
    with Catalog.open(path) as cat, cat.session() as s:
        assert s.scalars(select(Embedding)).all() == []
    assert_migrated(path, 4)


def test_the_migrations_frozen_scale_is_the_scale() -> None:
    """The v4 -> v5 step keeps its own copy of both scales (steps never import the app's
    code); they must agree with rank/scale.py as it was when v5 was made."""
    from photoenhance.core.rank.scale import gain_to_score, score_to_gain

    for gain in (-3.0, 0.0, 0.2, 1.0, 2.5, 7.0):
        assert migrations._v5_score(gain, 0.5) == round(float(gain_to_score(gain)), 4)
    assert migrations._v4_gain(0.4) == 1.0 and migrations._v4_gain(0.255) == 0.0
    assert score_to_gain(0.4) == pytest.approx(1.0)
