"""The no-change rescan: one set compare of the walk with the catalog, and every way out of it."""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event, select

from photoenhance.core.catalog import Catalog, Photo, PhotoStatus, Root
from photoenhance.core.library import run_scan
from photoenhance.core.library.walk import WalkState, parse_found, walk

scan_module = importlib.import_module("photoenhance.core.library.scan")


def make_jpeg(path: Path, color: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 16), (color, 120, 200)).save(path, "JPEG")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    for i in range(4):
        make_jpeg(root / "2024" / f"img{i}.jpg", color=10 * i)
    make_jpeg(root / "img.jpg", color=200)
    return root


@pytest.fixture
def full_compares(monkeypatch) -> list[int]:
    """Counts the scans that left the fast path and loaded every catalog row."""
    calls: list[int] = []
    real = scan_module._load_known

    def load_known(session):
        calls.append(1)
        return real(session)

    monkeypatch.setattr(scan_module, "_load_known", load_known)
    return calls


def statuses(cat: Catalog) -> dict[str, str]:
    with cat.session() as s:
        return {p.path.name: p.status for p in s.scalars(select(Photo))}


def test_parse_found_round_trip() -> None:
    path = "/photos/a b\tc/é 1.jpg"
    assert parse_found(f"{path}\0{123}\0{-5}") == (path, 123, -5)


def test_walk_lists_each_photo_once(library: Path) -> None:
    found: list[str] = []
    folders = list(walk(str(library), WalkState(), found))
    assert len(folders) == 2
    paths = sorted(parse_found(line)[0] for line in found)
    assert paths == sorted(str(p) for p in library.rglob("*.jpg"))
    st = (library / "img.jpg").stat()
    assert f"{library / 'img.jpg'}\0{st.st_size}\0{st.st_mtime_ns}" in found


def test_no_change_rescan_skips_the_full_load(
    catalog: Catalog, library: Path, full_compares: list[int]
) -> None:
    run_scan(catalog, [library])
    with catalog.session() as s:
        before = s.scalars(select(Root)).one().last_scan_at
    assert full_compares == [1]
    summary = run_scan(catalog, [library])
    assert full_compares == [1]  # the fast path answered
    assert summary.counts() == {
        "added": 0,
        "updated": 0,
        "moved": 0,
        "missing": 0,
        "unreadable": 0,
        "unchanged": 5,
    }
    assert summary.to_score == [] and summary.errors == []
    with catalog.session() as s:
        root = s.scalars(select(Root)).one()
        assert root.last_scan_at is not None and before is not None
        assert root.last_scan_at >= before and root.scan_errors is None


def _change_size_keep_mtime(library: Path) -> None:
    path = library / "img.jpg"
    st = path.stat()
    make_jpeg(path, color=30)
    with path.open("ab") as fh:
        fh.write(b"\0" * 7)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _touch(library: Path) -> None:
    path = library / "img.jpg"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


CHANGES = {
    "new file": (lambda lib: make_jpeg(lib / "new.jpg", color=77), "added"),
    "deleted file": (lambda lib: (lib / "img.jpg").unlink(), "missing"),
    "size only": (_change_size_keep_mtime, "updated"),
    "mtime only": (_touch, "updated"),
    "renamed": (lambda lib: (lib / "img.jpg").rename(lib / "renamed.jpg"), "moved"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_leaves_the_fast_path(
    catalog: Catalog, library: Path, full_compares: list[int], change: str
) -> None:
    run_scan(catalog, [library])
    apply, counted = CHANGES[change]
    apply(library)
    summary = run_scan(catalog, [library])
    assert full_compares == [1, 1]
    assert getattr(summary, counted) == 1


def test_photo_back_after_missing_is_read_again(
    catalog: Catalog, library: Path, full_compares: list[int], tmp_path: Path
) -> None:
    run_scan(catalog, [library])
    (library / "img.jpg").rename(tmp_path / "away.jpg")
    assert run_scan(catalog, [library]).missing == 1
    assert run_scan(catalog, [library]).unchanged == 4  # still missing: nothing to do
    assert len(full_compares) == 2
    (tmp_path / "away.jpg").rename(library / "img.jpg")
    summary = run_scan(catalog, [library])
    assert len(full_compares) == 3 and summary.updated == 1
    assert statuses(catalog)["img.jpg"] == PhotoStatus.OK


def test_other_roots_neither_block_the_fast_path_nor_go_missing(
    catalog: Catalog, library: Path, tmp_path: Path, full_compares: list[int]
) -> None:
    other = tmp_path / "lib2"  # shares "lib" as a string prefix, not as a folder
    make_jpeg(other / "x.jpg")
    run_scan(catalog, [library])
    run_scan(catalog, [other])
    assert len(full_compares) == 2
    assert run_scan(catalog, [library]).unchanged == 5
    assert run_scan(catalog, [other]).unchanged == 1
    assert len(full_compares) == 2
    assert set(statuses(catalog).values()) == {PhotoStatus.OK}


def test_unreadable_folder_leaves_the_fast_path(
    catalog: Catalog, library: Path, lock_folder, full_compares: list[int]
) -> None:
    run_scan(catalog, [library])
    locked = lock_folder(library / "2024")
    summary = run_scan(catalog, [library])
    assert len(full_compares) == 2
    assert summary.missing == 0 and summary.errors == [(locked, "Permission denied")]


@pytest.mark.skipif(sys.platform != "linux", reason="Linux allows newlines in names")
def test_newline_in_a_name_is_only_slower(
    catalog: Catalog, library: Path, full_compares: list[int]
) -> None:
    make_jpeg(library / "two\nlines.jpg", color=5)
    assert run_scan(catalog, [library]).added == 6
    summary = run_scan(catalog, [library])
    assert summary.unchanged == 6 and summary.added == summary.missing == 0
    assert len(full_compares) == 2  # its catalog line splits, so the full compare ran


def test_catalog_text_past_sqlite_length_limit_takes_the_full_compare(
    catalog: Catalog, library: Path, full_compares: list[int]
) -> None:
    run_scan(catalog, [library])

    def small_limit(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 300)  # less than the 5 photos' text

    event.listen(catalog.engine, "connect", small_limit)
    catalog.engine.dispose()  # new connections, with the limit
    assert scan_module._load_found(catalog.engine, [library.resolve().as_posix()]) is None
    summary = run_scan(catalog, [library])
    assert summary.unchanged == 5 and summary.missing == 0
    assert len(full_compares) == 2
