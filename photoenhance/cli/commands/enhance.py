"""``photoenhance enhance FILE... | --top N | --min-score X``: write enhanced copies.

Each photo gets a new copy that keeps all of its metadata; originals are only read. One
failing photo never stops the others. Exit code 0 when all succeeded, 1 when some failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from photoenhance.cli.batch import load_enhancer_for_job, print_results, run_job_with_bar
from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import UsageError
from photoenhance.core.imaging import OutputPolicy
from photoenhance.core.jobs.enhance import EnhanceOptions
from photoenhance.core.jobs.library_items import CatalogLinks, pick_from_catalog
from photoenhance.core.jobs.runner import clean_interrupted_writes, create_job
from photoenhance.core.jobs.verdict import load_judge
from photoenhance.core.settings import load_settings


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "enhance", help="write enhanced copies of photos (originals are never changed)",
        description="Enhance each FILE, or the best-ranked photos of the catalog, into new "
        "copies that keep all metadata. By default a copy goes to an 'Enhanced' folder that "
        "mirrors the photo's folder under its library root.",
    )
    p.add_argument("files", nargs="*", type=Path, metavar="FILE", help="an image file")
    p.add_argument("--top", type=int, metavar="N", help="enhance the N best-ranked photos")
    p.add_argument("--min-score", type=float, metavar="X",
                   help="enhance catalogued photos scoring at least X")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the copies into DIR")
    p.add_argument("--next-to-original", action="store_true",
                   help="write each copy beside its original with an _enhanced suffix")
    p.add_argument("--strength", type=float, metavar="S",
                   help="0 (no change) to 1 (full enhancement); default from settings")
    p.add_argument("--no-auto-strength", dest="auto", action="store_false",
                   help="apply the strength as given, with the general network, instead of "
                        "scaling it by how much each photo needs (measured noise, JPEG "
                        "compression and softness, which also pick a specialist network)")
    p.add_argument("--tone", action=argparse.BooleanOptionalAction, default=None,
                   help="after restoring, also correct exposure, contrast and colour with "
                        "the tone model (default from settings, which is off for now: "
                        "restore only)")
    p.add_argument("--format", choices=("keep", "jpeg", "png", "tiff"),
                   help="output format (default: keep the original's)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON array of {source, output, status, error, verdict, "
                        "predicted_gain}")
    p.add_argument("--force", action="store_true",
                   help="write the copy even when its verdict is 'blocked' or 'not improved' "
                        "(by default such photos are skipped: keep the original)")
    p.add_argument("--tile", type=int, default=1024, help=argparse.SUPPRESS)
    p.add_argument("--model", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> EnhanceOptions:
    settings = load_settings()
    strength = settings.strength if args.strength is None else args.strength
    if not 0.0 <= strength <= 1.0:
        raise UsageError(f"--strength must be between 0 and 1, not {strength}")
    if args.out is not None and args.next_to_original:
        raise UsageError("--out and --next-to-original cannot be used together")
    location = "suffix" if args.next_to_original else settings.output_location
    policy = OutputPolicy(location=location, format=args.format or settings.output_format,
                          jpeg_quality_floor=settings.jpeg_min_quality,
                          folder=args.out.expanduser() if args.out else None)
    tone = settings.tone if args.tone is None else args.tone
    return EnhanceOptions(strength=strength, auto=args.auto and settings.auto_strength,
                          tile=args.tile, policy=policy, tone=tone,
                          force=bool(getattr(args, "force", False)))


def _check_selection(args: argparse.Namespace) -> None:
    picked = sum(x is not None and x != [] for x in (args.files, args.top, args.min_score))
    if picked != 1:
        raise UsageError("give FILE arguments, or --top N, or --min-score X (one of them)")
    if args.top is not None and args.top < 1:
        raise UsageError("--top must be at least 1")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError("--out must be a folder", args.out)


def run(args: argparse.Namespace) -> int:
    _check_selection(args)
    opts = _options(args)
    with Catalog.open(args.catalog) as catalog:
        links = CatalogLinks(catalog)
        if args.files:
            items = links.items_for_files(args.files)
        else:
            items = pick_from_catalog(catalog, args.top, args.min_score)
            if not items:
                print("No catalogued photos match. Run 'photoenhance scan ROOT' first; "
                      "scores come from scanning.", file=sys.stderr)
                return 0
        # The job exists before torch is imported or the model loaded: a kill from here on
        # leaves a job that 'photoenhance jobs resume' finishes.
        job_id = create_job(catalog, items, opts)
        clean_interrupted_writes(catalog)  # temporary files a killed earlier batch left
        enhancer = load_enhancer_for_job(catalog, job_id, args.model, args.device)
        results = run_job_with_bar(catalog, job_id, enhancer, len(items), load_judge())
    print_results(results, args.json)
    return 0 if all(r.status != "failed" for r in results) else 1
