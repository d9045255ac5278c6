"""16-bit colour PNG (RGB, RGBA, grey+alpha), which Pillow can only read as 8-bit.

Pillow keeps 16-bit *grey* PNGs (mode ``I;16``) but narrows 16-bit colour to 8 bits. This
module decodes and encodes the pixel data itself (zlib + the five PNG row filters) and leaves
every metadata chunk to Pillow. Decoding rows that use the Average or Paeth filters is a Python
loop, so large 16-bit colour PNGs decode slowly (seconds per megapixel); they are rare.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np

from photoenhance.core.errors import ImageReadError, UnsupportedImageError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((ctype, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if ctype == b"IEND":
            break
    return out


def _header(path: Path) -> tuple[int, int, int, int, int] | None:
    with path.open("rb") as fh:
        head = fh.read(33)
    if not head.startswith(SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height, depth, ctype, _comp, _filt, interlace = struct.unpack(">IIBBBBB", head[16:29])
    return width, height, depth, ctype, interlace


def is_16bit_color(path: Path) -> bool:
    """True for a 16-bit RGB, RGBA or grey+alpha PNG."""
    hdr = _header(path)
    return hdr is not None and hdr[2] == 16 and hdr[3] in (2, 4, 6)


def _paeth_row(cur: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        cur[i] = (cur[i] + pred) & 0xFF


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        row = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1)
        if ftype == 0:
            cur = row.copy()
        elif ftype == 1:
            sums = np.cumsum(row.reshape(-1, bpp), axis=0, dtype=np.uint64)
            cur = (sums & 0xFF).astype(np.uint8).reshape(-1)
        elif ftype == 2:
            cur = row + prev
        elif ftype == 3:
            buf = bytearray(row.tobytes())
            pb = prev.tobytes()
            for i in range(stride):
                a = buf[i - bpp] if i >= bpp else 0
                buf[i] = (buf[i] + ((a + pb[i]) >> 1)) & 0xFF
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        elif ftype == 4:
            buf = bytearray(row.tobytes())
            _paeth_row(buf, prev.tobytes(), bpp)
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        else:
            raise ValueError(f"bad PNG filter type {ftype}")
        out[y] = cur
        prev = out[y]
    return out


def decode(path: Path) -> np.ndarray:
    """Decode a 16-bit PNG into an H x W x C uint16 array."""
    hdr = _header(path)
    if hdr is None:
        raise ImageReadError("not a PNG file", path)
    width, height, depth, ctype, interlace = hdr
    if interlace:
        raise UnsupportedImageError("interlaced 16-bit colour PNGs are not supported", path)
    channels = _CHANNELS[ctype]
    try:
        idat = b"".join(d for t, d in _chunks(path.read_bytes()) if t == b"IDAT")
        raw = zlib.decompress(idat)
        stride = width * channels * 2
        if len(raw) < height * (stride + 1):
            raise ValueError("image data is truncated")
        rows = _unfilter(raw, height, stride, channels * 2)
    except (zlib.error, ValueError) as exc:
        raise ImageReadError(f"the image data is corrupt or truncated ({exc})", path) from exc
    return rows.view(">u2").astype(np.uint16).reshape(height, width, channels)


def _chunk(ctype: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(ctype + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def encode(pixels: np.ndarray, metadata_png: bytes) -> bytes:
    """A 16-bit PNG of ``pixels`` carrying the ancillary chunks of ``metadata_png``.

    ``metadata_png`` is any PNG (Pillow's 8-bit rendering, say) whose iCCP/pHYs/eXIf/tEXt/iTXt
    chunks should be kept; its own IHDR and pixel data are replaced.
    """
    height, width, channels = pixels.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    ihdr = struct.pack(">IIBBBBB", width, height, 16, ctype, 0, 0, 0)
    body = pixels.astype(">u2").reshape(height, width * channels * 2 // 2).view(np.uint8)
    body = body.reshape(height, -1)
    filtered = np.concatenate([np.zeros((height, 1), dtype=np.uint8), body], axis=1)
    out = io.BytesIO()
    out.write(SIGNATURE + _chunk(b"IHDR", ihdr))
    for ctype_, data in _chunks(metadata_png):
        if ctype_ not in (b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"sBIT"):
            out.write(_chunk(ctype_, data))
    out.write(_chunk(b"IDAT", zlib.compress(filtered.tobytes(), 6)))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()
