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

#: Photos that need a rescore listed by path before the rest are counted.
MAX_LISTED = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="fit the score to your ratings (last layer only)",
        description="Fine-tune only the last layer of the improvability model on the ratings "
        "stored with `photoenhance rate`. The shipped weights stay untouched; your layer is "
        "kept in the data folder. Reports agreement on held-out ratings before and after, then "
        "re-ranks the whole catalog from what the model read when it scored each photo "
        "(no photo is decoded again).",
    )
    parser.add_argument("--reset", action="store_true", help="go back to the shipped layer")
    parser.add_argument("--rescore", action="store_true",
                        help="decode and score again the photos scored before calibration "
                             "could re-rank them (older catalogs)")
    parser.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def _bar() -> tuple[Any, Any]:
    bar = tqdm(unit=" photos", leave=False, disable=not sys.stderr.isatty())

    def progress(p: Progress) -> None:
        if bar.disable:
            return
        if p.message != bar.desc:
            bar.set_description(p.message)
        bar.total = p.total
        bar.n = p.done
        bar.refresh()

    return bar, progress


def _print_rerank(outcome: Any, catalog: Catalog, sha: str) -> None:
    from photoenhance.core.rank.rerank import photos_needing_rescore

    r = outcome.rerank
    print(f"re-ranked {r.rescored} photos: {r.moved} moved, {r.now_worth_fixing} now worth "
          f"fixing, {r.no_longer_worth_fixing} no longer")
    if r.need_rescore:
        print(f"{r.need_rescore} photo(s) were scored before photoenhance kept what the "
              "ranker read, and keep their score; `photoenhance calibrate --rescore` "
              "reads them again once (it decodes each):")
        for _pid, path in photos_needing_rescore(catalog, sha)[:MAX_LISTED]:
            print(f"  {path}")
        if r.need_rescore > MAX_LISTED:
            print(f"  ... and {r.need_rescore - MAX_LISTED} more")


def run(args: argparse.Namespace) -> int:
    # torch loads only when the command runs, so the CLI starts instantly
    from photoenhance.core.rank.calibration import calibrate_catalog, reset_catalog
    from photoenhance.core.rank.scorer import Scorer

    scorer = Scorer.load(args.model, use_user_head=False)
    bar, progress = _bar()
    t0 = time.monotonic()
    with Catalog.open(args.catalog) as catalog:
        if args.rescore:
            return _rescore(catalog, args.model, scorer.sha256)
        try:
            outcome = (reset_catalog(catalog, scorer, progress) if args.reset
                       else calibrate_catalog(catalog, scorer, progress))
        finally:
            bar.close()
        if args.reset:
            print("back to the shipped calibration" if outcome.removed
                  else "no calibration to reset")
        else:
            report = outcome.report
            print(f"calibrated on {report.used} rated photos in {time.monotonic() - t0:.1f} s")
            print(f"held-out agreement (Spearman, {report.held_out} ratings): "
                  f"{report.before:.3f} before, {report.after:.3f} after")
            print(f"saved {outcome.head_path}")
        _print_rerank(outcome, catalog, scorer.sha256)
    return 0


def _rescore(catalog: Catalog, model: Path | None, sha: str) -> int:
    """Score again, with the current calibration, the photos that have no stored vector."""
    from photoenhance.core.rank.catalog_scoring import score_photo_ids
    from photoenhance.core.rank.rerank import photos_needing_rescore
    from photoenhance.core.rank.scorer import Scorer

    ids = [pid for pid, _ in photos_needing_rescore(catalog, sha)]
    bar, progress = _bar()
    try:
        result = score_photo_ids(catalog, ids, Scorer.load(model), progress)
    finally:
        bar.close()
    print(f"rescored {result.scored} photo(s)" + (
        f"; {len(result.failed)} could not be decoded" if result.failed else ""))
    return 0
