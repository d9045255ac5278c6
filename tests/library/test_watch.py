"""The watcher: completeness, partial names, bursts, removals; the alert digest."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoenhance.core.catalog import Catalog, Photo, PhotoStatus, Score
from photoenhance.core.library.alerts import Alert, AlertDigest
from photoenhance.core.library.watch import LibraryWatcher, header_opens, is_partial_name
from photoenhance.core.library.watch_service import Indexed, Scored, WatchService
from photoenhance.core.rank.scorer import ScoreResult


def _jpeg_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    import io

    buf = io.BytesIO()
    arr = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), np.uint8)
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Collector:
    def __init__(self) -> None:
        self.ready: list[Path] = []
        self.removed: list[Path] = []
        self.lock = threading.Lock()

    def on_ready(self, paths: list[Path]) -> None:
        with self.lock:
            self.ready += paths

    def on_removed(self, paths: list[Path]) -> None:
        with self.lock:
            self.removed += paths


def _wait(cond, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.parametrize("poll", [False, True])
def test_slow_copy_is_ready_only_when_complete(tmp_path: Path, poll: bool) -> None:
    data = _jpeg_bytes(size=(400, 300))
    got = Collector()
    target = tmp_path / "card" / "DSC0001.JPG"
    target.parent.mkdir()
    with LibraryWatcher([tmp_path], got.on_ready, got.on_removed, poll=poll,
                        debounce_s=0.3, settle_s=0.4):
        time.sleep(0.3)
        with open(target, "wb") as fh:
            step = len(data) // 6
            for i in range(0, len(data), step):
                fh.write(data[i:i + step])
                fh.flush()
                assert got.ready == [], "a half-written file was handed over"
                time.sleep(0.35)
        assert _wait(lambda: got.ready == [target.resolve()])
        time.sleep(0.5)
        assert got.ready == [target.resolve()]


def test_partial_hidden_and_output_files_are_ignored(tmp_path: Path) -> None:
    got = Collector()
    with LibraryWatcher([tmp_path], got.on_ready, poll=False, debounce_s=0.1, settle_s=0.1):
        (tmp_path / "Enhanced").mkdir()
        for name in ("a.jpg.part", "b.jpg.crdownload", ".c.jpg", "d.jpg~", "Enhanced/e.jpg",
                     "notes.txt"):
            (tmp_path / name).write_bytes(_jpeg_bytes())
        (tmp_path / "real.jpg").write_bytes(_jpeg_bytes())
        assert _wait(lambda: len(got.ready) == 1)
        time.sleep(0.6)
    assert [p.name for p in got.ready] == ["real.jpg"]
    assert all(is_partial_name(n) for n in ("x.part", "x.crdownload", ".x.jpg", "x~"))


def test_truncated_jpeg_is_not_complete(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(_jpeg_bytes())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(_jpeg_bytes()[:-200])
    assert header_opens(whole) and not header_opens(cut)


def test_burst_moves_and_deletes(tmp_path: Path) -> None:
    got = Collector()
    with LibraryWatcher([tmp_path], got.on_ready, got.on_removed, debounce_s=0.2,
                        settle_s=0.2):
        time.sleep(0.2)
        payload = _jpeg_bytes()
        for i in range(200):
            (tmp_path / f"b{i:03d}.jpg").write_bytes(payload)
        assert _wait(lambda: len(set(got.ready)) == 200, 30)
        (tmp_path / "b000.jpg").rename(tmp_path / "moved.jpg")
        (tmp_path / "b001.jpg").unlink()
        assert _wait(lambda: {"b000.jpg", "b001.jpg"} <= {p.name for p in got.removed})
        assert _wait(lambda: "moved.jpg" in {p.name for p in got.ready})
    assert len(got.ready) == 201  # each file handed over once, plus the moved one


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_digest_one_alert_per_burst_with_snooze_and_muted_roots() -> None:
    clock, alerts = FakeClock(), []
    d = AlertDigest(alerts.append, threshold=0.4, quiet_s=5, max_wait_s=60, clock=clock,
                    disabled_roots={Path("/muted")})
    for i in range(5):
        d.add(Path(f"/lib/{i}.jpg"), 0.9, Path("/lib"))
        clock.t += 1
    d.add(Path("/lib/low.jpg"), 0.1, Path("/lib"))
    d.add(Path("/muted/x.jpg"), 0.9, Path("/muted"))
    assert d.poll() is None  # still in the burst
    clock.t += 5
    alert = d.poll()
    assert alert is not None and alert.count == 5 and alert.message == "5 new photos worth fixing"
    assert d.poll() is None and len(alerts) == 1
    d.snooze(100)
    d.add(Path("/lib/later.jpg"), 0.5)
    clock.t += 10
    assert d.poll() is None
    clock.t += 100
    assert d.poll() == Alert((Path("/lib/later.jpg"),))


class FakeScorer:
    model_id, version = "fake", "1"

    def score_paths(self, paths, batch_size=16, progress=None, cancel=None, workers=None):
        return [ScoreResult(Path(p), 0.8 if "bad" in Path(p).name else 0.1,
                            factors={"noise": 0.5, "blur": 0.0, "jpeg": 0.0, "clipping": 0.0})
                for p in paths]


def test_service_indexes_scores_and_alerts_once(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    events: list[object] = []
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        svc = WatchService(cat, [lib], events.append, scorer=FakeScorer, debounce_s=0.2,
                           settle_s=0.2, alert_quiet_s=0.5).start()
        try:
            time.sleep(0.2)
            for i in range(12):
                (lib / f"{'bad' if i < 5 else 'ok'}{i}.jpg").write_bytes(_jpeg_bytes(i))
            assert _wait(lambda: sum(isinstance(e, Scored) for e in events) == 12, 30)
            assert _wait(lambda: any(isinstance(e, Alert) for e in events), 10)
            (lib / "ok11.jpg").unlink()
            assert _wait(lambda: any(isinstance(e, Indexed) and e.summary.missing
                                     for e in events), 10)
        finally:
            svc.stop()
        alerts = [e for e in events if isinstance(e, Alert)]
        assert len(alerts) == 1 and alerts[0].count == 5
        with cat.session() as s:
            assert s.query(Score).count() == 12
            missing = s.query(Photo).filter(Photo.status == PhotoStatus.MISSING).all()
            assert [p.path.name for p in missing] == ["ok11.jpg"]


def test_watch_cli_prints_and_stops_on_interrupt(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    lib = tmp_path / "lib"
    lib.mkdir()
    # Ctrl-C at a terminal: the child starts with SIGINT at its default even when pytest
    # itself runs as a background job (which starts with SIGINT ignored, and passes that on)
    proc = subprocess.Popen(
        [sys.executable, "-m", "photoenhance", "--catalog", str(tmp_path / "c.sqlite"),
         "watch", str(lib)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Watching 1 folder(s)")
        (lib / "new.jpg").write_bytes(_jpeg_bytes())
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Stopped watching." in out and "Traceback" not in err
    with Catalog.open(tmp_path / "c.sqlite") as cat, cat.session() as s:
        assert [p.path.name for p in s.query(Photo)] == ["new.jpg"]
