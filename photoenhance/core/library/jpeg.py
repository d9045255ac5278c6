"""A JPEG marker walk that finds the frame size and the EXIF block without Pillow.

Pillow's ``Image.open`` on a JPEG also parses quantisation and Huffman tables and builds
its EXIF directory: several times the cost of walking the markers. The scanner tries this
first and falls back to Pillow (which then reports the precise error) whenever the header
is unusual: a segment past the bytes read, a missing or odd frame header.
"""

from __future__ import annotations

from typing import NamedTuple

#: Start-of-frame markers (all JPEG processes; not DHT C4, JPG C8, DAC CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_EXIF_PREFIX = b"Exif\x00\x00"


class JpegHeader(NamedTuple):
    width: int
    height: int
    exif: bytes | None


def _frame(data: bytes, pos: int, length: int, exif: bytes | None) -> JpegHeader | None:
    if length < 8:
        return None
    height = int.from_bytes(data[pos + 5:pos + 7], "big")
    width = int.from_bytes(data[pos + 7:pos + 9], "big")
    if not (width and height and data[pos + 9] in (1, 3, 4)):
        return None  # DNL-defined height or unusual layers: let Pillow decide
    return JpegHeader(width, height, exif)


def read_jpeg_header(data: bytes) -> JpegHeader | None:
    """Width, height and EXIF of the JPEG whose first bytes are ``data``; None if unsure."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos, size, exif = 2, len(data), None
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF or marker in _STANDALONE:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # SOI again, EOI or SOS before any frame
            return None
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            return None
        if marker in _SOF:
            return _frame(data, pos, length, exif)
        if marker == 0xE1 and exif is None and data.startswith(_EXIF_PREFIX, pos + 4):
            exif = data[pos + 4:end]
        pos = end
    return None
