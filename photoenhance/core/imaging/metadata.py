"""Carry a source's metadata over to its enhanced copy, changing only what must change.

* EXIF is edited in place (see :mod:`tiffifd`): every IFD and the maker note stay byte for
  byte; only Software/ProcessingSoftware, the pixel dimensions (if the size changed) and the
  IFD1 thumbnail (regenerated from the enhanced pixels, only if the source had one) change.
  A block that cannot be parsed is copied unchanged.
* XMP keeps every original property; provenance is added in its own ``rdf:Description``
  (``xmpMM:DerivedFrom`` pointing at the source, replacing the source's own DerivedFrom, and a
  ``photoenhance:`` namespace). A fresh packet is created if the source had none.
* ICC, IPTC and DPI are handed to the encoder unchanged (see :mod:`encode`).
"""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image

from photoenhance import __version__
from photoenhance.core.imaging.tiffifd import (
    TAG_EXIF_IFD,
    TAG_PIXEL_X,
    TAG_PIXEL_Y,
    TAG_PROCESSING_SOFTWARE,
    TAG_SOFTWARE,
    ExifBlock,
    ExifFormatError,
)

PE_NS = "https://photoenhance.app/ns/1.0/"
XMPMM_NS = "http://ns.adobe.com/xap/1.0/mm/"
STREF_NS = "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
THUMB_MAX = (160, 160)

# IJG (libjpeg) standard tables in natural order, Annex K of ITU T.81.
_STD_LUMA = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]
_STD_CHROMA = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
]


@dataclass(frozen=True)
class Provenance:
    """Who made an enhanced copy, recorded in its XMP and EXIF Software field."""

    model_id: str
    model_sha256: str
    strength: float
    app_version: str = __version__
    #: the specialist network that made this copy, where the general one did not
    specialist_id: str = ""
    specialist_sha256: str = ""
    #: what the copy leaves out because it would be false or has no place ("what: why")
    dropped: tuple[str, ...] = ()

    @property
    def software(self) -> str:
        return f"photoenhance {self.app_version} ({self.model_id})"


# -- JPEG quality --------------------------------------------------------------------------
def _ijg_table(std: list[int], quality: int) -> np.ndarray:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table: np.ndarray = np.clip((np.array(std) * scale + 50) // 100, 1, 255)
    return table


def estimate_jpeg_quality(qtables: dict[int, list[int]] | None) -> int | None:
    """Estimate the IJG quality (1-100) a JPEG was saved at, from its quantisation tables.

    The inverse of libjpeg's quality scaling (what ImageMagick's ``%Q`` reports): the quality
    whose scaled standard tables are closest to the file's, weighting luma over chroma. For
    custom camera tables this is the nearest equivalent, rounded *up* on ties.
    """
    if not qtables or 0 not in qtables or len(qtables[0]) != 64:
        return None
    luma = np.array(qtables[0])
    chroma = np.array(qtables[1]) if len(qtables.get(1, [])) == 64 else None
    best, best_err = 100, float("inf")
    for quality in range(100, 0, -1):
        err = float(np.abs(_ijg_table(_STD_LUMA, quality) - luma).sum())
        if chroma is not None:
            err += 0.5 * float(np.abs(_ijg_table(_STD_CHROMA, quality) - chroma).sum())
        if err < best_err:
            best, best_err = quality, err
    return best


# -- EXIF ----------------------------------------------------------------------------------
def make_thumbnail(pixels: np.ndarray, old: bytes | None,
                   box: tuple[int, int] | None = None) -> bytes:
    """A baseline JPEG thumbnail of ``pixels``, about as large as the old one was."""
    if box is not None:
        return _thumbnail_jpeg(pixels, box)
    box = THUMB_MAX
    if old:
        try:
            with Image.open(io.BytesIO(old)) as im:
                box = (max(im.size), max(im.size))
        except (OSError, ValueError):
            pass
    return _thumbnail_jpeg(pixels, box)


def _thumbnail_jpeg(pixels: np.ndarray, box: tuple[int, int]) -> bytes:
    arr = pixels if pixels.dtype == np.uint8 else (pixels >> 8).astype(np.uint8)
    thumb = Image.fromarray(arr[:, :, 0] if arr.shape[2] in (1, 2) else arr[:, :, :3])
    thumb.thumbnail(box, Image.Resampling.LANCZOS)
    for quality in (85, 70, 50):
        buf = io.BytesIO()
        thumb.save(buf, "JPEG", quality=quality)
        if buf.tell() < 48_000:
            break
    return buf.getvalue()


def updated_exif(exif: bytes | None, pixels: np.ndarray, source_size: tuple[int, int],
                 provenance: Provenance, max_size: int | None = None
                 ) -> tuple[bytes | None, bool]:
    """The source's raw EXIF with only the documented fields updated.

    Returns ``(block, edited)``; ``edited`` is False when the block could not be parsed (or
    an edited one would not fit in ``max_size``, JPEG's 64 KB segment) and was copied
    unchanged.
    """
    if not exif:
        return None, False
    for thumb_box in (None, (80, 80)):
        block, edited = _edit_exif(exif, pixels, source_size, provenance, thumb_box)
        if not edited or max_size is None or len(block) <= max_size:
            return block, edited
    return exif, False


def _edit_exif(exif: bytes, pixels: np.ndarray, source_size: tuple[int, int],
               provenance: Provenance, thumb_box: tuple[int, int] | None
               ) -> tuple[bytes, bool]:
    try:
        block = ExifBlock(exif)
        height, width = pixels.shape[:2]
        if (width, height) != tuple(source_size):
            exif_ifd = block.sub_ifd(TAG_EXIF_IFD)
            if exif_ifd is not None:
                block.patch_inline(exif_ifd, TAG_PIXEL_X, width)
                block.patch_inline(exif_ifd, TAG_PIXEL_Y, height)
        if block.has_thumbnail():
            block.replace_thumbnail(make_thumbnail(pixels, block.thumbnail(), thumb_box))
        strings = {TAG_SOFTWARE: provenance.software}
        if block.ifd0.get(TAG_PROCESSING_SOFTWARE) is not None:
            strings[TAG_PROCESSING_SOFTWARE] = provenance.software
        block.set_strings(strings)
        return block.tobytes(), True
    except (ExifFormatError, IndexError, ValueError, OverflowError, struct.error):
        return exif, False


# -- XMP -----------------------------------------------------------------------------------
_FRESH_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n </rdf:RDF>\n'
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>'
)


def _prefix_for(text: str, namespace: str, default: str) -> str:
    match = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(namespace) + r'["\']', text)
    return match.group(1) if match else default


def _strip_derived_from(text: str) -> str:
    """Drop the source's own xmpMM:DerivedFrom (the copy derives from the source itself)."""
    mm = re.escape(_prefix_for(text, XMPMM_NS, "xmpMM"))
    text = re.sub(rf"<{mm}:DerivedFrom\b[^>]*/>\s*", "", text)
    text = re.sub(rf"<{mm}:DerivedFrom\b[^>]*>.*?</{mm}:DerivedFrom>\s*", "", text, flags=re.S)
    text = re.sub(rf'\s{mm}:DerivedFrom\s*=\s*"[^"]*"', "", text)
    pe = f'xmlns:photoenhance="{PE_NS}"'
    return re.sub(rf"<rdf:Description\b[^>]*{re.escape(pe)}.*?</rdf:Description>\s*", "",
                  text, flags=re.S)


def _source_ids(text: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    mm = re.escape(_prefix_for(text, XMPMM_NS, "xmpMM"))
    for name in ("DocumentID", "InstanceID"):
        m = re.search(rf'{mm}:{name}\s*=\s*"([^"]*)"', text) or re.search(
            rf"<{mm}:{name}>([^<]*)</{mm}:{name}>", text)
        if m:
            ids[name[0].lower() + name[1:]] = m.group(1)
    return ids


def _provenance_description(prov: Provenance, source_ref: str, ids: dict[str, str]) -> str:
    refs = "".join(f"<stRef:{k}>{escape(v)}</stRef:{k}>" for k, v in sorted(ids.items()))
    fields = [("ModelID", prov.model_id), ("ModelSHA256", prov.model_sha256),
              ("Strength", f"{prov.strength:g}")]
    if prov.specialist_id:
        fields += [("SpecialistID", prov.specialist_id),
                   ("SpecialistSHA256", prov.specialist_sha256)]
    fields.append(("Version", prov.app_version))
    props = "".join(f"   <photoenhance:{k}>{escape(v)}</photoenhance:{k}>\n" for k, v in fields)
    if prov.dropped:
        items = "".join(f"<rdf:li>{escape(d)}</rdf:li>" for d in prov.dropped)
        props += f"   <photoenhance:Dropped><rdf:Bag>{items}</rdf:Bag></photoenhance:Dropped>\n"
    return (
        f'  <rdf:Description rdf:about="" xmlns:xmpMM="{XMPMM_NS}" xmlns:stRef="{STREF_NS}"'
        f' xmlns:photoenhance="{PE_NS}">\n'
        f'   <xmpMM:DerivedFrom rdf:parseType="Resource"><stRef:filePath>{escape(source_ref)}'
        f"</stRef:filePath>{refs}</xmpMM:DerivedFrom>\n"
        f"{props}"
        "  </rdf:Description>\n"
    )


def xmp_with_provenance(xmp: bytes | None, prov: Provenance, source_ref: str) -> bytes:
    """The source's XMP packet (or a fresh one) with photoenhance provenance added.

    If the source packet is not well-formed XML it is returned unchanged: keeping the user's
    metadata matters more than recording ours.
    """
    text = xmp.decode("utf-8", "replace") if xmp else _FRESH_PACKET
    if "</rdf:RDF>" not in text:
        return xmp if xmp else _FRESH_PACKET.encode()
    ids = _source_ids(text)
    new = _strip_derived_from(text)
    cut = new.rindex("</rdf:RDF>")
    new = new[:cut] + _provenance_description(prov, source_ref, ids) + new[cut:]
    new = _shrink_padding(new, len(text))
    try:
        ET.fromstring(xml_body(new))
    except ET.ParseError:
        return xmp if xmp else new.encode()
    return new.encode("utf-8")


def xml_body(text: str) -> str:
    """The ``x:xmpmeta`` (or bare ``rdf:RDF``) element of a packet, without wrapper or NULs."""
    for start_tag, end_tag in (("<x:xmpmeta", "</x:xmpmeta>"), ("<rdf:RDF", "</rdf:RDF>")):
        start, end = text.find(start_tag), text.rfind(end_tag)
        if start >= 0 and end > start:
            return text[start : end + len(end_tag)]
    return text.strip(" \t\r\n\x00")


def _shrink_padding(text: str, old_len: int) -> str:
    """Take the added length out of the packet's trailing whitespace padding, if it has some."""
    m = re.search(r"(\s+)(<\?xpacket end=)", text)
    if not m or len(text) <= old_len:
        return text
    excess = len(text) - old_len
    keep = max(1, len(m.group(1)) - excess)
    return text[: m.start(1)] + m.group(1)[:keep] + text[m.start(2):]
