"""Enhanced copies keep what follows the primary image: trailers, other pictures, videos.

The files are built in the test (see ``tests/fixtures/imaging/trailer_fixtures.py``) and the
copies are checked independently of the writer's own parser: by the bytes at the end of the
file, by Pillow (``n_frames``, format MPO) and by exiftool (skipped where it is missing).
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoenhance.core.imaging import (
    OutputPolicy,
    Provenance,
    load_image,
    read_metadata,
    write_enhanced_copy,
)
from photoenhance.core.imaging.jpegseg import image_end
from photoenhance.devtools.metadata_check import exiftool_diff, verify_metadata

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "imaging"))
import trailer_fixtures as tf  # noqa: E402

PROV = Provenance("test-model", "0" * 64, 0.5, "9.9.9")
needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None,
                                    reason="exiftool is not installed")


def _enhance(src: Path, fmt: str = "keep") -> Path:
    pixels = load_image(src).pixels
    changed = (pixels // 2 + 40).astype(np.uint8)  # the primary really changes
    return write_enhanced_copy(src, changed, PROV, library_root=src.parent,
                               policy=OutputPolicy(format=fmt))  # type: ignore[arg-type]


def _exiftool(path: Path, *args: str) -> str:
    exe = shutil.which("exiftool")
    assert exe is not None
    return subprocess.run([exe, "-a", "-G1", "-s", *args, str(path)], capture_output=True,
                          text=True, check=False).stdout


def _xmp_text(path: Path) -> str:
    xmp = read_metadata(path).xmp
    return xmp.decode("utf-8") if xmp else ""


# -- the marker walk -----------------------------------------------------------------------
def test_image_end_walks_scans_and_ignores_what_follows() -> None:
    for progressive in (False, True):
        buf = io.BytesIO()
        tf._pixels(9).save(buf, "JPEG", quality=90, progressive=progressive)
        data = buf.getvalue()
        assert data.endswith(b"\xff\xd9")
        assert image_end(data + b"\xff\xd9\xff\xd8junk\xff\xd9") == len(data)
    with pytest.raises(ValueError):
        image_end(data[: len(data) // 2])


# -- trailers ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fotostation.jpg", "photomechanic.jpg", "samsung.jpg",
                                  "unknown.jpg"])
def test_trailer_is_carried_byte_for_byte(tmp_path: Path, name: str) -> None:
    trailer = tf.trailer_files(tmp_path)[name]
    out = _enhance(tmp_path / name).read_bytes()
    assert out.endswith(trailer)
    assert image_end(out) == len(out) - len(trailer)  # right after the new primary
    assert "Dropped" not in _xmp_text(tmp_path / "Enhanced" / f"{Path(name).stem}_enhanced.jpg")


@pytest.mark.parametrize("name", ["afcp.jpg", "stacked.jpg"])
def test_afcp_offsets_follow_the_trailer(tmp_path: Path, name: str) -> None:
    trailer = tf.trailer_files(tmp_path)[name]
    out = _enhance(tmp_path / name).read_bytes()
    start = len(out) - len(trailer)
    afcp_at = out.rindex(b"AXS!", 0, len(out) - 12)
    (footer_start,) = struct.unpack(">I", out[-8:-4])
    assert footer_start == afcp_at  # the footer points at the header where it now is
    (count,) = struct.unpack(">H", out[afcp_at + 6 : afcp_at + 8])
    for i in range(count):
        tag, size, offset = struct.unpack(">4sII", out[afcp_at + 12 + 12 * i:][:12])
        src_entry = trailer[afcp_at - start + 12 + 12 * i:][:12]
        src_offset = struct.unpack(">I", src_entry[8:])[0]
        src_trailer_start = len((tmp_path / name).read_bytes()) - len(trailer)
        assert out[offset : offset + size] == (tmp_path / name).read_bytes()[
            src_offset : src_offset + size], tag
        assert offset - start == src_offset - src_trailer_start
    if name == "stacked.jpg":  # the Photo Mechanic trailer before it is untouched
        assert out[start:afcp_at] == trailer[: afcp_at - start]


def test_afcp_with_offsets_already_wrong_is_found_and_fixed(tmp_path: Path) -> None:
    base = tf.jpeg(1)
    src = tmp_path / "shifted.jpg"
    src.write_bytes(base + tf.afcp(len(base) + 1000))  # offsets 1000 bytes off
    out = _enhance(src).read_bytes()
    at = out.rindex(b"AXS!", 0, len(out) - 12)
    assert struct.unpack(">I", out[-8:-4])[0] == at
    tag, size, offset = struct.unpack(">4sII", out[at + 12 : at + 24])
    assert tag == b"IPTC" and out[offset : offset + size].startswith(b"\x1c\x02")


@needs_exiftool
def test_trailer_tags_survive_per_exiftool(tmp_path: Path) -> None:
    tf.trailer_files(tmp_path)
    for src in sorted(tmp_path.glob("*.jpg")):
        out = _enhance(src)
        diff = exiftool_diff(src, out)
        assert diff is not None and not diff.lost and not diff.changed, (src.name, diff)
        assert "Warning" not in _exiftool(out), src.name
        # no warning the source lacks (IPTC in a trailer is "non-standard" to exiftool)
        assert _exiftool(out, "-validate", "-warning") == _exiftool(src, "-validate",
                                                                    "-warning"), src.name
        report = verify_metadata(src, out)
        assert report.ok, (src.name, report.lost, report.changed)
    text = _exiftool(tmp_path / "Enhanced" / "stacked_enhanced.jpg")
    assert "Caption-Abstract                : Trailer caption" in text
    assert "[PhotoMechanic] ColorClass" in text


# -- Motion Photos -------------------------------------------------------------------------
@pytest.mark.parametrize("container", [False, True])
def test_motion_photo_video_is_kept_where_the_xmp_says(tmp_path: Path, container: bool) -> None:
    src, video = tf.motion_photo(tmp_path, container=container)
    out_path = _enhance(src)
    out = out_path.read_bytes()
    text = _xmp_text(out_path)
    if container:
        lengths = [int(n) for n in re.findall(r'Item:Length="(\d+)"', text)]
        assert lengths == [len(video)]
        from_end = sum(lengths)
    else:
        from_end = int(re.search(r'MicroVideoOffset="(\d+)"', text).group(1))  # type: ignore
    assert out[len(out) - from_end :] == video


def test_samsung_motion_photo_keeps_the_trailer_and_its_video(tmp_path: Path) -> None:
    src, trailer = tf.samsung_motion_photo(tmp_path)
    out_path = _enhance(src)
    out = out_path.read_bytes()
    assert out.endswith(trailer)
    from_end = int(re.search(r'MicroVideoOffset="(\d+)"', _xmp_text(out_path)).group(1))  # type: ignore
    assert out[len(out) - from_end :].startswith(tf.mp4(900)[:32])


# -- multi-picture files -------------------------------------------------------------------
def _frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        frames = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")).copy())
        return frames


def test_stereo_mpo_keeps_its_second_view(tmp_path: Path) -> None:
    src = tf.stereo_mpo(tmp_path)
    out = _enhance(src)
    with Image.open(out) as im:
        assert im.format == "MPO" and im.n_frames == 2
    before, after = _frames(src), _frames(out)
    assert np.array_equal(before[1], after[1])  # the other eye, byte for byte
    assert not np.array_equal(before[0], after[0])  # the enhanced primary
    data = src.read_bytes()
    second = data[image_end(data):]
    assert out.read_bytes().endswith(second)
    assert verify_metadata(src, out).ok


@needs_exiftool
def test_mpf_index_is_valid_per_exiftool(tmp_path: Path) -> None:
    src, preview = tf.mpo_with_preview(tmp_path)
    out = _enhance(src)
    text = _exiftool(out)
    assert "Warning" not in text and "Error" not in text
    assert re.search(r"Validate\s+: OK", _exiftool(out, "-validate"))
    assert re.search(r"NumberOfImages\s+: 2", text)
    assert "Large Thumbnail (VGA equivalent)" in text
    start = int(re.search(r"\[MPImage2\]\s+MPImageStart\s+: (\d+)", text).group(1))  # type: ignore
    data = out.read_bytes()
    assert data[start : start + len(preview)] == preview
    primary_len = int(re.search(r"\[MPImage1\]\s+MPImageLength\s+: (\d+)", text).group(1))  # type: ignore
    assert primary_len == image_end(data) == start
    diff = exiftool_diff(src, out)
    assert diff is not None and not diff.lost and not diff.changed, diff


def test_ultra_hdr_drops_the_gain_map_and_its_xmp(tmp_path: Path) -> None:
    src, gain, _ = tf.ultra_hdr(tmp_path)
    out = _enhance(src)
    with Image.open(out) as im:
        assert im.format == "JPEG"  # one picture left: a plain JPEG, no MPF
    data = out.read_bytes()
    assert gain not in data and b"MPF\x00" not in data
    assert image_end(data) == len(data)
    text = _xmp_text(out)
    assert "hdrgm:Version" not in text and 'Semantic="GainMap"' not in text
    assert 'Item:Semantic="Primary"' in text and 'xmp:Rating="3"' in text
    assert "HDR gain map" in text and "photoenhance:Dropped" in text
    report = verify_metadata(src, out)
    assert report.ok, (report.lost, report.changed)
    assert any("gain map" in e for e in report.expected)


@needs_exiftool
def test_ultra_hdr_motion_photo_keeps_the_video_and_a_true_directory(tmp_path: Path) -> None:
    src, gain, video = tf.ultra_hdr(tmp_path, video=True)
    out = _enhance(src)
    data = out.read_bytes()
    assert data.endswith(video) and gain not in data
    text = _exiftool(out)
    assert "XMP-hdrgm" not in text and "MPF0" not in text
    assert re.findall(r"DirectoryItemSemantic\s+: (\w+)", text) == ["Primary", "MotionPhoto"]
    assert re.findall(r"DirectoryItemLength\s+: (\d+)", text) == [str(len(video))]
    diff = exiftool_diff(src, out)
    assert diff is not None and not diff.lost and not diff.changed, diff


def test_gain_map_dropped_but_preview_kept_renumbers_the_index(tmp_path: Path) -> None:
    gain_xmp = tf._xmp('hdrgm:Version="1.0"', ns=tf._HDRGM)
    gain = tf.jpeg(11, gain_xmp, size=(48, 32), grey=True)
    preview = tf.jpeg(12, size=(48, 32))
    src = tmp_path / "three.jpg"
    src.write_bytes(tf.with_mpf(tf.jpeg(10), [(0, gain), (0x010001, preview)]))
    out = _enhance(src)
    with Image.open(out) as im:
        assert im.format == "MPO" and im.n_frames == 2
        entries = im.mpinfo[0xB002]
    data = out.read_bytes()
    assert gain not in data and data.endswith(preview)
    assert entries[1]["Size"] == len(preview)
    assert entries[1]["Attribute"]["MPType"] == "Large Thumbnail (VGA Equivalent)"


# -- a copy in a format with no place for them ---------------------------------------------
def test_png_copy_drops_and_records_trailers_and_video(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    src, _video = tf.samsung_motion_photo(tmp_path)
    out = _enhance(src, "png")
    text = _xmp_text(out)
    assert "Samsung trailer holding the Motion Photo video" in text
    assert "MicroVideo" not in text.replace("Motion Photo video", "")
    assert any("Samsung trailer" in r.getMessage() for r in caplog.records)
    report = verify_metadata(src, out)
    assert report.ok, (report.lost, report.changed)


def test_mpo_to_png_drops_the_other_view_and_says_so(tmp_path: Path) -> None:
    src = tf.stereo_mpo(tmp_path)
    out = _enhance(src, "png")
    assert "MPF picture 2" in _xmp_text(out)
    with Image.open(out) as im:
        assert im.format == "PNG"


@pytest.mark.parametrize("fmt", ["keep", "png"])
def test_motion_photo_whose_video_is_not_there(tmp_path: Path, fmt: str) -> None:
    """The XMP points at bytes that are no MP4: they are kept as they are in a JPEG copy;
    a PNG copy drops them and the Motion Photo fields, and records that."""
    src, video = tf.motion_photo(tmp_path, container=False)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) - len(video)] + b"\x00" * len(video))
    out = _enhance(src, fmt)
    text = _xmp_text(out)
    if fmt == "keep":
        assert out.read_bytes().endswith(b"\x00" * len(video))
        assert f'MicroVideoOffset="{len(video)}"' in text
    else:
        assert "unknown data after the image holding the Motion Photo video" in text
        assert "MicroVideoOffset" not in text
    report = verify_metadata(src, out)
    assert report.ok, (report.lost, report.changed)
