"""The queries behind the library view and the job lists (the adapters only format them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from photoenhance.core.catalog import (
    Catalog,
    Enhancement,
    Job,
    JobItem,
    Photo,
    PhotoStatus,
    Rating,
    Root,
    Score,
)
from photoenhance.core.catalog.queries import NOT_IMPROVED, REJECTED, library_state
from photoenhance.core.jobs.queries import enhanced_items, item_states, job_rows, job_size

T0 = datetime(2026, 1, 1)


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        with cat.session() as s:
            s.add(Root(path=Path("/lib")))
            s.add_all([Photo(id=1, path=Path("/lib/a.jpg"), width=40, height=30),
                       Photo(id=2, path=Path("/lib/b.jpg")),
                       Photo(id=3, path=Path("/lib/bad.jpg"), status=PhotoStatus.UNREADABLE,
                             error="truncated", width=8, height=6)])
            s.add(Score(photo_id=1, model_id="m", model_version="1", score=0.7, noise=0.5,
                        blur=0.1, jpeg=0.0, clipping=0.0))
            for i, (status, delta) in enumerate((("done", 1.2), (NOT_IMPROVED, 0.1),
                                                 (REJECTED, None))):
                s.add(Enhancement(source_id=1 + (i == 2), output_path=Path(f"/out/{i}.jpg"),
                                  model_id="e", status=status, verified_delta=delta,
                                  created_at=T0 + timedelta(seconds=i)))
            s.add(Rating(photo_id=2, label=1))
            job = Job(kind="enhance", status="running", created_at=T0)
            s.add(job)
            s.flush()
            s.add_all([JobItem(job_id=job.id, position=0, source_path=Path("/lib/a.jpg"),
                               output_path=Path("/out/0.jpg"), status="done", started_at=T0,
                               finished_at=T0 + timedelta(seconds=3)),
                       JobItem(job_id=job.id, position=1, source_path=Path("/lib/b.jpg"))])
        yield cat


def test_library_state(catalog: Catalog) -> None:
    with catalog.session() as s:
        state = library_state(s)
    assert state.roots == [str(Path("/lib"))]
    assert [row[0] for row in state.rows] == [1, 2]  # scored first, unreadable apart
    assert state.copies == {1: (NOT_IMPROVED, 0.1)}  # the latest written copy; rejected not
    assert state.ratings == {2: 1}
    assert state.unreadable == [(3, str(Path("/lib/bad.jpg")), "truncated", 8, 6)]


def test_job_queries(catalog: Catalog) -> None:
    (row,) = job_rows(catalog)
    assert (row["status"], row["done"], row["queued"], row["failed"]) == ("running", 1, 1, 0)
    assert job_size(catalog, row["id"]) == 2
    first, second = item_states(catalog, row["id"])
    assert (first.status, first.photo_id, first.seconds, first.score) == ("done", 1, 3.0, 0.7)
    assert first.verified_delta == 1.2 and second.status == "queued" and second.photo_id == 2
    (item,) = enhanced_items(catalog, [2, 1])
    assert (item.photo_id, item.output, item.verdict) == (1, str(Path("/out/1.jpg")),
                                                         "not improved")
