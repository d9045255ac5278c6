"""Enhanced copies keep every bit of metadata: camera files from ../shared and generated ones.

Which ../shared/data/exif files are camera files: every JPEG, HEIC/HEIF and TIFF in it,
including ``jpg/invalid/`` (invalid for exif-py's parser; valid images with XMP only) and
``jpg/corrupted.jpg`` (its EXIF parses and its pixels decode). None is an expected failure
today; ``EXPECTED_FAILURES`` is where one would be listed, with its reason.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from photoenhance.core.imaging import (
    OutputPolicy,
    Provenance,
    estimate_jpeg_quality,
    load_image,
    read_metadata,
    write_enhanced_copy,
)
from photoenhance.devtools.metadata_check import (
    ExiftoolDiff,
    diff_exiftool_tags,
    exiftool_diff,
    exiftool_tags,
    verify_metadata,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "imaging"))
import imaging_fixtures as fx  # noqa: E402

# as tests/conftest.py finds it (importing "conftest" by name would get whichever conftest
# pytest loaded last, e.g. tests/gui's)
SHARED = Path(os.environ.get("PHOTOENHANCE_SHARED",
                             Path(__file__).resolve().parents[2].parent / "shared"))
EXIF_DIR = SHARED / "data" / "exif"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".heic", ".heif", ".tif", ".tiff"}
EXPECTED_FAILURES: dict[str, str] = {}
#: exiftool sees these tags in the source only because they belong to an auxiliary image
#: (the HDR gain map) inside the HEIF, which photoenhance does not copy (documented).
EXIFTOOL_KNOWN_LOSSES = {
    "iphone_13_pro_max.HEIC": {"XMP-HDRGainMap:HDRGainMapVersion", "XMP-x:XMPToolkit"},
}
#: HEIF encoding is slow; bigger camera HEIFs get a smaller copy (the resize path).
HEIF_MAX_TEST_PIXELS = 1_000_000
PROV = Provenance("test-model", "0" * 64, 0.5, "9.9.9")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def camera_files() -> list[Path]:
    if not EXIF_DIR.is_dir():
        return []
    return sorted(p for p in EXIF_DIR.rglob("*")
                  if p.is_file() and p.suffix.lower().strip('"') in IMAGE_SUFFIXES)


@pytest.fixture(scope="module")
def camera_copies(tmp_path_factory: pytest.TempPathFactory):
    """Copies of every camera file, written once; exiftool runs once over all of them.

    The ../shared originals are checksummed before and after, and so is each working copy.
    """
    if not EXIF_DIR.is_dir():
        pytest.skip(f"../shared data not available: {EXIF_DIR}")
    before = {p: _sha(p) for p in camera_files()}
    lib = tmp_path_factory.mktemp("library") / "exif"
    shutil.copytree(EXIF_DIR, lib)
    results: dict[str, tuple[Path, Path, bool, str]] = {}
    for original in camera_files():
        rel = original.relative_to(EXIF_DIR).as_posix()
        if rel in EXPECTED_FAILURES:
            continue
        src = lib / rel
        checksum = _sha(src)
        pixels, resized = _identity_pixels(src)
        out = write_enhanced_copy(src, pixels, PROV, library_root=lib, policy=OutputPolicy())
        results[rel] = (src, out, resized, checksum)
    tags = None
    if shutil.which("exiftool"):
        paths = [p for src, out, _, _ in results.values() for p in (src, out)]
        tags = exiftool_tags(*paths)
    yield results, tags
    assert {p: _sha(p) for p in camera_files()} == before, "a ../shared original changed"


def _identity_pixels(src: Path) -> tuple[np.ndarray, bool]:
    meta = read_metadata(src)
    width, height = meta.size
    if meta.format == "HEIF" and width * height > HEIF_MAX_TEST_PIXELS:
        step = int(np.ceil(np.sqrt(width * height / HEIF_MAX_TEST_PIXELS)))
        small = np.linspace(0, 255, (height // step) * (width // step) * 3) % 256
        return small.astype(np.uint8).reshape(height // step, width // step, 3), True
    return load_image(src).pixels, False


def _check_exiftool(name: str, diff: ExiftoolDiff | None) -> None:
    if diff is not None:
        assert set(diff.lost) <= EXIFTOOL_KNOWN_LOSSES.get(name, set()), diff
        assert diff.changed == [] and diff.preserved > 0, diff


def _assert_round_trip(src: Path, out: Path, resized: bool) -> None:
    report = verify_metadata(src, out)
    assert report.lost == [] and report.changed == [], report
    _check_exiftool(src.name, exiftool_diff(src, out, resized=resized))


@pytest.mark.shared
@pytest.mark.parametrize("rel", [p.relative_to(EXIF_DIR).as_posix() for p in camera_files()])
def test_camera_file_round_trip(camera_copies, rel: str) -> None:
    results, tags = camera_copies
    if rel in EXPECTED_FAILURES:
        pytest.skip(EXPECTED_FAILURES[rel])
    src, out, resized, checksum = results[rel]
    assert _sha(src) == checksum
    assert out.parent == src.parents[len(Path(rel).parts) - 1] / "Enhanced" / Path(rel).parent
    report = verify_metadata(src, out)
    assert report.lost == [] and report.changed == [], report
    if tags is not None:
        i = 2 * list(results).index(rel)
        _check_exiftool(src.name, diff_exiftool_tags(tags[i], tags[i + 1], resized=resized))
    src_meta, out_meta = read_metadata(src), read_metadata(out)
    assert out_meta.format == src_meta.format
    if src_meta.format == "JPEG":
        assert estimate_jpeg_quality(out_meta.jpeg_qtables) >= (
            estimate_jpeg_quality(src_meta.jpeg_qtables) or 0)
        if src_meta.jpeg_subsampling in (0, 1, 2):
            assert out_meta.jpeg_subsampling == src_meta.jpeg_subsampling


def _write(src: Path, pixels: np.ndarray | None = None) -> Path:
    pix = load_image(src).pixels if pixels is None else pixels
    return write_enhanced_copy(src, pix, PROV, library_root=src.parent)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientations_icc_xmp_iptc(tmp_path: Path, orientation: int) -> None:
    src = fx.jpeg(tmp_path / f"o{orientation}.jpg", orientation)
    checksum = _sha(src)
    decoded = load_image(src)
    assert decoded.pixels.shape == (48, 64, 3)  # stored orientation, never rotated
    out = _write(src)
    assert _sha(src) == checksum
    _assert_round_trip(src, out, False)
    meta = read_metadata(out)
    assert meta.orientation == orientation
    assert meta.icc == fx.icc_profile()
    assert meta.iptc == fx.photoshop_app13()
    assert b"photoenhance:ModelID>test-model<" in (meta.xmp or b"")
    assert b"xmp.iid:SOURCE" in (meta.xmp or b"")  # DerivedFrom now points at the source
    assert b"xmp.did:OLDER" not in (meta.xmp or b"")


@pytest.mark.parametrize(("channels", "bits"), [(3, 16), (4, 16), (2, 16), (1, 16), (4, 8)])
def test_png_keeps_bit_depth_alpha_and_metadata(tmp_path: Path, channels: int, bits: int) -> None:
    src = fx.png(tmp_path / "p.png", channels, bits)
    decoded = load_image(src)
    assert decoded.bit_depth == bits and decoded.pixels.shape[2] == channels
    assert decoded.pixels.dtype == (np.uint16 if bits == 16 else np.uint8)
    out = _write(src)
    _assert_round_trip(src, out, False)
    again = load_image(out)
    assert again.bit_depth == bits and np.array_equal(again.pixels, decoded.pixels)
    assert read_metadata(out).dpi == pytest.approx((300.0, 300.0), abs=0.01)


@pytest.mark.parametrize(("channels", "bits", "exif_ifds"),
                         [(1, 16, False), (4, 8, False), (3, 8, False), (3, 8, True)])
def test_tiff_keeps_bit_depth_alpha_and_metadata(tmp_path: Path, channels: int, bits: int,
                                                 exif_ifds: bool) -> None:
    src = fx.tiff(tmp_path / "t.tif", channels, bits, exif_ifds)
    decoded = load_image(src)
    out = _write(src)
    _assert_round_trip(src, out, False)
    again = load_image(out)
    assert again.bit_depth == bits and np.array_equal(again.pixels, decoded.pixels)
    meta = read_metadata(out)
    assert meta.iptc == fx.iptc_iim() and meta.icc == fx.icc_profile()
    if exif_ifds:
        assert (meta.tiff_tags or {})[0x8825][2] == (48.0, 51.0, 24.5)


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_stays_webp(tmp_path: Path, lossless: bool) -> None:
    src = fx.webp(tmp_path / "w.webp", lossless)
    out = _write(src)
    _assert_round_trip(src, out, False)
    meta = read_metadata(out)
    assert meta.format == "WEBP" and meta.webp_lossless == lossless and meta.has_alpha


def test_heic_stays_heic_with_rotation(tmp_path: Path) -> None:
    src = fx.heic(tmp_path / "h.heic", orientation=6)
    decoded = load_image(src)
    assert decoded.metadata.orientation == 6
    assert decoded.metadata.heif_transformed  # pillow-heif wrote irot from the EXIF
    assert decoded.pixels.shape[:2] == (32, 48)  # rotation undone: stored orientation
    out = _write(src)
    _assert_round_trip(src, out, False)
    again = load_image(out)
    assert again.metadata.orientation == 6 and again.pixels.shape == decoded.pixels.shape


def test_resized_copy_updates_dimensions_and_thumbnail(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "r.jpg")
    bigger = np.repeat(np.repeat(load_image(src).pixels, 2, axis=0), 2, axis=1)
    out = _write(src, bigger)
    report = verify_metadata(src, out)
    assert report.ok, report
    assert "EXIF:Exif:PixelXDimension" in report.expected
    import piexif

    exif = piexif.load(out.read_bytes())
    assert exif["Exif"][piexif.ExifIFD.PixelXDimension] == 128
    assert exif["thumbnail"] and exif["thumbnail"] != piexif.load(src.read_bytes())["thumbnail"]


def test_exif_near_the_jpeg_segment_limit_still_fits(tmp_path: Path) -> None:
    import piexif

    src = fx.jpeg(tmp_path / "big.jpg")
    exif = piexif.load(src.read_bytes())
    exif["Exif"][piexif.ExifIFD.MakerNote] = bytes(range(256)) * 236  # ~60 KB
    piexif.insert(piexif.dump(exif), str(src))
    out = _write(src)
    report = verify_metadata(src, out)
    assert report.ok and report.preserved > 10, report
    assert read_metadata(out).exif != read_metadata(src).exif or report.notes


def test_verifier_and_exiftool_catch_a_real_loss(tmp_path: Path) -> None:
    """Negative control: a copy that drops GPS, the ICC profile and an XMP keyword fails."""
    import piexif
    from PIL import Image

    src = fx.jpeg(tmp_path / "x.jpg")
    bad = tmp_path / "bad.jpg"
    exif = piexif.load(src.read_bytes())
    exif["GPS"] = {}
    with Image.open(src) as im:
        im.save(bad, exif=piexif.dump(exif), xmp=fx.XMP.replace("beach", "sea").encode())
    report = verify_metadata(src, bad)
    assert "EXIF:GPS:GPSLatitude" in report.lost and "ICC" in report.lost
    assert any(name.endswith("}subject") for name in report.changed)
    assert not report.ok
    diff = exiftool_diff(src, bad)
    if diff is not None:
        assert "GPS:GPSLatitude" in diff.lost and "XMP-dc:Subject" in diff.changed


def test_exiftool_diff_is_none_without_exiftool(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from photoenhance.devtools import metadata_check as verify

    src = fx.jpeg(tmp_path / "x.jpg")
    monkeypatch.setattr(verify.shutil, "which", lambda name: None)
    assert exiftool_diff(src, src) is None
