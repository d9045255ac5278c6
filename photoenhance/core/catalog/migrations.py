"""Versioned schema migrations: a ladder of steps keyed by ``PRAGMA user_version``.

A new catalog is created straight at :data:`SCHEMA_VERSION` from the ORM metadata. An older
one is copied to a backup file, then upgraded one step at a time, each step in its own
transaction. Steps are frozen SQL, never the current models, so they stay correct as the
models move on. A test migrates a fixture of every past version and compares the result
with a fresh catalog.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from photoenhance.core.catalog.models import SCHEMA_VERSION, Base
from photoenhance.core.errors import CatalogError

log = logging.getLogger(__name__)

Step = Callable[[sqlite3.Connection], None]


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """v2: enhanced outputs link to their source; user ratings; unreadable-folder log."""
    conn.execute("ALTER TABLE roots ADD COLUMN scan_errors JSON")
    conn.execute("ALTER TABLE photos ADD COLUMN is_output BOOLEAN DEFAULT '0' NOT NULL")
    conn.execute(
        "ALTER TABLE photos ADD COLUMN derived_from_id INTEGER "
        "REFERENCES photos (id) ON DELETE SET NULL"
    )
    conn.execute("CREATE INDEX ix_photos_derived_from_id ON photos (derived_from_id)")
    conn.execute(
        """CREATE TABLE ratings (
        id INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        label INTEGER NOT NULL,
        rated_at DATETIME NOT NULL,
        PRIMARY KEY (id),
        CONSTRAINT ck_ratings_label CHECK (label IN (2, 1, 0, -1)),
        FOREIGN KEY(photo_id) REFERENCES photos (id) ON DELETE CASCADE)"""
    )
    conn.execute("CREATE INDEX ix_ratings_photo_id ON ratings (photo_id)")


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """v3: job items name their source file, library root and output, in order, so a job
    over files outside the catalog can be resumed after a crash."""
    conn.execute("ALTER TABLE job_items ADD COLUMN position INTEGER DEFAULT '0' NOT NULL")
    for column in ("source_path", "library_root", "output_path"):
        conn.execute(f"ALTER TABLE job_items ADD COLUMN {column} VARCHAR")


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """v4: job items store their verdict and the predicted gain in dB."""
    conn.execute("ALTER TABLE job_items ADD COLUMN verdict VARCHAR")
    conn.execute("ALTER TABLE job_items ADD COLUMN predicted_gain DOUBLE")


def _v4_gain(score: float) -> float | None:
    """The gain in dB behind a score stored before v5 (the logistic of ``rank/scale.py``
    then: centre 1.608 dB, slope 1.5 dB), to 0.01 dB (scores were stored to 4 decimals)."""
    if not 0.0 < score < 1.0:
        return None
    center = 1.0 - 1.5 * math.log(0.4 / 0.6)
    return round(center + 1.5 * math.log(score / (1.0 - score)), 2)


def _v5_score(gain: float | None, old: float) -> float:
    """The score of ``gain`` on the v5 scale (``rank/scale.py``: 0 for no gain, 1 - 0.6 **
    gain above), frozen here like every step; a test checks it against the scale."""
    if gain is None:
        return 0.0 if old <= 0.0 else old
    return round(-math.expm1(max(gain, 0.0) * math.log(0.6)), 4)


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    """v5: scores keep the predicted gain behind them and move to the scale on which no gain
    scores 0; the ranker's hidden vector of each score is kept, so a recalibration can
    re-score the library without decoding it."""
    conn.execute("ALTER TABLE scores ADD COLUMN gain_db DOUBLE")
    conn.create_function("v4_gain", 1, _v4_gain, deterministic=True)
    conn.create_function("v5_score", 2, _v5_score, deterministic=True)
    conn.execute("UPDATE scores SET gain_db = v4_gain(score)")
    conn.execute("UPDATE scores SET score = v5_score(gain_db, score)")
    conn.execute(
        """CREATE TABLE embeddings (
        score_id INTEGER NOT NULL,
        model_sha VARCHAR(64) NOT NULL,
        unchanged BOOLEAN NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (score_id),
        FOREIGN KEY(score_id) REFERENCES scores (id) ON DELETE CASCADE)"""
    )
    conn.execute("CREATE INDEX ix_embeddings_model_sha ON embeddings (model_sha)")


#: ``STEPS[n]`` upgrades a catalog from version ``n`` to ``n + 1``.
STEPS: dict[int, Step] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}


def read_version(path: Path) -> int:
    """The schema version of the catalog at ``path`` (0 for a new, empty file)."""
    try:
        conn = sqlite3.connect(path)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CatalogError(f"cannot open the catalog ({exc})", path) from exc


def backup(path: Path, version: int) -> Path:
    """Copy the catalog (WAL included) to ``<name>.v<version>.<time>.bak`` beside it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    dest = path.with_name(f"{path.name}.v{version}.{stamp}.bak")
    src = sqlite3.connect(path)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return dest


def _run_step(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        STEPS[version](conn)
        conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def _table_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        return {row[0] for row in rows if not row[0].startswith("sqlite_")}


def _create_fresh(engine: Engine) -> None:
    unknown = _table_names(engine) - set(Base.metadata.tables)
    if unknown:
        raise CatalogError(
            f"this database is not a photoenhance catalog (it has tables {sorted(unknown)})",
            engine.url.database,
        )
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate(path: Path, engine: Engine) -> int:
    """Bring the catalog at ``path`` up to :data:`SCHEMA_VERSION`; return the old version."""
    version = read_version(path)
    if version > SCHEMA_VERSION:
        raise CatalogError(
            f"the catalog has schema version {version}, newer than this photoenhance "
            f"understands ({SCHEMA_VERSION}); update photoenhance",
            path,
        )
    if version == 0:
        _create_fresh(engine)
        return 0
    engine.dispose()  # no pooled connection may hold the file while steps run
    for step_from in range(version, SCHEMA_VERSION):
        saved = backup(path, step_from)
        log.info("Migrating catalog %s from v%d (backup %s)", path, step_from, saved)
        try:
            _run_step(path, step_from)
        except sqlite3.Error as exc:
            raise CatalogError(
                f"migration from schema v{step_from} failed ({exc}); backup kept at {saved}",
                path,
            ) from exc
    return version
