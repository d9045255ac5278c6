"""What follows a JPEG's primary image: MPF pictures, metadata trailers, Motion Photo videos.

:func:`read_tail` splits everything after the primary's end-of-image into pieces, each named:

* the other pictures of a multi-picture file (MPO stereo views, previews, an Ultra HDR gain
  map), found through the primary's MPF index (see :mod:`mpf`);
* metadata trailers recognised by their footers, walking back from the end of the file like
  exiftool does: AFCP (``AXS!``/``AXS*``; IPTC inside), FotoStation (``0xA1B2C3D4``
  records), Photo Mechanic (``cbipcbbl``), Samsung (``SEFH``/``SEFT``);
* a Google Motion Photo video, found through the XMP ``GCamera:MicroVideoOffset`` or the
  ``Container:Directory`` item lengths (both count from the end of the file) and an MP4
  ``ftyp`` box at that place;
* anything else, kept as "unknown data".

:func:`plan_tail` decides what an enhanced copy keeps: every piece, byte for byte, when the
copy is a JPEG, except an HDR gain map (it describes the original primary's pixels, so it
would be false for the enhanced ones). A non-JPEG copy has no place after its image for any
of them. :func:`assemble` appends the kept pieces to the encoded primary, rewrites the MPF
index for the pictures kept, and moves the absolute offsets of AFCP trailers with their data.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
from dataclasses import dataclass

from photoenhance.core.imaging import mpf
from photoenhance.core.imaging.jpegseg import image_end, read_header_segments, segment_spans

HDRGM_NS = "http://ns.adobe.com/hdr-gain-map/1.0/"
ISO_GAIN_MAP = b"urn:iso:std:iso:ts:21496:-1\x00"
CONTAINER_NS = "http://ns.google.com/photos/1.0/container/"
ITEM_NS = "http://ns.google.com/photos/1.0/container/item/"
GCAMERA_NS = "http://ns.google.com/photos/1.0/camera/"
GAIN_MAP = "HDR gain map"
MOTION_VIDEO = "Motion Photo video"
AFCP = "AFCP trailer"


@dataclass(frozen=True)
class Piece:
    """A byte range of the source after its primary image, and what it is."""

    name: str
    start: int
    end: int
    mpf_entry: int | None = None  # its number in the MPF index (0 = primary)
    gain_map: bool = False


@dataclass(frozen=True)
class Tail:
    """A JPEG source's bytes with its primary image end, MPF index and pieces."""

    data: bytes
    primary_end: int
    mpf_index: mpf.MpIndex | None
    pieces: tuple[Piece, ...]
    video_from_end: int | None  # where the Motion Photo video starts, counted from the end


@dataclass(frozen=True)
class TailPlan:
    kept: tuple[Piece, ...]
    dropped: tuple[tuple[Piece, str], ...]

    @property
    def keeps_pictures(self) -> bool:
        return any(p.mpf_entry is not None for p in self.kept)

    def records(self) -> tuple[str, ...]:
        """One line per dropped piece, for the copy's provenance XMP."""
        return tuple(f"{piece.name}: {why}" for piece, why in self.dropped)


# -- reading -------------------------------------------------------------------------------
def read_tail(data: bytes, xmp: bytes | None) -> Tail | None:
    """Split what follows the primary image of the JPEG ``data``; None if there is nothing
    (or the primary has no end-of-image, so nothing can be told apart)."""
    try:
        end = image_end(data)
    except ValueError:
        return None
    index, base = _mpf_index(data)
    if end == len(data) and index is None:
        return None
    pictures = _mpf_pieces(data, end, index, base) if index is not None else []
    video = _video_from_end(xmp.decode("utf-8", "replace") if xmp else "", len(data) - end)
    pieces: list[Piece] = []
    pos = end
    for pic in sorted(pictures, key=lambda p: p.start):
        pieces += _trailers(data, pos, pic.start, video)
        pieces.append(pic)
        pos = pic.end
    pieces += _trailers(data, pos, len(data), video)
    return Tail(data, end, index, tuple(pieces), video)


def _mpf_index(data: bytes) -> tuple[mpf.MpIndex | None, int]:
    """The primary's MPF index and the absolute offset its offsets count from."""
    try:
        spans = segment_spans(data)
    except (ValueError, struct.error):
        return None, 0
    for marker, start, end in spans:
        if marker == 0xE2 and data.startswith(mpf.MPF_PREFIX, start + 4):
            try:
                return mpf.parse_index(data[start + 4 : end]), start + 4 + len(mpf.MPF_PREFIX)
            except mpf.MpfError:
                return None, 0
    return None, 0


def _mpf_pieces(data: bytes, end: int, index: mpf.MpIndex, base: int) -> list[Piece]:
    pieces: list[Piece] = []
    for number, entry in enumerate(index.entries[1:], 1):
        start = base + entry.offset
        stop = start + entry.size
        valid = end <= start and stop <= len(data) and data.startswith(b"\xff\xd8", start)
        if not valid or any(p.start < stop and start < p.end for p in pieces):
            continue  # a broken entry: its bytes stay "unknown data"
        gain = _is_gain_map(data[start:stop])
        kind = GAIN_MAP if gain else entry.kind
        pieces.append(Piece(f"MPF picture {number + 1} ({kind})", start, stop, number, gain))
    return pieces


def _is_gain_map(picture: bytes) -> bool:
    for marker, payload in read_header_segments(io.BytesIO(picture)):
        if marker == 0xE1 and HDRGM_NS.encode() in payload:
            return True
        if marker == 0xE2 and payload.startswith(ISO_GAIN_MAP):
            return True
    return False


def _trailers(data: bytes, lo: int, hi: int, video: int | None) -> list[Piece]:
    """The recognised trailers of ``data[lo:hi]``, found backwards from ``hi``."""
    found: list[Piece] = []
    end = hi
    while end > lo:
        hit = _identify(data, lo, end)
        if hit is None:
            break
        found.insert(0, Piece(hit[0], hit[1], end))
        end = hit[1]
    if video is not None and lo <= len(data) - video < end:
        start = len(data) - video
        if data[start + 4 : start + 8] == b"ftyp":
            found.insert(0, Piece(MOTION_VIDEO, start, end))
            end = start
    if end > lo:
        found.insert(0, Piece("unknown data after the image", lo, end))
    if video is not None:  # the video inside a trailer (Samsung does this), or not found
        at = len(data) - video
        found = [dataclasses.replace(p, name=f"{p.name} holding the {MOTION_VIDEO}")
                 if p.start <= at < p.end and p.name != MOTION_VIDEO else p for p in found]
    return found


def _identify(data: bytes, lo: int, end: int) -> tuple[str, int] | None:
    for name, finder in ((AFCP, _afcp_start), ("FotoStation trailer", _foto_start),
                         ("Photo Mechanic trailer", _pm_start),
                         ("Samsung trailer", _samsung_start)):
        try:
            start = finder(data, lo, end)
        except (struct.error, IndexError):
            start = None
        if start is not None and lo <= start < end:
            return name, start
    return None


def _afcp_start(data: bytes, lo: int, end: int) -> int | None:
    head = data[end - 12 : end - 8]
    if end - lo < 24 or head not in (b"AXS!", b"AXS*"):
        return None
    (start,) = struct.unpack_from(">I" if head == b"AXS!" else "<I", data, end - 8)
    if lo <= start < end - 12 and data.startswith(head, start):
        return int(start)
    found = data.find(head, lo, end - 12)  # offsets already wrong: find the header
    return found if found >= 0 else None


def _foto_start(data: bytes, lo: int, end: int) -> int | None:
    pos = end
    while pos - lo >= 10:
        _tag, size, sig = struct.unpack_from(">HII", data, pos - 10)
        if sig != 0xA1B2C3D4 or size < 10 or pos - size < lo:
            break
        pos -= size
    return pos if pos < end else None


def _pm_start(data: bytes, lo: int, end: int) -> int | None:
    if end - lo < 12 or data[end - 8 : end] != b"cbipcbbl":
        return None
    (size,) = struct.unpack_from(">I", data, end - 12)
    start = end - 12 - size
    return start if start >= lo else None


def _samsung_start(data: bytes, lo: int, end: int) -> int | None:
    if data[end - 6 : end] != b"\x00\x00SEFT":
        return None
    (length,) = struct.unpack_from("<I", data, end - 8)
    dir_pos = end - 8 - length
    if dir_pos < lo or data[dir_pos : dir_pos + 4] != b"SEFH":
        return None
    (count,) = struct.unpack_from("<I", data, dir_pos + 8)
    if 12 + 12 * count > length:
        return None
    first = max((int(struct.unpack_from("<I", data, dir_pos + 16 + 12 * i)[0])
                 for i in range(count)), default=0)
    return int(dir_pos - first)


# -- Motion Photo XMP ----------------------------------------------------------------------
def _prefix(text: str, namespace: str) -> str | None:
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(namespace) + r'["\']', text)
    return m.group(1) if m else None


def _container_items(text: str) -> list[dict[str, str]]:
    c, i = _prefix(text, CONTAINER_NS), _prefix(text, ITEM_NS)
    if c is None or i is None:
        return []
    items = []
    for m in re.finditer(rf"<{re.escape(c)}:Item\b([^>]*?)/?>", text):
        attrs = dict(re.findall(rf'{re.escape(i)}:(\w+)\s*=\s*"([^"]*)"', m.group(1)))
        items.append(attrs)
    return items


def _micro_video_offset(text: str) -> int | None:
    g = _prefix(text, GCAMERA_NS)
    if g is None:
        return None
    m = re.search(rf'{re.escape(g)}:MicroVideoOffset\s*=\s*"(\d+)"', text) or re.search(
        rf"<{re.escape(g)}:MicroVideoOffset>(\d+)<", text)
    return int(m.group(1)) if m else None


def _video_from_end(text: str, tail_len: int) -> int | None:
    """Where the XMP says the Motion Photo video starts, counted from the end of the file."""
    offset = _micro_video_offset(text)
    if offset is None:
        items = _container_items(text)
        at = next((n for n, it in enumerate(items) if it.get("Semantic") == "MotionPhoto"), None)
        if at is not None:
            offset = sum(int(it.get("Length", 0) or 0) + int(it.get("Padding", 0) or 0)
                         for it in items[at:])
    return offset if offset is not None and 0 < offset <= tail_len else None


def strip_gain_map_xmp(xmp: bytes) -> bytes:
    """The primary's XMP without its ``hdrgm:*`` properties and Container GainMap item."""
    text = xmp.decode("utf-8", "replace")
    p = _prefix(text, HDRGM_NS)
    if p is not None:
        q = re.escape(p)
        text = re.sub(rf'\s{q}:\w+\s*=\s*"[^"]*"', "", text)
        text = re.sub(rf"<{q}:(\w+)\b[^>]*/>\s*", "", text)
        text = re.sub(rf"<{q}:(\w+)\b[^>]*>.*?</{q}:\1>\s*", "", text, flags=re.S)
    c, i = _prefix(text, CONTAINER_NS), _prefix(text, ITEM_NS)
    if c is not None and i is not None:
        text = re.sub(rf'<rdf:li\b[^>]*>\s*<{re.escape(c)}:Item\b[^>]*'
                      rf'{re.escape(i)}:Semantic="GainMap"[^>]*/>\s*</rdf:li>\s*', "", text)
    return text.encode("utf-8")


def strip_motion_photo_xmp(xmp: bytes) -> bytes:
    """The XMP without the Motion Photo fields, for a copy that has no video."""
    text = xmp.decode("utf-8", "replace")
    g = _prefix(text, GCAMERA_NS)
    if g is not None:
        q = re.escape(g)
        names = r"(?:MotionPhoto\w*|MicroVideo\w*)"
        text = re.sub(rf'\s{q}:{names}\s*=\s*"[^"]*"', "", text)
        text = re.sub(rf"<{q}:({names})>[^<]*</{q}:\1>\s*", "", text)
    c, i = _prefix(text, CONTAINER_NS), _prefix(text, ITEM_NS)
    if c is not None and i is not None:
        text = re.sub(rf'<rdf:li\b[^>]*>\s*<{re.escape(c)}:Item\b[^>]*'
                      rf'{re.escape(i)}:Semantic="MotionPhoto"[^>]*/>\s*</rdf:li>\s*', "", text)
    return text.encode("utf-8")


def set_micro_video_offset(xmp: bytes, value: int) -> bytes:
    text = xmp.decode("utf-8", "replace")
    g = _prefix(text, GCAMERA_NS)
    if g is None:
        return xmp
    q = re.escape(g)
    text = re.sub(rf'({q}:MicroVideoOffset\s*=\s*")\d+(")', rf"\g<1>{value}\g<2>", text)
    text = re.sub(rf"(<{q}:MicroVideoOffset>)\d+(<)", rf"\g<1>{value}\g<2>", text)
    return text.encode("utf-8")


# -- planning and writing ------------------------------------------------------------------
def plan_tail(tail: Tail, out_format: str) -> TailPlan:
    kept: list[Piece] = []
    dropped: list[tuple[Piece, str]] = []
    for piece in tail.pieces:
        if out_format != "JPEG":
            dropped.append((piece, f"the copy is a {out_format}, which has no place for it"))
        elif piece.gain_map:
            dropped.append((piece, "it describes the original pixels, not the enhanced ones"))
        else:
            kept.append(piece)
    return TailPlan(tuple(kept), tuple(dropped))


def adjusted_xmp(xmp: bytes | None, tail: Tail, plan: TailPlan) -> bytes | None:
    """The primary's XMP made true for the copy: gain-map and video fields as kept."""
    if not xmp:
        return xmp
    if any(p.gain_map for p, _ in plan.dropped):
        xmp = strip_gain_map_xmp(xmp)
    if tail.video_from_end is None:
        return xmp
    video_start = len(tail.data) - tail.video_from_end
    if not any(p.start <= video_start < p.end for p in plan.kept):
        return strip_motion_photo_xmp(xmp)
    new_from_end = sum(min(p.end - p.start, p.end - video_start) for p in plan.kept
                       if p.end > video_start)
    if _micro_video_offset(xmp.decode("utf-8", "replace")) not in (None, new_from_end):
        xmp = set_micro_video_offset(xmp, new_from_end)
    return xmp


def assemble(primary: bytes, tail: Tail, plan: TailPlan) -> bytes:
    """The encoded primary followed by the kept pieces, with their offsets made true."""
    out = bytearray(primary)
    placed: dict[int, tuple[int, int]] = {}
    for piece in plan.kept:
        start = len(out)
        chunk = tail.data[piece.start : piece.end]
        if piece.name.startswith(AFCP):
            chunk = _shift_afcp(chunk, start)
        out += chunk
        if piece.mpf_entry is not None:
            placed[piece.mpf_entry] = (piece.end - piece.start, start)
    if placed and tail.mpf_index is not None:
        _patch_mpf(out, len(primary), tail.mpf_index, placed)
    return bytes(out)


def _patch_mpf(out: bytearray, primary_len: int, index: mpf.MpIndex,
               placed: dict[int, tuple[int, int]]) -> None:
    for marker, start, end in segment_spans(bytes(out[:primary_len])):
        if marker == 0xE2 and out.startswith(mpf.MPF_PREFIX, start + 4):
            base = start + 4 + len(mpf.MPF_PREFIX)
            rel = {n: (size, at - base) for n, (size, at) in placed.items()}
            rel[0] = (primary_len, 0)
            keep = [0, *sorted(placed)]
            out[start + 4 : end] = mpf.patch_index(bytes(out[start + 4 : end]), index, keep, rel)
            return
    raise ValueError("the encoded primary lost its MPF segment")


def trailer_identity(tail: Tail, piece: Piece) -> bytes:
    """A piece's bytes, with an AFCP trailer's absolute offsets made relative (comparable)."""
    chunk = tail.data[piece.start : piece.end]
    return _shift_afcp(chunk, 0) if piece.name.startswith(AFCP) else chunk


def _shift_afcp(chunk: bytes, new_start: int) -> bytes:
    """An AFCP trailer moved to ``new_start``: its offsets are absolute, counted from where
    its footer says it starts (which may already have been wrong in the source)."""
    e = ">" if chunk[:4] == b"AXS!" else "<"
    out = bytearray(chunk)
    (old_start,) = struct.unpack_from(e + "I", out, len(out) - 8)
    (count,) = struct.unpack_from(e + "H", out, 6)
    for i in range(count):
        at = 12 + 12 * i + 8
        (offset,) = struct.unpack_from(e + "I", out, at)
        struct.pack_into(e + "I", out, at, (offset - old_start + new_start) & 0xFFFFFFFF)
    struct.pack_into(e + "I", out, len(out) - 8, new_start)
    return bytes(out)
