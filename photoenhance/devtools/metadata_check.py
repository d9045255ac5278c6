"""Compare the metadata of a source and its enhanced copy, tag by tag.

:func:`verify_metadata` uses piexif (an implementation independent of the writer's own EXIF
editor) for every EXIF IFD including MakerNote, GPS, Interop and IFD1, plus byte comparisons of
ICC, IPTC and the other JPEG segments, the XMP properties, DPI, orientation, TIFF tags and PNG
text. ``EXPECTED_UPDATES`` documents what a copy changes on purpose; those land in
``report.expected`` and never in ``lost``/``changed``.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import piexif

from photoenhance.core.imaging.encode import TIFF_STRUCTURE, XMP_APP1
from photoenhance.core.imaging.header import SourceMetadata, read_metadata
from photoenhance.core.imaging.metadata import PE_NS, XMPMM_NS, xml_body
from photoenhance.core.imaging.tail import (
    CONTAINER_NS,
    GAIN_MAP,
    GCAMERA_NS,
    HDRGM_NS,
    ISO_GAIN_MAP,
    ITEM_NS,
    MOTION_VIDEO,
    Tail,
    read_tail,
    trailer_identity,
)
from photoenhance.core.imaging.tiffifd import EXIF_PREFIX, THUMB_STRUCTURE_TAGS

#: Documented, intended differences between a source and its enhanced copy.
EXPECTED_UPDATES = {
    "EXIF:0th:Software / ProcessingSoftware": "set to photoenhance and the model id",
    "EXIF:Exif:PixelXDimension / PixelYDimension": "only when the enhanced size differs",
    "EXIF:1st thumbnail tags + thumbnail": "regenerated from the enhanced pixels",
    "EXIF IFD pointers (ExifTag, GPSTag, Interop)": "offsets, not data",
    "XMP xmpMM:DerivedFrom": "points at the source photo",
    "XMP photoenhance:*": "model id, model sha256, strength, version",
    "JPEG APP2 MPF index": "offsets and sizes of the pictures as placed in the copy",
    "what photoenhance:Dropped lists": "left out because it would be false (an HDR gain map "
    "no longer matches the enhanced primary) or has no place (trailers, other pictures and "
    "videos in a PNG/TIFF copy), with the XMP that describes it (hdrgm:*, Container items, "
    "Motion Photo fields)",
    "TIFF strip/compression layout tags": "written by the encoder",
}
_POINTERS = {34665, 34853, 40965, 513, 514}
_SOFTWARE = {305, 11}
_IFDS = ("0th", "Exif", "GPS", "Interop", "1st")


@dataclass
class VerifyReport:
    """What a copy lost or changed relative to its source."""

    source: Path
    output: Path
    lost: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    preserved: int = 0

    @property
    def ok(self) -> bool:
        return not self.lost and not self.changed

    def _cmp(self, name: str, before: object, after: object | None) -> None:
        if after is None:
            self.lost.append(name)
        elif before != after:
            self.changed.append(name)
        else:
            self.preserved += 1


def _tag_name(ifd: str, tag: int) -> str:
    info = piexif.TAGS.get("Image" if ifd in ("0th", "1st") else ifd, {}).get(tag)
    return str(info["name"]) if info else f"0x{tag:04X}"


def _expected_exif(ifd: str, tag: int, resized: bool) -> bool:
    if tag in _POINTERS or (ifd == "0th" and tag in _SOFTWARE):
        return True
    if ifd == "1st" and tag in THUMB_STRUCTURE_TAGS:
        return True
    return ifd == "Exif" and resized and tag in (0xA002, 0xA003)


def _load_exif(raw: bytes) -> dict[str, dict[int, object]] | None:
    try:
        data = piexif.load(EXIF_PREFIX + raw)
    except Exception:  # noqa: BLE001 - piexif raises anything on malformed input
        return None
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _check_exif(rep: VerifyReport, src: SourceMetadata, out: SourceMetadata,
                resized: bool) -> None:
    if not src.exif:
        return
    if not out.exif:
        rep.lost.append("EXIF (whole block)")
        return
    before, after = _load_exif(src.exif), _load_exif(out.exif)
    if before is None or after is None:
        rep.notes.append("EXIF not parseable by piexif; compared as raw bytes")
        rep._cmp("EXIF (raw block)", src.exif, out.exif)
        return
    for ifd in _IFDS:
        for tag, value in before.get(ifd, {}).items():
            name = f"EXIF:{ifd}:{_tag_name(ifd, tag)}"
            if _expected_exif(ifd, tag, resized):
                rep.expected.append(name)
            else:
                rep._cmp(name, value, after.get(ifd, {}).get(tag))


def _xmp_leaves(xmp: bytes | None) -> Counter[tuple[str, str]]:
    leaves: Counter[tuple[str, str]] = Counter()
    if not xmp:
        return leaves
    try:
        root = ET.fromstring(xml_body(xmp.decode("utf-8", "replace")))
    except ET.ParseError:
        return leaves
    _walk(root, "", leaves)
    return leaves


def _walk(node: ET.Element, path: str, leaves: Counter[tuple[str, str]]) -> None:
    for key, value in node.attrib.items():
        if not key.startswith("{http://www.w3.org/") and key != "about":
            leaves[(f"{path}/@{key}", value)] += 1
    children = list(node)
    if not children and path:
        leaves[(path, (node.text or "").strip())] += 1
    for child in children:
        tag = child.tag
        skip = tag.startswith("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}") or tag.startswith(
            "{adobe:ns:meta/}")
        _walk(child, path if skip else f"{path}/{tag}", leaves)


def _provenance_key(key: str) -> bool:
    return f"{{{XMPMM_NS}}}DerivedFrom" in key or PE_NS in key


def recorded_drops(xmp: bytes | None) -> list[str]:
    """The ``photoenhance:Dropped`` lines of a copy's XMP."""
    return [value for (key, value), _n in _xmp_leaves(xmp).items()
            if key.endswith(f"{{{PE_NS}}}Dropped")]


def _dropped_namespaces(drops: list[str]) -> tuple[str, ...]:
    spaces: list[str] = []
    if any(GAIN_MAP in d for d in drops):
        spaces += [HDRGM_NS, CONTAINER_NS, ITEM_NS]
    if any(MOTION_VIDEO in d for d in drops):
        spaces += [f"{{{GCAMERA_NS}}}MotionPhoto", f"{{{GCAMERA_NS}}}MicroVideo", CONTAINER_NS,
                   ITEM_NS]
    return tuple(spaces)


def _check_xmp(rep: VerifyReport, src: SourceMetadata, out: SourceMetadata) -> None:
    before, after = _xmp_leaves(src.xmp), _xmp_leaves(out.xmp)
    dropped = _dropped_namespaces(recorded_drops(out.xmp))
    for (key, value), count in before.items():
        name = f"XMP:{key.rsplit('/', 1)[-1]}"
        if _provenance_key(key) or any(ns in key for ns in dropped):
            rep.expected.append(name)
        elif after[(key, value)] >= count:
            rep.preserved += count
        elif any(k == key for k, _ in after):
            rep.changed.append(name)
        else:
            rep.lost.append(name)
    if out.xmp and not any(PE_NS in k for k, _ in after):
        rep.notes.append("no photoenhance provenance in the output XMP")


def _other_segments(meta: SourceMetadata) -> Counter[tuple[int, bytes]]:
    return Counter(
        (m, p) for m, p in meta.jpeg_segments
        if not (m == 0xE1 and (p.startswith(EXIF_PREFIX) or p.startswith(XMP_APP1)))
        and not (m == 0xE2 and p.startswith((b"MPF\x00", ISO_GAIN_MAP)))
        and not (m == 0xEE and p.startswith(b"Adobe")))


def _check_simple(rep: VerifyReport, src: SourceMetadata, out: SourceMetadata) -> None:
    for name in ("icc", "iptc", "dpi", "orientation", "heif_nclx"):
        before = getattr(src, name)
        if before is not None:
            rep._cmp(name.upper(), before, getattr(out, name))
    if src.format == "JPEG" and out.format == "JPEG":
        after = _other_segments(out)
        for (marker, payload), count in _other_segments(src).items():
            rep._cmp(f"JPEG:APP{marker - 0xE0}" if marker != 0xFE else "JPEG:COM",
                     count, after[(marker, payload)] or None)
    for key, value in (src.png_text or {}).items():
        rep._cmp(f"PNG:{key}", value, (out.png_text or {}).get(key))
    if src.format == "TIFF" and out.format == "TIFF":
        after_tags = out.tiff_tags or {}
        for tag, value in (src.tiff_tags or {}).items():
            if tag in TIFF_STRUCTURE or tag in _SOFTWARE:
                rep.expected.append(f"TIFF:{tag}")
            elif isinstance(value, dict):
                _cmp_tiff_ifd(rep, f"TIFF:{tag}", value, after_tags.get(tag))
            else:
                rep._cmp(f"TIFF:{tag}", value, after_tags.get(tag))


def _cmp_tiff_ifd(rep: VerifyReport, name: str, before: dict[int, object],
                  after: object) -> None:
    after_dict = after if isinstance(after, dict) else {}
    for tag, value in before.items():
        if isinstance(value, dict):
            _cmp_tiff_ifd(rep, f"{name}:{tag}", value, after_dict.get(tag))
        else:
            rep._cmp(f"{name}:{tag}", value, after_dict.get(tag))


def _tail_pieces(path: Path, meta: SourceMetadata) -> dict[bytes, str]:
    """What follows the primary image of a JPEG, by content (see ``trailer_identity``)."""
    if meta.format != "JPEG":
        return {}
    tail: Tail | None = read_tail(path.read_bytes(), meta.xmp)
    if tail is None:
        return {}
    return {trailer_identity(tail, p): p.name for p in tail.pieces}


def _check_tail(rep: VerifyReport, source: Path, src: SourceMetadata, output: Path,
                out: SourceMetadata) -> None:
    """Every picture, trailer and video after the source's primary image is in the copy,
    byte for byte (AFCP up to its absolute offsets), unless the copy records dropping it."""
    after = _tail_pieces(output, out)
    drops = recorded_drops(out.xmp)
    for identity, name in _tail_pieces(source, src).items():
        if identity in after:
            rep.preserved += 1
        elif any(d.startswith(f"{name}: ") for d in drops):
            rep.expected.append(f"dropped: {name}")
        else:
            rep.lost.append(f"TAIL:{name}")


def verify_metadata(source: Path, output: Path) -> VerifyReport:
    """Compare ``source`` and ``output`` metadata; see :data:`EXPECTED_UPDATES`."""
    src, out = read_metadata(Path(source)), read_metadata(Path(output))
    rep = VerifyReport(Path(source), Path(output))
    resized = src.size != out.size
    _check_exif(rep, src, out, resized)
    _check_xmp(rep, src, out)
    _check_simple(rep, src, out)
    _check_tail(rep, Path(source), src, Path(output), out)
    return rep


# -- exiftool ------------------------------------------------------------------------------
#: exiftool groups that describe the file or container, not the photo's metadata. For HEIF the
#: QuickTime group is the encoder's own boxes (HEVC configuration, coded extent, irot), except
#: for the colour description, which is compared.
EXIFTOOL_IGNORED_GROUPS = {"ExifTool", "System", "File", "Composite", "QuickTime", "Meta"}
_EXIFTOOL_HEIF_COLOUR = {"ColorProfiles", "ColorPrimaries", "TransferCharacteristics",
                         "MatrixCoefficients", "VideoFullRangeFlag"}
#: MPF: where each picture starts, and the primary's length, are the copy's own.
_EXIFTOOL_MPF_PLACEMENT = {"MPImageStart"}
#: exiftool groups (prefixes) of what a copy records in photoenhance:Dropped.
DROPPED_GROUPS = {
    GAIN_MAP: ("MPF0", "MPImage", "XMP-hdrgm", "XMP-Container"),
    "MPF picture": ("MPF0", "MPImage"),
    "AFCP trailer": ("AFCP", "IPTC2"),
    "FotoStation trailer": ("FotoStation", "IPTC2"),
    "Photo Mechanic trailer": ("PhotoMechanic",),
    "Samsung trailer": ("Samsung",),
    MOTION_VIDEO: ("XMP-GCamera", "XMP-Container"),
}
_EXIFTOOL_EXPECTED = {
    "IFD0": {"Software", "ProcessingSoftware", "StripOffsets", "StripByteCounts",
             "RowsPerStrip", "Predictor", "ExtraSamples", "SampleFormat", "Compression",
             "PlanarConfiguration"},
    "IFD1": {"ThumbnailOffset", "ThumbnailLength", "ThumbnailImage", "Compression",
             "StripOffsets", "StripByteCounts", "RowsPerStrip", "ImageWidth", "ImageHeight",
             "BitsPerSample", "PhotometricInterpretation", "SamplesPerPixel",
             "PlanarConfiguration", "PreviewImage", "OtherImageStart", "OtherImageLength"},
    "XMP-xmpMM": {"DerivedFromInstanceID", "DerivedFromDocumentID",
                  "DerivedFromOriginalDocumentID", "DerivedFromFilePath"},
}
_RESIZE_EXPECTED = {"ExifIFD": {"ExifImageWidth", "ExifImageHeight"},
                    "IFD0": {"ImageWidth", "ImageHeight"}}


@dataclass(frozen=True)
class ExiftoolDiff:
    lost: list[str]
    changed: list[str]
    preserved: int


def _parse_exiftool(lines: list[str]) -> Counter[tuple[str, str, str]]:
    tags: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        if not line.startswith("[") or "]" not in line or ":" not in line:
            continue
        group, rest = line[1:].split("]", 1)
        tag, _, value = rest.partition(":")
        tags[(group.strip(), tag.strip(), value.strip())] += 1
    return tags


def exiftool_tags(*paths: Path) -> list[Counter[tuple[str, str, str]]]:
    """``exiftool -a -G1 -s`` of each path (one exiftool run), as (group, tag, value) counts."""
    exe = shutil.which("exiftool")
    if exe is None:
        raise FileNotFoundError("exiftool")
    res = subprocess.run([exe, "-a", "-G1", "-s", "-charset", "filename=utf8", *map(str, paths)],
                         capture_output=True, text=True, errors="replace", check=False,
                         timeout=120)
    if len(paths) == 1:
        return [_parse_exiftool(res.stdout.splitlines())]
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in res.stdout.splitlines():
        if line.startswith("======== "):
            current = sections.setdefault(line[9:].strip(), [])
        else:
            current.append(line)
    return [_parse_exiftool(sections.get(str(p), [])) for p in paths]


def _expected_exiftool(group: str, tag: str, resized: bool,
                       dropped: tuple[str, ...] = ()) -> bool:
    if group == "QuickTime" and tag in _EXIFTOOL_HEIF_COLOUR:
        return False
    if group in EXIFTOOL_IGNORED_GROUPS or group.startswith(dropped or ("\0",)):
        return True
    if group.startswith("MPImage") and (tag in _EXIFTOOL_MPF_PLACEMENT or (
            group == "MPImage1" and tag == "MPImageLength")):
        return True
    if group == "XMP-photoenhance" or tag in _EXIFTOOL_EXPECTED.get(group, ()):
        return True
    return resized and tag in _RESIZE_EXPECTED.get(group, ())


def exiftool_diff(source: Path, output: Path, *, resized: bool = False) -> ExiftoolDiff | None:
    """Diff ``exiftool -a -G1 -s`` of source and output, minus documented updates.

    Returns None when exiftool is not installed.
    """
    if shutil.which("exiftool") is None:
        return None
    before, after = exiftool_tags(Path(source), Path(output))
    return diff_exiftool_tags(before, after, resized=resized)


def diff_exiftool_tags(before: Counter[tuple[str, str, str]],
                       after: Counter[tuple[str, str, str]], *,
                       resized: bool = False) -> ExiftoolDiff:
    """Compare two :func:`exiftool_tags` results (for batching many files in one run)."""
    after_keys = {(g, t) for g, t, _ in after}
    drops = [v for g, t, v in after if g == "XMP-photoenhance" and t == "Dropped"]
    dropped = tuple(prefix for what, groups in DROPPED_GROUPS.items()
                    if any(what in d for d in drops) for prefix in groups)
    lost: list[str] = []
    changed: list[str] = []
    preserved = 0
    for (group, tag, value), count in before.items():
        if _expected_exiftool(group, tag, resized, dropped):
            continue
        if after[(group, tag, value)] >= count:
            preserved += count
        elif (group, tag) in after_keys:
            changed.append(f"{group}:{tag}")
        else:
            lost.append(f"{group}:{tag}")
    return ExiftoolDiff(sorted(set(lost)), sorted(set(changed)), preserved)
