"""``photoenhance jobs [list | resume [ID] | cancel ID]``: batches that outlive a crash."""

from __future__ import annotations

import argparse
import json
from typing import Any

from photoenhance.core.catalog import Catalog
from photoenhance.core.errors import UsageError
from photoenhance.core.jobs.queries import job_rows, job_size
from photoenhance.core.jobs.runner import cancel_job, recover, unfinished_jobs


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "jobs", help="list, resume or cancel enhancement batches",
        description="Enhancement batches are stored in the catalog and survive a crash or "
        "a kill. 'resume' continues exactly where a batch stopped.")
    p.add_argument("action", nargs="?", default="list", choices=("list", "resume", "cancel"))
    p.add_argument("job_id", nargs="?", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help="print 'list' as JSON")
    p.add_argument("--device", default=None, help=argparse.SUPPRESS)
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _list(catalog: Catalog, as_json: bool) -> int:
    rows = job_rows(catalog)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No jobs yet.")
        return 0
    print(f"{'id':>4}  {'status':<10} {'done':>5} {'failed':>6} {'left':>5}  created")
    for r in rows:
        left = r["queued"] + r["running"]
        print(f"{r['id']:>4}  {r['status']:<10} {r['done']:>5} {r['failed']:>6} {left:>5}  "
              f"{r['created']}")
    return 0


def _resume(catalog: Catalog, args: argparse.Namespace) -> int:
    from photoenhance.cli.batch import print_results, run_job_with_bar
    from photoenhance.core.jobs.verdict import load_judge
    from photoenhance.core.ml.infer import Enhancer

    recover(catalog)
    pending = unfinished_jobs(catalog)
    if args.job_id is not None and args.job_id not in pending:
        raise UsageError(f"job {args.job_id} has nothing left to do (see 'photoenhance jobs')")
    ids = [args.job_id] if args.job_id is not None else pending
    if not ids:
        print("Nothing to resume.")
        return 0
    enhancer = Enhancer.load(args.model, device=args.device)
    judge = load_judge()
    ok = True
    for job_id in ids:
        results = run_job_with_bar(catalog, job_id, enhancer, job_size(catalog, job_id), judge)
        print_results(results, False)
        ok = ok and all(r.status != "failed" for r in results)
    return 0 if ok else 1


def run(args: argparse.Namespace) -> int:
    with Catalog.open(args.catalog) as catalog:
        if args.action == "list":
            return _list(catalog, args.json)
        if args.action == "resume":
            return _resume(catalog, args)
        if args.job_id is None:
            raise UsageError("'jobs cancel' needs a job ID")
        n = cancel_job(catalog, args.job_id)
        print(f"Job {args.job_id} cancelled ({n} photos not enhanced).")
        return 0
