"""The catalog: an embedded SQLite database of library roots, photos, scores and more."""

from photoenhance.core.catalog.catalog import Catalog
from photoenhance.core.catalog.models import (
    RATING_LABELS,
    SCHEMA_VERSION,
    Base,
    Embedding,
    Enhancement,
    Job,
    JobItem,
    JobStatus,
    Photo,
    PhotoStatus,
    Rating,
    Root,
    Score,
)
from photoenhance.core.catalog.queries import (
    RankedPhoto,
    count_photos,
    count_scores,
    invalidate_scores,
    latest_score,
    library_rows,
    photo_by_path,
    ranked_photos,
    unreadable_photos,
    unscored_photo_ids,
)

__all__ = [
    "RATING_LABELS", "SCHEMA_VERSION", "Base", "Catalog", "Embedding", "Enhancement", "Job",
    "JobItem",
    "JobStatus", "Photo", "PhotoStatus", "RankedPhoto", "Rating", "Root", "Score",
    "count_photos", "count_scores", "invalidate_scores", "latest_score", "library_rows",
    "photo_by_path", "ranked_photos", "unreadable_photos", "unscored_photo_ids",
]
