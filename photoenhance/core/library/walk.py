"""A fast ``os.scandir`` walk of a library root that lists candidate photo files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from photoenhance.core.library.ignore import PHOTO_NAME, skip_dir

#: A candidate photo as the walk finds it: one string ``f"{path}\0{size}\0{mtime_ns}"``.
#: A path cannot hold NUL, so the string is unambiguous (see :func:`parse_found`), and a
#: no-change rescan compares the catalog's rows with the walk as two sets of strings.
Found = str


@dataclass
class WalkState:
    """What a walk learned besides the files: unreadable folders and the folders visited."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    visited: set[tuple[int, int]] = field(default_factory=set)
    dirs: int = 0


def parse_found(found: Found) -> tuple[str, int, int]:
    """``(path, size, mtime_ns)`` of one :data:`Found` string."""
    path, size, mtime_ns = found.split("\0")
    return path, int(size), int(mtime_ns)


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dir_key(entry: os.DirEntry[str], dev: int) -> tuple[int, int]:
    """(device, inode) of a subfolder. Free for plain folders (``d_ino``, parent's device);
    a stat call only for symlinks, the way loops come about."""
    if entry.is_symlink():
        st = entry.stat()
        return st.st_dev, st.st_ino
    return dev, entry.inode()


def _scan_dir(
    path: str, dev: int, state: WalkState, stack: list[tuple[str, int]], found: list[Found]
) -> None:
    """Append the candidate photos directly in ``path`` to ``found``; its subfolders go
    on ``stack``.

    This loop runs once per file of the library, so it is kept flat: one ``stat`` per
    photo, no function call for names that are plainly not photos, and one list append.
    """
    is_photo, visited, add = PHOTO_NAME.match, state.visited, found.append
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name
            if not (name.isascii() or _encodable(name)):
                state.errors.append((entry.path, "file name is not valid UTF-8; skipped"))
            elif entry.is_dir():
                if not skip_dir(name) and (key := _dir_key(entry, dev)) not in visited:
                    visited.add(key)
                    stack.append((entry.path, key[0]))
            elif is_photo(name):
                try:
                    st = entry.stat()
                except OSError as exc:  # e.g. a dangling symlink
                    state.errors.append((entry.path, exc.strerror or str(exc)))
                    continue
                add(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}")


def walk(root: str, state: WalkState, found: list[Found]) -> Iterator[str]:
    """Append the candidate photos under ``root`` to ``found``; yield each folder's path
    once it is done, so the caller can report progress and cancel between folders.

    Skips hidden, system and output folders (see :mod:`.ignore`) and symlink loops. Folders
    that cannot be read are appended to ``state.errors`` and never stop the walk.
    """
    st = os.stat(root)
    if (st.st_dev, st.st_ino) in state.visited:
        return
    state.visited.add((st.st_dev, st.st_ino))
    stack = [(root, st.st_dev)]
    while stack:
        path, dev = stack.pop()
        state.dirs += 1
        try:
            _scan_dir(path, dev, state, stack, found)
        except OSError as exc:
            state.errors.append((path, exc.strerror or str(exc)))
            continue
        yield path
