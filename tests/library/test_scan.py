"""The library scanner: incremental rescans, moves, deletions, changes and odd files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import piexif
import pytest
from PIL import Image
from sqlalchemy import select

from photoenhance.core.catalog import Catalog, Photo, PhotoStatus, Rating, Root, Score
from photoenhance.core.errors import Cancelled, PhotoEnhanceError
from photoenhance.core.library import ScanSummary, probe, run_scan, scan
from photoenhance.core.progress import CancelToken, Progress

EXIF = piexif.dump({
    "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"EOS R5",
            piexif.ImageIFD.Orientation: 6},
    "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:07:01 10:00:00"},
})


def make_jpeg(path: Path, size: tuple[int, int] = (24, 16), color: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (color, 120, 200)).save(path, "JPEG", exif=EXIF)
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / "2024" / f"img{i}.jpg", color=10 * i)
    make_jpeg(root / "img.jpg", color=200)
    return root


def photos(cat: Catalog) -> dict[str, Photo]:
    with cat.session() as s:
        return {p.path.name: p for p in s.scalars(select(Photo))}


def add_score_and_rating(cat: Catalog, name: str) -> int:
    with cat.session() as s:
        photo = s.scalars(select(Photo).where(Photo.path.like(f"%/{name}"))).one()
        s.add(Score(photo=photo, model_id="m", model_version="1", score=0.5, noise=0.1))
        s.add(Rating(photo=photo, label=2))
        return photo.id


def test_first_scan_reads_header_and_exif(catalog: Catalog, library: Path) -> None:
    summary = run_scan(catalog, [library])
    assert summary.counts() == {"added": 4, "updated": 0, "moved": 0, "missing": 0,
                                "unreadable": 0, "unchanged": 0}
    photo = photos(catalog)["img0.jpg"]
    assert (photo.width, photo.height, photo.format) == (24, 16, "JPEG")
    assert (photo.orientation, photo.camera_make, photo.camera_model) == (6, "Canon", "EOS R5")
    assert photo.captured_at is not None and photo.captured_at.year == 2024
    assert photo.status == PhotoStatus.OK and photo.fingerprint
    assert photo.path == (library / "2024" / "img0.jpg").resolve()
    assert sorted(summary.to_score) == sorted(p.id for p in photos(catalog).values())


def test_unchanged_rescan_reads_no_file(catalog: Catalog, library: Path, monkeypatch) -> None:
    run_scan(catalog, [library])
    calls: list[str] = []
    real = probe.probe_file
    monkeypatch.setattr(probe, "probe_file", lambda p, s: calls.append(p) or real(p, s))
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("a file was opened"))
    summary = run_scan(catalog, [library])
    assert calls == []
    assert summary.unchanged == 4 and summary.added == summary.updated == 0
    assert summary.to_score == []


def test_only_new_and_changed_files_are_read(catalog: Catalog, library: Path,
                                             monkeypatch) -> None:
    run_scan(catalog, [library])
    make_jpeg(library / "new.jpg")
    make_jpeg(library / "img.jpg", size=(30, 30))
    calls: list[str] = []
    real = probe.probe_file
    monkeypatch.setattr(probe, "probe_file", lambda p, s: calls.append(p) or real(p, s))
    summary = run_scan(catalog, [library])
    assert sorted(Path(c).name for c in calls) == ["img.jpg", "new.jpg"]
    assert (summary.added, summary.updated, summary.unchanged) == (1, 1, 3)


def test_move_and_rename_keep_scores_and_ratings(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    photo_id = add_score_and_rating(catalog, "img1.jpg")
    (library / "elsewhere").mkdir()
    os.rename(library / "2024" / "img1.jpg", library / "elsewhere" / "renamed.jpg")
    summary = run_scan(catalog, [library])
    assert (summary.moved, summary.added, summary.missing) == (1, 0, 0)
    photo = photos(catalog)["renamed.jpg"]
    assert photo.id == photo_id and photo.status == PhotoStatus.OK
    with catalog.session() as s:
        assert s.scalars(select(Score.photo_id)).all() == [photo_id]
        assert s.scalars(select(Rating.photo_id)).all() == [photo_id]
    assert "img1.jpg" not in photos(catalog)


def test_move_between_roots_and_scans(catalog: Catalog, library: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    run_scan(catalog, [library])
    photo_id = add_score_and_rating(catalog, "img.jpg")
    os.rename(library / "img.jpg", other / "img.jpg")
    summary = run_scan(catalog, [other])  # the old root is not rescanned
    assert summary.moved == 1
    assert photos(catalog)["img.jpg"].id == photo_id
    assert run_scan(catalog, [library]).missing == 0


def test_copy_is_added_not_moved(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    (library / "copy.jpg").write_bytes((library / "img.jpg").read_bytes())
    summary = run_scan(catalog, [library])
    assert (summary.added, summary.moved) == (1, 0)


def test_delete_marks_missing_then_back(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    photo_id = add_score_and_rating(catalog, "img2.jpg")
    data = (library / "2024" / "img2.jpg").read_bytes()
    (library / "2024" / "img2.jpg").unlink()
    assert run_scan(catalog, [library]).missing == 1
    photo = photos(catalog)["img2.jpg"]
    assert photo.status == PhotoStatus.MISSING and photo.id == photo_id
    assert run_scan(catalog, [library]).missing == 0  # counted once
    (library / "2024" / "img2.jpg").write_bytes(data)
    run_scan(catalog, [library])
    assert photos(catalog)["img2.jpg"].status == PhotoStatus.OK
    with catalog.session() as s:
        assert s.scalars(select(Score.photo_id)).all() == [photo_id]


def test_change_invalidates_scores(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    photo_id = add_score_and_rating(catalog, "img.jpg")
    make_jpeg(library / "img.jpg", size=(40, 20), color=3)
    summary = run_scan(catalog, [library])
    assert summary.updated == 1 and summary.to_score == [photo_id]
    photo = photos(catalog)["img.jpg"]
    assert (photo.id, photo.width) == (photo_id, 40)
    with catalog.session() as s:
        assert s.scalars(select(Score)).all() == []
        assert len(s.scalars(select(Rating)).all()) == 1


def test_touch_keeps_scores(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    add_score_and_rating(catalog, "img.jpg")
    st = (library / "img.jpg").stat()
    os.utime(library / "img.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert run_scan(catalog, [library]).updated == 1
    with catalog.session() as s:
        assert len(s.scalars(select(Score)).all()) == 1


def test_bad_files_are_recorded_and_never_stop_a_scan(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "bad"
    good = make_jpeg(root / "good.jpg")
    (root / "zero.jpg").write_bytes(b"")
    (root / "text.png").write_text("not an image at all")
    (root / "corrupt.tif").write_bytes(os.urandom(3000))
    (root / "cut.jpg").write_bytes(good.read_bytes()[:20])
    big = root / "big.jpg"
    Image.frombytes("RGB", (128, 128), os.urandom(128 * 128 * 3)).save(big, quality=95)
    (root / "body_cut.jpg").write_bytes(big.read_bytes()[: big.stat().st_size // 2])
    big.unlink()  # the cut copy keeps a whole header but loses half its pixels
    summary = run_scan(catalog, [root])
    found = photos(catalog)
    assert summary.unreadable == 4 and summary.added == 2
    for name in ("zero.jpg", "text.png", "corrupt.tif", "cut.jpg"):
        assert found[name].status == PhotoStatus.UNREADABLE and found[name].error, name
    assert found["zero.jpg"].error == "empty file"
    assert found["body_cut.jpg"].status == PhotoStatus.OK  # pixels are the scorer's job
    assert found["good.jpg"].width == 24


def test_formats_and_unicode_paths(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "Fotos ÄÖ 写真"
    root.mkdir()
    for ext, fmt in ((".png", "PNG"), (".webp", "WEBP"), (".tiff", "TIFF")):
        Image.new("RGB", (7, 5)).save(root / f"é {ext[1:]}{ext}", fmt)
    make_jpeg(root / "日本" / "海 🌊.JPG")
    run_scan(catalog, [root])
    found = photos(catalog)
    assert {p.format for p in found.values()} == {"PNG", "WEBP", "TIFF", "JPEG"}
    assert found["海 🌊.JPG"].path == root.resolve() / "日本" / "海 🌊.JPG"
    assert run_scan(catalog, [root]).unchanged == 4


def test_heic_is_indexed(catalog: Catalog, tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    (tmp_path / "h").mkdir()
    try:
        Image.new("RGB", (32, 16)).save(tmp_path / "h" / "a.heic")
    except Exception as exc:  # noqa: BLE001 - no HEIF encoder in this build
        pytest.skip(f"cannot write HEIC here: {exc}")
    run_scan(catalog, [tmp_path / "h"])
    photo = photos(catalog)["a.heic"]
    assert (photo.format, photo.width, photo.height) == ("HEIF", 32, 16)


def test_skips_hidden_system_output_folders_and_loops(catalog: Catalog, library: Path) -> None:
    for folder in (".hidden", "@eaDir", "$RECYCLE.BIN", "System Volume Information",
                   ".Trashes", "2024/Enhanced", "Enhanced"):
        make_jpeg(library / folder / "x.jpg")
    make_jpeg(library / "._resource.jpg")
    (library / "notes.txt").write_text("skip me")
    os.symlink(library, library / "2024" / "loop")
    os.symlink(library / "2024", library / "alias")  # a second path to the same folder
    run_scan(catalog, [library])
    assert set(photos(catalog)) == {"img0.jpg", "img1.jpg", "img2.jpg", "img.jpg"}


def test_output_rows_are_not_marked_missing(catalog: Catalog, library: Path) -> None:
    run_scan(catalog, [library])
    with catalog.session() as s:
        src = s.scalars(select(Photo).where(Photo.path.like("%/img.jpg"))).one()
        s.add(Photo(path=library / "Enhanced" / "img.jpg", is_output=True,
                    derived_from_id=src.id))
    assert run_scan(catalog, [library]).missing == 0


def test_unreadable_folder_is_recorded(catalog: Catalog, library: Path, lock_folder) -> None:
    run_scan(catalog, [library])
    locked = lock_folder(library / "2024")
    summary = run_scan(catalog, [library])
    assert summary.errors == [(locked, "Permission denied")]
    assert summary.missing == 0  # files in a folder we cannot read are not gone
    with catalog.session() as s:
        assert s.scalars(select(Root)).one().scan_errors == [
            {"path": locked, "error": "Permission denied"}]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_chmod_000_folder(catalog: Catalog, library: Path) -> None:
    locked = library / "2024"
    locked.chmod(0)
    try:
        summary = run_scan(catalog, [library])
    finally:
        locked.chmod(0o755)
    assert summary.added == 1 and len(summary.errors) == 1


def test_missing_root_is_a_known_error(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(PhotoEnhanceError, match="folder not found"):
        run_scan(catalog, [tmp_path / "nope"])


def test_progress_then_summary_and_batches(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "many"
    for i in range(30):
        make_jpeg(root / f"{i:02}.jpg", color=i)
    batches: list[list[int]] = []
    events = list(scan(catalog, [root], batch_size=7, on_batch=batches.append))
    assert isinstance(events[-1], ScanSummary) and events[-1].added == 30
    assert all(isinstance(e, Progress) for e in events[:-1])
    assert len(events) - 1 <= 2 + 30 * events[-1].elapsed_s  # about 30 reports a second
    assert [len(b) for b in batches] == [7, 7, 7, 7, 2]


def test_cancel_keeps_committed_batches(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "many"
    for i in range(20):
        make_jpeg(root / f"{i:02}.jpg", color=i)
    token = CancelToken()
    with pytest.raises(Cancelled):
        run_scan(catalog, [root], cancel=token, batch_size=5,
                 on_batch=lambda ids: token.cancel())
    assert len(photos(catalog)) == 5
    summary = run_scan(catalog, [root])
    assert (summary.added, summary.unchanged) == (15, 5)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux allows any bytes in names")
def test_undecodable_names_and_dangling_links_are_reported(catalog: Catalog,
                                                           library: Path) -> None:
    raw = os.fsencode(library) + b"/bad-\xff.jpg"
    with open(raw, "wb") as fh:
        fh.write((library / "img.jpg").read_bytes())
    os.symlink(library / "nowhere.jpg", library / "dangling.jpg")
    summary = run_scan(catalog, [library])
    assert summary.added == 4
    reasons = sorted(error for _, error in summary.errors)
    assert len(reasons) == 2 and any("UTF-8" in r for r in reasons)


def test_unreadable_files_count_the_same_on_a_rescan(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    good = make_jpeg(root / "good.jpg")
    (root / "text.jpg").write_text("not an image at all")
    (root / "sub").mkdir()
    (root / "sub" / "zero.png").write_bytes(b"")
    first = run_scan(catalog, [root])
    names = [(p.name, reason) for p, reason in first.unreadable_files]
    assert names[0] == ("zero.png", "empty file") and names[1][0] == "text.jpg"
    for summary in (first, run_scan(catalog, [root])):  # the rescan reads no file
        c = summary.counts()
        assert c["unreadable"] == 2 and sum(c.values()) == 3
        assert [p.name for p, _ in summary.unreadable_files] == ["zero.png", "text.jpg"]
    (root / "text.jpg").write_bytes(good.read_bytes())  # fixed by the user
    fixed = run_scan(catalog, [root])
    assert (fixed.updated, fixed.unreadable, fixed.unchanged) == (1, 1, 1)
