"""Re-score the whole catalog from its stored hidden vectors, without decoding a photo.

Scoring keeps, beside each score, the float16 hidden vector the ranker's last layer read
(:class:`~photoenhance.core.catalog.Embedding`, tagged with the sha256 of the weights). A
new last layer (the user's calibration, or the shipped one after ``calibrate --reset``) is
then one matrix product over every stored vector, done in chunks, and one bulk ``UPDATE`` of
the scores in a single transaction. Photos scored before vectors were kept (catalogs older
than schema v5) or by other weights have none: :func:`photos_needing_rescore` lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from photoenhance.core.catalog import Catalog, PhotoStatus
from photoenhance.core.progress import CancelToken, Progress, ProgressCallback
from photoenhance.core.rank.scale import DEFAULT_THRESHOLD, gain_to_score

#: Vectors read, multiplied and held per step.
CHUNK = 20_000

_READ_SQL = (
    "SELECT e.score_id, e.unchanged, e.vector, s.score, s.gain_db FROM embeddings AS e"
    " JOIN scores AS s ON s.id = e.score_id WHERE e.model_sha = ?"
)
_UPDATE_SQL = "UPDATE scores SET score = ?, gain_db = ? WHERE id = ?"
_COUNT_SQL = "SELECT count(*) FROM embeddings WHERE model_sha = ?"
# present originals whose latest score has no vector from these weights
_NEED_SQL = (
    "SELECT p.id, p.path FROM photos AS p JOIN scores AS s ON s.id = ("
    "SELECT l.id FROM scores AS l WHERE l.photo_id = p.id"
    " ORDER BY l.computed_at DESC, l.id DESC LIMIT 1)"
    " WHERE p.status = ? AND p.is_output = 0 AND NOT EXISTS ("
    "SELECT 1 FROM embeddings AS e WHERE e.score_id = s.id AND e.model_sha = ?)"
    " ORDER BY p.path"
)

# every rating, oldest first, with the stored vector of its photo's latest score, if any
_RATED_SQL = (
    "SELECT r.photo_id, p.path, r.label, e.vector FROM ratings AS r"
    " JOIN photos AS p ON p.id = r.photo_id"
    " LEFT JOIN scores AS s ON s.id = (SELECT l.id FROM scores AS l WHERE l.photo_id = p.id"
    " ORDER BY l.computed_at DESC, l.id DESC LIMIT 1)"
    " LEFT JOIN embeddings AS e ON e.score_id = s.id AND e.model_sha = ?"
    " ORDER BY r.rated_at, r.id"
)


@dataclass(frozen=True)
class RerankSummary:
    """What a re-score changed: scores rewritten, photos whose place in the ranking moved,
    photos that crossed the "worth fixing" threshold each way, and photos left as they were
    because the catalog has no vector for them (they need a rescore)."""

    rescored: int
    moved: int
    now_worth_fixing: int
    no_longer_worth_fixing: int
    need_rescore: int


def _driver(session: Any) -> Any:
    conn = session.connection().connection.driver_connection
    assert conn is not None
    return conn


def photos_needing_rescore(catalog: Catalog, model_sha: str) -> list[tuple[int, Path]]:
    """``(id, path)`` of present originals whose latest score has no stored vector from the
    weights ``model_sha``: a recalibration cannot re-score them without decoding them."""
    with catalog.session() as session:
        rows = _driver(session).execute(_NEED_SQL, (PhotoStatus.OK.value, model_sha))
        return [(int(pid), Path(path)) for pid, path in rows]


def rated_vectors(catalog: Catalog, model_sha: str) -> list[tuple[Path, int, bytes | None]]:
    """``(path, label, vector)`` of every rated photo, by its latest rating, with the stored
    float16 vector from ``model_sha`` when its latest score has one (None: decode it)."""
    latest: dict[int, tuple[Path, int, bytes | None]] = {}
    with catalog.session() as session:
        for pid, path, label, vector in _driver(session).execute(_RATED_SQL, (model_sha,)):
            latest[pid] = (Path(path), int(label), vector)
    return list(latest.values())


def stored_gains(head: nn.Linear, vectors: list[bytes], unchanged: np.ndarray) -> np.ndarray:
    """The gains (dB, to 0.001 as scoring rounds them) that ``head`` gives the stored
    float16 ``vectors``; 0 for photos the enhancer leaves unchanged."""
    hidden = head.in_features
    h = np.frombuffer(b"".join(vectors), dtype="<f2").reshape(-1, hidden).astype(np.float32)
    with torch.inference_mode():
        gain = head(torch.from_numpy(h)).float().numpy()[:, 0].astype(np.float64)
    gain[unchanged] = 0.0
    rounded: np.ndarray = np.round(gain, 3)
    return rounded


def _chunks(conn: Any, model_sha: str, cancel: CancelToken | None,
            ) -> Iterator[list[tuple[int, int, bytes, float, float | None]]]:
    cursor = conn.execute(_READ_SQL, (model_sha,))
    while rows := cursor.fetchmany(CHUNK):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield rows


def _ranks(score: np.ndarray, gain: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Each row's place in the best-first order (score, then gain, then id)."""
    order = np.lexsort((ids, -gain, -score))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    return ranks


def _read(catalog: Catalog, head: nn.Linear, model_sha: str,
          progress: ProgressCallback | None, cancel: CancelToken | None,
          ) -> tuple[np.ndarray, ...]:
    """Score ids, their new gains, and their old scores and gains (NaN: none stored)."""
    ids, new_gain, old_score, old_gain = [], [], [], []
    with catalog.session() as session:
        conn = _driver(session)
        total = int(conn.execute(_COUNT_SQL, (model_sha,)).fetchone()[0])
        for rows in _chunks(conn, model_sha, cancel):
            sid, unch, vec, score, gain = zip(*rows, strict=True)
            ids.append(np.array(sid, dtype=np.int64))
            new_gain.append(stored_gains(head, list(vec), np.array(unch, dtype=bool)))
            old_score.append(np.array(score, dtype=np.float64))
            old_gain.append(np.array([np.nan if g is None else g for g in gain], np.float64))
            if progress:
                progress(Progress(sum(map(len, ids)), total, None, "Re-ranking"))
    if not ids:
        return tuple(np.zeros(0) for _ in range(4))
    return tuple(np.concatenate(x) for x in (ids, new_gain, old_score, old_gain))


def rerank_catalog(catalog: Catalog, head: nn.Linear, model_sha: str,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   threshold: float = DEFAULT_THRESHOLD) -> RerankSummary:
    """Re-score every score that has a stored vector from ``model_sha`` with ``head``
    (``nn.Linear(hidden, 1)``, the ranker's ``overall`` layer or the user's), in one
    transaction. Cancelling stops before anything is written."""
    sid, gain, before, gain_before = _read(catalog, head.float().eval(), model_sha, progress,
                                           cancel)
    score = np.round(gain_to_score(gain), 4)
    if cancel is not None:
        cancel.raise_if_cancelled()
    if len(sid):
        with catalog.session() as session:  # one transaction, one bulk executemany
            session.connection().exec_driver_sql(_UPDATE_SQL, list(zip(
                score.tolist(), gain.tolist(), sid.astype(int).tolist(), strict=True)))
    gain_before = np.nan_to_num(gain_before)
    moved = int((_ranks(before, gain_before, sid) != _ranks(score, gain, sid)).sum())
    return RerankSummary(
        len(sid), moved, int(((score >= threshold) & (before < threshold)).sum()),
        int(((score < threshold) & (before >= threshold)).sum()),
        len(photos_needing_rescore(catalog, model_sha)))
