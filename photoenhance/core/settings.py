"""Typed, versioned user settings stored as JSON in the platformdirs config folder.

Old files are upgraded step by step (one function per version) and unknown keys are kept
out, so a settings file from any earlier release loads.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from photoenhance.core import paths

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1

OutputLocation = Literal["mirror", "suffix"]
OutputFormat = Literal["keep", "jpeg", "png", "tiff"]
Device = Literal["auto", "cpu", "cuda"]


@dataclass
class Settings:
    """Everything the user can change. Defaults are what a new user gets."""

    output_location: OutputLocation = "mirror"
    output_format: OutputFormat = "keep"
    jpeg_min_quality: int = 90
    threshold: float = 0.4
    strength: float = 1.0
    auto_strength: bool = True  # scale the strength by each photo's measured need
    #: after restoring, correct exposure, contrast and colour (core.ml.tone); off until the
    #: tone model meets its benchmark targets (docs/BENCHMARKS.md, issue 22)
    tone: bool = False
    device: Device = "auto"
    threads: int = 0  # 0 = all cores
    alerts_enabled: bool = True
    watched_roots: list[str] = field(default_factory=list)
    unwatched_roots: list[str] = field(default_factory=list)
    version: int = SETTINGS_VERSION


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def _upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("version", 0))
    while version < SETTINGS_VERSION:
        step = _UPGRADES.get(version)
        raw = step(raw) if step else raw
        version += 1
        raw["version"] = version
    return raw


def load_settings(path: Path | None = None) -> Settings:
    """Load settings; a missing or unreadable file gives the defaults (and a log line)."""
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("Settings file %s is unreadable (%s); using defaults.", path, exc)
        return Settings()
    raw = _upgrade(raw)
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in raw.items() if k in known})


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically (temp file + rename)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(settings), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
