"""Train the improvability net: ``python -m photoenhance.train.rank.train [--minutes M]``.

Reads label pools (``--pool``, repeatable): the realistic shards of :mod:`.realpool`
(views of faulty regions, the shipped pipeline's realised gain on each, the tone step's
further gain, six factor strengths), or a pool of :mod:`.labels` (issue 5's synthetic mix;
its four strengths go to noise, blur, jpeg and clipping), and trains
:class:`ImprovabilityNet` with AdamW and a wall-clock cosine schedule, evaluates on
regions from held-out photos, checkpoints to ``<out>-last.pt`` and exports the best
held-out model to ``--out`` (default ``models/improvability-v1.pt``) with its model card.

Loss: Huber (delta 1 dB) on the gain clipped to [-10, 10] dB, plus 0.3 x binary
cross-entropy of each factor head against the degradation strengths (0-1), plus
``--tone-weight`` x Huber on the tone step's gain (where known). ``--init`` warm-starts from
any earlier net where shapes match (an older net's four factor rows go to their names).
``--fraction`` trains on that share of the training regions (the pool-size curve).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from photoenhance.core.ml.nets.improvability import FACTORS, OLD_FACTORS, ImprovabilityNet
from photoenhance.core.paths import models_dir
from photoenhance.core.rank.metrics import pr_auc, precision_recall_at, roc_auc, spearman
from photoenhance.core.rank.scale import (
    CENTER_DB,
    DEFAULT_THRESHOLD,
    SCALE_TEXT,
    SLOPE_DB,
    gain_to_score,
)
from photoenhance.core.rank.scorer import MODEL_NAME, save_model
from photoenhance.train import REPO
from photoenhance.train.rank.labels import pool_dir, true_gain

CKPT = REPO / "checkpoints" / "rank-last.pt"
GAIN_CLIP = (-10.0, 10.0)
FACTOR_WEIGHT = 0.3


@dataclass
class Pool:
    global_view: np.ndarray  # (N, G, G, 3) uint8
    crops: np.ndarray  # (N, K, C, C, 3) uint8
    gain: np.ndarray  # (N,) dB
    strengths: np.ndarray  # (N, 6), FACTORS order
    tone_gain: np.ndarray  # (N,) dB, NaN where unknown
    auto: np.ndarray  # (N,) the enhancer's automatic strength (0: left alone)
    kind: np.ndarray  # (N,) index into realpool.KIND_NAMES (-1: synthetic pool)

    def take(self, idx: np.ndarray) -> Pool:
        return Pool(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.gain)


def _load_shard(folder: Path) -> dict[str, np.ndarray]:
    def get(name: str) -> np.ndarray:
        return np.load(folder / f"{name}.npy")

    return {"g": get("global"), "c": get("crops"), "y": get("gain"), "s": get("strengths"),
            "t": get("tone_gain"), "a": get("auto"), "k": get("kind"), "h": get("holdout")}


def _load_group(folder: Path) -> dict[str, np.ndarray]:
    """A group folder of :mod:`.labels`' synthetic pool."""
    s4 = np.load(folder / "strengths.npy")
    s6 = np.zeros((len(s4), len(FACTORS)), np.float32)
    s6[:, [FACTORS.index(f) for f in OLD_FACTORS]] = s4
    n = len(s4)
    auto = folder / "auto_strength.npy"
    return {"g": np.load(folder / "global.npy"), "c": np.load(folder / "crops.npy"),
            "y": true_gain(np.load(folder / "mse_in.npy"), np.load(folder / "mse_out.npy")),
            "s": s6, "t": np.full(n, np.nan), "k": np.full(n, -1),
            "a": np.load(auto) if auto.exists() else np.ones(n),
            "h": np.load(folder / "holdout.npy")}


def load_pool(roots: list[Path] | None = None, flat: bool = False) -> tuple[Pool, Pool]:
    """(train, held-out) pools from every shard or group folder of the label pools (with
    ``flat``: each root is itself one shard or group folder)."""
    parts = []
    for root in roots or [pool_dir()]:
        folders = [root] if flat else sorted(
            f for f in root.iterdir() if f.is_dir() and not f.name.endswith(".tmp"))
        for folder in folders:
            shard = (folder / "gain.npy").exists()
            parts.append(_load_shard(folder) if shard else _load_group(folder))
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    pool = Pool(cat["g"], cat["c"], cat["y"].astype(np.float32), cat["s"].astype(np.float32),
                cat["t"].astype(np.float32), cat["a"].astype(np.float32), cat["k"])
    held = cat["h"].astype(bool)
    return pool.take(np.flatnonzero(~held)), pool.take(np.flatnonzero(held))


def to_tensors(p: Pool, flip: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
    g = torch.from_numpy(p.global_view).permute(0, 3, 1, 2).float().div_(255)
    c = torch.from_numpy(p.crops).permute(0, 1, 4, 2, 3).float().div_(255)
    if flip is not None and flip.any():
        f = torch.from_numpy(flip)
        g[f] = g[f].flip(-1)
        c[f] = c[f].flip(-1)
    g = g.contiguous(memory_format=torch.channels_last)
    return (g, c, torch.from_numpy(p.gain), torch.from_numpy(p.strengths),
            torch.from_numpy(p.tone_gain))


def views_in_batches(p: Pool, batch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The pool's (global view, crops) tensors, ``batch`` regions at a time, in order."""
    for i in range(0, len(p), batch):
        g, c, *_ = to_tensors(p.take(np.arange(i, min(i + batch, len(p)))))
        yield g, c


def loss_fn(out: torch.Tensor, gain: torch.Tensor, strengths: torch.Tensor,
            score_weight: float = 0.0, tone_gain: torch.Tensor | None = None,
            tone_weight: float = 0.0) -> torch.Tensor:
    """Huber on the gain in dB, BCE on the factors, Huber on the tone gain (where known)
    and, with ``score_weight``, the squared error of the 0-1 score, which counts a 1 dB
    error near the threshold far more than one between 8 and 12 dB."""
    target = gain.clamp(*GAIN_CLIP)
    reg = F.huber_loss(out[:, 0], target, delta=1.0)
    nf = strengths.shape[1]
    fac = F.binary_cross_entropy_with_logits(out[:, 1:1 + nf], strengths)
    loss = reg + FACTOR_WEIGHT * fac
    if tone_weight and tone_gain is not None and out.shape[1] > 1 + nf:
        known = torch.isfinite(tone_gain)
        if known.any():
            t = tone_gain[known].clamp(*GAIN_CLIP)
            loss = loss + tone_weight * F.huber_loss(out[known, 1 + nf], t, delta=1.0)
    if score_weight:
        pred, true = ((t - CENTER_DB) / SLOPE_DB for t in (out[:, 0], target))
        loss = loss + score_weight * F.mse_loss(torch.sigmoid(pred), torch.sigmoid(true))
    return loss


@torch.inference_mode()
def predict(net: ImprovabilityNet, p: Pool, batch: int = 64) -> np.ndarray:
    net.eval()
    return torch.cat([net(g, c).float() for g, c in views_in_batches(p, batch)]).numpy()


def evaluate(net: ImprovabilityNet, p: Pool, out: np.ndarray | None = None
             ) -> dict[str, float]:
    """Held-out figures (of the net's outputs ``out`` when given), with the scorer's rule
    that a photo the enhancer leaves alone gains exactly 0 dB."""
    out = predict(net, p) if out is None else out
    gain = np.where(p.auto <= 0, 0.0, out[:, 0])
    score = gain_to_score(gain)
    positive = p.gain >= 1.0
    prec, rec = precision_recall_at(score, positive, DEFAULT_THRESHOLD)
    nf = p.strengths.shape[1]
    fac = 1 / (1 + np.exp(-out[:, 1:1 + nf]))
    res = {"spearman": round(spearman(gain, p.gain), 4),
           "pr_auc_gain_ge_1db": round(pr_auc(score, positive), 4),
           "precision_at_0.4": round(prec, 4), "recall_at_0.4": round(rec, 4),
           "gain_mae_db": round(float(np.abs(gain - p.gain.clip(*GAIN_CLIP)).mean()), 3),
           "factor_mae": round(float(np.abs(fac - p.strengths).mean()), 4)}
    for i, name in enumerate(FACTORS):  # does the head tell a present fault (>= 0.15)?
        present = p.strengths[:, i] >= 0.15
        if present.any() and (~present).any():
            res[f"auc_{name}"] = round(roc_auc(fac[:, i], present), 4)
    return res


def lr_at(frac: float, peak: float, warmup: float = 0.03) -> float:
    if frac < warmup:
        return peak * (0.1 + 0.9 * frac / warmup)
    t = min(1.0, (frac - warmup) / (1 - warmup))
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train.rank.train")
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=150)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (slower here: depthwise)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--pool", type=Path, action="append", default=None,
                   help="label pool, repeatable (default data/rank/pool)")
    p.add_argument("--held-max", type=int, default=0,
                   help="evaluate on at most this many held-out regions (a fixed sample)")
    p.add_argument("--fraction", type=float, default=1.0,
                   help="train on this share of the training regions (pool-size curve)")
    p.add_argument("--tone-weight", type=float, default=0.2,
                   help="weight of the tone-gain head's Huber loss")
    p.add_argument("--init", type=Path, default=None, help="start from these weights (.pt)")
    p.add_argument("--score-weight", type=float, default=0.0,
                   help="add this times the squared error of the 0-1 score to the loss")
    p.add_argument("--head-only", action="store_true",
                   help="train only the layers after the backbone (with --init): adapts the "
                        "ranker to a new enhancer's gains without relearning its features")
    args = p.parse_args(argv)
    if args.head_only and not args.init:
        p.error("--head-only needs --init: the backbone it keeps")
    return args


def _step(net: ImprovabilityNet, opt: torch.optim.Optimizer, train: Pool,
          rng: np.random.Generator, args: argparse.Namespace) -> float:
    idx = rng.choice(len(train), size=args.batch, replace=False)
    g, c, y, s, t = to_tensors(train.take(idx), flip=rng.random(args.batch) < 0.5)
    net.train()
    if args.head_only:
        net.backbone.eval()  # frozen: its batch-norm statistics stay as they were
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        out = net(g, c)
    loss = loss_fn(out.float(), y, s, args.score_weight, t, args.tone_weight)
    opt.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(net.parameters(), 2.0)
    opt.step()
    return float(loss.detach())


def _card(args: argparse.Namespace, net: ImprovabilityNet, train: Pool, held: Pool, step: int,
          minutes: float, best: dict[str, Any]) -> dict[str, Any]:
    roots = args.pool or [pool_dir()]
    enh = sorted({(r / "enhancer.txt").read_text().strip() for r in roots
                  if (r / "enhancer.txt").exists()})
    return {
        "task": "improvability: predicted PSNR gain of the shipped pipeline (restorer at its "
                "automatic strength, guard included), per-factor fault strengths (noise, "
                "blur, jpeg, exposure, colour, clipping) and the tone step's further gain",
        "architecture": {
            "class": "ImprovabilityNet", "config": net.config,
            "params": sum(p.numel() for p in net.parameters()),
            "description": "MobileNet-V2-style inverted residuals "
                           "(photoenhance.core.ml.nets.improvability), shared over a 160 px "
                           "global view and 4 full-resolution 96 px detail crops; crop features "
                           "mean- and max-pooled, concatenated with the global features, MLP, "
                           "last layers 'overall' (gain dB), 'factors' and 'tone' (dB)"},
        "score_scale": SCALE_TEXT,
        "labels": {"source": "regions of the training photos (data/manifest.json), "
                             "photoenhance.train.rank.realpool (realistic faults, 40 % clean) "
                             "and .labels (issue 5's synthetic mix)",
                   "pools": [str(r) for r in roots],
                   "target": "realised gain: PSNR(out) - PSNR(in) vs the clean region, 48 dB "
                             "floor", "enhancer_sha256": enh,
                   "train_regions": len(train), "held_out_regions": len(held),
                   "fraction": args.fraction},
        "training": {"steps": step, "minutes": round(minutes, 1), "batch": args.batch,
                     "optimizer": "AdamW wd 1e-4", "lr_peak": args.lr, "loss": "Huber(1 dB) "
                     "on gain clipped to [-10, 10] + 0.3 BCE on factor strengths + "
                     f"{args.tone_weight} Huber on the tone gain",
                     "augmentation": "horizontal flips", "bf16": args.bf16, "seed": args.seed,
                     "trained": "layers after the backbone only" if args.head_only else "all",
                     "score_weight": args.score_weight},
        "held_out_metrics": best,
        "quality_scorer_q": _q_choice(args),
        "warm_start": (f"fine-tuned from {args.init}" if args.init else
                       "none: trained from scratch (EfficientNet-Lite0 warm start not tried)"),
    }


def _q_choice(args: argparse.Namespace) -> Any:
    path = (args.pool or [pool_dir()])[0].parent / "q_choice.json"
    return json.loads(path.read_text()) if path.is_file() else None


def warm_start(net: ImprovabilityNet, path: Path) -> list[str]:
    """Load the weights of ``path`` where shapes match; an older net's factor rows go to
    the rows of the same names. Returns the names of the tensors left as initialised."""
    blob = torch.load(path, weights_only=True)
    old = blob["state_dict"]
    names = tuple(blob["config"].get("factors", OLD_FACTORS))
    state = net.state_dict()
    for key in ("factors.weight", "factors.bias"):
        if key in old and old[key].shape != state[key].shape:
            rows = state[key].clone()
            for i, name in enumerate(names):
                if name in net.factor_names:
                    rows[net.factor_names.index(name)] = old[key][i]
            old = {**old, key: rows}
    fit = {k: v for k, v in old.items() if k in state and v.shape == state[k].shape}
    net.load_state_dict(fit, strict=False)
    return sorted(set(state) - set(fit))


def run(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, held = load_pool(args.pool)
    if args.fraction < 1.0:
        keep = np.sort(rng.permutation(len(train))[:round(len(train) * args.fraction)])
        train = train.take(keep)
    if args.held_max and len(held) > args.held_max:
        held = held.take(np.sort(np.random.default_rng(1).permutation(len(held))[:args.held_max]))
    print(f"train {len(train)}, held out {len(held)}; train gain >= 1 dB: "
          f"{(train.gain >= 1).mean():.2f}", flush=True)
    net = ImprovabilityNet()
    if args.init:
        print("warm start, not loaded:", warm_start(net, args.init), flush=True)
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    if args.head_only:
        net.backbone.requires_grad_(False)
    params = [q for q in net.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    out = args.out or models_dir() / f"{MODEL_NAME}.pt"
    best: dict[str, Any] = {"spearman": -2.0}
    t0, step, ema = time.monotonic(), 0, None
    if args.init:  # the starting point on the same held-out sample: a fine-tune that does
        # not beat it keeps the weights it started from
        best = _checkpoint(net, held, step, t0, ema, best, args, train, out)
    while (frac := (time.monotonic() - t0) / (args.minutes * 60)) < 1.0:
        for grp in opt.param_groups:
            grp["lr"] = lr_at(frac, args.lr)
        lv = _step(net, opt, train, rng, args)
        ema = lv if ema is None else 0.97 * ema + 0.03 * lv
        step += 1
        if step % args.eval_every == 0 or frac > 0.995:
            best = _checkpoint(net, held, step, t0, ema, best, args, train, out)
    _checkpoint(net, held, step, t0, ema, best, args, train, out)
    print("best held out:", json.dumps(best), flush=True)


def _checkpoint(net: ImprovabilityNet, held: Pool, step: int, t0: float, ema: float | None,
                best: dict[str, Any], args: argparse.Namespace, train: Pool,
                out: Path) -> dict[str, Any]:
    metrics = evaluate(net, held)
    minutes = (time.monotonic() - t0) / 60
    print(f"step {step} {minutes:.1f} min loss {ema or 0:.4f} held out {json.dumps(metrics)}",
          flush=True)
    last = out.with_name(out.stem + "-last.pt") if args.out else CKPT
    last.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state_dict": net.state_dict(), "step": step}, last)
    if metrics["spearman"] > best["spearman"]:
        best = {**metrics, "step": step}
        card = _card(args, net, train, held, step, minutes, best)
        save_model(net, out, version="1", card=card)
    return best


if __name__ == "__main__":
    run()
