"""Thumbnails for the library grid: decoded on workers, cached on disk and in memory.

A thumbnail is upright (EXIF orientation applied, for display only) and at most
:data:`THUMB_SIDE` pixels on its long side. The disk cache is keyed by path, size and
modification time, so an edited photo gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.gui import bridge

log = logging.getLogger(__name__)

THUMB_SIDE = 256
#: Thumbnails kept in memory (about 200 KB each).
MEMORY_ITEMS = 800


def cache_file(folder: Path, path: str) -> Path:
    try:
        st = Path(path).stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "missing"
    digest = hashlib.sha1(f"{path}\0{stamp}".encode(), usedforsecurity=False).hexdigest()
    return folder / digest[:2] / f"{digest}.jpg"


def make_thumbnail(path: str, folder: Path) -> QImage:
    """The cached thumbnail of ``path``, made (and cached) when missing. Runs on a worker."""
    cached = cache_file(folder, path)
    if cached.is_file():
        image = QImage(str(cached))
        if not image.isNull():
            return image
    try:
        with Image.open(path) as im:
            im.draft("RGB", (THUMB_SIDE * 2, THUMB_SIDE * 2))  # fast JPEG downscale
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGB")
            im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoEnhanceError(f"no thumbnail for {path}: {exc}") from exc
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        im.save(cached, quality=85)
    except OSError as exc:  # a full or read-only cache only costs speed
        log.debug("Cannot cache the thumbnail of %s: %s", path, exc)
    data = im.tobytes()
    return QImage(data, im.width, im.height, 3 * im.width, QImage.Format.Format_RGB888).copy()


class ThumbnailCache(QObject):
    """Hands out thumbnails it has; queues the ones it lacks and says when they are ready."""

    ready = Signal(str)  # the photo path whose thumbnail arrived

    def __init__(self, folder: Path, pool: QThreadPool | None = None,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.pool = pool or QThreadPool(self)
        if pool is None:
            self.pool.setMaxThreadCount(2)
        self._memory: OrderedDict[str, QImage | None] = OrderedDict()
        self._pending: set[str] = set()

    def get(self, path: str) -> QImage | None:
        """The thumbnail if known (None while it is made, or when it cannot be)."""
        if path in self._memory:
            self._memory.move_to_end(path)
            return self._memory[path]
        if path not in self._pending:
            self._pending.add(path)
            task = bridge.Task(lambda _p, _c: make_thumbnail(path, self.folder), self)
            task.finished.connect(lambda img, p=path: self._arrived(p, img))
            task.failed.connect(lambda _msg, p=path: self._arrived(p, None))
            bridge.start(task, self.pool)
        return None

    def _arrived(self, path: str, image: QImage | None) -> None:
        self._pending.discard(path)
        self._memory[path] = image
        while len(self._memory) > MEMORY_ITEMS:
            self._memory.popitem(last=False)
        self.ready.emit(path)

    def clear_pending(self) -> None:
        """Forget queued requests (their results still land in the cache)."""
        self.pool.clear()
        self._pending.clear()
