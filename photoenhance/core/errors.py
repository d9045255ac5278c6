"""User-facing errors versus bugs.

Anything derived from :class:`PhotoEnhanceError` is a *known* condition (bad input, a full
disk, a missing file) whose message is written for a photographer and is shown as one line,
never as a traceback. Any other exception is a bug.
"""

from __future__ import annotations

from pathlib import Path


class PhotoEnhanceError(Exception):
    """A known, user-facing error. ``str(err)`` is a complete sentence for the user."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.reason = message


class UsageError(PhotoEnhanceError):
    """Bad arguments or options."""


class ImageReadError(PhotoEnhanceError):
    """A file is corrupt, truncated, not an image, or cannot be read."""


class UnsupportedImageError(ImageReadError):
    """An image that decodes but that photoenhance cannot process (CMYK, animation, ...)."""


class ImageTooLargeError(ImageReadError):
    """An image past the explicit pixel limit."""


class OutputError(PhotoEnhanceError):
    """An output could not be written (read-only folder, disk full, vanished drive)."""


class DiskFullError(OutputError):
    """No space left on the output device."""


class RefusedOverwriteError(OutputError):
    """A write would have replaced an original or an existing file."""


class CatalogError(PhotoEnhanceError):
    """The catalog database cannot be opened or migrated."""


class ModelError(PhotoEnhanceError):
    """Model weights are missing, corrupt, or do not match their model card."""


class Cancelled(PhotoEnhanceError):  # noqa: N818 - reads better at call sites
    """The user cancelled a long operation."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)
