"""Decode photos: exact pixels for enhancing, upright 8-bit RGB for looking at them.

The app decodes a photo in one of two ways, both here:

- :func:`load_image`, for the enhancer and the writer: every pixel in its own bit depth, in
  *stored* orientation (EXIF Orientation is never applied, so it can carry over to the
  enhanced copy unchanged), with its metadata (:func:`~.header.read_metadata`) kept aside.
- :func:`decode_rgb`, for scoring, thumbnails and previews: upright 8-bit RGB, whole or a
  region, at full size or reduced for a target size (libjpeg's DCT scaling while decoding
  a JPEG, then a box filter).

HEIF needs one extra step in :func:`load_image`: libheif always applies the container's
rotation boxes (irot/imir) while decoding, so when a HEIF has them and its EXIF Orientation
says the same thing, the rotation is undone; pillow-heif writes the boxes again from the EXIF
Orientation when the copy is saved. A HEIF whose container is rotated but whose EXIF says 1
(or nothing) keeps its displayed pixels and EXIF as they are.

A multi-picture JPEG (MPO, Ultra HDR; Pillow calls it "MPO") is a JPEG whose primary picture
is decoded; what follows that picture is the writer's business (see :mod:`tail`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photoenhance.core.errors import ImageReadError
from photoenhance.core.imaging import png16
from photoenhance.core.imaging.header import (
    DEFAULT_MAX_PIXELS,
    SourceMetadata,
    check_pixels,
    format_name,
    open_image,
    read_metadata,
)
from photoenhance.core.imaging.orient import apply_orientation, inverse_orientation


@dataclass(frozen=True)
class DecodedImage:
    """Pixels (H x W x C, uint8 or uint16, C in 1-4, stored orientation) plus metadata."""

    pixels: np.ndarray
    mode: str
    format: str
    bit_depth: int
    has_alpha: bool
    metadata: SourceMetadata


def _to_array(im: Image.Image) -> np.ndarray:
    if im.mode.startswith("I;16"):
        arr = np.asarray(im.convert("I;16") if im.mode != "I;16" else im, dtype=np.uint16)
    else:
        arr = np.asarray(im, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def load_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode a photo into stored-orientation pixels plus its metadata.

    Raises:
        ImageReadError: corrupt, truncated, missing or non-image file.
        UnsupportedImageError: CMYK, palette, animated or otherwise unsupported image.
        ImageTooLargeError: past ``max_pixels`` (checked from the header, before decoding).
    """
    path = Path(path)
    meta = read_metadata(path, max_pixels)
    if meta.format == "PNG" and meta.bit_depth == 16 and meta.mode in ("RGB", "RGBA", "LA"):
        arr = png16.decode(path)
    else:
        arr = _decode_pillow(path)
        if meta.format == "HEIF" and meta.heif_transformed and meta.orientation not in (None, 1):
            arr = apply_orientation(arr, inverse_orientation(int(meta.orientation or 1)))
    return DecodedImage(pixels=arr, mode=meta.mode, format=meta.format,
                        bit_depth=meta.bit_depth, has_alpha=meta.has_alpha, metadata=meta)


def _decode_pillow(path: Path) -> np.ndarray:
    with open_image(path) as im:
        _load(im, path)
        return _to_array(im)


# --- Upright 8-bit RGB, for looking at a photo: scoring, thumbnails, previews ------------

#: A rectangle (left, top, right, bottom) in pixels of the upright, full-size photo.
Box = tuple[int, int, int, int]
#: JPEG DCT scaling factors libjpeg offers through Pillow's ``draft``.
_DRAFT_SCALES = (8, 4, 2)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Picture:
    """An upright 8-bit RGB picture of a photo (from :func:`decode_rgb`).

    ``image`` is the whole photo or the asked region, possibly reduced; ``full_size`` is the
    upright (width, height) of the whole photo at full resolution. The pixels keep the file's
    colour encoding: ``icc`` is its embedded profile (None: sRGB is assumed), not applied.
    """

    image: Image.Image
    full_size: tuple[int, int]
    format: str
    orientation: int = 1
    icc: bytes | None = None


def decode_rgb(path: Path, long_side: int | None = None, region: Box | None = None,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> Picture:
    """Decode ``path`` to upright 8-bit RGB: EXIF orientation applied, alpha dropped, 16-bit
    grey scaled down; CMYK, palette and other modes converted.

    Args:
        long_side: reduce the result so its longer side lies in ``[long_side, 2 * long_side)``
            (or stays as it is when already shorter): by libjpeg's DCT scaling while decoding
            a JPEG (Pillow ``draft``, several times faster than a full decode), then by a
            whole-factor box filter (Pillow ``reduce``). None: full resolution.
        region: only this box of the upright full-size photo (it is cropped before turning
            the pixels upright, so the rest is never rotated or converted).

    Raises:
        ImageReadError: missing, corrupt or non-image file; ImageTooLargeError past
            ``max_pixels`` (checked from the header).
    """
    path = Path(path)
    im = open_image(path)
    try:
        check_pixels(im, path, max_pixels)
        fmt = format_name(im)
        orientation = _pillow_orientation(im)
        full = im.size
        box = _stored_box(region, orientation, full) if region else (0, 0, *full)
        if long_side and fmt == "JPEG":
            _draft(im, box, full, long_side)
        _load(im, path)
        out = _cut(im, box, full, long_side)
        icc = im.info.get("icc_profile")
    except BaseException:
        im.close()
        raise
    if orientation in _TRANSPOSE:
        out = out.transpose(_TRANSPOSE[orientation])
    upright = full if orientation < 5 else (full[1], full[0])
    return Picture(out, upright, fmt, orientation, bytes(icc) if icc else None)


def _pillow_orientation(im: Image.Image) -> int:
    """EXIF (or XMP) orientation as Pillow reads it; 1 for HEIF, which libheif turned."""
    try:
        value = im.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, struct.error):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _stored_box(region: Box, orientation: int, size: tuple[int, int]) -> Box:
    """``region`` of the upright photo as a box of the stored pixels (``size`` as stored)."""
    w, h = size
    x0, y0, x1, y1 = region
    if orientation >= 5:  # transposed: upright x runs along stored y
        x0, y0, x1, y1 = y0, x0, y1, x1
    if orientation in (2, 3, 7, 8):  # stored x runs against upright x (or y)
        x0, x1 = w - x1, w - x0
    if orientation in (3, 4, 6, 7):  # stored y runs against upright y (or x)
        y0, y1 = h - y1, h - y0
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def _draft(im: Image.Image, box: Box, full: tuple[int, int], long_side: int) -> None:
    """Ask libjpeg for the largest DCT scaling that keeps ``box`` at least ``long_side``."""
    longest = max(box[2] - box[0], box[3] - box[1])
    scale = next((s for s in _DRAFT_SCALES if longest // s >= long_side), 1)
    if scale > 1:
        im.draft("RGB", (max(1, full[0] // scale), max(1, full[1] // scale)))


def _load(im: Image.Image, path: Path) -> None:
    try:
        im.load()  # single-frame files close their file here
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"the image data is corrupt or truncated ({exc})", path) from exc


def _cut(im: Image.Image, box: Box, full: tuple[int, int], long_side: int | None
         ) -> Image.Image:
    """The (drafted) image cropped to ``box``, reduced for ``long_side``, as 8-bit RGB."""
    if im.size != full:  # drafted: the box in the smaller grid
        kx, ky = im.width / full[0], im.height / full[1]
        box = (int(box[0] * kx), int(box[1] * ky),
               max(int(box[0] * kx) + 1, round(box[2] * kx)),
               max(int(box[1] * ky) + 1, round(box[3] * ky)))
    out = im if box == (0, 0, *im.size) else im.crop(box)
    factor = max(out.size) // long_side if long_side else 1
    if out.mode.startswith("I;16"):  # 16-bit grey: the high byte, not clipped at 255
        out = Image.fromarray((np.asarray(out, dtype=np.uint16) >> 8).astype(np.uint8))
    if out.mode != "RGB":
        out = out.convert("RGB")
    return out.reduce(factor) if factor >= 2 else out
