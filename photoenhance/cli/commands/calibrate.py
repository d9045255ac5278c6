"""``photoenhance calibrate [--reset]``: adapt the score's last layer to your ratings."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from photoenhance.core.catalog import Catalog
from photoenhance.core.progress import Progress
from photoenhance.core.rank.ratings import latest_ratings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="fit the score to your ratings (last layer only)",
        description="Fine-tune only the last layer of the improvability model on the ratings "
        "stored with `photoenhance rate`. The shipped weights stay untouched; your layer is "
        "kept in the data folder. Reports agreement on held-out ratings before and after.",
    )
    parser.add_argument("--reset", action="store_true", help="go back to the shipped layer")
    parser.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch loads only when the command runs, so the CLI starts instantly
    from photoenhance.core.rank.scorer import Scorer
    from photoenhance.core.rank.userfit import calibrate
    from photoenhance.core.rank.userhead import remove_user_head, save_user_head

    scorer = Scorer.load(args.model, use_user_head=False)
    if args.reset:
        removed = remove_user_head(scorer.sha256)
        print("back to the shipped calibration" if removed else "no calibration to reset")
        return 0
    with Catalog.open(args.catalog) as catalog:
        rated = latest_ratings(catalog)
    bar = tqdm(total=len(rated), unit=" photos", leave=False, disable=not sys.stderr.isatty())

    def progress(p: Progress) -> None:
        bar.n = p.done
        bar.refresh()

    t0 = time.monotonic()
    try:
        report = calibrate(scorer, [p for p, _ in rated], [lab for _, lab in rated], progress)
    finally:
        bar.close()
    path = save_user_head(report.head, scorer.sha256,
                          {"ratings": report.used, "held_out_before": report.before,
                           "held_out_after": report.after})
    print(f"calibrated on {report.used} rated photos in {time.monotonic() - t0:.1f} s")
    print(f"held-out agreement (Spearman, {report.held_out} ratings): "
          f"{report.before:.3f} before, {report.after:.3f} after")
    print(f"saved {path}")
    return 0
