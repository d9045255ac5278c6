"""The documented 0-1 improvability scale.

The network predicts ``gain``: how many dB of PSNR the shipped enhancer would add to the
photo (its full-reference gain on synthetic data; negative when it would make the photo
worse, as it does to clean, finely textured photos). The score shown to users is

    score = 0                          for gain <= 0 dB
    score = 1 - (1 - 0.4) ** gain      for gain > 0    (= 1 - exp(-gain / 1.958 dB))

so **nothing to gain scores exactly 0**, and the default "worth fixing" threshold **0.4 is
a 1 dB gain** (visible side by side at 100 %). Other landmarks: 0.2 = 0.44 dB, 0.64 = 2 dB,
0.78 = 3 dB, 0.92 = 5 dB, 0.98 = 8 dB; it approaches 1 smoothly and never reaches it. It is
continuous, and strictly increasing for positive gains, so ranking by score is ranking by
predicted gain among photos with something to gain; :func:`score_to_gain` inverts it there.
Photos the enhancer would not help (gain <= 0) all score 0; the catalog keeps their gain
(``scores.gain_db``), which orders them among themselves.

Until catalog schema v5 the score was the logistic ``1 / (1 + exp(-(gain - 1.608) / 1.5))``,
which gave a clean photo 0.26; the v5 migration re-derived stored scores from it.
:data:`CENTER_DB` and :data:`SLOPE_DB` remain as the trainer's gain normalisation.

Per-factor scores are the predicted strengths of each degradation in [0, 1], on the scales
of :func:`photoenhance.train.degrade.degrade`: noise = noise std / (50/255) (0.2 looks
like Gaussian noise of sigma 10/255), blur = blur-kernel spatial std / 4 px, jpeg =
(95 - quality) / 85, clipping = 4 x the fraction of newly clipped values.
"""

from __future__ import annotations

import math

import numpy as np

#: The default "worth fixing" threshold: a predicted gain of 1 dB.
DEFAULT_THRESHOLD = 0.4
VISIBLE_GAIN_DB = 1.0
#: ``score = 1 - exp(-gain / SCALE_DB)`` above 0 dB, with ``score(VISIBLE_GAIN_DB) = 0.4``.
SCALE_DB = VISIBLE_GAIN_DB / -math.log(1.0 - DEFAULT_THRESHOLD)
#: The mapping in one line, for model cards and help texts.
SCALE_TEXT = ("score = 0 for gain_db <= 0, else 1 - 0.6 ** gain_db (= 1 - exp(-gain_db / "
              "1.958)); 0.4 (default threshold) = 1 dB gain, 0 = nothing to gain, "
              "0.2 = 0.44 dB, 0.78 = 3 dB, 0.92 = 5 dB")
#: Centre and slope of the logistic score used before catalog schema v5; the trainer still
#: normalises gains with them (its loss and metrics do not depend on the score).
SLOPE_DB = 1.5
CENTER_DB = VISIBLE_GAIN_DB - SLOPE_DB * math.log(DEFAULT_THRESHOLD / (1 - DEFAULT_THRESHOLD))


def gain_to_score(gain_db: np.ndarray | float) -> np.ndarray:
    """Map predicted gains in dB to the 0-1 score (0 for no gain or a loss)."""
    g = np.asarray(gain_db, dtype=np.float64)
    return -np.expm1(-np.maximum(g, 0.0) / SCALE_DB)


def score_to_gain(score: float) -> float:
    """Inverse of :func:`gain_to_score` for scores in (0, 1); a score of 0 gives 0 dB (the
    gain of a photo scored 0 is 0 or less: the catalog's ``gain_db`` says how much less)."""
    s = min(max(score, 0.0), 1.0 - 1e-12)
    return -SCALE_DB * math.log1p(-s)
