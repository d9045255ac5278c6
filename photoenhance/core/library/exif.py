"""A minimal, fast EXIF reader for the few fields the catalog keeps.

Pillow's generic :class:`PIL.Image.Exif` builds every tag of every IFD; a library scan only
needs orientation, camera make and model, and capture time. This reads just those from the
raw EXIF block (``Image.info["exif"]``) with :mod:`struct`, and returns what it can from a
damaged block instead of failing.
"""

from __future__ import annotations

import struct
from datetime import datetime

ORIENTATION, MAKE, MODEL, DATETIME, EXIF_IFD, DATETIME_ORIGINAL = (
    0x0112, 0x010F, 0x0110, 0x0132, 0x8769, 0x9003,
)
_TYPE_ASCII, _TYPE_SHORT, _TYPE_LONG = 2, 3, 4


def _entries(data: bytes, offset: int, order: str) -> dict[int, tuple[int, int, bytes]]:
    """``tag -> (type, count, 4-byte value field)`` for one IFD; empty if out of range."""
    if offset + 2 > len(data):
        return {}
    (count,) = struct.unpack_from(order + "H", data, offset)
    count = min(count, 512, (len(data) - offset - 2) // 12)
    table = data[offset + 2:offset + 2 + 12 * count]
    return {tag: (typ, n, field) for tag, typ, n, field in
            struct.iter_unpack(order + "HHI4s", table)}


def _ascii(data: bytes, entry: tuple[int, int, bytes] | None, order: str) -> str | None:
    if entry is None or entry[0] != _TYPE_ASCII:
        return None
    _, n, field = entry
    raw = field[:n] if n <= 4 else data[(o := struct.unpack(order + "I", field)[0]):o + n]
    text = raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def _int(entry: tuple[int, int, bytes] | None, order: str) -> int | None:
    if entry is None:
        return None
    typ, _, field = entry
    if typ == _TYPE_SHORT:
        return int(struct.unpack(order + "H", field[:2])[0])
    if typ == _TYPE_LONG:
        return int(struct.unpack(order + "I", field)[0])
    return None


def parse_datetime(text: str | None) -> datetime | None:
    """``YYYY:MM:DD HH:MM:SS`` (EXIF's format) as a datetime; None if malformed."""
    if not text or len(text) < 19:
        return None
    try:
        return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                        int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        return None


def read_exif(block: bytes) -> dict[str, object]:
    """Orientation, make, model and capture time from a raw EXIF block."""
    data = block[6:] if block.startswith(b"Exif\x00\x00") else block
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return {}
    try:
        ifd0 = _entries(data, struct.unpack_from(order + "I", data, 4)[0], order)
        sub = _int(ifd0.get(EXIF_IFD), order)
        exif = _entries(data, sub, order) if sub else {}
        taken = _ascii(data, exif.get(DATETIME_ORIGINAL), order)
        return {
            "orientation": _int(ifd0.get(ORIENTATION), order),
            "camera_make": _ascii(data, ifd0.get(MAKE), order),
            "camera_model": _ascii(data, ifd0.get(MODEL), order),
            "captured_at": parse_datetime(taken)
            or parse_datetime(_ascii(data, ifd0.get(DATETIME), order)),
        }
    except (struct.error, ValueError):
        return {}
