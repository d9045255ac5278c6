"""Crash-safe jobs: resume after SIGKILL, recover, cancel, idempotent items."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoenhance.core.catalog import Catalog, Job, JobItem, JobStatus
from photoenhance.core.errors import Cancelled
from photoenhance.core.imaging import load_image
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions
from photoenhance.core.jobs.runner import (
    cancel_job,
    create_job,
    recover,
    run_job,
    unfinished_jobs,
)
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.progress import CancelToken

HERE = Path(__file__).resolve().parent


def _library(folder: Path, n: int, size: int = 96) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        p = folder / f"img{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (size, size + i, 3), np.uint8)).save(p)
        out.append(p)
    return out


def _outputs(library: Path) -> list[Path]:
    enhanced = library / "Enhanced"
    return sorted(enhanced.iterdir()) if enhanced.exists() else []


def test_job_runs_and_records_items(tmp_path: Path, tiny_model: Path) -> None:
    lib = tmp_path / "lib"
    photos = _library(lib, 3)
    (lib / "zz-broken.png").write_bytes(b"garbage")
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        items = [EnhanceItem(p, lib) for p in [*photos, lib / "zz-broken.png"]]
        job_id = create_job(cat, items, EnhanceOptions(strength=0.7, tile=64))
        s = run_job(cat, job_id, Enhancer.load(tiny_model, device="cpu"))
        assert (s.done, s.failed) == (3, 1)
        with cat.session() as ss:
            job = ss.get(Job, job_id)
            assert job is not None and job.status == JobStatus.FAILED
            assert job.parameters and job.parameters["strength"] == 0.7
            statuses = [i.status for i in ss.query(JobItem).order_by(JobItem.position)]
            assert statuses == ["done", "done", "done", "failed"]
        assert unfinished_jobs(cat) == []


def test_cancel_leaves_job_resumable(tmp_path: Path, tiny_model: Path) -> None:
    lib = tmp_path / "lib"
    _library(lib, 4)
    enhancer = Enhancer.load(tiny_model, device="cpu")
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        job_id = create_job(cat, [EnhanceItem(p, lib) for p in sorted(lib.glob("*.png"))],
                            EnhanceOptions(tile=64))
        token = CancelToken()

        def progress(p) -> None:
            if p.done >= 2:
                token.cancel()

        with pytest.raises(Cancelled):
            run_job(cat, job_id, enhancer, progress=progress, cancel=token)
        assert unfinished_jobs(cat) == [job_id]
        done_before = len(_outputs(lib))
        assert 1 <= done_before < 4
        s = run_job(cat, job_id, enhancer)
        assert s.done == 4 - done_before
        assert len(_outputs(lib)) == 4
        assert cancel_job(cat, job_id) == 0


def test_interrupted_item_with_published_copy_is_not_redone(tmp_path: Path,
                                                            tiny_model: Path) -> None:
    lib = tmp_path / "lib"
    photos = _library(lib, 2)
    enhancer = Enhancer.load(tiny_model, device="cpu")
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        job_id = create_job(cat, [EnhanceItem(p, lib) for p in photos], EnhanceOptions(tile=64))
        run_job(cat, job_id, enhancer)
        # Simulate a kill after the first copy was renamed into place but before the commit.
        with cat.session() as s:
            first = s.query(JobItem).filter_by(position=0).one()
            first.status, first.output_path = JobStatus.RUNNING, None
            s.get(Job, job_id).status = JobStatus.RUNNING  # type: ignore[union-attr]
        assert recover(cat) == 1
        s2 = run_job(cat, job_id, enhancer)
        assert s2.done == 0 and len(_outputs(lib)) == 2
        with cat.session() as s:
            item = s.query(JobItem).filter_by(position=0).one()
            assert item.status == JobStatus.DONE and item.output_path is not None


def test_sigkill_at_random_points_then_resume(tmp_path: Path, tiny_model: Path) -> None:
    lib = tmp_path / "lib"
    sources = _library(lib, 40, size=64)
    cat_path = tmp_path / "c.sqlite"
    cmd = [sys.executable, str(HERE / "kill_worker.py"), str(cat_path), str(tiny_model), str(lib)]
    rng = random.Random(7)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = 0
    for _ in range(10):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    final = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert final.returncode == 0, final.stderr
    assert kills >= 5
    outputs = _outputs(lib)
    assert not [p for p in lib.rglob(".photoenhance-tmp*")]
    assert len(outputs) == len(sources), sorted(p.name for p in outputs)
    assert {p.name.replace("_enhanced", "") for p in outputs} == {p.name for p in sources}
    for out in outputs:
        load_image(out)  # every copy decodes whole
    with Catalog.open(cat_path) as cat, cat.session() as s:
        items = s.query(JobItem).all()
        assert len(items) == 40 and {i.status for i in items} == {JobStatus.DONE}
        assert len({i.output_path for i in items}) == 40


def test_verified_delta_is_stored_and_no_gain_is_flagged(tmp_path: Path,
                                                         tiny_model: Path) -> None:
    from photoenhance.core.catalog import Enhancement
    from photoenhance.core.jobs.verify import gain_verifier
    from photoenhance.core.library import run_scan
    from photoenhance.core.rank.scorer import ScoreResult

    lib = tmp_path / "lib"
    photos = _library(lib, 2)

    class FakeScorer:  # the first photo gains 2 dB, the second nothing
        def score_paths(self, paths, *a, **k):
            return [ScoreResult(p, 0.5, gain_db=(2.5 if "img00" in p.name else 0.1)
                                if p.parent == lib else 0.5) for p in paths]

    with Catalog.open(tmp_path / "c.sqlite") as cat:
        run_scan(cat, [lib])
        job_id = create_job(cat, [EnhanceItem(p, lib) for p in photos], EnhanceOptions(tile=64))
        s = run_job(cat, job_id, Enhancer.load(tiny_model, device="cpu"),
                    verify=gain_verifier(FakeScorer()))
        assert [r.verified_delta for r in s.results] == [2.0, -0.4]
        with cat.session() as ss:
            rows = ss.query(Enhancement).order_by(Enhancement.id).all()
            assert [(e.status, e.verified_delta) for e in rows] == [
                ("done", 2.0), ("not_improved", -0.4)]


def test_read_only_folder_and_full_disk_fail_only_their_item(tmp_path: Path, tiny_model: Path,
                                                             monkeypatch) -> None:
    import errno

    from photoenhance.core.imaging import write as write_mod

    lib = tmp_path / "lib"
    photos = _library(lib, 4)
    (lib / "gone.png").write_bytes(photos[0].read_bytes())
    real_write_temp = write_mod._write_temp

    def flaky_write_temp(folder: Path, ext: str, data: bytes) -> Path:
        calls = flaky_write_temp.calls = getattr(flaky_write_temp, "calls", 0) + 1
        if calls == 1:
            raise OSError(errno.EROFS, "Read-only file system")
        if calls == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_temp(folder, ext, data)

    monkeypatch.setattr(write_mod, "_write_temp", flaky_write_temp)
    items = [EnhanceItem(p, lib) for p in [*photos, lib / "gone.png"]]
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        job_id = create_job(cat, items, EnhanceOptions(tile=64))
        (lib / "gone.png").unlink()  # the file vanishes after the batch was queued
        s = run_job(cat, job_id, Enhancer.load(tiny_model, device="cpu"))
    by_name = {r.source.name: r for r in s.results}
    assert by_name["img00.png"].status == "failed"
    assert "read-only" in (by_name["img00.png"].error or "")
    assert by_name["img01.png"].status == "failed"
    assert "no space left" in (by_name["img01.png"].error or "")
    gone = by_name["gone.png"]
    assert gone.status == "failed" and "gone.png" in (gone.error or "")
    assert [by_name[f"img0{i}.png"].status for i in (2, 3)] == ["done", "done"]
    assert [p.name for p in _outputs(lib)] == ["img02_enhanced.png", "img03_enhanced.png"]
    assert not list(lib.rglob(".photoenhance-tmp*"))


def test_job_records_each_items_planned_copy(tmp_path: Path) -> None:
    from photoenhance.core.imaging import OutputPolicy

    lib = tmp_path / "lib"
    a, b = _library(lib / "2024", 2)
    outside = tmp_path / "elsewhere" / "c.jpeg"
    items = [EnhanceItem(a, lib), EnhanceItem(b, lib), EnhanceItem(outside, lib)]
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        mirror = create_job(cat, items, EnhanceOptions())
        as_jpeg = create_job(cat, [EnhanceItem(outside), EnhanceItem(a)],
                             EnhanceOptions(policy=OutputPolicy(format="jpeg",
                                                                location="suffix")))
        with cat.session() as s:
            planned = [s.get(Job, j).parameters["planned"]  # type: ignore[union-attr]
                       for j in (mirror, as_jpeg)]
    enhanced = lib / "Enhanced" / "2024"
    # a photo outside its library root cannot be planned: it fails when it runs
    assert planned[0] == [str(enhanced / "img00_enhanced.png"),
                          str(enhanced / "img01_enhanced.png"), None]
    assert planned[1] == [str(outside.parent / "c_enhanced.jpeg"),
                          str(lib / "2024" / "img00_enhanced.jpg")]


def test_job_records_what_the_tone_step_did(tmp_path: Path, tiny_model: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each item's tone words are stored with its job (and reach the GUI's item states and
    the JSON of the result); items the step did not run on have none."""
    import photoenhance.core.ml.tone as tone
    from photoenhance.core.jobs.runner import tone_edits
    from photoenhance.gui.jobs import item_states

    monkeypatch.setattr(tone, "apply_tone", lambda px, strength: (px, "exposure +1.0 EV, warmer"))
    lib = tmp_path / "lib"
    photos = _library(lib, 2)
    (lib / "zz-broken.png").write_bytes(b"garbage")
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        items = [EnhanceItem(p, lib) for p in [*photos, lib / "zz-broken.png"]]
        job_id = create_job(cat, items, EnhanceOptions(tile=64, tone=True))
        s = run_job(cat, job_id, Enhancer.load(tiny_model, device="cpu"))
        assert [r.as_dict()["tone"] for r in s.results] == [
            "exposure +1.0 EV, warmer", "exposure +1.0 EV, warmer", None]
        with cat.session() as ss:
            job = ss.get(Job, job_id)
            assert job is not None
            words = tone_edits(job)
            ids = [i.id for i in ss.query(JobItem).order_by(JobItem.position)]
        assert words == {ids[0]: "exposure +1.0 EV, warmer", ids[1]: "exposure +1.0 EV, warmer"}
        assert [st.tone for st in item_states(cat, job_id)] == [
            "exposure +1.0 EV, warmer", "exposure +1.0 EV, warmer", None]


@pytest.mark.parametrize("words", ["exposure +2.0 EV, brighter shadows", "no change"])
def test_tone_alone_makes_the_copy_when_the_restoration_is_not_kept(
        tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, words: str) -> None:
    """A dark but clean photo: the restoration's verdict is ``not improved``, so its result
    is not kept, but the tone step (asked for) runs on the original and its correction
    alone is written (``restored`` False). Where the tone step changes nothing either, the
    photo is skipped as before."""
    import photoenhance.core.ml.tone as tone
    from photoenhance.core.jobs.queries import item_states
    from photoenhance.core.jobs.verdict import NOT_IMPROVED, Verdict

    seen: list[np.ndarray] = []

    def fake_tone(px: np.ndarray, strength: float) -> tuple[np.ndarray, str]:
        seen.append(px.copy())
        return (px if words == "no change" else np.full_like(px, 200)), words

    monkeypatch.setattr(tone, "apply_tone", fake_tone)
    lib = tmp_path / "lib"
    photos = _library(lib, 1)
    original = np.asarray(Image.open(photos[0]).convert("RGB"))
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        job_id = create_job(cat, [EnhanceItem(photos[0], lib)],
                            EnhanceOptions(tile=64, tone=True))
        s = run_job(cat, job_id, Enhancer.load(tiny_model, device="cpu"),
                    judge=lambda a, b, kept: Verdict(NOT_IMPROVED, 0.1))
        states = item_states(cat, job_id)
    (r,) = s.results
    assert np.array_equal(seen[0], original)  # the tone step read the original, not the net's
    if words == "no change":
        assert r.status == "skipped" and r.output is None and r.restored
        assert states[0].restored
        return
    assert not states[0].restored  # the batch view says so
    assert r.status == "done" and not r.restored and r.tone == words
    assert r.verdict == NOT_IMPROVED  # the one verdict is still the restoration's
    copy = np.asarray(Image.open(r.output).convert("RGB"))
    assert np.abs(copy.astype(int) - 200).max() <= 2  # the tone edit, written
