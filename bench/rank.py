"""Benchmark the improvability score against the shipped enhancer's true gain.

    .venv/bin/python bench/rank.py [--shared ../shared] [--seed 0] [--seeds 1]
        [--out docs/bench_rank.json]

Images: ``shared/data/bench`` (Kodak24, CBSD68, LIVE1), never trained on. Each is degraded
once by the enhancer's ``degrade()`` with a seeded mix (40 % left clean), enhanced by the
shipped enhancer, and its true gain (delta PSNR against the clean original, 48 dB floor) is
the ground truth. Reported for our score and, in the same run, for single-feature baselines
(Laplacian variance, wavelet noise sigma, JPEG blockiness, BRISQUE, NIQE) and the delta-Q
oracles (which need the enhanced image): Spearman against the gain, PR-AUC for
"gain >= 1 dB", precision at our default threshold (baselines: at the same number flagged).
With ``--seeds N`` the photos are degraded N times (N draws) and the figures of each draw
and their mean are reported; the top-level ``quality`` stays the first draw's.

Speed: scoring throughput on 12 MP and 24 MP JPEGs as a ratio to a plain full decode of the
same files with the same thread pool, in the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import rank_mix  # noqa: E402  (bench/rank_mix.py: the mixes and their figures)

from photoenhance.core.imaging import decode_rgb  # noqa: E402
from photoenhance.core.rank.metrics import pr_auc, precision_recall_at, spearman  # noqa: E402
from photoenhance.core.rank.scale import DEFAULT_THRESHOLD  # noqa: E402
from photoenhance.core.rank.scorer import Scorer  # noqa: E402
from photoenhance.train.degrade import degrade  # noqa: E402
from photoenhance.train.rank import quality  # noqa: E402
from photoenhance.train.rank.baselines import BASELINES  # noqa: E402
from photoenhance.train.rank.enhance_batch import BatchEnhancer  # noqa: E402
from photoenhance.train.rank.labels import mse_batch, true_gain  # noqa: E402

BENCH_DEGRADE = rank_mix.BENCH_DEGRADE
bench_images = rank_mix.bench_images


def degrade_one(img: np.ndarray, seed: int) -> np.ndarray:
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    d = degrade(x, seed=seed, cfg=BENCH_DEGRADE)
    return (d.image[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def features(img: np.ndarray) -> dict[str, float]:
    f = {name: fn(img) for name, fn in BASELINES.items()}
    f["brisque"] = quality.brisque(img)
    f["niqe"] = quality.niqe(img)
    return f


def _nr_features(pair: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    """Baseline features of the degraded image and delta-Q oracles (Q = -BRISQUE, -NIQE)."""
    deg, enh = pair
    f = features(deg)
    f["delta_q_brisque"] = f["brisque"] - quality.brisque(enh)
    f["delta_q_niqe"] = f["niqe"] - quality.niqe(enh)
    return f


def quality_run(shared: Path, seed: int, scorer: Scorer, enhancer: BatchEnhancer,
                limit: int | None, workers: int) -> dict[str, np.ndarray]:
    pairs, cols = [], {"gain": [], "ours": []}
    for i, (_, clean) in enumerate(bench_images(shared)[:limit]):
        deg = degrade_one(clean, seed * 10_000 + i)
        enh = enhancer(deg[None])[0]
        gain = true_gain(mse_batch(clean[None], deg[None]), mse_batch(clean[None], enh[None]))
        cols["gain"].append(float(gain[0]))
        cols["ours"].append(scorer.score_arrays([deg])[0].score or 0.0)
        pairs.append((deg, enh))
    ctx = multiprocessing.get_context("spawn")  # fork after torch's threads can deadlock
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:  # BRISQUE/NIQE: the slow part
        for row in pool.map(_nr_features, pairs, chunksize=4):
            for k, v in row.items():
                cols.setdefault(k, []).append(v)
    return {k: np.array(v) for k, v in cols.items()}


def quality_table(cols: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    gain = cols["gain"]
    positive = gain >= 1.0
    n_flag = int((cols["ours"] >= DEFAULT_THRESHOLD).sum())
    table = {}
    for name, s in cols.items():
        if name == "gain":
            continue
        if name == "ours":
            prec, rec = precision_recall_at(s, positive, DEFAULT_THRESHOLD)
        else:  # same number flagged as ours
            top = np.argsort(-s, kind="mergesort")[:n_flag]
            flagged = np.zeros(len(s), bool)
            flagged[top] = True
            prec = float((flagged & positive).sum() / max(n_flag, 1))
        table[name] = {"spearman": round(spearman(s, gain), 3),
                       "pr_auc": round(pr_auc(s, positive), 3), "precision": round(prec, 3)}
    return table


def mean_tables(tables: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each method's figures averaged over draws, with the sample sd of its Spearman."""
    out = {}
    for name in tables[0]:
        rows = {k: np.array([t[name][k] for t in tables]) for k in tables[0][name]}
        out[name] = {k: round(float(v.mean()), 3) for k, v in rows.items()}
        out[name]["spearman_sd"] = round(float(rows["spearman"].std(ddof=1)), 3)
    return out


def make_jpegs(folder: Path, src: np.ndarray, size: tuple[int, int], n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    base = Image.fromarray(src).resize(size, Image.Resampling.BICUBIC)
    out = []
    for i in range(n):
        arr = np.asarray(base).astype(np.int16) + rng.integers(-3, 4, (1, 1, 3), dtype=np.int16)
        path = folder / f"{size[0]}x{size[1]}_{i}.jpg"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=92)
        out.append(path)
    return out


def _decode_only(path: Path) -> tuple[int, int]:
    """The baseline: a plain full decode, pixels dropped at once (as scoring drops them)."""
    return decode_rgb(path).image.size


def _best_time(fn: object, repeats: int = 2) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def speed_run(scorer: Scorer, src: np.ndarray, workers: int, n: int) -> dict[str, dict]:
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("12MP", (4000, 3000)), ("24MP", (6000, 4000))):
            files = make_jpegs(Path(tmp), src, size, n)
            scorer.score_paths(files[:1], workers=workers)  # warm up

            def decode(files: list[Path] = files) -> None:
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(_decode_only, files))

            def score(files: list[Path] = files) -> None:
                scorer.score_paths(files, batch_size=8, workers=workers)

            t_dec, t_score = _best_time(decode), _best_time(score)
            res[label] = {"decode_img_s": round(n / t_dec, 2), "score_img_s": round(n / t_score, 2),
                          "ratio": round(t_dec / t_score, 2)}
    return res


def clean_medians(shared: Path, scorer: Scorer, workers: int) -> dict[str, float]:
    """Median score of the clean photos: every exif photo (full size) and the clean bench
    sets, on this branch's scale and on the "0 dB scores 0" scale (1 - 0.6^gain)."""
    paths = rank_mix.exif_paths(shared)
    res = [r for r in scorer.score_paths(paths, workers=workers) if r.score is not None]
    res = [r for r in res if r.path is None or min(Image.open(r.path).size) >= 64]
    res += scorer.score_arrays([img for _, img in bench_images(shared)])
    gains = np.array([r.gain_db for r in res], dtype=np.float64)
    zero_scale = np.where(gains <= 0, 0.0, 1 - 0.6 ** np.clip(gains, 0, None))
    return {"photos": len(res), "median_score": round(float(np.median([r.score for r in res])), 4),
            "median_score_zero_scale": round(float(np.median(zero_scale)), 4),
            "flagged": round(float(np.mean(gains >= 1.0)), 4)}


def mix_rows(args: argparse.Namespace, scorer: Scorer, enhancer: BatchEnhancer) -> dict:
    """Each mix over ``--seeds`` draws: figures per draw and [mean, sd]."""
    out = {}
    images = bench_images(args.shared)[:args.limit]
    exif = rank_mix.exif_images(args.shared)[:args.limit]
    for mix in args.mix.split(","):
        imgs = images + (exif if mix == "realistic" else [])
        draws = []
        for seed in range(args.seed, args.seed + max(1, args.seeds)):
            t = rank_mix.truth(mix, seed, imgs, enhancer, args.cache)
            pred = rank_mix.predict(scorer, t)
            draws.append({"seed": seed, **rank_mix.figures(pred, t, scorer.factors)})
            print(mix, json.dumps(draws[-1]), flush=True)
        out[mix] = {"draws": draws, "mean_sd": rank_mix.mean_sd(draws)}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=5,
                   help="degrade the photos this many times (seeds --seed, --seed+1, ...) and "
                        "report each draw and the mean and sd")
    p.add_argument("--mix", default="realistic,synthetic", help="mixes to run (comma list)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--speed-files", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--model", type=Path, default=None, help="ranker weights (default shipped)")
    p.add_argument("--enhancer", type=Path, default=None, help="enhancer weights (default)")
    p.add_argument("--cache", type=Path, default=REPO / "checkpoints" / "bench-rank-cache",
                   help="ground truth per mix and seed (views, realised gains)")
    p.add_argument("--baselines", action="store_true",
                   help="also the single-feature baselines and delta-Q oracles on the "
                        "synthetic mix's first draw (slow: BRISQUE, NIQE)")
    p.add_argument("--clean", action="store_true", help="median score of the clean photos")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args()
    scorer = Scorer.load(args.model, use_user_head=False)
    enhancer = BatchEnhancer(args.enhancer)
    result: dict = {"model_sha256": scorer.sha256, "enhancer_sha256": enhancer.sha256,
                    "mixes": mix_rows(args, scorer, enhancer)}
    if args.baselines:
        cols = quality_run(args.shared, args.seed, scorer, enhancer, args.limit, args.workers)
        result["baselines_synthetic_first_draw"] = quality_table(cols)
    if args.clean:
        result["clean_photos"] = clean_medians(args.shared, scorer, args.workers)
    if args.speed_files:
        src = bench_images(args.shared)[0][1]
        result["speed"] = speed_run(scorer, src, args.workers, args.speed_files)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
