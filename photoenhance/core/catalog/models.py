"""The catalog schema: typed SQLAlchemy 2.0 ORM classes (bare nouns, one per table).

Schema version :data:`SCHEMA_VERSION`; :mod:`.migrations` upgrades older catalogs to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from photoenhance.core.catalog.types import PathType, utcnow

#: The schema version that :class:`Base.metadata` describes (``PRAGMA user_version``).
SCHEMA_VERSION = 5


class PhotoStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # judged not worth a copy (verdict blocked or not improved)


#: The labels a user can give a photo's enhancement: significant, moderate, neutral, worse.
RATING_LABELS = (2, 1, 0, -1)


class Base(DeclarativeBase):
    type_annotation_map = {Path: PathType, dict[str, Any]: JSON}


class Root(Base):
    """A library folder the user asked photoenhance to keep track of."""

    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[Path] = mapped_column(unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_scan_at: Mapped[datetime | None]
    #: Folders the last scan could not read: ``[{"path": ..., "error": ...}]``.
    scan_errors: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class Photo(Base):
    """One image file: an original in a library root, or an enhanced output of one."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("roots.id", ondelete="SET NULL"))
    path: Mapped[Path] = mapped_column(unique=True)
    size: Mapped[int] = mapped_column(default=0)
    mtime_ns: Mapped[int] = mapped_column(default=0)
    fingerprint: Mapped[str | None] = mapped_column(String(32), index=True)
    width: Mapped[int | None]
    height: Mapped[int | None]
    format: Mapped[str | None] = mapped_column(String(16))
    orientation: Mapped[int | None]
    camera_make: Mapped[str | None]
    camera_model: Mapped[str | None]
    captured_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=PhotoStatus.OK, index=True)
    error: Mapped[str | None]
    is_output: Mapped[bool] = mapped_column(default=False, server_default="0")
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="SET NULL"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    scores: Mapped[list[Score]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True
    )
    ratings: Mapped[list[Rating]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True
    )
    derived_from: Mapped[Photo | None] = relationship(remote_side=[id])


class Score(Base):
    """An improvability score of one photo by one model version (higher: more to gain)."""

    __tablename__ = "scores"
    __table_args__ = (Index("ix_scores_photo_computed", "photo_id", "computed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    model_id: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(32))
    score: Mapped[float]
    #: the predicted gain in dB behind ``score`` (``rank/scale.py``); None in rows older
    #: than schema v5 whose score could not be inverted
    gain_db: Mapped[float | None]
    noise: Mapped[float | None]
    blur: Mapped[float | None]
    jpeg: Mapped[float | None]
    clipping: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    photo: Mapped[Photo] = relationship(back_populates="scores")
    embedding: Mapped[Embedding | None] = relationship(
        back_populates="score", cascade="all, delete-orphan", passive_deletes=True
    )

    def factors(self) -> dict[str, float | None]:
        return {"noise": self.noise, "blur": self.blur, "jpeg": self.jpeg,
                "clipping": self.clipping}


class Embedding(Base):
    """The ranker's hidden vector for one score (what its last layer read), so that a new
    last layer (the user's calibration) re-scores the library without decoding a photo.

    ``vector`` is float16 bytes; ``model_sha`` is the sha256 of the ranker weights that
    computed it, so vectors of another model are never read. ``unchanged``: the enhancer
    measured the photo clean and would return it as it is (its gain is 0 whatever the layer).
    """

    __tablename__ = "embeddings"
    score_id: Mapped[int] = mapped_column(
        ForeignKey("scores.id", ondelete="CASCADE"), primary_key=True
    )
    model_sha: Mapped[str] = mapped_column(String(64), index=True)
    unchanged: Mapped[bool] = mapped_column(default=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    score: Mapped[Score] = relationship(back_populates="embedding")


class Enhancement(Base):
    """An enhanced copy written for a source photo."""

    __tablename__ = "enhancements"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    output_path: Mapped[Path | None]
    model_id: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    error: Mapped[str | None]
    #: Measured change in quality score between source and output (positive: better).
    verified_delta: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Photo] = relationship()


class Job(Base):
    """A long operation (scan, score, enhance ...) and its state."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    parameters: Mapped[dict[str, Any] | None]
    error: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    items: Mapped[list[JobItem]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True
    )


class JobItem(Base):
    """One unit of a job, usually one photo."""

    __tablename__ = "job_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    #: Order within the job; the source file, its library root and the copy written.
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    source_path: Mapped[Path | None]
    library_root: Mapped[Path | None]
    output_path: Mapped[Path | None]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    error: Mapped[str | None]
    #: improved, unchanged, not improved or blocked (core/jobs/verdict.py), and the ranker's
    #: predicted gain in dB for the photo
    verdict: Mapped[str | None]
    predicted_gain: Mapped[float | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(back_populates="items")


class Rating(Base):
    """A user's label for how much a photo gained from enhancement: +2, +1, 0 or -1."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("label IN (2, 1, 0, -1)", name="ck_ratings_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)

    photo: Mapped[Photo] = relationship(back_populates="ratings")
