"""The one JPEG marker walker: read and splice marker segments (APPn and COM) byte for byte,
find where an image ends, and read a frame's size and EXIF without Pillow.

Pillow's ``Image.open`` on a JPEG also parses quantisation and Huffman tables and builds
its EXIF directory: several times the cost of walking the markers. The library scanner tries
:func:`read_jpeg_header` first and falls back to Pillow (which then reports the precise
error) whenever the header is unusual: a segment past the bytes read, a missing or odd frame
header.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

SOI = b"\xff\xd8"
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_METADATA = frozenset({*range(0xE0, 0xF0), 0xFE})
#: Start-of-frame markers (all JPEG processes; not DHT C4, JPG C8, DAC CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_EXIF_PREFIX = b"Exif\x00\x00"
MAX_SEGMENT_PAYLOAD = 65533


def walk(data: bytes, pos: int = 2) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment from ``pos`` (just after SOI) up to
    (excluding) SOS; ``start`` is at the segment's 0xFF byte. ``end`` may lie past the bytes
    given when the data is cut short. Raises ValueError where a marker should be and is not."""
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            raise ValueError(f"expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, end
        pos = end


def _iter_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment from after SOI up to (excluding) SOS."""
    return list(walk(data))


class JpegHeader(NamedTuple):
    width: int
    height: int
    exif: bytes | None


def _frame(data: bytes, pos: int, length: int, exif: bytes | None) -> JpegHeader | None:
    if length < 8:
        return None
    height = int.from_bytes(data[pos + 5 : pos + 7], "big")
    width = int.from_bytes(data[pos + 7 : pos + 9], "big")
    if not (width and height and data[pos + 9] in (1, 3, 4)):
        return None  # DNL-defined height or unusual layers: let Pillow decide
    return JpegHeader(width, height, exif)


def read_jpeg_header(data: bytes) -> JpegHeader | None:
    """Width, height and EXIF of the JPEG whose first bytes are ``data``; None if unsure."""
    if not data.startswith(SOI):
        return None
    size, exif = len(data), None
    try:
        for marker, start, end in walk(data):
            if marker in (0xD8, 0xD9) or end < start + 4 or end > size:
                return None  # SOI again, EOI before any frame, or a segment cut short
            if marker in _SOF:
                return _frame(data, start, end - start - 2, exif)
            if marker == 0xE1 and exif is None and data.startswith(_EXIF_PREFIX, start + 4):
                exif = data[start + 4 : end]
    except ValueError:
        return None
    return None  # SOS (or the end of the bytes read) before any frame


def read_header_segments(
    fh: BinaryIO, limit: int = 16 * 1024 * 1024
) -> tuple[tuple[int, bytes], ...]:
    """APPn/COM segments before the first scan, as (marker, payload) in file order."""
    data = fh.read(limit)
    if not data.startswith(SOI):
        return ()
    try:
        segs = _iter_segments(data)
    except (ValueError, struct.error):
        return ()
    return tuple((m, data[s + 4 : e]) for m, s, e in segs if m in _METADATA)


def splice(encoded: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Replace the APPn/COM segments of ``encoded`` with ``segments`` (placed right after SOI)."""
    if not encoded.startswith(SOI):
        raise ValueError("not a JPEG stream")
    keep = bytearray(SOI)
    for marker, payload in segments:
        if len(payload) > MAX_SEGMENT_PAYLOAD:
            raise ValueError(f"segment 0x{marker:02X} is too large for JPEG ({len(payload)} B)")
        keep += bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
    pos = 2
    for marker, start, end in _iter_segments(encoded):
        if marker in _METADATA:
            keep += encoded[pos:start]
            pos = end
    keep += encoded[pos:]
    return bytes(keep)


def segment_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each header marker segment, start at its 0xFF byte."""
    return _iter_segments(data)


def image_end(data: bytes, start: int = 0) -> int:
    """Offset just past the EOI of the JPEG image that begins at ``start``.

    Walks every marker segment and the entropy-coded data of every scan (so progressive and
    multi-scan images work), which is what tells the image's own bytes from anything
    appended after it. Raises ValueError if the image has no EOI (truncated or not a JPEG).
    """
    if data[start : start + 2] != SOI:
        raise ValueError(f"no JPEG start-of-image at byte {start}")
    pos, size = start + 2, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            raise ValueError(f"expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker == 0xD9:
            return pos + 2
        elif marker in _STANDALONE:
            pos += 2
        else:
            if pos + 4 > size:
                break
            (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            pos += 2 + length
            if marker == 0xDA:
                pos = _skip_entropy_coded(data, pos)
    raise ValueError("the JPEG has no end-of-image marker")


def _skip_entropy_coded(data: bytes, pos: int) -> int:
    """Offset of the first marker after the entropy-coded data that starts at ``pos``."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise ValueError("the JPEG scan data runs to the end of the file")
        nxt = data[pos + 1]
        if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:  # stuffed byte or restart marker
            pos += 2
        elif nxt == 0xFF:  # fill bytes before a marker
            pos += 1
        else:
            return pos
