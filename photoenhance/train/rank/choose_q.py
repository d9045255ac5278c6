"""Choose Q: which no-reference quality delta agrees best with the true gain?

``python -m photoenhance.train.rank.choose_q [--n 150]`` takes held-out regions of the label
pool, runs the enhancer on them, computes delta-Q = Q(enhanced) - Q(degraded) for each
candidate (Q = -NIQE, Q = -BRISQUE, and their z-scored mean) and reports its Spearman
correlation with the true full-reference gain and its PR-AUC for "gain >= 1 dB". The
result goes to ``data/rank/q_choice.json`` and into the model card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from photoenhance.core.rank.metrics import pr_auc, spearman
from photoenhance.train.rank import quality
from photoenhance.train.rank.enhance_batch import BatchEnhancer
from photoenhance.train.rank.labels import mse_batch, pool_dir, true_gain


def held_out_sample(n: int, seed: int, weights: Path | None
                    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, str]:
    """``n`` held-out regions: degraded, enhanced now, true gain, enhancer sha256."""
    enhancer = BatchEnhancer(weights)
    rng = np.random.default_rng(seed)
    folders = sorted(pool_dir().iterdir())
    deg, enh, gain = [], [], []
    for k, folder in enumerate(folders):
        held = np.flatnonzero(np.load(folder / "holdout.npy"))
        m = n // len(folders) + (k < n % len(folders))
        pick = np.sort(rng.choice(held, size=min(m, len(held)), replace=False))
        d = np.load(folder / "degraded.npy", mmap_mode="r")[pick]
        c = np.load(folder / "clean.npy", mmap_mode="r")[pick]
        e = enhancer.run(np.ascontiguousarray(d), 4)
        gain.append(true_gain(mse_batch(c, d), mse_batch(c, e)))
        deg += list(d)
        enh += list(e)
    return deg, enh, np.concatenate(gain), enhancer.sha256


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-9)


def choose(n: int, seed: int, weights: Path | None = None) -> dict[str, object]:
    deg, enh, gain, sha = held_out_sample(n, seed, weights)
    deltas = {}
    for name, fn in quality.Q_FUNCS.items():
        deltas[name] = np.array([fn(b) - fn(a) for a, b in zip(deg, enh, strict=True)])
    deltas["niqe+brisque"] = _z(deltas["niqe"]) + _z(deltas["brisque"])
    table = {name: {"spearman": round(spearman(d, gain), 3),
                    "pr_auc_gain_ge_1db": round(pr_auc(d, gain >= 1), 3)}
             for name, d in deltas.items()}
    best = max(table, key=lambda k: table[k]["spearman"])
    return {"regions": len(gain), "positives": int((gain >= 1).sum()), "candidates": table,
            "best_delta_q": best, "enhancer_sha256": sha}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train.rank.choose_q")
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--enhancer", type=Path, default=None, help="weights (default shipped)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = choose(args.n, args.seed, args.enhancer)
    text = json.dumps(result, indent=2)
    (pool_dir().parent / "q_choice.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
