"""The ``photoenhance`` command line: ``photoenhance [--catalog PATH] COMMAND``.

With no command it opens the desktop app. Every subcommand lives in
``photoenhance/cli/commands/<name>.py`` and exposes ``register(subparsers)``, which adds its
parser and sets ``func(args) -> int`` as the default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from photoenhance import __version__
from photoenhance.core.errors import Cancelled, PhotoEnhanceError, UsageError
from photoenhance.core.logs import setup_logging

#: Subcommand modules, in help order. A module that is missing is skipped.
COMMANDS = (
    "scan", "rank", "score", "enhance", "jobs", "watch", "rate", "calibrate", "doctor", "gui",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"photoenhance: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="photoenhance",
        description="Rank a photo library by how much each photo would gain from enhancement.",
    )
    parser.add_argument("--version", action="version", version=f"photoenhance {__version__}")
    parser.add_argument(
        "--catalog", type=Path, default=None, metavar="PATH",
        help="catalog database file (default: $PHOTOENHANCE_CATALOG or the user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"photoenhance.cli.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    func = getattr(args, "func", None)
    if func is None:
        args = parser.parse_args([*(argv or sys.argv[1:]), "gui"])
        func = args.func
    try:
        return int(func(args) or 0)
    except Cancelled as exc:
        print(f"photoenhance: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except UsageError as exc:
        print(f"photoenhance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PhotoEnhanceError as exc:
        print(f"photoenhance: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("photoenhance: interrupted.", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        return EXIT_OK
