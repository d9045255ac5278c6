"""``photoenhance scan ROOT...``: index the photos under folders into the catalog."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from photoenhance.core.catalog import Catalog
from photoenhance.core.library import ScanSummary, check_roots
from photoenhance.core.library.indexing import (
    SCORED,
    IndexOutcome,
    index_and_score,
    shipped_scorer,
)
from photoenhance.core.progress import Progress

#: Unreadable folders listed by name before the rest are summed up.
MAX_LISTED_ERRORS = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan", help="add the photos under folders to the catalog, or bring it up to date",
        description="Index photos (JPEG, PNG, TIFF, WebP, HEIC) under each ROOT from their "
        "headers and EXIF. Rescans only read new and changed files.",
    )
    parser.add_argument("roots", nargs="+", type=Path, metavar="ROOT", help="a library folder")
    parser.add_argument("--no-score", action="store_true",
                        help="only index; do not compute improvability scores")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: the counts, 'scored', and the "
                             "'unreadable_files' and 'unreadable_folders' with their reasons")
    parser.set_defaults(func=run)


def _interactive() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


def index_with_bar(catalog: Catalog, roots: list[Path], score: bool) -> IndexOutcome:
    """Index and score ``roots``, with a terminal progress bar for each phase."""
    bar = tqdm(disable=not _interactive(), unit=" files", dynamic_ncols=True, leave=False)
    phase = ""

    def progress(event: Progress) -> None:
        nonlocal phase
        if event.message != phase:
            phase = event.message
            bar.reset(total=event.total or None)
            bar.unit = " photos" if phase == SCORED else " files"
            bar.set_description("Scoring" if phase == SCORED else phase)
        bar.total = event.total or bar.total
        _update(bar, event)

    try:
        return index_and_score(catalog, roots, shipped_scorer if score else None,
                               progress=progress)
    finally:
        bar.close()


def scored_line(outcome: IndexOutcome) -> str:
    """The summary's last line: how many photos were scored, or why none were."""
    if outcome.scoring_note is not None:
        return f"scored: 0 (scores are not available: {outcome.scoring_note})"
    if outcome.scored is None:
        return "scored: skipped (--no-score)"
    failed = f" ({len(outcome.failed)} could not be decoded)" if outcome.failed else ""
    return f"scored: {outcome.scored}{failed}"


def _update(bar: tqdm[Any], event: Progress) -> None:
    bar.n = event.done
    bar.refresh()


def _listed(title: str, rows: Sequence[tuple[Any, str]], verbose: bool) -> None:
    """``title: N`` was printed; name them (the first few unless ``verbose``)."""
    shown = rows if verbose else rows[:MAX_LISTED_ERRORS]
    for path, reason in shown:
        print(f"  {path}: {reason}")
    if len(rows) > len(shown):
        print(f"  ... and {len(rows) - len(shown)} more {title} (-v lists them all)")


def _print_summary(summary: ScanSummary, verbose: bool) -> None:
    for name, count in summary.counts().items():
        print(f"{name}: {count}")
        if name == "unreadable":
            _listed("files", summary.unreadable_files, verbose)
    if summary.errors:
        print(f"unreadable folders: {len(summary.errors)}")
        _listed("folders", summary.errors, verbose)


def _json_summary(summary: ScanSummary, scored: int | None) -> str:
    return json.dumps({
        **summary.counts(), "scored": scored,
        "unreadable_files": [{"path": str(p), "reason": r}
                             for p, r in summary.unreadable_files],
        "unreadable_folders": [{"path": str(p), "reason": r} for p, r in summary.errors],
    }, indent=2, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    roots = check_roots(args.roots)
    with Catalog.open(args.catalog) as catalog:
        outcome = index_with_bar(catalog, roots, not args.no_score)
    if args.json:
        print(_json_summary(outcome.summary, outcome.scored))
        return 0
    _print_summary(outcome.summary, args.verbose)
    print(scored_line(outcome))
    return 0
