"""``photoenhance gui [ROOT...]``: open the desktop app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from photoenhance.core.errors import UsageError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "gui", help="open the desktop app", description="Open the desktop app, optionally "
        "adding and scanning ROOT folders."
    )
    p.add_argument("roots", nargs="*", type=Path, metavar="ROOT", help="photo folders to add")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    roots = [r.expanduser() for r in args.roots]
    for r in roots:
        if not r.is_dir():
            raise UsageError("no such folder", r)
    try:
        from photoenhance.gui.app import run as run_app
    except ImportError as exc:
        raise UsageError(f"the desktop app cannot start: {exc}. Is PySide6 installed?") from exc
    return run_app([r.resolve() for r in roots], args.catalog)
