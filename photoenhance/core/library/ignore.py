"""What the scanner (and the file watcher) skips, and which files count as photos.

Rules work on names only, so they cost no system call.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from photoenhance.core.paths import OUTPUT_DIR_NAME

#: Lower-case extensions of the formats photoenhance indexes.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".hif"}
)

#: Matches the name of a candidate photo: not hidden, and an image extension in any ASCII
#: case. One C call, for the scanner's per-file loop; :func:`is_image_name` is the same rule.
_EXTENSION_NAMES = "|".join(sorted(re.escape(ext[1:]) for ext in IMAGE_EXTENSIONS))
PHOTO_NAME = re.compile(rf"[^.].*\.(?:{_EXTENSION_NAMES})\Z", re.IGNORECASE | re.ASCII | re.DOTALL)

#: Folders made by operating systems, NAS boxes and photo tools (compared case-insensitively).
SYSTEM_DIR_NAMES = frozenset(
    name.casefold()
    for name in (
        "@eaDir",
        "#recycle",
        "#snapshot",
        "$RECYCLE.BIN",
        "System Volume Information",
        "RECYCLER",
        "lost+found",
        "__MACOSX",
        "Thumbs",
        "node_modules",
        "__pycache__",
    )
)


def is_hidden(name: str) -> bool:
    """Dot-files and dot-folders (``.Trashes``, ``.thumbnails``, AppleDouble ``._x.jpg``)."""
    return name.startswith(".")


def is_output_dir(name: str) -> bool:
    """photoenhance's own output folder: its files are enhanced copies, never originals."""
    return name == OUTPUT_DIR_NAME


def skip_dir(name: str) -> bool:
    """Whether the scanner should not descend into a folder called ``name``."""
    return is_hidden(name) or is_output_dir(name) or name.casefold() in SYSTEM_DIR_NAMES


def is_image_name(name: str) -> bool:
    """Whether a file called ``name`` is a candidate photo (by extension, not hidden)."""
    return PHOTO_NAME.match(name) is not None


def is_ignored_path(path: PurePath, root: PurePath | None = None) -> bool:
    """Whether ``path`` (a file) lies in a skipped folder or is not a candidate photo.

    Only the parts below ``root`` are checked when it is given.
    """
    parts = path.relative_to(root).parts if root is not None else path.parts
    if not parts or not is_image_name(parts[-1]):
        return True
    return any(skip_dir(part) for part in parts[:-1])
