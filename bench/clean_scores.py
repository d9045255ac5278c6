"""Benchmark: how clean photos score (issue 23: median below 0.2).

Usage: ``python bench/clean_scores.py [--model PATH]``

Scores the clean photos in ``../shared/data/exif`` and the clean bench sets (kodak24,
cbsd68; evaluation only) with the ranker's shipped last layer, and prints per set the
median predicted gain, the median score on the current scale and, as a same-run baseline,
on the logistic scale used before catalog schema v5, plus the share flagged at 0.4.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from photoenhance.core.rank.scale import CENTER_DB, DEFAULT_THRESHOLD, SLOPE_DB, gain_to_score
from photoenhance.core.rank.scorer import Scorer

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data"
SETS = {"exif": "exif", "kodak24": "bench/kodak24", "cbsd68": "bench/cbsd68"}
EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    scorer = Scorer.load(args.model, use_user_head=False)
    data = SHARED
    for name, sub in SETS.items():
        paths = sorted(p for p in (data / sub).rglob("*") if p.suffix.lower() in EXTENSIONS
                       and "noisy" not in str(p).lower())
        if not paths:
            print(f"{name}: not found under {data / sub}")
            continue
        gain = np.array([r.gain_db for r in scorer.score_paths(paths) if r.score is not None])
        old = 1.0 / (1.0 + np.exp(-(gain - CENTER_DB) / SLOPE_DB))
        new = gain_to_score(gain)
        print(f"{name}: {len(gain)} photos, median gain {np.median(gain):+.2f} dB, median "
              f"score {np.median(new):.3f} (old scale {np.median(old):.3f}), flagged at "
              f"{DEFAULT_THRESHOLD}: {np.mean(new >= DEFAULT_THRESHOLD):.0%}, "
              f"scoring 0: {np.mean(gain <= 0):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
