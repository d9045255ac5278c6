"""The catalog: opening, pragmas, sessions, constraints and query helpers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path, PureWindowsPath

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from photoenhance.core.catalog import (
    SCHEMA_VERSION,
    Catalog,
    Enhancement,
    Job,
    JobItem,
    Photo,
    PhotoStatus,
    Rating,
    Score,
    count_photos,
    invalidate_scores,
    latest_score,
    photo_by_path,
    ranked_photos,
)
from photoenhance.core.catalog.migrations import read_version
from photoenhance.core.catalog.types import to_posix
from photoenhance.core.errors import CatalogError

T0 = datetime(2025, 1, 1)


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog.open(tmp_path / "deep" / "dir" / "catalog.sqlite") as cat:
        yield cat


def add_photo(s, name: str, **kw) -> Photo:
    photo = Photo(path=Path("/lib") / name, size=1, mtime_ns=1, width=4, height=3, **kw)
    s.add(photo)
    s.flush()
    return photo


def add_score(s, photo: Photo, score: float, minutes: int = 0) -> Score:
    row = Score(photo=photo, model_id="m", model_version="1", score=score, noise=score / 2,
                blur=0.1, jpeg=0.2, clipping=0.0, computed_at=T0 + timedelta(minutes=minutes))
    s.add(row)
    return row


def test_open_creates_folder_and_sets_pragmas(catalog: Catalog) -> None:
    assert catalog.path.is_file()
    assert read_version(catalog.path) == SCHEMA_VERSION
    with catalog.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_default_path_honours_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PHOTOENHANCE_CATALOG", str(tmp_path / "env" / "c.sqlite"))
    with Catalog.open(None) as cat:
        assert cat.path == tmp_path / "env" / "c.sqlite" and cat.path.exists()


def test_session_commits_or_rolls_back(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.session() as s:
        add_photo(s, "a.jpg")
        raise RuntimeError
    with catalog.session() as s:
        add_photo(s, "b.jpg")
    with catalog.session() as s:
        assert [p.path.name for p in s.scalars(select(Photo))] == ["b.jpg"]


def test_paths_are_stored_as_posix(catalog: Catalog) -> None:
    assert to_posix(PureWindowsPath(r"C:\Photos\a.jpg")) == "C:/Photos/a.jpg"
    with catalog.session() as s:
        add_photo(s, "ü/a.jpg")
    with catalog.session() as s:
        assert s.execute(text("SELECT path FROM photos")).scalar() == "/lib/ü/a.jpg"
        assert photo_by_path(s, Path("/lib/ü/a.jpg")) is not None


def test_foreign_keys_and_constraints(catalog: Catalog) -> None:
    with catalog.session() as s:
        photo = add_photo(s, "a.jpg")
        add_score(s, photo, 0.5)
        s.add(Rating(photo=photo, label=-1))
        job = Job(kind="enhance", items=[JobItem(photo_id=photo.id)])
        s.add_all([job, Enhancement(source=photo, model_id="x", parameters={"k": 1})])
    with pytest.raises(IntegrityError), catalog.session() as s:
        s.add(Rating(photo_id=1, label=5))
    with pytest.raises(IntegrityError), catalog.session() as s:
        s.add(Score(photo_id=999, model_id="m", model_version="1", score=1.0))
    with catalog.session() as s:
        s.execute(text("DELETE FROM photos"))  # cascades in SQL, not only in the ORM
    with catalog.session() as s:
        assert s.scalars(select(Score)).all() == s.scalars(select(Rating)).all() == []
        assert s.scalars(select(JobItem.photo_id)).all() == [None]


def test_output_links_to_source(catalog: Catalog) -> None:
    with catalog.session() as s:
        src = add_photo(s, "a.jpg")
        add_photo(s, "Enhanced/a.jpg", is_output=True, derived_from_id=src.id)
    with catalog.session() as s:
        out = s.scalars(select(Photo).where(Photo.is_output)).one()
        assert out.derived_from is not None and out.derived_from.path.name == "a.jpg"
        assert count_photos(s) == 1  # outputs are not counted as library photos


def test_ranked_photos_and_latest_score(catalog: Catalog) -> None:
    with catalog.session() as s:
        a, b, c = (add_photo(s, n) for n in ("a.jpg", "b.jpg", "c.jpg"))
        add_photo(s, "gone.jpg", status=PhotoStatus.MISSING)
        add_score(s, a, 0.9, minutes=0)
        add_score(s, a, 0.2, minutes=5)  # latest wins
        add_score(s, b, 0.6)
    with catalog.session() as s:
        rows = ranked_photos(s)
        assert [r.photo.path.name for r in rows] == ["b.jpg", "a.jpg", "c.jpg"]
        assert rows[0].as_dict()["factors"] == {"noise": 0.3, "blur": 0.1, "jpeg": 0.2,
                                                "clipping": 0.0}
        assert rows[2].as_dict()["score"] is None and rows[2].as_dict()["factors"] is None
        assert [r.photo.path.name for r in ranked_photos(s, min_score=0.5)] == ["b.jpg"]
        assert len(ranked_photos(s, limit=1)) == 1
        latest = latest_score(s, a)
        assert latest is not None and latest.score == pytest.approx(0.2)
        assert invalidate_scores(s, a) == 2
        assert latest_score(s, a.id) is None


def test_bad_catalog_files_are_known_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match="cannot open"):
        Catalog.open(tmp_path / "junk.sqlite")
    with pytest.raises(CatalogError, match="folder"):
        Catalog.open(tmp_path)
