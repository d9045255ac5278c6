"""The documented 0-1 improvability scale.

The network predicts ``gain``: how many dB of PSNR the shipped enhancer would add to the
photo (its full-reference gain on synthetic data). The score shown to users is

    score = 1 - 0.6 ** max(gain, 0)

so that 0 means "nothing to gain", the default "worth fixing" threshold **0.4 is a 1 dB
gain** (visible side by side at 100 %), 0.64 is 2 dB, 0.78 is 3 dB and 0.92 is 5 dB. The
map is monotonic, so ranking by score is ranking by predicted gain, and it can be inverted
with :func:`score_to_gain`.

Per-factor scores are the predicted strengths of each degradation in [0, 1], on the scales
of :func:`photoenhance.core.ml.degrade.degrade`: noise = noise std / (50/255) (0.2 looks
like Gaussian noise of sigma 10/255), blur = blur-kernel spatial std / 4 px, jpeg =
(95 - quality) / 85, clipping = 4 x the fraction of newly clipped values.
"""

from __future__ import annotations

import math

import numpy as np

BASE = 0.6
#: The default "worth fixing" threshold: a predicted gain of 1 dB.
DEFAULT_THRESHOLD = 0.4
VISIBLE_GAIN_DB = 1.0


def gain_to_score(gain_db: np.ndarray | float) -> np.ndarray:
    """Map predicted gains in dB to the 0-1 score."""
    g = np.maximum(np.asarray(gain_db, dtype=np.float64), 0.0)
    return 1.0 - np.power(BASE, g)


def score_to_gain(score: float) -> float:
    """Inverse of :func:`gain_to_score` for scores in [0, 1)."""
    s = min(max(score, 0.0), 1.0 - 1e-9)
    return math.log(1.0 - s) / math.log(BASE)
