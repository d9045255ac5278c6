"""Tie an enhancement batch to the catalog: pick photos, protect originals, record copies."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from photoenhance.core.catalog import Catalog, Enhancement, Photo, Root, ranked_photos
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions, EnhanceResult, EnhancerLike
from photoenhance.core.jobs.verdict import SKIPPED
from photoenhance.core.jobs.verify import NOT_IMPROVED, enhancement_status


class CatalogLinks:
    """Catalog look-ups an enhancement batch needs. Each call opens its own session, so the
    I/O pool may call :meth:`is_original` while the main thread records results."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        with catalog.session() as s:
            self._roots = sorted((r.path for r in s.scalars(select(Root))),
                                 key=lambda p: -len(p.parts))

    def root_of(self, path: Path) -> Path | None:
        """The deepest library root that contains ``path``, or None."""
        return next((r for r in self._roots if path.is_relative_to(r)), None)

    def items_for_files(self, files: Sequence[Path]) -> list[EnhanceItem]:
        items = []
        for f in files:
            path = Path(os.path.abspath(f.expanduser()))
            real = Path(os.path.realpath(path))
            items.append(EnhanceItem(path, self.root_of(real) or self.root_of(path)))
        return items

    def _photo(self, s: Session, path: Path) -> Photo | None:
        stmt = select(Photo).where(Photo.path.in_([path, Path(os.path.realpath(path))]),
                                   Photo.is_output.is_(False))
        return s.scalars(stmt).first()

    def is_original(self, path: Path) -> bool:
        """Whether ``path`` is a catalogued original (the writer refuses to write there)."""
        with self.catalog.session() as s:
            return self._photo(s, path) is not None

    def record(self, result: EnhanceResult, enhancer: EnhancerLike, opts: EnhanceOptions,
               verified_delta: float | None = None) -> None:
        """Store an Enhancement row for a catalogued source (others are not recorded).

        A written copy whose ``verified_delta`` shows no real gain is stored as
        ``not_improved``."""
        status: str = result.status
        if status == "done" and result.verdict is not None:  # judged: the verdict decides
            status = NOT_IMPROVED if result.verdict in SKIPPED else "done"
        elif status == "done":
            status = enhancement_status(verified_delta)
        with self.catalog.session() as s:
            photo = self._photo(s, result.source)
            if photo is None:
                return
            s.add(Enhancement(
                source_id=photo.id, output_path=result.output, model_id=enhancer.model_id,
                model_version=getattr(enhancer, "version", None) or None,
                parameters={"strength": opts.strength, "format": opts.policy.format,
                            "location": opts.policy.location,
                            "specialist": result.specialist, "tone": result.tone},
                status=status, error=result.error, verified_delta=verified_delta,
            ))


def pick_from_catalog(catalog: Catalog, top: int | None,
                      min_score: float | None) -> list[EnhanceItem]:
    """The best-ranked present originals: the first ``top``, or all scoring ``min_score``+."""
    with catalog.session() as s:
        ranked = ranked_photos(s, limit=top, min_score=min_score)
        roots = {r.id: r.path for r in s.scalars(select(Root))}
        return [EnhanceItem(rp.photo.path, roots.get(rp.photo.root_id or -1))
                for rp in ranked if rp.score is not None]
