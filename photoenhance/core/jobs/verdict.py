"""One verdict per enhanced photo, decided once, here, and shown the same everywhere.

The verdict is one of:

- ``improved``: the photo changed and the ranker predicts a real gain for it;
- ``unchanged``: the enhancer returned the photo as it was (measured clean);
- ``not improved``: the ranker predicts less than :data:`NOT_IMPROVED_DB` for the photo, or
  the copy reads as needing more enhancement than the original did;
- ``blocked``: the do-no-harm guard (:mod:`photoenhance.core.ml.guard`) found that most of
  what the net changed was image detail, not noise, and gave most of it back.

It comes with the **predicted gain** in dB: the improvability model's prediction for the
original, the very number behind its score (``score = gain_to_score(predicted_gain)``), so
``rank`` and ``enhance`` speak of the same gain. A copy whose verdict is ``blocked`` or
``not improved`` is not written unless the user asks (``--force``, :attr:`force`).

The CLI text, ``enhance --json``, GUI batches, the compare view and the catalog's job items
all read the :class:`Verdict` made by :func:`decide`; :func:`load_judge` builds the one
judge the CLI and the GUI pass to :func:`photoenhance.core.jobs.runner.run_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

IMPROVED = "improved"
UNCHANGED = "unchanged"
NOT_IMPROVED = "not improved"
BLOCKED = "blocked"
VERDICTS = (IMPROVED, UNCHANGED, NOT_IMPROVED, BLOCKED)
#: Verdicts whose copy is not written unless forced.
SKIPPED = (NOT_IMPROVED, BLOCKED)
#: A predicted gain under this (dB) is no improvement (as for the copies' verified gain).
NOT_IMPROVED_DB = 0.25
#: The guard blocks a photo when it lets through less than this share of the net's change
#: (in squared difference): most of what the net would remove is detail.
BLOCKED_SHARE = 0.3


@dataclass(frozen=True)
class Verdict:
    """The verdict on one photo's enhancement (``verdict`` None: it could not be judged,
    because the ranking model is missing)."""

    verdict: str | None
    predicted_gain: float | None = None
    #: realised gain: the ranker's gain for the original minus its gain for the copy
    realised_gain: float | None = None

    @property
    def writes(self) -> bool:
        """Whether the copy is written without being forced."""
        return self.verdict not in SKIPPED

    @property
    def reason(self) -> str:
        """Why a copy is not written, in a photographer's words ("" when it is)."""
        if self.verdict == BLOCKED:
            return ("blocked: what the enhancer would remove is mostly detail, not noise; "
                    "keep the original")
        if self.verdict == NOT_IMPROVED:
            gain = "" if self.predicted_gain is None else f" ({self.predicted_gain:+.1f} dB)"
            return f"not improved{gain}: keep the original"
        return ""

    def text(self) -> str:
        """The verdict as the CLI prints it after a photo's line."""
        if self.verdict is None:
            return ""
        if self.verdict == IMPROVED and self.predicted_gain is not None:
            return f"improved (+{self.predicted_gain:.1f} dB predicted quality gain)"
        if self.verdict == NOT_IMPROVED:
            return self.reason
        return self.verdict


def decide(gain_before: float | None, gain_after: float | None, *, changed: bool = True,
           guard_kept: float | None = None) -> Verdict:
    """The verdict for a photo whose ranker gain was ``gain_before`` and whose copy's is
    ``gain_after`` (None: not scored), given whether the pixels ``changed`` and the share of
    the net's change the guard let through (:attr:`GuardStats.kept_share`)."""
    predicted = None if gain_before is None else round(float(gain_before), 2)
    realised = None
    if gain_before is not None and gain_after is not None:
        realised = round(max(float(gain_before), 0.0) - max(float(gain_after), 0.0), 3)
    if not changed:
        return Verdict(UNCHANGED, predicted, realised)
    if guard_kept is not None and guard_kept < BLOCKED_SHARE:
        return Verdict(BLOCKED, predicted, realised)
    if predicted is None:
        return Verdict(None, None, None)
    if predicted < NOT_IMPROVED_DB or (realised is not None and realised < 0.0):
        return Verdict(NOT_IMPROVED, predicted, realised)
    return Verdict(IMPROVED, predicted, realised)


def predicted_gain_of_score(score: float) -> float:
    """The predicted gain in dB behind a ranker score (the inverse of its scale; 0 for a
    score of 0, whose gain is 0 or less)."""
    from photoenhance.core.rank.scale import score_to_gain

    return round(score_to_gain(score), 2)


def header_verdict(score: float, last_not_improved: bool = False,
                   gain: float | None = None) -> str:
    """What the compare view says of a photo next to its score: the predicted gain (the
    catalog's ``gain`` behind the score; the score's inverse for rows without one), and the
    verdict on its last copy when that was ``not improved``."""
    gain = predicted_gain_of_score(score) if gain is None else round(float(gain), 2)
    text = f"{gain:+.1f} dB predicted"
    return text + ("; last copy: not improved" if last_not_improved else "")


#: ``judge(original, enhanced, guard_kept)`` for 8-bit-or-wider pixel arrays.
Judge = Callable[[np.ndarray, np.ndarray, "float | None"], Verdict]


class _ArrayScorer(Protocol):
    def score_arrays(self, images: Any) -> list[Any]: ...


def _rgb8(a: np.ndarray) -> np.ndarray:
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    a = a[..., :3]
    if a.dtype == np.uint16:
        return np.ascontiguousarray((a.astype(np.float32) / 257.0).round().astype(np.uint8))
    if a.dtype != np.uint8:
        return np.ascontiguousarray((np.clip(a, 0, 1) * 255.0).round().astype(np.uint8))
    return np.ascontiguousarray(a)


def judge_with(scorer: _ArrayScorer | None) -> Judge:
    """A judge scoring the original and the enhanced pixels with ``scorer`` (the shipped
    improvability model); with None, only ``unchanged`` and ``blocked`` can be told."""

    def judge(original: np.ndarray, enhanced: np.ndarray, guard_kept: float | None) -> Verdict:
        changed = not np.array_equal(original, enhanced)
        if scorer is None:
            return decide(None, None, changed=changed, guard_kept=guard_kept)
        before, after = scorer.score_arrays([_rgb8(original), _rgb8(enhanced)])
        return decide(before.gain_db, after.gain_db, changed=changed, guard_kept=guard_kept)

    return judge


def load_judge(load: Callable[[], Any] | None = None) -> Judge:
    """The judge the CLI and the GUI use: the shipped ranking model (with the user's
    calibration), or, when it is not installed, the guard's verdict alone. ``load`` gives
    that model (the GUI's: the one its inference lane holds); default ``Scorer.load``."""
    from photoenhance.core.errors import ModelError

    if load is None:
        from photoenhance.core.rank.scorer import Scorer

        load = Scorer.load
    try:
        return judge_with(load())
    except ModelError:
        return judge_with(None)
