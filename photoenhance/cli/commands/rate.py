"""``photoenhance rate FILE {significant,moderate,neutral,regressed}``: store a rating."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import ImageReadError, UsageError
from photoenhance.core.rank.ratings import RATING_WORDS, rate


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rate", help="say how much a photo gained from enhancement (for calibrate)",
        description="Store your rating of how much FILE gained from enhancement. "
        "`photoenhance calibrate` then adapts the scores to your ratings.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("label", choices=list(RATING_WORDS), metavar="LABEL",
                        help="significant, moderate, neutral or regressed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise UsageError(f"no such file: {args.file}")
    with Catalog.open(args.catalog) as catalog:
        try:
            rate(catalog, args.file, RATING_WORDS[args.label])
        except ImageReadError as exc:  # a bad FILE argument: exit 2, nothing stored
            raise UsageError(f"cannot rate {args.file}: {exc.reason}") from exc
    print(f"rated {args.file}: {args.label}")
    return 0
