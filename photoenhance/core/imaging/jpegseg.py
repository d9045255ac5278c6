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
