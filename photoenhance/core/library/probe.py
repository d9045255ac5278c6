"""Read what the catalog needs from one file: a fingerprint and header + EXIF fields.

Pixels are never decoded: PIL's ``Image.open`` reads only the header, and EXIF comes from
the header too. A file is opened once; small files are read once. Pillow reads HEIC/HEIF
through the opener :mod:`photoenhance.core.imaging.header` registers (importing any
``core.imaging`` module, as this one does, loads it).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from photoenhance.core.imaging.jpegseg import read_jpeg_header
from photoenhance.core.imaging.tiffifd import (
    TAG_DATETIME,
    TAG_DATETIME_ORIGINAL,
    TAG_EXIF_IFD,
    TAG_MAKE,
    TAG_MODEL,
    TAG_ORIENTATION,
    parse_datetime,
    read_exif,
)

#: Bytes hashed from each end of the file.
CHUNK = 64 * 1024


@dataclass(frozen=True)
class ProbeResult:
    fingerprint: str | None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    orientation: int | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    captured_at: datetime | None = None
    error: str | None = None


def fingerprint_bytes(size: int, head: bytes, tail: bytes) -> str:
    digest = hashlib.blake2b(size.to_bytes(8, "little"), digest_size=16)
    digest.update(head)
    digest.update(tail)
    return digest.hexdigest()


def _read_ends(fh: BinaryIO, size: int) -> tuple[bytes, bytes]:
    head = fh.read(CHUNK)
    if size <= CHUNK:
        return head, b""
    fh.seek(max(CHUNK, size - CHUNK))
    return head, fh.read(CHUNK)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ").strip()
    return value or None


def _pillow_exif(im: Image.Image) -> dict[str, object]:
    """EXIF through Pillow: TIFF tags, PNG text profiles, XMP orientation."""
    # The base-class getexif reads the header; PNG's override would decode pixels.
    exif = Image.Image.getexif(im)
    orientation = exif.get(TAG_ORIENTATION)
    taken = (exif.get_ifd(TAG_EXIF_IFD).get(TAG_DATETIME_ORIGINAL)
             if TAG_EXIF_IFD in exif else None)
    return {
        "orientation": orientation if isinstance(orientation, int) else None,
        "camera_make": _text(exif.get(TAG_MAKE)),
        "camera_model": _text(exif.get(TAG_MODEL)),
        "captured_at": (parse_datetime(_text(taken))
                        or parse_datetime(_text(exif.get(TAG_DATETIME)))),
    }


def _header_fields(im: Image.Image) -> dict[str, object]:
    block = im.info.get("exif")
    fields = read_exif(block) if isinstance(block, bytes) else _pillow_exif(im)
    return {"width": im.width, "height": im.height, "format": im.format, **fields}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not a readable image (unknown format or corrupt header)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def probe_file(path: str, size: int) -> ProbeResult:
    """Fingerprint ``path`` and read its header and EXIF. Never raises for a bad file."""
    try:
        with open(path, "rb") as fh:
            head, tail = _read_ends(fh, size)
            fingerprint = fingerprint_bytes(size, head, tail)
            if not head:
                return ProbeResult(fingerprint, error="empty file")
            jpeg = read_jpeg_header(head)
            if jpeg is not None:
                fields = read_exif(jpeg.exif) if jpeg.exif else {}
                return ProbeResult(fingerprint, jpeg.width, jpeg.height, "JPEG",
                                   **fields)  # type: ignore[arg-type]
            fh.seek(0)
            source: BinaryIO = io.BytesIO(head) if size <= CHUNK else fh
            try:
                with Image.open(source) as im:
                    return ProbeResult(fingerprint, **_header_fields(im))  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - any parser failure means unreadable
                return ProbeResult(fingerprint, error=_describe(exc))
    except OSError as exc:
        return ProbeResult(None, error=_describe(exc))

