"""``photoenhance enhance`` killed at any moment, then ``jobs resume``: nothing lost, nothing twice.

Each case SIGKILLs the real command at one moment between 0 and 3 s after it started (the
moments are spread evenly over that span, one per case, and drawn at random inside their
slot): before its job exists, while torch and the model load, or while photos are being
written. ``PHOTOENHANCE_KILL_ROUNDS=20`` runs 20 cases (the default 3 keeps CI short).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoenhance.core.catalog import Catalog, Job, JobItem, JobStatus
from photoenhance.core.imaging import load_image
from photoenhance.core.imaging.write import TEMP_PREFIX

ROUNDS = int(os.environ.get("PHOTOENHANCE_KILL_ROUNDS", "3"))
SPAN_S = 3.0


def _library(folder: Path, n: int = 4) -> list[Path]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        path = folder / f"p{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (48, 56 + i, 3), np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def _jobs(catalog: Path) -> list[tuple[str, list[tuple[str, str | None]]]]:
    if not catalog.exists():
        return []
    with Catalog.open(catalog) as cat, cat.session() as s:
        return [(j.status, [(i.status, str(i.output_path) if i.output_path else None)
                            for i in s.query(JobItem).filter_by(job_id=j.id)])
                for j in s.query(Job).order_by(Job.id)]


def _torch_loaded(pid: int) -> bool:
    """Whether process ``pid`` has torch's library mapped (False where that can't be seen).

    Read just before the kill: the process only moves forward, so if torch was mapped then,
    it was when it died."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _ours(lib: Path) -> list[Path]:
    return [p for p in lib.rglob("*") if p.is_file() and p.name.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("case", range(ROUNDS))
def test_enhance_killed_anywhere_then_resumed(tmp_path: Path, tiny_model: Path,
                                              case: int) -> None:
    lib = tmp_path / "lib"
    sources = _library(lib)
    catalog = tmp_path / "c.sqlite"
    base = [sys.executable, "-m", "photoenhance", "--catalog", str(catalog)]
    model = ["--model", str(tiny_model), "--device", "cpu"]
    enhance = [*base, "enhance", *map(str, sources), *model, "--tile", "64",
               "--force"]  # every copy written: this test is about kills, not verdicts
    kill_at = (case + random.Random(case).random()) * SPAN_S / ROUNDS

    proc = subprocess.Popen(enhance, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    torch_loaded = False
    try:
        proc.wait(timeout=kill_at)
    except subprocess.TimeoutExpired:
        torch_loaded = _torch_loaded(proc.pid)
        proc.kill()  # SIGKILL: no handler, no cleanup
        proc.wait()

    resume = subprocess.run([*base, "jobs", "resume", *model], capture_output=True,
                            text=True, timeout=600)
    assert resume.returncode == 0, resume.stderr
    assert "Traceback" not in resume.stderr
    print(f"killed at {kill_at:.2f} s; torch loaded: {torch_loaded}; "
          f"job recorded: {bool(_jobs(catalog))}")
    if not _jobs(catalog):
        assert not torch_loaded, "torch was loading before the job was recorded"
        # Killed before the job was recorded (interpreter start-up): nothing may exist yet,
        # and the user's only way on is to run the command again.
        assert "Nothing to resume" in resume.stdout
        assert not (lib / "Enhanced").exists() and not _ours(lib)
        again = subprocess.run(enhance, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stderr

    (job,) = _jobs(catalog)
    status, items = job
    assert status == JobStatus.DONE
    assert len(items) == len(sources) and {st for st, _ in items} == {JobStatus.DONE}
    outputs = sorted((lib / "Enhanced").iterdir())
    assert [p.name for p in outputs] == [f"{s.stem}_enhanced.jpg" for s in sources]
    assert sorted(out for _, out in items) == [str(p) for p in outputs]
    for out in outputs:
        load_image(out)  # whole and decodable
    assert not _ours(lib), "a temporary file was left behind"
