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
from photoenhance.core.library import ScanSummary, check_roots, scan
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


def score_new_photos(catalog: Catalog, roots: Sequence[Path],
                     no_score: bool = False) -> tuple[int | None, str]:
    """Score the photos under ``roots`` that the shipped model has not scored yet (new,
    changed, or scored by an older model). Returns how many were scored (None: scoring
    did not run) and one line for the summary."""
    if no_score:
        return None, "scored: skipped (--no-score)"
    from photoenhance.core.errors import ModelError
    from photoenhance.core.rank.catalog_scoring import score_unscored
    from photoenhance.core.rank.scorer import Scorer

    try:
        scorer = Scorer.load()
    except ModelError as exc:
        return None, f"scored: 0 (scores are not available: {exc})"
    bar = tqdm(disable=not _interactive(), unit=" photos", leave=False, dynamic_ncols=True,
               desc="Scoring")

    def progress(p: Progress) -> None:
        bar.total = p.total
        _update(bar, p)

    try:
        result = score_unscored(catalog, scorer, roots, progress)
    finally:
        bar.close()
    line = f"scored: {result.scored}"
    return result.scored, line + (f" ({len(result.failed)} could not be decoded)"
                                  if result.failed else "")


def _interactive() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


def _scan_with_bar(catalog: Catalog, roots: list[Path]) -> ScanSummary:
    bar = tqdm(disable=not _interactive(), unit=" files", dynamic_ncols=True, leave=False)
    phase = ""
    try:
        for event in scan(catalog, roots):
            if isinstance(event, ScanSummary):
                return event
            if event.message != phase:
                phase = event.message
                bar.reset(total=event.total or None)
                bar.set_description(phase)
            _update(bar, event)
    finally:
        bar.close()
    raise AssertionError("scan ended without a summary")  # pragma: no cover


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
        summary = _scan_with_bar(catalog, roots)
        scored, line = score_new_photos(catalog, roots, args.no_score)
    if args.json:
        print(_json_summary(summary, scored))
        return 0
    _print_summary(summary, args.verbose)
    print(line)
    return 0
