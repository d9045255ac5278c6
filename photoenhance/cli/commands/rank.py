"""``photoenhance rank``: list photos best-first by how much they would gain."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from photoenhance.core.catalog import (
    Catalog,
    RankedPhoto,
    count_photos,
    count_scores,
    ranked_photos,
)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rank", help="list photos best-first by improvability score",
        description="List the catalog's photos, those that would gain most from enhancement "
        "first, by their latest score.",
    )
    parser.add_argument("--limit", type=_count, default=None, metavar="N",
                        help="show at most N photos (default: all)")
    parser.add_argument("--min-score", type=float, default=None, metavar="X",
                        help="only photos scored X or more")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON array of {path, score, gain_db, factors, width, "
                             "height}")
    parser.set_defaults(func=run)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _gain(value: float | None) -> str:
    """The predicted gain as the app shows it everywhere: ``+1.4 dB``."""
    return "-" if value is None else f"{value:+.1f} dB"


def _chips(gain_db: float | None, factors: dict[str, float | None]) -> str:
    """The factors worth naming (core's chip rule), or ``-``."""
    from photoenhance.core.rank.chips import chips

    return ",".join(chips(factors, gain_db if gain_db and gain_db > 0 else None)) or "-"


def _print_table(rows: list[RankedPhoto]) -> None:
    print(f"{'rank':>4}  {'score':>6}  {'gain':>8}  {'noise':>6}  {'blur':>6}  {'jpeg':>6}  "
          f"{'clip':>6}  {'fix':<10}  {'size':>11}  path")
    for i, row in enumerate(rows, 1):
        s, p = row.score, row.photo
        assert s is not None
        size = f"{p.width}x{p.height}" if p.width else "?"
        print(f"{i:>4}  {s.score:>6.3f}  {_gain(s.gain_db):>8}  {_fmt(s.noise):>6}  "
              f"{_fmt(s.blur):>6}  {_fmt(s.jpeg):>6}  {_fmt(s.clipping):>6}  "
              f"{_chips(s.gain_db, s.factors()):<10}  {size:>11}  {p.path}")


def _empty_message(scores: int, photos: int, min_score: float | None) -> str:
    if min_score is not None and scores > 0:
        return f"No photos scored {min_score} or more."
    if photos == 0:
        return "No scores yet: the catalog has no photos; run `photoenhance scan FOLDER` first."
    return (f"No scores yet: {photos} photo(s) in the catalog are not scored; "
            "run `photoenhance scan FOLDER` again to score them.")


def run(args: argparse.Namespace) -> int:
    with Catalog.open(args.catalog) as catalog, catalog.session() as session:
        rows = ranked_photos(session, limit=args.limit, min_score=args.min_score)
        scored = [row for row in rows if row.score is not None]
        message = None if scored else _empty_message(count_scores(session),
                                                      count_photos(session), args.min_score)
        if args.json:
            print(json.dumps([row.as_dict() for row in rows], ensure_ascii=False))
        elif scored:
            _print_table(scored)
            if len(scored) < len(rows):
                print(f"({len(rows) - len(scored)} photo(s) not scored yet)")
    if message:
        print(message, file=sys.stderr if args.json else sys.stdout)
    return 0
