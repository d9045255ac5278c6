"""Write enhanced copies: never over an original or an existing file, atomically.

The copy is encoded in memory, written to ``.photoenhance-tmp-<pid>-<random>.<ext>`` in the target
folder, flushed and fsynced, then hard-linked to its final name (``os.link`` fails if that name
exists, so nothing can be clobbered, even by a concurrent writer) and the temporary name is
removed; the folder is fsynced last. Where hard links are not supported (FAT, some network
shares) a check-then-rename is used instead. A crash leaves at most a temporary file, which
:func:`cleanup_stale_temp_files` removes at the next start (the job runner calls it for the
output folders of unfinished jobs when the app starts, on ``jobs resume`` and ``enhance``).

Naming: ``<stem>_enhanced<ext>``, then ``<stem>_enhanced-2<ext>``, ... In "mirror" mode the file
goes to ``<library_root>/Enhanced/<folder relative to the root>/``; in "suffix" mode next to the
original. Without a library root, "mirror" uses the source's own folder as the root.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from photoenhance.core.errors import (
    DiskFullError,
    OutputError,
    RefusedOverwriteError,
    UsageError,
)
from photoenhance.core.imaging.encode import EncodeJob, encode
from photoenhance.core.imaging.header import SourceMetadata, read_metadata
from photoenhance.core.imaging.jpegseg import MAX_SEGMENT_PAYLOAD
from photoenhance.core.imaging.metadata import (
    Provenance,
    estimate_jpeg_quality,
    updated_exif,
    xmp_with_provenance,
)
from photoenhance.core.imaging.mpf import MPF_PREFIX
from photoenhance.core.imaging.tail import (
    ISO_GAIN_MAP,
    Tail,
    TailPlan,
    adjusted_xmp,
    assemble,
    plan_tail,
    read_tail,
)
from photoenhance.core.imaging.tiffifd import EXIF_PREFIX
from photoenhance.core.paths import OUTPUT_DIR_NAME

log = logging.getLogger(__name__)

TEMP_PREFIX = ".photoenhance-tmp-"
ENHANCED_SUFFIX = "_enhanced"
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "HEIF": ".heic"}
_CHUNK = 1 << 20
MAX_VERSIONS = 10_000


@dataclass(frozen=True)
class OutputPolicy:
    """Where and how enhanced copies are written.

    Attributes:
        location: "mirror" (``<library_root>/Enhanced/<relative folder>/``) or "suffix"
            (next to the original).
        format: "keep" the source's format, or force "jpeg", "png" or "tiff".
        jpeg_quality_floor: JPEG quality is max(this, the source's estimated quality); the
            source's estimate always wins if higher, so a copy is never coarser than its source.
        folder: an explicit output folder (the CLI's ``--out``); overrides ``location``.
    """

    location: Literal["mirror", "suffix"] = "mirror"
    format: Literal["keep", "jpeg", "png", "tiff"] = "keep"
    jpeg_quality_floor: int = 90
    folder: Path | None = None


def output_format(meta: SourceMetadata, policy: OutputPolicy) -> str:
    return meta.format if policy.format == "keep" else policy.format.upper()


def jpeg_quality_for(meta: SourceMetadata, policy: OutputPolicy) -> int:
    """The JPEG quality for a copy: never below the source's estimated quality."""
    estimate = estimate_jpeg_quality(meta.jpeg_qtables) or 0
    return min(100, max(policy.jpeg_quality_floor, estimate))


def _target_dir(source: Path, library_root: Path | None, policy: OutputPolicy) -> Path:
    if policy.folder is not None:
        return policy.folder
    if policy.location == "suffix":
        return source.parent
    root = library_root if library_root is not None else source.parent
    try:
        rel = source.parent.resolve().relative_to(root.resolve())
    except ValueError as exc:
        raise UsageError(f"the photo is not inside the library folder {root}", source) from exc
    return root / OUTPUT_DIR_NAME / rel


def _candidates(folder: Path, stem: str, ext: str) -> Iterator[Path]:
    yield folder / f"{stem}{ENHANCED_SUFFIX}{ext}"
    for n in range(2, MAX_VERSIONS):
        yield folder / f"{stem}{ENHANCED_SUFFIX}-{n}{ext}"


def _case_insensitive(folder: Path) -> bool:
    """Whether ``folder``'s file system ignores case (probed on a name that has letters)."""
    for part in (folder, *folder.parents):
        swapped = part.name.swapcase()
        if swapped != part.name:
            try:
                return os.path.samefile(part, part.parent / swapped)
            except OSError:
                return False
    return False


def _refuse_if_original(target: Path, source: Path,
                        is_original: Callable[[Path], bool] | None) -> None:
    real = Path(os.path.realpath(target))
    fold = _case_insensitive(target.parent)
    src_real = os.path.realpath(source)
    same = (str(real).casefold() == src_real.casefold()) if fold else str(real) == src_real
    if same or (is_original is not None and (is_original(target) or is_original(real))):
        raise RefusedOverwriteError(f"refusing to write over an original photo ({target})",
                                    source)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _os_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError("no space left on the output drive; nothing was written", path)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError("the output folder is read-only or not writable", path)
    return OutputError(f"cannot write the enhanced copy ({exc.strerror or exc})", path)


def _write_temp(folder: Path, ext: str, data: bytes) -> Path:
    # The writer's process id is in the name, so a cleanup never takes a live writer's file.
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{ext}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            view = memoryview(data)
            for start in range(0, len(view), _CHUNK):
                fh.write(view[start : start + _CHUNK])
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _publish(tmp: Path, target: Path) -> bool:
    """Give ``tmp`` the name ``target`` unless that exists. True on success."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK):
            raise
        if target.exists() or target.is_symlink():
            return False
        os.rename(tmp, target)
        return True
    tmp.unlink()
    return True


def _place(folder: Path, source: Path, ext: str, data: bytes,
           is_original: Callable[[Path], bool] | None) -> Path:
    tmp = _write_temp(folder, ext, data)
    try:
        for target in _candidates(folder, source.stem, ext):
            _refuse_if_original(target, source, is_original)
            if target.exists() or target.is_symlink():
                continue
            if _publish(tmp, target):
                _fsync_dir(folder)
                return target
        raise OutputError("too many enhanced versions of this photo already exist", source)
    finally:
        tmp.unlink(missing_ok=True)


def _source_ref(source: Path, library_root: Path | None) -> str:
    if library_root is not None:
        try:
            return source.resolve().relative_to(library_root.resolve()).as_posix()
        except ValueError:
            pass
    return source.name


def build_copy(source: Path, pixels: np.ndarray, provenance: Provenance, fmt: str,
               meta: SourceMetadata, policy: OutputPolicy, source_ref: str) -> bytes:
    """Encode the enhanced copy's bytes (no file is touched)."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4) or pixels.dtype not in (
            np.uint8, np.uint16):
        raise ValueError(  # a caller bug, not a user-facing condition
            f"enhanced pixels must be HxWxC uint8/uint16, got {pixels.shape} {pixels.dtype}")
    tail = _read_tail(source, meta)
    plan = plan_tail(tail, fmt) if tail is not None else None
    xmp = meta.xmp
    if tail is not None and plan is not None:
        meta, xmp = _apply_plan(source, meta, tail, plan)
        provenance = dataclasses.replace(provenance, dropped=plan.records())
    max_exif = MAX_SEGMENT_PAYLOAD - len(EXIF_PREFIX) if fmt == "JPEG" else None
    exif, _edited = updated_exif(meta.exif, pixels, meta.size, provenance, max_exif)
    job = EncodeJob(pixels=pixels, fmt=fmt, meta=meta, exif=exif,
                    xmp=xmp_with_provenance(xmp, provenance, source_ref),
                    jpeg_quality=jpeg_quality_for(meta, policy), software=provenance.software)
    try:
        data = encode(job)
        if tail is not None and plan is not None and fmt == "JPEG":
            data = assemble(data, tail, plan)
        return data
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot encode the enhanced copy as {fmt} ({exc})", source) from exc


def _read_tail(source: Path, meta: SourceMetadata) -> Tail | None:
    """What follows the source JPEG's primary image (MPF pictures, trailers), if anything."""
    if meta.format != "JPEG":
        return None
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise _os_error(exc, source) from exc
    return read_tail(data, meta.xmp)


def _apply_plan(source: Path, meta: SourceMetadata, tail: Tail, plan: TailPlan
                ) -> tuple[SourceMetadata, bytes | None]:
    """The metadata to encode once ``plan``'s drops are made (logged; recorded by the caller)."""
    for piece, why in plan.dropped:
        log.warning("%s: not copying the %s: %s", source, piece.name, why)
    gain_dropped = any(p.gain_map for p, _ in plan.dropped)
    segments = tuple(
        (m, p) for m, p in meta.jpeg_segments
        if not (m == 0xE2 and p.startswith(MPF_PREFIX) and not plan.keeps_pictures)
        and not (m == 0xE2 and p.startswith(ISO_GAIN_MAP) and gain_dropped))
    return dataclasses.replace(meta, jpeg_segments=segments), adjusted_xmp(meta.xmp, tail, plan)


def planned_location(source: Path, library_root: Path | None,
                     policy: OutputPolicy = OutputPolicy()) -> tuple[Path, str]:
    """The folder and extension a copy of ``source`` would get (reads only its header)."""
    meta = read_metadata(source)
    return _target_dir(source, library_root, policy), _ext_for(source, meta, policy)


def planned_copy(source: Path, library_root: Path | None,
                 policy: OutputPolicy = OutputPolicy()) -> Path:
    """Where a copy of ``source`` is planned to go, without reading the file.

    The folder is exact; the name is the first version's (a later write takes ``-2`` ... if
    that name is taken by then) with the extension the source's suffix suggests.

    Raises:
        UsageError: "mirror" location and the source is outside ``library_root``.
    """
    suffix = source.suffix
    if policy.format != "keep":
        same = {"jpeg": (".jpg", ".jpeg", ".jpe"), "png": (".png",),
                "tiff": (".tif", ".tiff")}[policy.format]
        suffix = suffix if suffix.lower() in same else same[0]
    return _target_dir(source, library_root, policy) / f"{source.stem}{ENHANCED_SUFFIX}{suffix}"


def _ext_for(source: Path, meta: SourceMetadata, policy: OutputPolicy) -> str:
    fmt = output_format(meta, policy)
    return source.suffix if fmt == meta.format and source.suffix else _EXTENSIONS[fmt]


def existing_copies(source: Path, folder: Path, ext: str) -> list[Path]:
    """Enhanced copies of ``source`` already in ``folder``, by their versioned names."""
    found = []
    for cand in _candidates(folder, source.stem, ext):
        if not cand.exists():
            if cand.name.endswith(f"{ENHANCED_SUFFIX}{ext}"):
                continue  # the first version may be gone while later ones remain
            break
        found.append(cand)
    return found


def write_enhanced_copy(source: Path, pixels: np.ndarray, provenance: Provenance, *,
                        library_root: Path | None, policy: OutputPolicy = OutputPolicy(),
                        is_original: Callable[[Path], bool] | None = None) -> Path:
    """Write an enhanced copy of ``source`` and return its path. The source is only read.

    Raises:
        ImageReadError: the source cannot be read (or its subclasses).
        RefusedOverwriteError: the target resolves to the source or a catalogued original.
        DiskFullError: the output drive is full (nothing is left behind).
        OutputError: the folder is read-only or the copy cannot be written.
        UsageError: "mirror" location and the source is outside ``library_root``.
    """
    source = Path(source)
    meta = read_metadata(source)
    fmt = output_format(meta, policy)
    folder, ext = _target_dir(source, library_root, policy), _ext_for(source, meta, policy)
    data = build_copy(source, pixels, provenance, fmt, meta, policy,
                      _source_ref(source, library_root))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _place(folder, source, ext, data, is_original)
    except OSError as exc:
        raise _os_error(exc, source) from exc


#: A temporary file this old is stale even if its writer's process id is in use again.
STALE_AFTER_S = 24 * 3600.0


def _writer_alive(name: str) -> bool:
    """Whether the process that named temporary file ``name`` still runs (False: unknown)."""
    pid_text = name[len(TEMP_PREFIX):].partition("-")[0]
    if not pid_text.isdigit() or os.name == "nt":  # an older name, or no cheap check
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists but belongs to someone else
        return True
    return True


def _stale_temp_files(folder: Path, recursive: bool) -> Iterator[Path]:
    if recursive:
        for dirpath, _dirs, files in os.walk(folder):
            yield from (Path(dirpath) / n for n in files if n.startswith(TEMP_PREFIX))
        return
    try:
        with os.scandir(folder) as it:
            yield from (Path(e.path) for e in it
                        if e.name.startswith(TEMP_PREFIX) and e.is_file(follow_symlinks=False))
    except OSError:  # missing or unreadable folder: nothing of ours to clean there
        return


def cleanup_stale_temp_files(folder: Path, *, min_age_s: float = 0.0,
                             recursive: bool = True) -> list[Path]:
    """Remove temporary files left by an interrupted write in (or anywhere under) ``folder``.

    Only files named like our own temporary files are touched, and never one whose writing
    process still runs (unless it is a day old: its process id has been reused). Pass
    ``min_age_s`` to spare recent ones too. Returns the paths removed.
    """
    import time

    removed: list[Path] = []
    now = time.time()
    for path in _stale_temp_files(folder, recursive):
        try:
            age = now - path.lstat().st_mtime
            if age >= min_age_s and (age >= STALE_AFTER_S or not _writer_alive(path.name)):
                path.unlink()
                removed.append(path)
        except OSError:  # gone already, or not ours to remove: leave it
            continue
    return removed
