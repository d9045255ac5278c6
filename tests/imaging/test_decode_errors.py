"""Bad inputs give clear errors that name the file; nothing is written for them."""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoenhance.core.errors import ImageReadError, ImageTooLargeError, UnsupportedImageError
from photoenhance.core.imaging import (
    Provenance,
    load_image,
    read_metadata,
    write_enhanced_copy,
)
from photoenhance.core.imaging.jpegseg import read_header_segments, splice
from photoenhance.devtools.metadata_check import verify_metadata

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "imaging"))
import imaging_fixtures as fx  # noqa: E402

PROV = Provenance("test-model", "0" * 64, 0.5, "9.9.9")


def _expect(exc: type[Exception], path: Path, match: str) -> None:
    with pytest.raises(exc, match=match) as info:
        load_image(path)
    assert str(path) in str(info.value)
    assert not (path.parent / "Enhanced").exists()


def test_truncated_jpeg(tmp_path: Path) -> None:
    good = fx.jpeg(tmp_path / "good.jpg")
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) * 2 // 3])
    _expect(ImageReadError, bad, "corrupt or truncated")


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("hello")
    _expect(ImageReadError, path, "not an image")


def test_missing_file(tmp_path: Path) -> None:
    _expect(ImageReadError, tmp_path / "gone.jpg", "not found")


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (8, 8), (0, 50, 100, 0)).save(path)
    _expect(UnsupportedImageError, path, "CMYK")


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_image(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"pal.{fmt.lower()}"
    Image.new("P", (8, 8), 3).save(path, fmt)
    _expect(UnsupportedImageError, path, "palette|not supported")


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"anim.{fmt.lower()}"
    frames = [Image.new("RGB", (8, 8), (i * 80, 0, 0)) for i in range(3)]
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=50)
    _expect(UnsupportedImageError, path, "animated")


def test_pixel_limit_checked_from_header(tmp_path: Path) -> None:
    path = fx.jpeg(tmp_path / "big.jpg")
    with pytest.raises(ImageTooLargeError, match="past the limit") as info:
        load_image(path, max_pixels=1000)
    assert "big.jpg" in str(info.value)


def test_pillow_decompression_bomb_is_a_clear_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = fx.jpeg(tmp_path / "bomb.jpg")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    _expect(ImageTooLargeError, path, "too large")


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_corrupt_exif_is_copied_raw_not_dropped(tmp_path: Path) -> None:
    good = fx.jpeg(tmp_path / "g.jpg")
    garbage = b"MM\x00*\x00\x00\xff\xff" + bytes(range(256)) * 4  # IFD0 offset past the end
    segs = [(m, b"Exif\x00\x00" + garbage if p.startswith(b"Exif\x00\x00") else p)
            for m, p in read_header_segments(io.BytesIO(good.read_bytes()))]
    src = tmp_path / "badexif.jpg"
    src.write_bytes(splice(good.read_bytes(), segs))
    out = write_enhanced_copy(src, load_image(src).pixels, PROV, library_root=tmp_path)
    assert read_metadata(out).exif == garbage
    report = verify_metadata(src, out)
    assert report.ok and any("raw" in n for n in report.notes)


def _rgb16_tiff(path: Path, width: int = 4, height: int = 3) -> Path:
    """A minimal uncompressed 16-bit RGB TIFF, written by hand (Pillow cannot)."""
    data = np.arange(width * height * 3, dtype="<u2").tobytes()
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, 8), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, 16), (277, 3, 1, 3), (278, 3, 1, height),
               (279, 4, 1, len(data))]
    ifd_at = 16 + len(data)
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 258:
            value = ifd_at + 2 + 12 * len(entries) + 4
        ifd += struct.pack("<HHI", tag, typ, count) + struct.pack(
            "<HH" if typ == 3 and count == 1 else "<I", *((value, 0) if typ == 3 and count == 1
                                                          else (value,)))
    ifd += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16)
    path.write_bytes(b"II*\x00" + struct.pack("<I", ifd_at) + b"\x00" * 8 + data + ifd)
    return path


def test_sixteen_bit_colour_tiff_is_refused_not_narrowed(tmp_path: Path) -> None:
    path = _rgb16_tiff(tmp_path / "rgb16.tif")
    assert Image.open(path).mode == "RGB"  # Pillow would silently narrow it to 8 bits
    _expect(UnsupportedImageError, path, "16-bit colour")


def test_png16_row_filters_decode(tmp_path: Path) -> None:
    """Pillow writes 16-bit grey with adaptive filters; our decoder must agree per filter."""
    from photoenhance.core.imaging import png16

    rng = np.random.default_rng(1)
    arr = (np.cumsum(rng.integers(0, 300, (9, 7, 3)), axis=1) % 65536).astype(np.uint16)
    raw_rows = arr.astype(">u2").view(np.uint8).reshape(9, -1)
    bpp, stride = 6, raw_rows.shape[1]
    data = b""
    prev = np.zeros(stride, np.int64)
    for y, row in enumerate(raw_rows.astype(np.int64)):
        ftype = y % 5
        left = np.concatenate([np.zeros(bpp, np.int64), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        if ftype == 4:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        else:
            pred = [0 * row, left, prev, (left + prev) // 2][ftype]
        data += bytes([ftype]) + ((row - pred) % 256).astype(np.uint8).tobytes()
        prev = row
    assert np.array_equal(png16._unfilter(data, 9, stride, bpp).reshape(9, -1), raw_rows)
