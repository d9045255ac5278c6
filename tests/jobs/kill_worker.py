"""Subprocess for the kill/resume test: create (first run) or resume an enhancement job.

Usage: kill_worker.py CATALOG MODEL LIBRARY
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from photoenhance.core.catalog import Catalog, Job
from photoenhance.core.imaging import cleanup_stale_temp_files
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions
from photoenhance.core.jobs.runner import create_job, recover, run_job, unfinished_jobs
from photoenhance.core.ml.infer import Enhancer

torch.set_num_threads(1)
catalog_path, model, library = (Path(a) for a in sys.argv[1:4])
with Catalog.open(catalog_path) as cat:
    cleanup_stale_temp_files(library)
    recover(cat)
    jobs = unfinished_jobs(cat)
    with cat.session() as s:
        first_run = s.query(Job).count() == 0
    if first_run:
        items = [EnhanceItem(p, library) for p in sorted(library.glob("*.png"))]
        jobs = [create_job(cat, items, EnhanceOptions(tile=64))]
    enhancer = Enhancer.load(model, device="cpu")
    print("ready", flush=True)
    for job_id in jobs:
        summary = run_job(cat, job_id, enhancer)
        print(f"finished done={summary.done} failed={summary.failed}", flush=True)
