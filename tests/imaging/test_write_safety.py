"""The writer never touches an original, never overwrites, and never leaves partial files."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from photoenhance.core.errors import (
    DiskFullError,
    OutputError,
    RefusedOverwriteError,
    UsageError,
)
from photoenhance.core.imaging import (
    OutputPolicy,
    Provenance,
    cleanup_stale_temp_files,
    estimate_jpeg_quality,
    load_image,
    read_metadata,
    write_enhanced_copy,
)
from photoenhance.core.imaging import write as writer
from photoenhance.core.imaging.write import TEMP_PREFIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "imaging"))
import imaging_fixtures as fx  # noqa: E402

PROV = Provenance("test-model", "0" * 64, 0.5, "9.9.9")
REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _write(src: Path, **kw: object) -> Path:
    kw.setdefault("library_root", src.parent)
    return write_enhanced_copy(src, load_image(src).pixels, PROV, **kw)  # type: ignore[arg-type]


def test_batch_leaves_every_original_byte_identical(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "a" / "b").mkdir(parents=True)
    sources = [fx.jpeg(lib / "a" / "x.jpg"), fx.png(lib / "a" / "b" / "y.png"),
               fx.tiff(lib / "z.tif"), fx.webp(lib / "w.webp")]
    before = _tree(lib)
    outs = [_write(s, library_root=lib) for s in sources]
    outs += [_write(s, library_root=lib) for s in sources]  # second enhancement: new names
    after = _tree(lib)
    assert {k: v for k, v in after.items() if not k.startswith("Enhanced/")} == before
    assert outs[0] == lib / "Enhanced" / "a" / "x_enhanced.jpg"
    assert outs[4] == lib / "Enhanced" / "a" / "x_enhanced-2.jpg"
    assert len(set(outs)) == 8 and all(o.is_file() for o in outs)


def test_suffix_location_and_forced_format(tmp_path: Path) -> None:
    src = fx.tiff(tmp_path / "t.tif", 3, 8)
    out = _write(src, policy=OutputPolicy(location="suffix", format="jpeg"))
    assert out == tmp_path / "t_enhanced.jpg"
    meta = read_metadata(out)
    assert meta.format == "JPEG" and meta.icc == fx.icc_profile()
    assert meta.iptc is not None and fx.iptc_iim() in meta.iptc


def test_mirror_outside_library_is_a_usage_error(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    with pytest.raises(UsageError, match="x.jpg"):
        _write(src, library_root=tmp_path / "elsewhere")


def test_refuses_a_symlink_to_the_source(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    (tmp_path / "x_enhanced.jpg").symlink_to(src)
    before = src.read_bytes()
    with pytest.raises(RefusedOverwriteError, match="x.jpg"):
        _write(src, policy=OutputPolicy(location="suffix"))
    assert src.read_bytes() == before
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_refuses_a_catalogued_original_even_with_other_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    other = fx.jpeg(tmp_path / "OTHER.JPG")
    originals = {str(other).casefold()}
    (tmp_path / "x_enhanced.jpg").symlink_to(tmp_path / "other.jpg")  # dangling on ext4
    with pytest.raises(RefusedOverwriteError):
        _write(src, policy=OutputPolicy(location="suffix"),
               is_original=lambda p: str(p).casefold() in originals)
    monkeypatch.setattr(writer, "_case_insensitive", lambda folder: True)
    (tmp_path / "x_enhanced.jpg").unlink()
    (tmp_path / "x_enhanced.jpg").symlink_to(tmp_path / "X.JPG")
    with pytest.raises(RefusedOverwriteError):  # X.JPG is x.jpg on a case-insensitive disk
        _write(src, policy=OutputPolicy(location="suffix"))


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    (tmp_path / "Enhanced").mkdir()
    taken = tmp_path / "Enhanced" / "x_enhanced.jpg"
    taken.write_bytes(b"user's file")
    out = _write(src)
    assert out.name == "x_enhanced-2.jpg" and taken.read_bytes() == b"user's file"


def test_jpeg_never_lower_quality(tmp_path: Path) -> None:
    for quality in (60, 95, 99):
        src = fx.jpeg(tmp_path / f"q{quality}.jpg", quality=quality)
        src_q = estimate_jpeg_quality(read_metadata(src).jpeg_qtables)
        assert src_q == quality
        out = _write(src, policy=OutputPolicy(jpeg_quality_floor=50))
        assert estimate_jpeg_quality(read_metadata(out).jpeg_qtables) == max(50, quality)


@pytest.mark.parametrize("where", ["fsync", "link"])
def test_full_disk_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  where: str) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    before = _tree(tmp_path)

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.os, where, full)
    with pytest.raises(DiskFullError, match="x.jpg") as info:
        _write(src)
    assert "no space" in str(info.value).lower()
    monkeypatch.undo()
    assert {k: v for k, v in _tree(tmp_path).items()} == before  # no output, no temp file


def test_read_only_target_is_a_clear_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    real_open = os.open

    def denied(path: object, flags: int, *args: object) -> int:
        if TEMP_PREFIX in str(path):
            raise PermissionError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.os, "open", denied)  # tests run as root: chmod would not bite
    with pytest.raises(OutputError, match="read-only") as info:
        _write(src)
    assert "x.jpg" in str(info.value)
    assert not list(tmp_path.rglob(f"{TEMP_PREFIX}*"))


CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    sys.path.insert(0, {fixtures!r})
    import imaging_fixtures as fx
    from pathlib import Path
    from photoenhance.core.imaging import Provenance, write_enhanced_copy
    from photoenhance.core.imaging import write as w
    w._CHUNK = 4096
    real_fdopen = os.fdopen
    class Slow:
        def __init__(self, fh): self.fh = fh
        def write(self, b): time.sleep(0.01); return self.fh.write(b)
        def __getattr__(self, name): return getattr(self.fh, name)
        def __enter__(self): return self
        def __exit__(self, *a): return self.fh.__exit__(*a)
    w.os.fdopen = lambda *a, **k: Slow(real_fdopen(*a, **k))
    src = Path(sys.argv[1])
    pixels = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    write_enhanced_copy(src, pixels, Provenance("m", "0" * 64, 1.0), library_root=src.parent)
""")


def test_sigkill_mid_write_leaves_no_partial_file(tmp_path: Path) -> None:
    src = fx.png(tmp_path / "x.png", 3, 8)
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(fixtures=str(Path(fx.__file__).parent)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script), str(src)], env=env)
    out_dir = tmp_path / "Enhanced"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        temps = list(out_dir.glob(f"{TEMP_PREFIX}*")) if out_dir.exists() else []
        if temps and temps[0].stat().st_size > 8192:
            break
        assert proc.poll() is None, "the writer finished before it could be killed"
        time.sleep(0.005)
    else:
        pytest.fail("no temporary file appeared")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert list(out_dir.glob(f"{TEMP_PREFIX}*")), "expected the partial temp file"
    assert not (out_dir / "x_enhanced.png").exists()  # never a partial output
    removed = cleanup_stale_temp_files(tmp_path)
    assert len(removed) == 1
    assert sorted(p.name for p in out_dir.iterdir()) == []


def test_cleanup_spares_recent_temp_files_when_asked(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f"{TEMP_PREFIX}abc.jpg"
    stale.write_bytes(b"x")
    keep = tmp_path / "photo.jpg"
    keep.write_bytes(b"y")
    assert cleanup_stale_temp_files(tmp_path, min_age_s=3600) == []
    assert cleanup_stale_temp_files(tmp_path) == [stale]
    assert keep.exists() and not stale.exists()


def test_bad_pixels_are_refused(tmp_path: Path) -> None:
    src = fx.jpeg(tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="uint8/uint16"):  # a caller bug, not a user error
        write_enhanced_copy(src, np.zeros((4, 4, 3), np.float32), PROV, library_root=tmp_path)
    assert not (tmp_path / "Enhanced").exists() or not any((tmp_path / "Enhanced").iterdir())
