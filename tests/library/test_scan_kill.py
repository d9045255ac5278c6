"""A scan killed with SIGKILL loses at most its last batch; a rescan completes the catalog."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from photoenhance.core.catalog import Catalog
from photoenhance.core.library import run_scan

REPO = Path(__file__).resolve().parents[2]
FILES, BATCH = 3000, 100

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from photoenhance.core.catalog import Catalog
    from photoenhance.core.library import run_scan

    def committed(ids):
        print("batch", len(ids), flush=True)
        time.sleep(0.05)  # keep the scan running long enough to be killed mid-way

    with Catalog.open(Path(sys.argv[1])) as cat:
        run_scan(cat, [sys.argv[2]], batch_size=int(sys.argv[3]), on_batch=committed)
    print("finished", flush=True)
""")


def tiny_library(root: Path, count: int) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, "JPEG")
    data = buf.getvalue()
    for i in range(count):
        folder = root / f"d{i % 30:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"p{i:05}.jpg").write_bytes(data + i.to_bytes(4, "little"))  # after EOI


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_kill_mid_scan_then_rescan(tmp_path: Path) -> None:
    library, db = tmp_path / "lib", tmp_path / "catalog.sqlite"
    tiny_library(library, FILES)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(library), str(BATCH)],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    assert child.stdout is not None
    for _ in range(5):
        assert child.stdout.readline().startswith("batch")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    committed = conn.execute("SELECT count(*) FROM photos").fetchone()[0]
    conn.close()
    assert 5 * BATCH <= committed < FILES and committed % BATCH == 0

    with Catalog.open(db) as cat:
        summary = run_scan(cat, [library])
        assert (summary.added, summary.unchanged) == (FILES - committed, committed)
        assert summary.missing == summary.unreadable == 0
        again = run_scan(cat, [library])
        assert again.unchanged == FILES and again.added == 0
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT count(*), count(DISTINCT path), min(status), max(status) "
                        "FROM photos").fetchone()
    conn.close()
    assert rows == (FILES, FILES, "ok", "ok")
