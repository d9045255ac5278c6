"""Choose Q: which no-reference quality delta agrees best with the true gain?

``python -m photoenhance.core.rank.choose_q [--n 150]`` takes held-out regions of the label
pool (after ``labels enhance``), computes delta-Q = Q(enhanced) - Q(degraded) for each
candidate (Q = -NIQE, Q = -BRISQUE, and their z-scored mean) and reports its Spearman
correlation with the true full-reference gain and its PR-AUC for "gain >= 1 dB". The
result goes to ``data/rank/q_choice.json`` and into the model card.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from photoenhance.core.rank import quality
from photoenhance.core.rank.labels import pool_dir, true_gain
from photoenhance.core.rank.metrics import pr_auc, spearman


def held_out_sample(n: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    deg, enh, gain = [], [], []
    for folder in sorted(pool_dir().iterdir()):
        held = np.flatnonzero(np.load(folder / "holdout.npy"))
        d = np.load(folder / "degraded.npy", mmap_mode="r")
        e = np.load(folder / "enhanced.npy", mmap_mode="r")
        g = true_gain(np.load(folder / "mse_in.npy"), np.load(folder / "mse_out.npy"))
        for i in held:
            deg.append(np.asarray(d[i]))
            enh.append(np.asarray(e[i]))
            gain.append(g[i])
    pick = np.random.default_rng(seed).permutation(len(gain))[:n]
    return [deg[i] for i in pick], [enh[i] for i in pick], np.array(gain)[pick]


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-9)


def choose(n: int, seed: int) -> dict[str, object]:
    deg, enh, gain = held_out_sample(n, seed)
    deltas = {}
    for name, fn in quality.Q_FUNCS.items():
        deltas[name] = np.array([fn(b) - fn(a) for a, b in zip(deg, enh, strict=True)])
    deltas["niqe+brisque"] = _z(deltas["niqe"]) + _z(deltas["brisque"])
    table = {name: {"spearman": round(spearman(d, gain), 3),
                    "pr_auc_gain_ge_1db": round(pr_auc(d, gain >= 1), 3)}
             for name, d in deltas.items()}
    best = max(table, key=lambda k: table[k]["spearman"])
    return {"regions": len(gain), "positives": int((gain >= 1).sum()), "candidates": table,
            "chosen": best}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m photoenhance.core.rank.choose_q")
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    result = choose(args.n, args.seed)
    text = json.dumps(result, indent=2)
    (pool_dir().parent / "q_choice.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
