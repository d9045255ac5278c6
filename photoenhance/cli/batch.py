"""Running an enhancement job from the terminal: ``photoenhance enhance`` and ``jobs resume``.

The model loads after the job exists, a progress bar shows on a terminal, Ctrl-C stops the
job so it can be resumed, and the results print as lines or as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import Cancelled
from photoenhance.core.jobs.enhance import EnhanceResult
from photoenhance.core.jobs.runner import cancel_job, run_job
from photoenhance.core.jobs.verdict import Judge, Verdict
from photoenhance.core.progress import CancelToken, Progress


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
    if not r.restored:  # the restoration was not kept; the tone step alone made the copy
        return f"  (restoration {r.verdict}: the copy has the tone correction alone)"
    text = Verdict(r.verdict, r.predicted_gain).text()
    return f"  ({text})" if text else ""


def print_results(results: list[EnhanceResult], as_json: bool) -> None:
    """One line per photo and a count on stderr, or one JSON array (``--json``)."""
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
