"""Temporary files of interrupted writes are removed at the next start, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from photoenhance.cli.main import main
from photoenhance.core.catalog import Catalog
from photoenhance.core.imaging import OutputPolicy, cleanup_stale_temp_files
from photoenhance.core.imaging.write import TEMP_PREFIX
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions
from photoenhance.core.jobs.runner import clean_interrupted_writes, create_job, recover


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: that process id is gone
    return proc.pid


def _leftovers(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    names = {
        "dead": f"{TEMP_PREFIX}{_dead_pid()}-0123abcd.jpg",
        "live": f"{TEMP_PREFIX}{os.getpid()}-4567ef01.jpg",  # a writer that still runs
        "old_name": f"{TEMP_PREFIX}89abcdef01234567.jpg",  # named before the process id
        "photo": "IMG_0001.jpg",
        "other_tmp": ".photoenhance-tmp.jpg",  # not our pattern: never touched
    }
    paths = {k: folder / n for k, n in names.items()}
    for p in paths.values():
        p.write_bytes(b"partial")
    return paths


def _photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 12), (90, 120, 150)).save(path)
    return path


def test_cleanup_spares_live_writers_and_foreign_files(tmp_path: Path) -> None:
    files = _leftovers(tmp_path / "out")
    removed = cleanup_stale_temp_files(tmp_path / "out", recursive=False)
    assert sorted(removed) == sorted([files["dead"], files["old_name"]])
    assert all(files[k].exists() for k in ("live", "photo", "other_tmp"))


def test_recover_cleans_the_output_folders_of_unfinished_jobs(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    photo = _photo(lib / "2024" / "a.jpg")
    elsewhere = _leftovers(tmp_path / "elsewhere")  # no job writes there: left alone
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        job = create_job(cat, [EnhanceItem(photo, lib)], EnhanceOptions())
        files = _leftovers(lib / "Enhanced" / "2024")
        recover(cat)  # what 'jobs resume' and the app's start-up call
        assert not files["dead"].exists() and not files["old_name"].exists()
        assert files["live"].exists() and files["photo"].exists()
        assert all(p.exists() for p in elsewhere.values())
        assert clean_interrupted_writes(cat) == []  # nothing left to do: cheap to repeat
        files["live"].unlink()
        dead = _leftovers(lib / "Enhanced" / "2024")["dead"]
        assert main(["--catalog", str(cat.path), "jobs", "cancel", str(job)]) == 0
        assert not dead.exists()


def test_enhance_cleans_an_earlier_interrupted_batch(tmp_path: Path, tiny_model: Path,
                                                     capsys) -> None:
    lib = tmp_path / "lib"
    first, second = _photo(lib / "a.jpg"), _photo(lib / "b.jpg")
    out = tmp_path / "out"
    cat = tmp_path / "c.sqlite"
    with Catalog.open(cat) as c:  # a batch killed mid-write: its job stays queued
        create_job(c, [EnhanceItem(first)], EnhanceOptions(policy=OutputPolicy(folder=out)))
    files = _leftovers(out)
    assert main(["--catalog", str(cat), "enhance", str(second), "--out", str(tmp_path / "o2"),
                 "--model", str(tiny_model)]) == 0
    capsys.readouterr()
    assert not files["dead"].exists() and files["photo"].exists()
