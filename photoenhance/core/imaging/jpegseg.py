"""Read and splice JPEG marker segments (APPn and COM) byte for byte."""

from __future__ import annotations

import struct
from typing import BinaryIO

SOI = b"\xff\xd8"
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_METADATA = frozenset({*range(0xE0, 0xF0), 0xFE})
MAX_SEGMENT_PAYLOAD = 65533


def _iter_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment from after SOI up to (excluding) SOS."""
    out: list[tuple[int, int, int]] = []
    pos = 2
    while pos + 4 <= len(data):
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
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        out.append((marker, pos, pos + 2 + length))
        pos += 2 + length
    return out


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
