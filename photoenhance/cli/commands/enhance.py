"""``photoenhance enhance FILE... | --top N | --min-score X``: write enhanced copies.

Each photo gets a new copy that keeps all of its metadata; originals are only read. One
failing photo never stops the others. Exit code 0 when all succeeded, 1 when some failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import Cancelled, UsageError
from photoenhance.core.imaging import OutputPolicy
from photoenhance.core.jobs.enhance import EnhanceOptions, EnhanceResult
from photoenhance.core.jobs.library_items import CatalogLinks, pick_from_catalog
from photoenhance.core.jobs.runner import (
    cancel_job,
    clean_interrupted_writes,
    create_job,
    run_job,
)
from photoenhance.core.jobs.verdict import Judge, Verdict, load_judge
from photoenhance.core.progress import CancelToken, Progress
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
    p.add_argument("--tone", action=argparse.BooleanOptionalAction, default=False,
                   help="after restoring, also correct exposure, contrast and colour with "
                        "the tone model (--no-tone, the default for now: restore only)")
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
    return EnhanceOptions(strength=strength, auto=args.auto and settings.auto_strength,
                          tile=args.tile, policy=policy, tone=args.tone,
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
    _report(results, args.json)
    return 0 if all(r.status != "failed" for r in results) else 1


def load_enhancer_for_job(catalog: Catalog, job_id: int, model: Path | None,
                          device: str | None) -> Any:
    """Load the enhancer (torch is imported here); a model that cannot load cancels the
    new job, so 'jobs resume' does not retry it."""
    from photoenhance.core.errors import PhotoEnhanceError
    from photoenhance.core.ml.infer import Enhancer

    try:
        return Enhancer.load(model, device=device)
    except PhotoEnhanceError:
        cancel_job(catalog, job_id)
        raise


def run_job_with_bar(catalog: Catalog, job_id: int, enhancer: Any, total: int,
                     judge: Judge | None = None) -> list[EnhanceResult]:
    """Run a job with a terminal progress bar; Ctrl-C stops it cleanly, resumable."""
    token = CancelToken()
    bar = tqdm(total=total, unit=" photos", dynamic_ncols=True, leave=False,
               disable=not sys.stderr.isatty())

    def progress(p: Progress) -> None:
        bar.total = p.total or bar.total
        bar.n = p.done
        if p.current:
            bar.set_postfix_str(Path(p.current).name, refresh=False)
        bar.refresh()

    try:
        return run_job(catalog, job_id, enhancer, progress=progress, cancel=token,
                       judge=judge).results
    except (KeyboardInterrupt, Cancelled):
        token.cancel()
        raise Cancelled(f"Cancelled; no partial copy was written. Resume with "
                        f"'photoenhance jobs resume {job_id}'.") from None
    finally:
        bar.close()


def verdict_text(r: EnhanceResult) -> str:
    """The verdict as printed after a photo's line ("" when it was not judged)."""
    text = Verdict(r.verdict, r.predicted_gain).text()
    return f"  ({text})" if text else ""


def _report(results: list[EnhanceResult], as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return
    for r in results:
        if r.status == "done":
            tone = f"  [{r.tone}]" if r.tone else ""
            print(f"done    {r.source} -> {r.output}{tone}{verdict_text(r)}")
        elif r.status == "skipped" and r.verdict:
            print(f"skipped {r.source}  ({r.error}; --force writes it anyway)")
        else:
            print(f"{r.status:<7} {r.error or r.source}")
    done = sum(r.status == "done" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    failed = len(results) - done - skipped
    print(f"{done} enhanced, {skipped} skipped, {failed} failed", file=sys.stderr)
