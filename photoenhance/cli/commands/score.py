"""``photoenhance score FILE... [--json]``: how much each photo would gain (no catalog)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from photoenhance.core.errors import UsageError
from photoenhance.core.progress import Progress
from photoenhance.core.rank.scale import DEFAULT_THRESHOLD

if TYPE_CHECKING:  # torch loads only when a command runs, so --help stays instant
    from photoenhance.core.rank.scorer import ScoreResult


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score", help="score image files by how much they would gain from enhancement",
        description="Score each FILE from 0 (nothing to gain) to 1, from the predicted gain in "
        "dB (0 dB or less scores 0). The default 'worth fixing' "
        f"threshold {DEFAULT_THRESHOLD} means a predicted gain of 1 dB, visible at 100%%. "
        "Per-factor scores estimate how noisy, blurred, JPEG-damaged and clipped it looks.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="an image file")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON array of {path, score, gain_db, factors}")
    parser.add_argument("--batch-size", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def _print_table(results: list[ScoreResult]) -> None:
    print(f"{'score':>6}  {'gain':>8}  {'noise':>6}  {'blur':>6}  {'jpeg':>6}  {'clip':>6}  "
          f"{'fix':<10}  path")
    for r in results:
        if r.score is None:
            print(f"{'-':>6}  {'':>8}  {'':>6}  {'':>6}  {'':>6}  {'':>6}  {'':<10}  "
                  f"{r.path}: {r.error}")
            continue
        f = r.factors
        print(f"{r.score:>6.3f}  {r.gain_db or 0.0:>+5.1f} dB  {f['noise']:>6.3f}  "
              f"{f['blur']:>6.3f}  {f['jpeg']:>6.3f}  {f['clipping']:>6.3f}  "
              f"{','.join(r.chips()) or '-':<10}  {r.path}")


def run(args: argparse.Namespace) -> int:
    if not any(p.is_file() for p in args.files):
        raise UsageError(f"no such file: {args.files[0]}")
    from photoenhance.core.rank.scorer import Scorer

    scorer = Scorer.load(args.model)
    bar = tqdm(total=len(args.files), unit=" photos", leave=False, dynamic_ncols=True,
               disable=not sys.stderr.isatty())

    def progress(p: Progress) -> None:
        bar.n = p.done
        bar.refresh()

    try:
        results = scorer.score_paths(args.files, args.batch_size, progress)
    finally:
        bar.close()
    if args.json:
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
    else:
        _print_table(results)
    # a missing or unreadable file fails only itself: the others are scored
    failed = [r for r in results if r.score is None]
    for r in failed:
        print(f"photoenhance: {r.path}: {r.error}", file=sys.stderr)
    if failed:
        print(f"{len(results) - len(failed)} scored, {len(failed)} could not be read",
              file=sys.stderr)
    return 1 if failed else 0
