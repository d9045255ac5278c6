"""Read and rewrite the MPF (CIPA DC-007 multi-picture format) index of a JPEG.

An MPO, or an Ultra HDR photo, is a primary JPEG whose APP2 ``MPF`` segment holds a small
TIFF structure: the MP Index IFD lists every picture in the file (its type, size and offset)
and the pictures follow the primary's end-of-image. Offsets count from the start of that
TIFF header (the byte after ``MPF\\0``); the primary's own entry has offset 0.

The enhanced copy keeps the source's MPF segment byte for byte except for the index itself,
which :func:`patch_index` rewrites in place (same segment length, so nothing else moves):
NumberOfImages, the MP entries of the pictures kept, and ImageUIDList when present. Bytes of
entries no longer listed are zeroed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MPF_PREFIX = b"MPF\x00"
TAG_NUMBER_OF_IMAGES, TAG_MP_ENTRY, TAG_IMAGE_UID_LIST = 0xB001, 0xB002, 0xB003
UID_SIZE = 33
#: MP type codes (the low 24 bits of an entry's attribute).
MP_TYPES = {
    0x030000: "primary picture",
    0x010001: "large preview (VGA)",
    0x010002: "large preview (full HD)",
    0x020001: "panorama frame",
    0x020002: "stereo view",
    0x020003: "multi-angle view",
    0x000000: "picture",
}


class MpfError(ValueError):
    """The MPF segment cannot be parsed."""


@dataclass(frozen=True)
class MpEntry:
    """One picture of the index: attribute word, size, offset and dependent entry numbers."""

    attribute: int
    size: int
    offset: int
    dependent1: int
    dependent2: int

    @property
    def kind(self) -> str:
        return MP_TYPES.get(self.attribute & 0xFFFFFF, f"picture (type 0x{self.attribute:06X})")


@dataclass(frozen=True)
class MpIndex:
    """Where an MPF segment keeps its index (positions are within the segment payload)."""

    endian: str
    entries: tuple[MpEntry, ...]
    count_pos: int  # NumberOfImages value
    entry_tag_pos: int  # the MPEntry IFD entry (its count is rewritten)
    entries_pos: int
    uid_tag_pos: int | None
    uids_pos: int | None


def parse_index(payload: bytes) -> MpIndex:
    """The MP Index IFD of an APP2 ``MPF`` payload (prefix included)."""
    if not payload.startswith(MPF_PREFIX) or len(payload) < 12:
        raise MpfError("not an MPF segment")
    base = len(MPF_PREFIX)
    order = payload[base : base + 4]
    endian = {b"II*\x00": "<", b"MM\x00*": ">"}.get(order)
    if endian is None:
        raise MpfError("MPF has no TIFF header")
    try:
        return _read_ifd(payload, base, endian)
    except (struct.error, IndexError) as exc:
        raise MpfError(f"MPF index is truncated ({exc})") from exc


def _read_ifd(payload: bytes, base: int, endian: str) -> MpIndex:
    (ifd,) = struct.unpack_from(endian + "I", payload, base + 4)
    (count,) = struct.unpack_from(endian + "H", payload, base + ifd)
    found: dict[int, tuple[int, int, int]] = {}
    for i in range(count):
        at = base + ifd + 2 + 12 * i
        tag, _typ, n, value = struct.unpack_from(endian + "HHII", payload, at)
        found[tag] = (at, n, value)
    if TAG_NUMBER_OF_IMAGES not in found or TAG_MP_ENTRY not in found:
        raise MpfError("MPF index lacks NumberOfImages or MPEntry")
    images = found[TAG_NUMBER_OF_IMAGES][2]
    entry_at, entry_len, entry_off = found[TAG_MP_ENTRY]
    if entry_len != 16 * images or base + entry_off + entry_len > len(payload):
        raise MpfError("MPF entry list does not match NumberOfImages")
    entries = tuple(
        MpEntry(*struct.unpack_from(endian + "IIIHH", payload, base + entry_off + 16 * i))
        for i in range(images))
    uid = found.get(TAG_IMAGE_UID_LIST)
    uid_ok = uid is not None and uid[1] == UID_SIZE * images
    return MpIndex(endian, entries, found[TAG_NUMBER_OF_IMAGES][0] + 8, entry_at,
                   base + entry_off, uid[0] if uid and uid_ok else None,
                   base + uid[2] if uid and uid_ok else None)


def patch_index(payload: bytes, index: MpIndex, keep: list[int],
                placed: dict[int, tuple[int, int]]) -> bytes:
    """``payload`` listing only the entries ``keep`` (old numbers, 0 = primary), in order.

    ``placed`` maps each kept entry to its new (size, offset). Dependent entry numbers are
    renumbered, or cleared where they pointed at a picture that is gone.
    """
    e = index.endian
    out = bytearray(payload)
    renumber = {old + 1: new + 1 for new, old in enumerate(keep)}
    struct.pack_into(e + "I", out, index.count_pos, len(keep))
    struct.pack_into(e + "I", out, index.entry_tag_pos + 4, 16 * len(keep))
    old_n = len(index.entries)
    out[index.entries_pos : index.entries_pos + 16 * old_n] = bytes(16 * old_n)
    for new, old in enumerate(keep):
        entry = index.entries[old]
        size, offset = placed[old]
        struct.pack_into(e + "IIIHH", out, index.entries_pos + 16 * new, entry.attribute,
                         size, offset, renumber.get(entry.dependent1, 0),
                         renumber.get(entry.dependent2, 0))
    if index.uid_tag_pos is not None and index.uids_pos is not None:
        uids = [payload[index.uids_pos + UID_SIZE * i : index.uids_pos + UID_SIZE * (i + 1)]
                for i in keep]
        struct.pack_into(e + "I", out, index.uid_tag_pos + 4, UID_SIZE * len(keep))
        out[index.uids_pos : index.uids_pos + UID_SIZE * old_n] = (
            b"".join(uids) + bytes(UID_SIZE * (old_n - len(keep))))
    return bytes(out)
