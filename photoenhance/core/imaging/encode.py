"""Encode enhanced pixels in a given format, carrying the source's metadata.

JPEG output is encoded by Pillow with no metadata and then gets the source's own APPn/COM
segments spliced back in file order, byte for byte (JFIF density, ICC, IPTC/Photoshop,
comments, vendor segments), with only the EXIF and XMP segments replaced by their updated
versions. An ``MPF`` (multi-picture) segment is passed through as given (the writer removes
it when no other picture is kept, and rewrites its index once the pictures are placed; see
:mod:`tail`), and an Adobe APP14 segment gets its colour-transform byte set to match what was
actually encoded.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from photoenhance.core.errors import OutputError
from photoenhance.core.imaging import png16
from photoenhance.core.imaging.header import (
    TIFF_ICC,
    TIFF_IPTC,
    TIFF_PHOTOSHOP,
    TIFF_XMP,
    SourceMetadata,
)
from photoenhance.core.imaging.jpegseg import splice
from photoenhance.core.imaging.tiffifd import EXIF_PREFIX

XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
HEIF_QUALITY = 92
WEBP_QUALITY = 95
#: TIFF tags that describe the pixel encoding; the encoder writes its own.
TIFF_STRUCTURE = frozenset({256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 320, 322,
                            323, 324, 325, 338, 339, 347, 530, 531, 532, TIFF_ICC, TIFF_XMP})
#: Compressions Pillow can write; JPEG-in-TIFF is re-encoded losslessly with Deflate. A TIFF
#: with Exif/GPS sub-IFDs is written uncompressed: libtiff (used for compressed output) cannot
#: take them from Pillow, and dropping them is not an option.
TIFF_COMPRESSIONS = {"raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "tiff_deflate"}


@dataclass(frozen=True)
class EncodeJob:
    """What to write: pixels, the format, the updated metadata and the source's details."""

    pixels: np.ndarray
    fmt: str
    meta: SourceMetadata
    exif: bytes | None
    xmp: bytes
    jpeg_quality: int
    software: str


def _pil_image(pixels: np.ndarray, eight_bit: bool = False) -> Image.Image:
    arr = pixels
    if eight_bit and arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    channels = arr.shape[2]
    if arr.dtype == np.uint16 and channels != 1:
        raise ValueError("Pillow holds 16-bit grey only")
    return Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if channels == 1 else arr))


def encode(job: EncodeJob) -> bytes:
    """Encode ``job`` and return the file's bytes."""
    encoders = {"JPEG": _jpeg, "PNG": _png, "TIFF": _tiff, "WEBP": _webp, "HEIF": _heif}
    return encoders[job.fmt](job)


# -- JPEG ----------------------------------------------------------------------------------
def _jpeg(job: EncodeJob) -> bytes:
    im = _pil_image(job.pixels[:, :, :3] if job.pixels.shape[2] >= 3 else job.pixels[:, :, :1],
                    eight_bit=True)
    sampling = job.meta.jpeg_subsampling if job.meta.jpeg_subsampling in (0, 1, 2) else 0
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=job.jpeg_quality, subsampling=sampling, optimize=True,
            progressive=job.meta.jpeg_progressive)
    return splice(buf.getvalue(), _jpeg_segments(job, im.mode == "L"))


def _photoshop_irb(iptc: bytes) -> bytes:
    pad = b"\x00" if len(iptc) % 2 else b""
    return (b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00"
            + struct.pack(">I", len(iptc)) + iptc + pad)


def _jpeg_segments(job: EncodeJob, grey: bool) -> list[tuple[int, bytes]]:
    segs = list(job.meta.jpeg_segments) if job.meta.format == "JPEG" else _fresh_segments(job)
    out: list[tuple[int, bytes]] = []
    exif_done = xmp_done = False
    for marker, payload in segs:
        if marker == 0xE1 and payload.startswith(EXIF_PREFIX) and not exif_done:
            exif_done = True
            payload = EXIF_PREFIX + job.exif if job.exif else payload
        elif marker == 0xE1 and payload.startswith(XMP_APP1) and not xmp_done:
            xmp_done = True
            payload = XMP_APP1 + job.xmp
        elif marker == 0xEE and payload.startswith(b"Adobe") and len(payload) >= 12:
            payload = payload[:11] + bytes((0 if grey else 1,)) + payload[12:]
        out.append((marker, payload))
    if not xmp_done:
        at = next((i + 1 for i, (m, p) in enumerate(out) if m == 0xE1), 0)
        at = at or next((i + 1 for i, (m, _) in enumerate(out) if m == 0xE0), 0)
        out.insert(at, (0xE1, XMP_APP1 + job.xmp))
    return out


def _fresh_segments(job: EncodeJob) -> list[tuple[int, bytes]]:
    """Segments for a JPEG made from a non-JPEG source."""
    segs: list[tuple[int, bytes]] = []
    dpi = job.meta.dpi or (72.0, 72.0)
    segs.append((0xE0, b"JFIF\x00\x01\x01\x01" + struct.pack(">HH", *(round(d) for d in dpi))
                 + b"\x00\x00"))
    if job.exif:
        segs.append((0xE1, EXIF_PREFIX + job.exif))
    if job.meta.icc:
        icc = job.meta.icc
        chunks = [icc[i : i + 65519] for i in range(0, len(icc), 65519)]
        for n, chunk in enumerate(chunks, 1):
            segs.append((0xE2, b"ICC_PROFILE\x00" + bytes((n, len(chunks))) + chunk))
    if job.meta.iptc:
        segs.append((0xED, _photoshop_irb(job.meta.iptc)))
    return segs


# -- PNG -----------------------------------------------------------------------------------
def _png(job: EncodeJob) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (job.meta.png_text or {}).items():
        info.add_text(key, value)
    info.add_itxt("XML:com.adobe.xmp", job.xmp.decode("utf-8", "replace"), zip=False)
    params: dict[str, Any] = {"pnginfo": info}
    if job.exif:
        params["exif"] = EXIF_PREFIX + job.exif
    if job.meta.icc:
        params["icc_profile"] = job.meta.icc
    if job.meta.dpi:
        params["dpi"] = job.meta.dpi
    pixels = job.pixels
    if pixels.dtype == np.uint16 and pixels.shape[2] > 1:
        carrier = io.BytesIO()
        Image.new("RGB", (1, 1)).save(carrier, "PNG", **params)
        return png16.encode(pixels, carrier.getvalue())
    buf = io.BytesIO()
    _pil_image(pixels).save(buf, "PNG", optimize=False, compress_level=6, **params)
    return buf.getvalue()


# -- TIFF ----------------------------------------------------------------------------------
def _tiff(job: EncodeJob) -> bytes:
    if job.pixels.dtype == np.uint16 and job.pixels.shape[2] > 1:
        raise OutputError("16-bit colour TIFF output is not supported; choose PNG",
                          job.meta.path)
    tags: dict[int, Any] = {}
    if job.meta.format == "TIFF":
        tags = {k: v for k, v in (job.meta.tiff_tags or {}).items() if k not in TIFF_STRUCTURE}
    elif job.meta.iptc:
        if job.meta.iptc.startswith(b"Photoshop 3.0\x00"):
            tags[TIFF_PHOTOSHOP] = job.meta.iptc[14:]
        else:
            tags[TIFF_IPTC] = job.meta.iptc
    tags[305] = job.software
    if 11 in tags:
        tags[11] = job.software
    tags[TIFF_XMP] = job.xmp
    compression = job.meta.tiff_compression if job.meta.tiff_compression in TIFF_COMPRESSIONS \
        else "tiff_adobe_deflate"
    if any(isinstance(v, dict) for v in tags.values()):
        compression = "raw"  # only Pillow's own writer can write Exif/GPS sub-IFDs
    params: dict[str, Any] = {"tiffinfo": tags, "compression": compression}
    if job.meta.icc:
        params["icc_profile"] = job.meta.icc
    if job.meta.dpi:
        params["dpi"] = job.meta.dpi
    if job.exif and job.meta.format != "TIFF":
        params["exif"] = EXIF_PREFIX + job.exif
    buf = io.BytesIO()
    _pil_image(job.pixels).save(buf, "TIFF", **params)
    return buf.getvalue()


# -- WebP and HEIF -------------------------------------------------------------------------
def _common(job: EncodeJob) -> dict[str, Any]:
    params: dict[str, Any] = {"xmp": job.xmp}
    if job.exif:
        params["exif"] = EXIF_PREFIX + job.exif
    if job.meta.icc:
        params["icc_profile"] = job.meta.icc
    return params


def _webp(job: EncodeJob) -> bytes:
    buf = io.BytesIO()
    lossless = job.meta.webp_lossless
    _pil_image(job.pixels, eight_bit=True).save(
        buf, "WEBP", lossless=lossless, quality=100 if lossless else WEBP_QUALITY, method=4,
        **_common(job))
    return buf.getvalue()


def _heif(job: EncodeJob) -> bytes:
    buf = io.BytesIO()
    params = _common(job)
    params["quality"] = HEIF_QUALITY
    if job.meta.heif_nclx and not job.meta.icc:  # colour primaries, transfer, matrix, range
        params["nclx_profile"] = job.meta.heif_nclx
    _pil_image(job.pixels, eight_bit=True).save(buf, "HEIF", **params)
    return buf.getvalue()
