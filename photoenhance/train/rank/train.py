"""Train the improvability net: ``python -m photoenhance.train.rank.train [--minutes M]``.

Reads the label pool of :mod:`.labels` (views of degraded regions, the shipped enhancer's
true gain on each, per-factor strengths), trains :class:`ImprovabilityNet` with AdamW and a
wall-clock cosine schedule, evaluates on regions from held-out photos, checkpoints to
``checkpoints/rank-last.pt`` and exports the best held-out model to
``models/improvability-v1.pt`` with its model card.

Loss: Huber (delta 1 dB) on the gain clipped to [-10, 10] dB, plus 0.3 x binary
cross-entropy of each factor head against the degradation strengths (0-1).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from photoenhance.core.ml.nets.improvability import ImprovabilityNet
from photoenhance.core.paths import models_dir
from photoenhance.core.rank.metrics import pr_auc, precision_recall_at, spearman
from photoenhance.core.rank.scale import (
    CENTER_DB,
    DEFAULT_THRESHOLD,
    SLOPE_DB,
    gain_to_score,
)
from photoenhance.core.rank.scorer import MODEL_NAME, save_model
from photoenhance.train.rank.labels import pool_dir, true_gain

CKPT = Path(__file__).resolve().parents[3] / "checkpoints" / "rank-last.pt"
GAIN_CLIP = (-10.0, 10.0)
FACTOR_WEIGHT = 0.3


@dataclass
class Pool:
    global_view: np.ndarray  # (N, G, G, 3) uint8
    crops: np.ndarray  # (N, K, C, C, 3) uint8
    gain: np.ndarray  # (N,) dB
    strengths: np.ndarray  # (N, 4)

    def take(self, idx: np.ndarray) -> Pool:
        return Pool(self.global_view[idx], self.crops[idx], self.gain[idx], self.strengths[idx])

    def __len__(self) -> int:
        return len(self.gain)


def load_pool(root: Path | None = None) -> tuple[Pool, Pool]:
    """(train, held-out) pools from every group folder of the label pool."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("g", "c", "y", "s", "h")}
    for folder in sorted((root or pool_dir()).iterdir()):
        parts["g"].append(np.load(folder / "global.npy"))
        parts["c"].append(np.load(folder / "crops.npy"))
        parts["y"].append(true_gain(np.load(folder / "mse_in.npy"),
                                    np.load(folder / "mse_out.npy")))
        parts["s"].append(np.load(folder / "strengths.npy"))
        parts["h"].append(np.load(folder / "holdout.npy"))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    pool = Pool(cat["g"], cat["c"], cat["y"].astype(np.float32), cat["s"].astype(np.float32))
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
    return g, c, torch.from_numpy(p.gain), torch.from_numpy(p.strengths)


def loss_fn(out: torch.Tensor, gain: torch.Tensor, strengths: torch.Tensor,
            score_weight: float = 0.0) -> torch.Tensor:
    """Huber on the gain in dB, BCE on the factors and, with ``score_weight``, the squared
    error of the 0-1 score, which counts a 1 dB error near the threshold far more than one
    between 8 and 12 dB (both already "worth fixing")."""
    target = gain.clamp(*GAIN_CLIP)
    reg = F.huber_loss(out[:, 0], target, delta=1.0)
    fac = F.binary_cross_entropy_with_logits(out[:, 1:], strengths)
    loss = reg + FACTOR_WEIGHT * fac
    if score_weight:
        pred, true = ((t - CENTER_DB) / SLOPE_DB for t in (out[:, 0], target))
        loss = loss + score_weight * F.mse_loss(torch.sigmoid(pred), torch.sigmoid(true))
    return loss


@torch.inference_mode()
def predict(net: ImprovabilityNet, p: Pool, batch: int = 64) -> np.ndarray:
    net.eval()
    outs = []
    for i in range(0, len(p), batch):
        g, c, _, _ = to_tensors(p.take(np.arange(i, min(i + batch, len(p)))))
        outs.append(net(g, c).float())
    return torch.cat(outs).numpy()


def evaluate(net: ImprovabilityNet, p: Pool) -> dict[str, float]:
    out = predict(net, p)
    score = gain_to_score(out[:, 0])
    positive = p.gain >= 1.0
    prec, rec = precision_recall_at(score, positive, DEFAULT_THRESHOLD)
    fac = 1 / (1 + np.exp(-out[:, 1:]))
    return {"spearman": round(spearman(out[:, 0], p.gain), 4),
            "pr_auc_gain_ge_1db": round(pr_auc(score, positive), 4),
            "precision_at_0.4": round(prec, 4), "recall_at_0.4": round(rec, 4),
            "gain_mae_db": round(float(np.abs(out[:, 0] - p.gain.clip(*GAIN_CLIP)).mean()), 3),
            "factor_mae": round(float(np.abs(fac - p.strengths).mean()), 4)}


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
    p.add_argument("--pool", type=Path, default=None, help="label pool (default data/rank/pool)")
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
    g, c, y, s = to_tensors(train.take(idx), flip=rng.random(args.batch) < 0.5)
    net.train()
    if args.head_only:
        net.backbone.eval()  # frozen: its batch-norm statistics stay as they were
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        out = net(g, c)
    loss = loss_fn(out.float(), y, s, args.score_weight)
    opt.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(net.parameters(), 2.0)
    opt.step()
    return float(loss.detach())


def _card(args: argparse.Namespace, net: ImprovabilityNet, train: Pool, held: Pool, step: int,
          minutes: float, best: dict[str, Any]) -> dict[str, Any]:
    enh = (next((args.pool or pool_dir()).iterdir()) / "enhancer.txt").read_text().strip()
    return {
        "task": "improvability: predicted PSNR gain of the shipped enhancer, plus per-factor "
                "degradation strengths (noise, blur, jpeg, clipping)",
        "architecture": {
            "class": "ImprovabilityNet", "config": net.config,
            "params": sum(p.numel() for p in net.parameters()),
            "description": "MobileNet-V2-style inverted residuals "
                           "(photoenhance.core.ml.nets.improvability), shared over a 160 px "
                           "global view and 4 full-resolution 96 px detail crops; crop features "
                           "mean- and max-pooled, concatenated with the global features, MLP, "
                           "last layers 'overall' (gain dB) and 'factors'"},
        "score_scale": "score = 1 / (1 + exp(-(gain_db - 1.608) / 1.5)); 0.4 (default "
                       "threshold) = 1 dB gain, 0.26 = no change",
        "labels": {"source": "regions of the enhancer's training photos (data/manifest.json), "
                             "downscaled 1.5-2x, degraded by photoenhance.train.degrade "
                             "(30 % clean)", "target": "true gain: PSNR(enhanced) - "
                   "PSNR(degraded) vs the clean original, 48 dB floor", "enhancer_sha256": enh,
                   "train_regions": len(train), "held_out_regions": len(held)},
        "training": {"steps": step, "minutes": round(minutes, 1), "batch": args.batch,
                     "optimizer": "AdamW wd 1e-4", "lr_peak": args.lr, "loss": "Huber(1 dB) "
                     "on gain clipped to [-10, 10] + 0.3 BCE on factor strengths",
                     "augmentation": "horizontal flips", "bf16": args.bf16, "seed": args.seed,
                     "trained": "layers after the backbone only" if args.head_only else "all",
                     "score_weight": args.score_weight},
        "held_out_metrics": best,
        "quality_scorer_q": _q_choice(args),
        "warm_start": (f"fine-tuned from {args.init}" if args.init else
                       "none: trained from scratch (EfficientNet-Lite0 warm start not tried)"),
    }


def _q_choice(args: argparse.Namespace) -> Any:
    path = (args.pool or pool_dir()).parent / "q_choice.json"
    return json.loads(path.read_text()) if path.is_file() else None


def run(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, held = load_pool(args.pool)
    print(f"train {len(train)}, held out {len(held)}; train gain >= 1 dB: "
          f"{(train.gain >= 1).mean():.2f}", flush=True)
    net = ImprovabilityNet()
    if args.init:
        net.load_state_dict(torch.load(args.init, weights_only=True)["state_dict"])
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    if args.head_only:
        net.backbone.requires_grad_(False)
    params = [q for q in net.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    out = args.out or models_dir() / f"{MODEL_NAME}.pt"
    best: dict[str, Any] = {"spearman": -2.0}
    t0, step, ema = time.monotonic(), 0, None
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
    print(f"step {step} {minutes:.1f} min loss {ema:.4f} held out {json.dumps(metrics)}",
          flush=True)
    CKPT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state_dict": net.state_dict(), "step": step}, CKPT)
    if metrics["spearman"] > best["spearman"]:
        best = {**metrics, "step": step}
        card = _card(args, net, train, held, step, minutes, best)
        save_model(net, out, version="1", card=card)
    return best


if __name__ == "__main__":
    run()
