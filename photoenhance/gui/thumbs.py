"""Thumbnails for the library grid: decoded on workers, cached on disk and in memory.

A thumbnail is upright (EXIF orientation applied, for display only) and at most
:data:`THUMB_SIDE` pixels on its long side. The disk cache is keyed by path, size and
modification time, so an edited photo gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage

from photoenhance.core.errors import PhotoEnhanceError
from photoenhance.core.imaging import decode_rgb
from photoenhance.core.progress import CancelToken
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
    try:  # a JPEG is scaled while it is decoded, to a long side of 512-1023 px
        im = decode_rgb(Path(path), long_side=2 * THUMB_SIDE).image
        im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    except (PhotoEnhanceError, OSError, ValueError) as exc:
        raise PhotoEnhanceError(f"no thumbnail for {path}: {exc}") from exc
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        im.save(cached, quality=85)
    except OSError as exc:  # a full or read-only cache only costs speed
        log.debug("Cannot cache the thumbnail of %s: %s", path, exc)
    data = im.tobytes()
    return QImage(data, im.width, im.height, 3 * im.width, QImage.Format.Format_RGB888).copy()


def make_thumbnails(
    paths: list[str],
    folder: Path,
    progress: Callable[[Any], None],  # called with (path, image or None)
    cancel: CancelToken,
) -> None:
    """Make each thumbnail in turn, reporting ``(path, image or None)``; stop when cancelled.
    Runs on a worker."""
    for path in paths:
        if cancel.cancelled:
            return
        try:
            image: QImage | None = make_thumbnail(path, folder)
        except PhotoEnhanceError as exc:
            log.debug("%s", exc)
            image = None
        progress((path, image))


class ThumbnailCache(QObject):
    """Hands out thumbnails it has; queues the ones it lacks and says when they are ready.

    Requests are gathered while a view paints and sent to the workers together once it is
    done, in batches (one per worker) that replace the previous ones: a page scrolled past
    before its thumbnails were made costs at most the one thumbnail each worker is making.
    """

    ready = Signal(str)  # the photo path whose thumbnail arrived

    def __init__(self, folder: Path, pool: QThreadPool | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.pool = pool or QThreadPool(self)
        if pool is None:
            self.pool.setMaxThreadCount(2)
        self._memory: OrderedDict[str, QImage | None] = OrderedDict()
        self._wanted: dict[str, None] = {}  # asked for since the last dispatch, in order
        self._queued: dict[str, bridge.Task] = {}  # path -> the batch that makes it
        self._dispatch_soon = QTimer(self, singleShot=True, interval=0)
        self._dispatch_soon.timeout.connect(self._dispatch)

    def get(self, path: str) -> QImage | None:
        """The thumbnail if known (None while it is made, or when it cannot be)."""
        if path in self._memory:
            self._memory.move_to_end(path)
            return self._memory[path]
        self._wanted[path] = None
        if not self._dispatch_soon.isActive():
            self._dispatch_soon.start()
        return None

    def failed(self, path: str) -> bool:
        """Whether making the thumbnail of ``path`` failed (the file cannot be read)."""
        return path in self._memory and self._memory[path] is None

    def _dispatch(self) -> None:
        wanted = [p for p in self._wanted if p not in self._memory]
        self._wanted.clear()
        if all(p in self._queued for p in wanted):
            return  # the running batches make all of them already
        for task in set(self._queued.values()):
            task.cancel()  # stops after the thumbnail it is making
        self._queued.clear()
        workers = max(1, self.pool.maxThreadCount())
        for part in (wanted[i::workers] for i in range(workers)):
            if part:
                self._start(part)

    def _start(self, paths: list[str]) -> None:
        task = bridge.Task(
            lambda progress, cancel: make_thumbnails(paths, self.folder, progress, cancel), self
        )
        task.progressed.connect(lambda result: self._arrived(*result))
        for signal in (task.finished, task.failed, task.cancelled):
            signal.connect(lambda *_args, t=task: self._batch_done(t))
        self._queued.update(dict.fromkeys(paths, task))
        bridge.start(task, self.pool)

    def _arrived(self, path: str, image: QImage | None) -> None:
        self._queued.pop(path, None)
        self._memory[path] = image
        while len(self._memory) > MEMORY_ITEMS:
            self._memory.popitem(last=False)
        self.ready.emit(path)

    def _batch_done(self, task: bridge.Task) -> None:
        """Forget what a stopped batch did not make, so it can be asked for again."""
        for path in [p for p, t in self._queued.items() if t is task]:
            del self._queued[path]
        task.deleteLater()

    def clear_pending(self) -> None:
        """Drop queued requests (thumbnails being made still land in the cache)."""
        self._dispatch_soon.stop()
        self._wanted.clear()
        for task in set(self._queued.values()):
            task.cancel()
        self._queued.clear()
        self.pool.clear()
