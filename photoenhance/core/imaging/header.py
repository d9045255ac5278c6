"""Open a photo and read its metadata without decoding pixels.

This is where Pillow learns to read HEIF (pillow-heif's opener is registered here, once, for
the whole app) and where its decompression-bomb limit is set to photoenhance's own.

:func:`read_metadata` gathers everything the writer must carry over to an enhanced copy
(EXIF, XMP, IPTC, ICC, DPI, JPEG tables and segments, TIFF tags, PNG text, HEIF colour
information). Palette, bilevel, CMYK, float and 32-bit integer images are refused with
:class:`UnsupportedImageError` rather than silently converted: converting them would change
the file's format or colour model behind the user's back.
"""

from __future__ import annotations

import dataclasses
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from photoenhance.core.errors import (
    ImageReadError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from photoenhance.core.imaging import png16
from photoenhance.core.imaging.tiffifd import EXIF_PREFIX, ExifBlock, ExifFormatError

pillow_heif.register_heif_opener()

DEFAULT_MAX_PIXELS = 250_000_000
#: Pillow warns past this and refuses past twice this; our own check is ``max_pixels``.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "HEIF")
_SUPPORTED_MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I;16": 1, "I;16B": 1, "I;16L": 1}
TIFF_XMP, TIFF_IPTC, TIFF_ICC, TIFF_PHOTOSHOP = 700, 33723, 34675, 34377
TIFF_EXIF_IFD, TIFF_GPS_IFD, TIFF_INTEROP_IFD = 0x8769, 0x8825, 0xA005


@dataclass(frozen=True)
class SourceMetadata:
    """Everything the writer must carry over, read without decoding pixels.

    ``size`` is (width, height) in stored orientation, like the pixels of :func:`load_image`.

    ``exif`` is the TIFF-structured block without the ``Exif\\0\\0`` prefix, exactly as stored
    (for HEIF with the Orientation value pillow-heif resets put back). ``jpeg_segments`` holds
    the raw APPn/COM marker segments of a JPEG in file order (marker byte, payload).
    """

    path: Path
    format: str
    size: tuple[int, int]
    mode: str
    bit_depth: int
    has_alpha: bool
    exif: bytes | None = None
    xmp: bytes | None = None
    iptc: bytes | None = None
    icc: bytes | None = None
    dpi: tuple[float, float] | None = None
    orientation: int | None = None
    jpeg_qtables: dict[int, list[int]] | None = None
    jpeg_subsampling: int | None = None
    jpeg_progressive: bool = False
    webp_lossless: bool = False
    tiff_compression: str | None = None
    tiff_tags: dict[int, Any] | None = None
    png_text: dict[str, str] | None = None
    heif_transformed: bool = False
    heif_nclx: dict[str, Any] | None = None
    jpeg_segments: tuple[tuple[int, bytes], ...] = ()



def open_image(path: Path) -> Image.Image:
    """Open ``path`` with Pillow (header only), or raise a clear :class:`ImageReadError`."""
    try:
        with warnings.catch_warnings():  # our own max_pixels check follows
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:  # past 2 x PIL.Image.MAX_IMAGE_PIXELS
        raise ImageTooLargeError(f"image is too large to open safely ({exc})", path) from exc
    except UnidentifiedImageError as exc:
        raise ImageReadError(
            "not an image file, or a format photoenhance cannot read", path) from exc
    except FileNotFoundError as exc:
        raise ImageReadError("file not found", path) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"cannot read the image ({exc})", path) from exc


def check_pixels(im: Image.Image, path: Path, max_pixels: int) -> None:
    """Refuse an image of more than ``max_pixels`` from its header, before decoding."""
    width, height = im.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{width}x{height} is {width * height / 1e6:.0f} MP, past the limit of "
            f"{max_pixels / 1e6:.0f} MP", path)


def format_name(im: Image.Image) -> str:
    """Pillow's format as photoenhance names it: HEIF for HEIC/AVIF, JPEG for MPO."""
    fmt = "HEIF" if im.format in ("HEIF", "AVIF") else str(im.format)
    return "JPEG" if fmt == "MPO" else fmt  # a multi-picture JPEG: its primary picture


def _check_openable(im: Image.Image, path: Path, max_pixels: int) -> str:
    fmt = format_name(im)
    if fmt not in SUPPORTED_FORMATS:
        raise UnsupportedImageError(f"{im.format} files are not supported", path)
    if fmt != "JPEG" and getattr(im, "n_frames", 1) > 1:
        raise UnsupportedImageError("animated or multi-page images are not supported", path)
    check_pixels(im, path, max_pixels)
    if im.mode == "CMYK":
        raise UnsupportedImageError("CMYK images are not supported (convert to RGB first)", path)
    if im.mode in ("P", "PA"):
        raise UnsupportedImageError("palette (indexed-colour) images are not supported", path)
    if im.mode not in _SUPPORTED_MODES:
        raise UnsupportedImageError(f"images in mode {im.mode} are not supported", path)
    bits = getattr(im, "tag_v2", {}).get(258, (8,)) if fmt == "TIFF" else (8,)
    if fmt == "TIFF" and max(bits) > 8 and not im.mode.startswith("I;16"):
        raise UnsupportedImageError(
            "16-bit colour TIFFs are not supported yet (they would lose precision)", path)
    return fmt


def _raw_exif(im: Image.Image, fmt: str) -> bytes | None:
    raw = im.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return None
    data = raw[len(EXIF_PREFIX):] if raw.startswith(EXIF_PREFIX) else raw
    original = im.info.get("original_orientation") if fmt == "HEIF" else None
    if original:  # pillow-heif reset it to 1 in memory; the file still says ``original``
        try:
            block = ExifBlock(data)
            block.patch_inline(block.ifd0, 0x0112, int(original))
            data = block.tobytes()
        except ExifFormatError:
            pass
    return data


def _orientation(exif: bytes | None) -> int | None:
    if not exif:
        return None
    try:
        return ExifBlock(exif).orientation()
    except (ExifFormatError, struct.error):
        return None


def _xmp(im: Image.Image, fmt: str) -> bytes | None:
    value = im.info.get("xmp")
    if fmt == "TIFF":
        value = getattr(im, "tag_v2", {}).get(TIFF_XMP, value)
    if fmt == "PNG" and not value:
        value = im.info.get("XML:com.adobe.xmp")
    if isinstance(value, str):
        value = value.encode("utf-8")
    return bytes(value) if value else None


def _iptc(im: Image.Image, fmt: str) -> bytes | None:
    if fmt == "JPEG":
        app13 = [payload for marker, payload in getattr(im, "applist", []) if marker == "APP13"]
        return b"".join(app13) or None
    if fmt == "TIFF":
        value = getattr(im, "tag_v2", {}).get(TIFF_IPTC)
        if isinstance(value, tuple):
            value = bytes(value) if all(isinstance(v, int) for v in value) else b"".join(value)
        return bytes(value) if value else None
    return None


def _dpi(im: Image.Image) -> tuple[float, float] | None:
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    return float(dpi[0]), float(dpi[1])


def _bit_depth(im: Image.Image, fmt: str) -> int:
    if im.mode.startswith("I;16"):
        return 16
    if fmt == "HEIF":
        return int(im.info.get("bit_depth", 8))
    return 8


def _format_details(im: Image.Image, fmt: str, path: Path) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if fmt == "JPEG":
        details["jpeg_qtables"] = {k: list(v) for k, v in getattr(im, "quantization", {}).items()}
        details["jpeg_subsampling"] = JpegImagePlugin.get_sampling(im)
        details["jpeg_progressive"] = bool(im.info.get("progressive") or im.info.get("progression"))
        details["jpeg_segments"] = _jpeg_segments(path)
    elif fmt == "TIFF":
        details["tiff_compression"] = str(im.info.get("compression", "raw"))
        details["tiff_tags"] = _tiff_tags(im)
    elif fmt == "PNG":
        text = getattr(im, "text", {})
        details["png_text"] = {k: v for k, v in text.items() if k != "XML:com.adobe.xmp"}
    elif fmt == "HEIF":
        details["heif_transformed"] = _heif_transformed(path)
        nclx = im.info.get("nclx_profile")
        details["heif_nclx"] = dict(nclx) if isinstance(nclx, dict) else None
    elif fmt == "WEBP":
        details["webp_lossless"] = _webp_is_lossless(path)
    return details


def _tiff_tags(im: Image.Image) -> dict[int, Any]:
    """IFD0 tags, with the Exif/GPS sub-IFD pointers replaced by their contents (dicts)."""
    tags: dict[int, Any] = dict(getattr(im, "tag_v2", {}))
    exif = im.getexif()
    for pointer in (TIFF_EXIF_IFD, TIFF_GPS_IFD):
        if pointer in tags:
            sub: dict[int, Any] = dict(exif.get_ifd(pointer))
            if pointer == TIFF_EXIF_IFD and TIFF_INTEROP_IFD in sub:
                sub[TIFF_INTEROP_IFD] = dict(exif.get_ifd(TIFF_INTEROP_IFD))
            tags[pointer] = sub
    return tags


def _webp_is_lossless(path: Path) -> bool:
    """True if the RIFF container's image chunk is VP8L (lossless) rather than VP8."""
    with path.open("rb") as fh:
        data = fh.read(1 << 20)
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if kind in (b"VP8L", b"VP8 "):
            return kind == b"VP8L"
        pos += 8 + size + (size & 1)
    return False


def _jpeg_segments(path: Path) -> tuple[tuple[int, bytes], ...]:
    from photoenhance.core.imaging.jpegseg import read_header_segments

    with path.open("rb") as fh:
        return read_header_segments(fh)


def _metadata(im: Image.Image, path: Path, fmt: str, mode: str, bits: int) -> SourceMetadata:
    exif = _raw_exif(im, fmt)
    icc = im.info.get("icc_profile")
    return SourceMetadata(
        path=path, format=fmt, size=im.size, mode=mode, bit_depth=bits,
        has_alpha=mode in ("LA", "RGBA"), exif=exif, xmp=_xmp(im, fmt), iptc=_iptc(im, fmt),
        icc=bytes(icc) if icc else None, dpi=_dpi(im), orientation=_orientation(exif),
        **_format_details(im, fmt, path),
    )


def read_metadata(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> SourceMetadata:
    """Read a photo's metadata (EXIF, XMP, IPTC, ICC, DPI, JPEG tables) without its pixels.

    Raises:
        ImageReadError: the file is not a readable image (or a subclass for the specific
            unsupported / too-large cases).
    """
    path = Path(path)
    with open_image(path) as im:
        fmt = _check_openable(im, path, max_pixels)
        mode = "I;16" if im.mode.startswith("I;16") else im.mode
        bits = 16 if fmt == "PNG" and png16.is_16bit_color(path) else _bit_depth(im, fmt)
        meta = _metadata(im, path, fmt, mode, bits)
    if meta.heif_transformed and meta.orientation in (5, 6, 7, 8):  # size as stored
        meta = dataclasses.replace(meta, size=(meta.size[1], meta.size[0]))
    return meta


def _heif_transformed(path: Path) -> bool:
    """Whether libheif rotates/mirrors the primary image (irot/imir boxes) while decoding."""
    try:
        heif = pillow_heif.open_heif(path)
        image = heif[heif.primary_index]
    except (OSError, ValueError, RuntimeError):
        return False
    transforms = getattr(getattr(image, "_c_image", None), "transformations", ())
    return any(t[0] == "imir" or (t[0] == "irot" and t[1]) for t in transforms)
