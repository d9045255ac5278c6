"""Check after the fact that an enhanced copy really improved on its source.

The improvability model predicts how many dB the enhancer would add to a photo. Scoring the
source and its copy gives ``delta = gain(source) - gain(copy)``: the part of the predicted
gain that the copy actually realised. A copy whose delta is below :data:`NOT_IMPROVED_DB`
is flagged "not improved" in the catalog and is not recommended.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from photoenhance.core.catalog.queries import NOT_IMPROVED

#: A copy must realise at least this much predicted gain (dB) to count as improved.
NOT_IMPROVED_DB = 0.25

Verifier = Callable[[Path, Path], float | None]


class _GainScorer(Protocol):
    def score_paths(self, paths: list[Path], *args: Any, **kwargs: Any) -> list[Any]: ...


def gain_verifier(scorer: _GainScorer) -> Verifier:
    """A verifier that returns the realised gain in dB (None when either file won't score)."""

    def verify(source: Path, output: Path) -> float | None:
        before, after = scorer.score_paths([source, output])
        if before.gain_db is None or after.gain_db is None:
            return None
        return round(max(float(before.gain_db), 0.0) - max(float(after.gain_db), 0.0), 3)

    return verify


__all__ = ["NOT_IMPROVED", "NOT_IMPROVED_DB", "Verifier", "enhancement_status", "gain_verifier"]


def enhancement_status(delta: float | None) -> str:
    """Catalog status of a written copy: ``done``, or ``not_improved``."""
    return NOT_IMPROVED if delta is not None and delta < NOT_IMPROVED_DB else "done"
