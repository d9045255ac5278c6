"""Where photoenhance keeps and finds its files.

User data (catalog, caches, logs, settings) lives in the platformdirs folders. Shipped files
(``models/`` and ``resources/``) are found next to the package in a source checkout, inside
the package when installed from a wheel, and inside a frozen bundle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "photoenhance"
CATALOG_ENV = "PHOTOENHANCE_CATALOG"
#: Folder (under a library root) where enhanced copies go by default; the scanner skips it.
OUTPUT_DIR_NAME = "Enhanced"

_PKG_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_catalog_path() -> Path:
    """The catalog path: ``$PHOTOENHANCE_CATALOG`` if set, else the platform data dir."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env).expanduser()
    return data_dir() / "catalog.sqlite"


def _shipped_dir(name: str) -> Path:
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / name)
    candidates += [_PKG_DIR / "_data" / name, _PKG_DIR.parent / name]
    for cand in candidates:
        if cand.is_dir():
            return cand
    return candidates[-1]


def models_dir() -> Path:
    """Folder of shipped model weights and model cards."""
    return _shipped_dir("models")


def resources_dir() -> Path:
    """Folder of shipped icons, style sheets, demo photos and desktop files."""
    return _shipped_dir("resources")
