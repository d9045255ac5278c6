"""The documented 0-1 improvability scale.

The network predicts ``gain``: how many dB of PSNR the shipped enhancer would add to the
photo (its full-reference gain on synthetic data; negative when it would make the photo
worse, as it does to clean, finely textured photos). The score shown to users is the
logistic map

    score = 1 / (1 + exp(-(gain - 1.608) / 1.5))

chosen so that the default "worth fixing" threshold **0.4 is a 1 dB gain** (visible side by
side at 100 %). Other landmarks: 0.26 = no change (0 dB), 0.12 = 1.5 dB worse, 0.72 = 3 dB,
0.90 = 5 dB, 0.99 = 8 dB. The map is strictly monotonic over all gains, so ranking by score
is ranking by predicted gain (photos the enhancer would harm keep their order below 0.26),
and it can be inverted with :func:`score_to_gain`.

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
SLOPE_DB = 1.5
CENTER_DB = VISIBLE_GAIN_DB - SLOPE_DB * math.log(DEFAULT_THRESHOLD / (1 - DEFAULT_THRESHOLD))


def gain_to_score(gain_db: np.ndarray | float) -> np.ndarray:
    """Map predicted gains in dB to the 0-1 score."""
    g = np.asarray(gain_db, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-(g - CENTER_DB) / SLOPE_DB))


def score_to_gain(score: float) -> float:
    """Inverse of :func:`gain_to_score` for scores in (0, 1)."""
    s = min(max(score, 1e-12), 1.0 - 1e-12)
    return CENTER_DB + SLOPE_DB * math.log(s / (1.0 - s))
