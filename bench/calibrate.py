"""Benchmark: re-rank a whole catalog from its stored vectors after a calibration.

Usage: ``python bench/calibrate.py [--photos 100000] [--repeat 3] [--hidden 128]``

Builds a catalog of ``--photos`` photos in a temporary folder, each with a score and a random
float16 hidden vector of the shipped ranker's width, as scoring stores them (10 % marked as
left unchanged by the enhancer). It then times :func:`rerank_catalog` with a random last layer
(read every vector, one matrix product per chunk, one bulk UPDATE in one transaction), and,
as the same-run baseline, a plain ``SELECT`` of the same rows (the read alone). Target: under
10 s for 100,000 photos. Prints the median of ``--repeat`` runs of each and their ratio, and
checks that the scores written are the ones the layer gives. Last, it times the v4 -> v5
migration step re-deriving as many stored scores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from photoenhance.core.catalog import Catalog
from photoenhance.core.catalog.bulk import sqlite_datetime
from photoenhance.core.catalog.types import utcnow
from photoenhance.core.rank.rerank import _READ_SQL, rerank_catalog, stored_gains
from photoenhance.core.rank.scale import gain_to_score

SHA = "b" * 64


def build(path: Path, n: int, hidden: int, seed: int = 0) -> None:
    """A catalog of ``n`` scored photos with random stored vectors (bulk inserts)."""
    rng = np.random.default_rng(seed)
    now = sqlite_datetime(utcnow())
    vectors = np.maximum(rng.normal(0.3, 1.0, (n, hidden)), 0).astype("<f2")
    gains = np.round(rng.normal(0.5, 1.5, n), 3)
    unchanged = rng.random(n) < 0.1
    with Catalog.open(path) as catalog, catalog.session() as session:
        conn = session.connection()
        conn.exec_driver_sql(
            "INSERT INTO photos (id, path, size, mtime_ns, status, is_output, added_at,"
            " updated_at) VALUES (?, ?, 1000, 1, 'ok', 0, ?, ?)",
            [(i + 1, f"/photos/{i // 1000:03d}/img{i:06d}.jpg", now, now) for i in range(n)])
        conn.exec_driver_sql(
            "INSERT INTO scores (id, photo_id, model_id, model_version, score, gain_db,"
            " computed_at) VALUES (?, ?, 'improvability-v1', '5', ?, ?, ?)",
            [(i + 1, i + 1, round(float(gain_to_score(g)), 4), float(g), now)
             for i, g in enumerate(gains)])
        conn.exec_driver_sql(
            "INSERT INTO embeddings (score_id, model_sha, unchanged, vector) VALUES (?, ?, ?, ?)",
            [(i + 1, SHA, bool(u), vectors[i].tobytes()) for i, u in enumerate(unchanged)])


def time_select(catalog: Catalog) -> float:
    with catalog.session() as session:
        conn = session.connection().connection.driver_connection
        t0 = time.perf_counter()
        rows = conn.execute(_READ_SQL, (SHA,)).fetchall()
        elapsed = time.perf_counter() - t0
    assert rows
    return elapsed


def time_rerank(catalog: Catalog, head: nn.Linear) -> tuple[float, int]:
    t0 = time.perf_counter()
    summary = rerank_catalog(catalog, head, SHA)
    return time.perf_counter() - t0, summary.rescored


def check(catalog: Catalog, head: nn.Linear, sample: int = 1000) -> None:
    """The scores written are the layer's, on the scale."""
    with catalog.session() as session:
        conn = session.connection().connection.driver_connection
        rows = conn.execute(_READ_SQL + " ORDER BY e.score_id LIMIT ?", (SHA, sample)).fetchall()
    gains = stored_gains(head, [r[2] for r in rows], np.array([r[1] for r in rows], bool))
    assert np.allclose([r[4] for r in rows], gains)
    assert np.allclose([r[3] for r in rows], np.round(gain_to_score(gains), 4))


def time_migration(n: int, seed: int = 0) -> float:
    """Seconds the v4 -> v5 step takes to re-derive ``n`` stored scores (a bare table)."""
    import sqlite3

    from photoenhance.core.catalog.migrations import STEPS

    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE scores (id INTEGER PRIMARY KEY, score DOUBLE NOT NULL)")
    conn.executemany("INSERT INTO scores VALUES (?, ?)",
                     [(i, round(float(s), 4)) for i, s in enumerate(rng.uniform(0.05, 0.99, n))])
    t0 = time.perf_counter()
    STEPS[4](conn)
    conn.commit()
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=128, help="the ranker's hidden width")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.sqlite"
        t0 = time.perf_counter()
        build(path, args.photos, args.hidden)
        print(f"built a {args.photos:,}-photo catalog in {time.perf_counter() - t0:.1f} s "
              f"({path.stat().st_size / 2**20:.0f} MiB)")
        with Catalog.open(path) as catalog:
            selects, reranks = [], []
            for _ in range(args.repeat):
                selects.append(time_select(catalog))
                head = nn.Linear(args.hidden, 1)  # a new layer each time: every score moves
                elapsed, rescored = time_rerank(catalog, head)
                assert rescored == args.photos
                reranks.append(elapsed)
            check(catalog, head)
    sel, rer = statistics.median(selects), statistics.median(reranks)
    print(f"plain SELECT of the rows: {sel:.2f} s (median of {args.repeat})")
    print(f"re-rank {args.photos:,} photos: {rer:.2f} s (median of {args.repeat}; "
          f"runs {', '.join(f'{t:.2f}' for t in reranks)})  target < 10 s")
    print(f"re-rank / plain SELECT: {rer / sel:.1f}x")
    print(f"migration v4 -> v5 of {args.photos:,} stored scores: "
          f"{time_migration(args.photos):.2f} s")
    return 0 if rer < 10.0 else 1


if __name__ == "__main__":
    sys.exit(main())
