"""The one IFD parser: minimal, lossless editing of a raw EXIF (TIFF-structured) block, and
a fast reader of the few fields the catalog keeps (:func:`read_exif`).

Re-serialising EXIF (as piexif.dump does) moves every value, which breaks maker notes that use
absolute offsets (Canon, Olympus, Panasonic, ...). This module instead edits a block *in place*:
every existing byte stays where it was, and anything new (a relocated IFD with an extra entry, a
new string, a new thumbnail) is appended at the end and pointed to. Readers follow offsets, so
the old copies are just unreferenced bytes.

Pillow's generic :class:`PIL.Image.Exif` builds every tag of every IFD; a library scan only
needs orientation, camera make and model, and capture time. :func:`read_exif` reads just those
and returns what it can from a damaged block instead of failing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

EXIF_PREFIX = b"Exif\x00\x00"
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_INTEROP_IFD = 0xA005
TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_PROCESSING_SOFTWARE = 0x000B
TAG_PIXEL_X = 0xA002
TAG_PIXEL_Y = 0xA003
TAG_THUMB_OFFSET = 0x0201
TAG_THUMB_LENGTH = 0x0202
TAG_COMPRESSION = 0x0103
TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_DATETIME_ORIGINAL = 0x010F, 0x0110, 0x0132, 0x9003
_TYPE_ASCII, _TYPE_SHORT, _TYPE_LONG = 2, 3, 4
#: IFD1 entries that describe an uncompressed (strip) thumbnail; dropped when it is regenerated.
THUMB_STRUCTURE_TAGS = frozenset({0x0100, 0x0101, 0x0102, 0x0106, 0x0111, 0x0115, 0x0116,
                                  0x0117, 0x011C, 0x0201, 0x0202, 0x0103})


class ExifFormatError(ValueError):
    """The block is not a parseable TIFF structure."""


@dataclass
class Entry:
    tag: int
    typ: int
    count: int
    raw: bytes  # the 4-byte value/offset field as stored

    def is_inline(self) -> bool:
        return TYPE_SIZES.get(self.typ, 1) * self.count <= 4


@dataclass
class Ifd:
    offset: int
    entries: list[Entry] = field(default_factory=list)
    next_offset: int = 0

    def get(self, tag: int) -> Entry | None:
        return next((e for e in self.entries if e.tag == tag), None)


def ifd_rows(
    data: bytes | bytearray, offset: int, endian: str, count: int
) -> Iterator[tuple[int, int, int, bytes]]:
    """(tag, type, count, 4-byte value field) of the first ``count`` entries of the IFD at
    ``offset``; the caller checks that they lie inside ``data``."""
    return struct.iter_unpack(endian + "HHI4s", data[offset + 2 : offset + 2 + 12 * count])


def strip_prefix(block: bytes) -> bytes:
    """Return the TIFF-structured part of an EXIF block (without a leading ``Exif\\0\\0``)."""
    return block[len(EXIF_PREFIX):] if block.startswith(EXIF_PREFIX) else block


class ExifBlock:
    """A raw EXIF block that can be edited without moving existing bytes."""

    def __init__(self, block: bytes) -> None:
        data = strip_prefix(block)
        if data[:2] == b"II":
            self.endian = "<"
        elif data[:2] == b"MM":
            self.endian = ">"
        else:
            raise ExifFormatError("missing TIFF byte-order mark")
        if len(data) < 8 or self._unpack("H", data, 2) != 42:
            raise ExifFormatError("bad TIFF magic number")
        self.data = bytearray(data)
        self.ifd0 = self.read_ifd(self._unpack("I", data, 4))
        self.ifd1 = self.read_ifd(self.ifd0.next_offset) if self.ifd0.next_offset else None

    # -- low-level ------------------------------------------------------------------------
    def _unpack(self, fmt: str, buf: bytes | bytearray, offset: int) -> int:
        value: int = struct.unpack_from(self.endian + fmt, buf, offset)[0]
        return value

    def _pack(self, fmt: str, value: int) -> bytes:
        return struct.pack(self.endian + fmt, value)

    def read_ifd(self, offset: int) -> Ifd:
        if offset < 8 or offset + 2 > len(self.data):
            raise ExifFormatError(f"IFD offset {offset} out of range")
        count = self._unpack("H", self.data, offset)
        end = offset + 2 + 12 * count
        if end + 4 > len(self.data) + 4 or count > 1000:
            raise ExifFormatError("IFD runs past the end of the block")
        ifd = Ifd(offset)
        ifd.entries = [Entry(*row) for row in ifd_rows(self.data, offset, self.endian, count)]
        ifd.next_offset = self._unpack("I", self.data, end) if end + 4 <= len(self.data) else 0
        return ifd

    def long_value(self, entry: Entry) -> int:
        if entry.typ == 3:
            return self._unpack("H", entry.raw, 0)
        return self._unpack("I", entry.raw, 0)

    def sub_ifd(self, tag: int, parent: Ifd | None = None) -> Ifd | None:
        entry = (parent or self.ifd0).get(tag)
        if entry is None:
            return None
        try:
            return self.read_ifd(self.long_value(entry))
        except ExifFormatError:
            return None

    def _append(self, payload: bytes) -> int:
        if len(self.data) % 2:
            self.data += b"\x00"
        offset = len(self.data)
        self.data += payload
        return offset

    def _write_ifd(self, ifd: Ifd) -> int:
        """Append ``ifd`` (entries sorted by tag) and return its new offset."""
        ifd.entries.sort(key=lambda e: e.tag)
        body = self._pack("H", len(ifd.entries))
        for e in ifd.entries:
            body += struct.pack(self.endian + "HHI", e.tag, e.typ, e.count) + e.raw
        body += self._pack("I", ifd.next_offset)
        ifd.offset = self._append(body)
        return ifd.offset

    def _inline(self, typ: int, value: int) -> bytes:
        return (self._pack("H", value) + b"\x00\x00") if typ == 3 else self._pack("I", value)

    # -- edits ----------------------------------------------------------------------------
    def orientation(self) -> int | None:
        entry = self.ifd0.get(TAG_ORIENTATION)
        return self._unpack("H", entry.raw, 0) if entry is not None and entry.typ == 3 else None

    def patch_inline(self, ifd: Ifd, tag: int, value: int) -> bool:
        """Overwrite an existing inline SHORT/LONG value in place. False if absent."""
        for i, e in enumerate(ifd.entries):
            if e.tag == tag and e.typ in (3, 4) and e.count == 1:
                e.raw = self._inline(e.typ, value)
                pos = ifd.offset + 2 + 12 * i + 8
                self.data[pos : pos + 4] = e.raw
                return True
        return False

    def set_strings(self, values: dict[int, str]) -> None:
        """Set ASCII tags in IFD0 by relocating IFD0 to the end of the block."""
        for tag, text in values.items():
            payload = text.encode("utf-8", "replace") + b"\x00"
            raw = payload.ljust(4, b"\x00") if len(payload) <= 4 else self._pack(
                "I", self._append(payload))
            self.ifd0.entries = [e for e in self.ifd0.entries if e.tag != tag]
            self.ifd0.entries.append(Entry(tag, 2, len(payload), raw))
        self.data[4:8] = self._pack("I", self._write_ifd(self.ifd0))

    def thumbnail(self) -> bytes | None:
        """The IFD1 JPEG thumbnail, if any."""
        if self.ifd1 is None:
            return None
        off, length = self.ifd1.get(TAG_THUMB_OFFSET), self.ifd1.get(TAG_THUMB_LENGTH)
        if off is None or length is None:
            return None
        start, size = self.long_value(off), self.long_value(length)
        return bytes(self.data[start : start + size]) if start + size <= len(self.data) else None

    def has_thumbnail(self) -> bool:
        return self.ifd1 is not None

    def replace_thumbnail(self, jpeg: bytes) -> None:
        """Point IFD1 at a new JPEG thumbnail (appended), dropping any strip thumbnail."""
        if self.ifd1 is None:
            return
        old = self.thumbnail()
        if old is not None and self.data.endswith(old):
            del self.data[len(self.data) - len(old):]  # reuse the tail the old one occupied
        offset = self._append(jpeg)
        entries = [e for e in self.ifd1.entries if e.tag not in THUMB_STRUCTURE_TAGS]
        entries.append(Entry(TAG_COMPRESSION, 3, 1, self._inline(3, 6)))
        entries.append(Entry(TAG_THUMB_OFFSET, 4, 1, self._inline(4, offset)))
        entries.append(Entry(TAG_THUMB_LENGTH, 4, 1, self._inline(4, len(jpeg))))
        self.ifd1.entries = entries
        self.ifd0.next_offset = self._write_ifd(self.ifd1)
        # IFD0's next pointer lives after its entries; IFD0 is relocated by set_strings later,
        # but patch it in place too in case no string is set.
        pos = self.ifd0.offset + 2 + 12 * len(self.ifd0.entries)
        self.data[pos : pos + 4] = self._pack("I", self.ifd0.next_offset)

    def tobytes(self) -> bytes:
        return bytes(self.data)


# -- the scanner's fast reader -------------------------------------------------------------
def _entries(data: bytes, offset: int, order: str) -> dict[int, tuple[int, int, bytes]]:
    """``tag -> (type, count, 4-byte value field)`` for one IFD; empty if out of range."""
    if offset + 2 > len(data):
        return {}
    (count,) = struct.unpack_from(order + "H", data, offset)
    count = min(count, 512, (len(data) - offset - 2) // 12)
    return {tag: (typ, n, raw) for tag, typ, n, raw in ifd_rows(data, offset, order, count)}


def _ascii(data: bytes, entry: tuple[int, int, bytes] | None, order: str) -> str | None:
    if entry is None or entry[0] != _TYPE_ASCII:
        return None
    _, n, raw = entry
    text = raw[:n] if n <= 4 else data[(o := struct.unpack(order + "I", raw)[0]):o + n]
    value = text.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    return value or None


def _int(entry: tuple[int, int, bytes] | None, order: str) -> int | None:
    if entry is None:
        return None
    typ, _, raw = entry
    if typ == _TYPE_SHORT:
        return int(struct.unpack(order + "H", raw[:2])[0])
    if typ == _TYPE_LONG:
        return int(struct.unpack(order + "I", raw)[0])
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
    data = strip_prefix(block)
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return {}
    try:
        ifd0 = _entries(data, struct.unpack_from(order + "I", data, 4)[0], order)
        sub = _int(ifd0.get(TAG_EXIF_IFD), order)
        exif = _entries(data, sub, order) if sub else {}
        taken = _ascii(data, exif.get(TAG_DATETIME_ORIGINAL), order)
        return {
            "orientation": _int(ifd0.get(TAG_ORIENTATION), order),
            "camera_make": _ascii(data, ifd0.get(TAG_MAKE), order),
            "camera_model": _ascii(data, ifd0.get(TAG_MODEL), order),
            "captured_at": parse_datetime(taken)
            or parse_datetime(_ascii(data, ifd0.get(TAG_DATETIME), order)),
        }
    except (struct.error, ValueError):
        return {}
