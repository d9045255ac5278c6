"""decode_rgb: upright 8-bit RGB, whole or a region, full size or reduced while decoding."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from photoenhance.core.errors import ImageReadError, ImageTooLargeError
from photoenhance.core.imaging import decode_rgb, load_image
from photoenhance.core.imaging.orient import apply_orientation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "imaging"))
import imaging_fixtures as fx  # noqa: E402


def _png(path: Path, orientation: int, size: tuple[int, int] = (64, 48)) -> Path:
    """A lossless photo (so pixels compare exactly) whose EXIF says ``orientation``."""
    arr = fx.pixels(size[1], size[0])
    Image.fromarray(arr).save(path, "PNG", exif=fx.exif_bytes(orientation, False, size))
    return path


def _smooth_jpeg(path: Path, size: tuple[int, int], orientation: int = 1) -> np.ndarray:
    """A smooth gradient JPEG (DCT scaling changes it little); returns its upright pixels."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1).astype(np.uint8)
    Image.fromarray(arr).save(path, quality=95, exif=fx.exif_bytes(orientation, False, size))
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_like_pillow_and_the_display_path(tmp_path: Path, orientation: int) -> None:
    src = _png(tmp_path / f"o{orientation}.png", orientation)
    pic = decode_rgb(src)
    with Image.open(src) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert np.array_equal(np.asarray(pic.image), expected)
    stored = load_image(src)  # the enhancer's decode, turned upright, agrees
    assert np.array_equal(np.asarray(pic.image), apply_orientation(stored.pixels, orientation))
    assert pic.image.mode == "RGB" and pic.orientation == orientation
    assert pic.full_size == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_region_is_a_box_of_the_upright_photo(tmp_path: Path, orientation: int) -> None:
    src = _png(tmp_path / f"r{orientation}.png", orientation)
    full = np.asarray(decode_rgb(src).image)
    box = (5, 7, 29, 40)  # left, top, right, bottom: inside both 64x48 and 48x64
    got = np.asarray(decode_rgb(src, region=box).image)
    assert np.array_equal(got, full[7:40, 5:29])


def test_long_side_uses_dct_scaling_then_a_box_filter(tmp_path: Path) -> None:
    full = _smooth_jpeg(tmp_path / "big.jpg", (1200, 800))
    pic = decode_rgb(tmp_path / "big.jpg", long_side=100)  # 1/8 DCT scaling: 150 x 100
    assert pic.image.size == (150, 100) and pic.full_size == (1200, 800)
    pic = decode_rgb(tmp_path / "big.jpg", long_side=70)  # then reduce(2): 75 x 50
    assert pic.image.size == (75, 50)
    expected = np.asarray(Image.fromarray(full).reduce(16), dtype=np.float32)
    assert np.abs(np.asarray(pic.image, dtype=np.float32) - expected).mean() < 3


def test_long_side_of_a_region_of_a_turned_jpeg(tmp_path: Path) -> None:
    full = _smooth_jpeg(tmp_path / "turned.jpg", (960, 640), orientation=6)  # upright 640 x 960
    pic = decode_rgb(tmp_path / "turned.jpg", long_side=100, region=(0, 160, 320, 960))
    assert pic.full_size == (640, 960)
    assert 100 <= max(pic.image.size) < 200
    w, h = pic.image.size
    expected = np.asarray(Image.fromarray(full[160:960, 0:320]).resize((w, h)), np.float32)
    assert np.abs(np.asarray(pic.image, dtype=np.float32) - expected).mean() < 4


def test_other_formats_reduce_without_draft(tmp_path: Path) -> None:
    src = _png(tmp_path / "p.png", 1, (400, 300))
    assert decode_rgb(src, long_side=150).image.size == (200, 150)  # reduce(2)
    assert decode_rgb(src, long_side=100).image.size == (100, 75)  # reduce(4)
    assert decode_rgb(src, long_side=1000).image.size == (400, 300)  # already smaller


def test_sixteen_bit_grey_keeps_its_high_byte(tmp_path: Path) -> None:
    src = fx.png(tmp_path / "g16.png", channels=1, bits=16)
    stored = load_image(src).pixels[:, :, 0]
    got = np.asarray(decode_rgb(src).image)
    assert np.array_equal(got[:, :, 1], (stored >> 8).astype(np.uint8))  # not clipped at 255


def test_heif_is_upright_once(tmp_path: Path) -> None:
    src = fx.heic(tmp_path / "h.heic", orientation=6)
    pic = decode_rgb(src)
    stored = load_image(src)
    assert pic.format == "HEIF" and pic.full_size == (32, 48)
    expected = apply_orientation(stored.pixels, 6)
    assert np.array_equal(np.asarray(pic.image), expected)


def test_metadata_and_errors(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "j.jpg")
    pic = decode_rgb(src)
    assert pic.icc == fx.icc_profile() and pic.format == "JPEG"
    with pytest.raises(ImageReadError, match="not found"):
        decode_rgb(tmp_path / "gone.jpg")
    with pytest.raises(ImageTooLargeError):
        decode_rgb(src, max_pixels=100)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(src.read_bytes()[:-300])
    with pytest.raises(ImageReadError):
        decode_rgb(cut)
