"""Retrain the ranker's layers after the backbone on cached backbone features.

``python -m photoenhance.train.rank.headfit --init models/improvability-v1.pt
--pool data/rank/pool-real --out checkpoints/head/improvability-v1.pt``

On two shared CPU cores a full training step of the ranker (32 photos, five views each)
takes seconds; the layers after the backbone (MLP, ``overall``, ``factors``, ``tone``) are
0.1 % of that. So this runs the frozen backbone of ``--init`` once over every region of the
pools (cached per shard, keyed by the weights' sha256), then fits the MLP and the heads with
:func:`.train.loss_fn` for many epochs in seconds, evaluates with :func:`.train.evaluate`'s
figures on the held-out regions, and writes the whole net (backbone of ``--init``, new
layers) with its card. ``--fraction`` trains on that share of the training regions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from photoenhance.core.ml.nets.improvability import ImprovabilityNet
from photoenhance.core.rank.scorer import save_model
from photoenhance.train.rank.train import (
    Pool,
    evaluate,
    load_pool,
    loss_fn,
    views_in_batches,
    warm_start,
)


@torch.inference_mode()
def backbone_features(net: ImprovabilityNet, pool: Pool, batch: int = 64) -> np.ndarray:
    """(N, 3 * feat): global, mean-pooled and max-pooled crop features (the MLP's input)."""
    net.eval()
    out = []
    for g, c in views_in_batches(pool, batch):
        b, k = c.shape[:2]
        fg = net.backbone((g - net.mean) / net.std)
        fc = net.backbone((c.flatten(0, 1) - net.mean) / net.std).view(b, k, -1)
        out.append(torch.cat([fg, fc.mean(1), fc.amax(1)], 1).float().numpy())
    return np.concatenate(out)


class _Heads(torch.nn.Module):
    """The net's layers after the backbone, reading cached features."""

    def __init__(self, net: ImprovabilityNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        h = self.net.mlp(f)
        n = self.net
        return torch.cat([n.overall(h), n.factors(h)] + ([n.tone(h)] if n.tone else []), 1)


def pools_with_features(roots: list[Path], net: ImprovabilityNet, cache: Path
                        ) -> tuple[Pool, Pool, np.ndarray, np.ndarray]:
    """(train, held out, their features): each shard's features cached in ``cache``."""
    pools, feats = [], []
    for root in roots:
        for folder in sorted(f for f in root.iterdir() if f.is_dir() and
                             not f.name.endswith(".tmp")):
            path = cache / f"{root.name}_{folder.name}.npy"
            train, held = load_pool([folder], flat=True)
            pool = train.take(np.arange(len(train)))
            pools.append((train, held))
            if not path.exists():
                cache.mkdir(parents=True, exist_ok=True)
                both = Pool(*(np.concatenate([getattr(train, f), getattr(held, f)])
                              for f in Pool.__dataclass_fields__))
                np.save(path, backbone_features(net, both))
            f = np.load(path)
            feats.append((f[:len(pool)], f[len(pool):]))
    train = _cat([tr for tr, _ in pools])
    held = _cat([h for _, h in pools])
    return (train, held, np.concatenate([f for f, _ in feats]),
            np.concatenate([f for _, f in feats]))


def _cat(pools: list[Pool]) -> Pool:
    return Pool(*(np.concatenate([getattr(q, f) for q in pools])
                  for f in Pool.__dataclass_fields__))


def fit(net: ImprovabilityNet, feats: np.ndarray, train: Pool, args: argparse.Namespace,
        rng: np.random.Generator) -> None:
    heads = _Heads(net)
    params = [*net.mlp.parameters(), *net.overall.parameters(), *net.factors.parameters()]
    params += list(net.tone.parameters()) if net.tone else []
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * max(1, len(train) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=steps)
    f_all = torch.from_numpy(feats)
    y_all, s_all = torch.from_numpy(train.gain), torch.from_numpy(train.strengths)
    t_all = torch.from_numpy(train.tone_gain)
    heads.train()
    for _ in range(steps):
        idx = torch.from_numpy(rng.choice(len(train), args.batch, replace=False))
        out = heads(f_all[idx])
        loss = loss_fn(out, y_all[idx], s_all[idx], args.score_weight, t_all[idx],
                       args.tone_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        sched.step()
    net.eval()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train.rank.headfit")
    p.add_argument("--init", type=Path, required=True)
    p.add_argument("--pool", type=Path, action="append", required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--tone-weight", type=float, default=0.2)
    p.add_argument("--score-weight", type=float, default=0.0)
    p.add_argument("--fraction", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=Path("checkpoints/headfit-cache"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = ImprovabilityNet()
    warm_start(net, args.init)
    key = hashlib.sha256(args.init.read_bytes()).hexdigest()[:10]
    train, held, f_train, f_held = pools_with_features(args.pool, net, args.cache / key)
    if args.fraction < 1.0:
        keep = np.sort(rng.permutation(len(train))[:round(len(train) * args.fraction)])
        train, f_train = train.take(keep), f_train[keep]
    fit(net, f_train.astype(np.float32), train, args, rng)
    metrics = evaluate_cached(net, f_held, held)
    print(json.dumps({"train": len(train), "held": len(held), **metrics}), flush=True)
    if args.out:
        card = {"held_out_metrics": metrics, "training": {
            "method": "layers after the backbone refitted on cached backbone features "
                      "(photoenhance.train.rank.headfit)", "init": str(args.init),
            "epochs": args.epochs, "batch": args.batch, "lr_peak": args.lr,
            "tone_weight": args.tone_weight, "seed": args.seed, "train_regions": len(train),
            "held_out_regions": len(held), "pools": [str(x) for x in args.pool]}}
        save_model(net, args.out, version="candidate", card=card)


def evaluate_cached(net: ImprovabilityNet, feats: np.ndarray, held: Pool) -> dict[str, float]:
    """:func:`.train.evaluate`'s figures from cached features."""
    with torch.inference_mode():
        out = _Heads(net.eval())(torch.from_numpy(feats.astype(np.float32))).numpy()
    return evaluate(net, held, out)


if __name__ == "__main__":
    main()
