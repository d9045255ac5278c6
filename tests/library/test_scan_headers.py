"""The scanner's fast header readers agree with Pillow and fall back when unsure."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import piexif
import pytest
from PIL import Image

from photoenhance.core.imaging.jpegseg import read_jpeg_header
from photoenhance.core.imaging.tiffifd import parse_datetime, read_exif
from photoenhance.core.library.probe import probe_file


def exif_block(big_endian: bool = False) -> bytes:
    block = piexif.dump({  # piexif writes big-endian ("MM")
        "0th": {piexif.ImageIFD.Make: b"Nikon Corporation",
                piexif.ImageIFD.Model: b"Z 6", piexif.ImageIFD.Orientation: 8,
                piexif.ImageIFD.DateTime: b"2023:02:03 04:05:06"},
        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2022:12:31 23:59:58"},
    })
    if big_endian:
        return block
    exif = Image.Exif()
    exif.load(block)
    exif.get_ifd(0x8769)  # load the Exif sub-IFD so that it is written back
    exif.endian = "<"
    return exif.tobytes()


def jpeg_bytes(mode: str = "RGB", size=(33, 21), **save) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "JPEG", **save)
    return buf.getvalue()


@pytest.mark.parametrize("big_endian", [False, True])
def test_read_exif_matches_pillow(big_endian: bool) -> None:
    block = exif_block(big_endian)
    assert block[6:8] == (b"MM" if big_endian else b"II")
    fields = read_exif(block)
    assert fields == {"orientation": 8, "camera_make": "Nikon Corporation",
                      "camera_model": "Z 6", "captured_at": datetime(2022, 12, 31, 23, 59, 58)}


def test_read_exif_short_inline_strings_and_fallback_date() -> None:
    block = piexif.dump({"0th": {piexif.ImageIFD.Make: b"Nk",
                                 piexif.ImageIFD.DateTime: b"2023:02:03 04:05:06"}})
    assert read_exif(block) == {"orientation": None, "camera_make": "Nk",
                                "camera_model": None,
                                "captured_at": datetime(2023, 2, 3, 4, 5, 6)}


@pytest.mark.parametrize("junk", [b"", b"Exif\x00\x00", b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",
                                  os.urandom(200), b"Exif\x00\x00MM\x00*" + os.urandom(64)])
def test_read_exif_never_raises(junk: bytes) -> None:
    assert isinstance(read_exif(junk), dict)


def test_parse_datetime() -> None:
    assert parse_datetime("2020:01:02 03:04:05") == datetime(2020, 1, 2, 3, 4, 5)
    assert parse_datetime("0000:00:00 00:00:00") is None
    assert parse_datetime("garbage") is None and parse_datetime(None) is None


@pytest.mark.parametrize("save", [
    {}, {"progressive": True}, {"exif": exif_block()}, {"exif": exif_block(True)},
    {"icc_profile": os.urandom(3000), "exif": exif_block()},
])
@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpeg_header_matches_pillow(mode: str, save: dict) -> None:
    data = jpeg_bytes(mode, **save)
    header = read_jpeg_header(data)
    with Image.open(io.BytesIO(data)) as im:
        assert header is not None and (header.width, header.height) == im.size
        assert header.exif == im.info.get("exif")


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02",
                                  b"\x89PNG\r\n", b"\xff\xd8\xff\xe1\xff\xff" + b"\0" * 100])
def test_jpeg_header_gives_up_when_unsure(data: bytes) -> None:
    assert read_jpeg_header(data) is None


def test_probe_falls_back_to_pillow_past_the_head(tmp_path: Path) -> None:
    path = tmp_path / "big_app.jpg"
    Image.new("RGB", (10, 7)).save(path, "JPEG", icc_profile=os.urandom(200_000),
                                   exif=exif_block())
    assert read_jpeg_header(path.read_bytes()[:64 * 1024]) is None
    result = probe_file(str(path), path.stat().st_size)
    assert (result.width, result.height, result.format, result.error) == (10, 7, "JPEG", None)
    assert result.camera_model == "Z 6" and result.orientation == 8


def test_png_exif_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (5, 4)).save(path, exif=exif_block())
    result = probe_file(str(path), path.stat().st_size)
    assert (result.format, result.camera_make, result.orientation) == (
        "PNG", "Nikon Corporation", 8)


def test_fingerprint_covers_both_ends(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    data = bytearray(jpeg_bytes(size=(600, 600), quality=100) + os.urandom(200_000))
    path.write_bytes(data)
    first = probe_file(str(path), len(data)).fingerprint
    data[-10] ^= 0xFF
    path.write_bytes(data)
    assert probe_file(str(path), len(data)).fingerprint != first
