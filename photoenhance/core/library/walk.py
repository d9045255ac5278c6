"""A fast ``os.scandir`` walk of a library root that yields candidate photo files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from photoenhance.core.library.ignore import IMAGE_EXTENSIONS, skip_dir

#: ``(path, size, mtime_ns)`` of one candidate photo.
FileStat = tuple[str, int, int]


@dataclass
class WalkState:
    """What a walk learned besides the files: unreadable folders and the folders visited."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    visited: set[tuple[int, int]] = field(default_factory=set)
    dirs: int = 0


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_visit(path: str, state: WalkState, st: os.stat_result | None = None) -> bool:
    """Record a folder by (device, inode); False if already seen (a symlink loop)."""
    st = st or os.stat(path)
    key = (st.st_dev, st.st_ino)
    if key in state.visited:
        return False
    state.visited.add(key)
    return True


def _add_file(entry: os.DirEntry[str], state: WalkState, files: list[FileStat]) -> None:
    try:
        st = entry.stat()
    except OSError as exc:  # e.g. a dangling symlink
        state.errors.append((entry.path, exc.strerror or str(exc)))
        return
    files.append((entry.path, st.st_size, st.st_mtime_ns))


def _scan_dir(path: str, state: WalkState, stack: list[str]) -> list[FileStat]:
    """The candidate photos directly in ``path``; its subfolders go on ``stack``.

    This loop runs once per file of the library, so it is kept flat (no calls for names
    that are plainly not photos).
    """
    files: list[FileStat] = []
    exts = IMAGE_EXTENSIONS
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name
            if not (name.isascii() or _encodable(name)):
                state.errors.append((entry.path, "file name is not valid UTF-8; skipped"))
            elif entry.is_dir():
                if not skip_dir(name) and _first_visit(entry.path, state, entry.stat()):
                    stack.append(entry.path)
            elif name[0] != "." and name[name.rfind("."):].lower() in exts:
                _add_file(entry, state, files)
    return files


def walk(root: str, state: WalkState) -> Iterator[list[FileStat]]:
    """Yield the candidate photos under ``root``, one list per folder.

    Skips hidden, system and output folders (see :mod:`.ignore`) and symlink loops. Folders
    that cannot be read are appended to ``state.errors`` and never stop the walk.
    """
    if not _first_visit(root, state):
        return
    stack = [root]
    while stack:
        path = stack.pop()
        state.dirs += 1
        try:
            yield _scan_dir(path, state, stack)
        except OSError as exc:
            state.errors.append((path, exc.strerror or str(exc)))
