"""Logging set-up: short messages on stderr, a rotating log file in the user log folder.

``setup_logging()`` is called once per process by the entry points. stderr shows warnings
(info with ``--verbose``); the file ``<log_dir>/photoenhance.log`` keeps info and above
(debug with ``--verbose``) with timestamps, rotated at about 1 MB with 3 old files kept, so a
user can attach it to a bug report.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from photoenhance.core.paths import log_dir

LOG_FILE_NAME = "photoenhance.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3

STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

#: Attribute set on the handlers added here, so a second call replaces them, not doubles them.
_MARK = "_photoenhance_handler"


def log_file() -> Path:
    """The current log file (older ones are ``photoenhance.log.1`` .. ``.3``)."""
    return log_dir() / LOG_FILE_NAME


def setup_logging(verbose: bool = False) -> Path | None:
    """Attach the stderr and rotating-file handlers to the root logger.

    Returns the log file path, or None when the log folder cannot be created (then only
    stderr logging is set up; logging must never stop the app from starting).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()

    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    setattr(stderr, _MARK, True)
    root.addHandler(stderr)

    file_level = logging.DEBUG if verbose else logging.INFO
    path: Path | None = log_file()
    try:
        log_file().parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            log_file(), maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file %s: %s", path, exc)
        path = None
    else:
        rotating.setLevel(file_level)
        rotating.setFormatter(logging.Formatter(FILE_FORMAT))
        setattr(rotating, _MARK, True)
        root.addHandler(rotating)

    lowest = min(stderr.level, file_level if path is not None else stderr.level)
    if root.level == logging.NOTSET or root.level > lowest:
        root.setLevel(lowest)
    return path
