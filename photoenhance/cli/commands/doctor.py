"""``photoenhance doctor``: what this installation is made of, for bug reports."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

from photoenhance import __version__
from photoenhance.core import paths


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "doctor", help="show versions, devices, catalog and model files (for bug reports)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _torch_info() -> dict[str, Any]:
    try:
        import torch
    except ImportError as exc:
        return {"torch": f"missing ({exc})"}
    device = "cpu"
    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        device = "mps"
    return {"torch": torch.__version__, "device": device, "threads": torch.get_num_threads()}


def _qt_version() -> str:
    try:
        import PySide6
        from PySide6 import QtCore
    except ImportError as exc:
        return f"missing ({exc})"
    return f"PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}"


def _models() -> list[dict[str, Any]]:
    from photoenhance.core.ml.registry import sha256_file

    out = []
    for f in sorted(paths.models_dir().glob("*.pt")):
        card = f.with_suffix(".json")
        expected = json.loads(card.read_text()).get("sha256") if card.is_file() else None
        digest = sha256_file(f)
        out.append({"file": f.name, "size_bytes": f.stat().st_size, "sha256": digest,
                    "matches_card": expected == digest if expected else None})
    return out


def _catalog(path: Path) -> dict[str, Any]:
    size = path.stat().st_size if path.is_file() else None
    return {"path": str(path), "size_bytes": size}


def collect(catalog: Path | None) -> dict[str, Any]:
    from watchdog.observers import Observer

    return {
        "photoenhance": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        **_torch_info(),
        "qt": _qt_version(),
        "catalog": _catalog(catalog or paths.default_catalog_path()),
        "models_dir": str(paths.models_dir()),
        "models": _models(),
        "watcher_backend": Observer.__name__,
        "log_dir": str(paths.log_dir()),
    }


def run(args: argparse.Namespace) -> int:
    info = collect(args.catalog)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for key, value in info.items():
        if key == "models":
            print("models:" if value else "models: none found")
            for m in value:
                ok = {True: "ok", False: "DOES NOT MATCH its card", None: "no card"}
                print(f"  {m['file']}  {m['size_bytes'] / 1e6:.1f} MB  sha256 {m['sha256'][:16]}…"
                      f"  {ok[m['matches_card']]}")
        elif isinstance(value, dict):
            print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
        else:
            print(f"{key}: {value}")
    return 0
