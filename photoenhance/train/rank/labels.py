"""Improvability labels: degrade clean regions, run the shipped enhancer, measure the gain.

``python -m photoenhance.train.rank.labels prepare`` (no enhancer needed) cuts clean regions
from the training photos (``data/manifest.json``; each photo downscaled by a random 1.5-2x,
Lanczos, as the enhancer's patches were), degrades them with the enhancer's own
:func:`photoenhance.train.degrade.degrade` at random strengths and mixes (30 % left clean),
and stores the clean and degraded regions, per-factor strengths and the ranker's views.

``python -m photoenhance.train.rank.labels autostrength`` re-applies the enhancer's
automatic strength to outputs stored at full strength (no network run).

``python -m photoenhance.train.rank.labels enhance`` runs the shipped enhancer on every
degraded region and records the true full-reference gain (PSNR of the enhanced copy minus
PSNR of the input, both against the clean original; see :func:`true_gain`). Regions from a
few held-out photos (``holdout``) are for validation and for choosing Q.

Layout: ``data/rank/pool/<H>x<W>/{clean,degraded,strengths,global,crops,holdout}.npy`` and,
after ``enhance``, ``mse_in.npy``, ``mse_out.npy`` and ``enhanced.npy``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from photoenhance.core.rank.inputs import make_views
from photoenhance.train.data import data_root
from photoenhance.train.degrade import DegradeConfig, degrade

Image.MAX_IMAGE_PIXELS = 200_000_000
SHAPES = ((256, 384), (384, 256), (320, 320))
#: Label pool mix: 30 % clean, the rest the enhancer's modes in its proportions.
LABEL_DEGRADE = DegradeConfig(p_clean=0.30, p_noise=0.25, p_jpeg=0.15, p_blur=0.12)


_POOL: list[Path] = []


def pool_dir() -> Path:
    """The label pool folder (``data/rank/pool`` unless ``--pool`` said otherwise)."""
    return _POOL[0] if _POOL else data_root() / "rank" / "pool"


def _photos() -> list[tuple[Path, bool]]:
    """(path, held out) for every photo in the manifest; 1 in 7 training photos held out."""
    root = data_root()
    manifest = json.loads((root / "manifest.json").read_text())["images"]
    out = []
    for i, e in enumerate(manifest):
        path = root / "unpacked" / e["package"] / e["path"]
        out.append((path, e["split"] == "val" or i % 7 == 3))
    return out


def _regions(path: Path, per_photo: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    with Image.open(path) as src:
        im = src.convert("RGB")
        scale = rng.uniform(1.5, 2.0)
        small = im.resize((round(im.width / scale), round(im.height / scale)),
                          Image.Resampling.LANCZOS, reducing_gap=3.0)
    arr = np.asarray(small)
    count = 0
    for k in range(per_photo * 3):
        h, w = SHAPES[k % len(SHAPES)]
        if count >= per_photo or arr.shape[0] < h or arr.shape[1] < w:
            continue
        y, x = rng.integers(0, arr.shape[0] - h + 1), rng.integers(0, arr.shape[1] - w + 1)
        region = arr[y:y + h, x:x + w]
        if region.std() > 8:  # drop flat regions (sky, walls): nothing to rank there
            count += 1
            yield np.ascontiguousarray(region)


def _degrade_group(clean: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    out, strengths = [], []
    for i in range(0, len(clean), 16):
        x = torch.from_numpy(clean[i:i + 16]).permute(0, 3, 1, 2).float() / 255
        d = degrade(x, seed=seed * 100_003 + i, cfg=LABEL_DEGRADE)
        out.append((d.image * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())
        strengths.append(d.strengths.numpy())
    return np.concatenate(out), np.concatenate(strengths).astype(np.float32)


def save_views(folder: Path) -> None:
    """(Re)compute the ranker's views of a group's degraded regions."""
    views = [make_views(im) for im in np.load(folder / "degraded.npy")]
    np.save(folder / "global.npy", np.stack([v.global_view for v in views]))
    np.save(folder / "crops.npy", np.stack([v.crops for v in views]))


def _save_group(folder: Path, clean: np.ndarray, holdout: np.ndarray, seed: int) -> None:
    degraded, strengths = _degrade_group(clean, seed)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "clean.npy", clean)
    np.save(folder / "degraded.npy", degraded)
    np.save(folder / "strengths.npy", strengths)
    np.save(folder / "holdout.npy", holdout)
    save_views(folder)


def prepare(per_photo: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups: dict[tuple[int, int], list[tuple[np.ndarray, bool]]] = {s: [] for s in SHAPES}
    for n, (path, held) in enumerate(_photos()):
        for region in _regions(path, per_photo, rng):
            groups[(region.shape[0], region.shape[1])].append((region, held))
        print(f"photo {n + 1}: {sum(len(g) for g in groups.values())} regions", flush=True)
    for gi, (shape, items) in enumerate(groups.items()):
        clean = np.stack([r for r, _ in items])
        holdout = np.array([h for _, h in items])
        _save_group(pool_dir() / f"{shape[0]}x{shape[1]}", clean, holdout, seed + gi)
        print(f"group {shape}: {len(items)} regions, {holdout.sum()} held out", flush=True)


#: Squared error below which differences do not count (48 dB PSNR): keeps the gain of a
#: clean image finite (a clean input has zero error) and near zero.
MSE_FLOOR = 255.0**2 * 10 ** (-4.8)


def mse_batch(ref: np.ndarray, img: np.ndarray) -> np.ndarray:
    """Per-image mean squared error of uint8 batches (N, H, W, 3), on the 0-255 scale."""
    d = ref.astype(np.float32) - img.astype(np.float32)
    return (d * d).reshape(len(d), -1).mean(1)


def true_gain(mse_in: np.ndarray, mse_out: np.ndarray) -> np.ndarray:
    """The enhancer's full-reference gain in dB: PSNR(out) - PSNR(in), floored at 48 dB."""
    return 10 * np.log10((mse_in + MSE_FLOOR) / (mse_out + MSE_FLOOR))


def enhance(batch_size: int, weights: Path | None = None) -> None:
    from photoenhance.train.rank.enhance_batch import BatchEnhancer

    enhancer = BatchEnhancer(weights)
    for folder in sorted(pool_dir().iterdir()):
        t0 = time.monotonic()
        clean = np.load(folder / "clean.npy")
        degraded = np.load(folder / "degraded.npy")
        enhanced = enhancer.run(degraded, batch_size)
        np.save(folder / "enhanced.npy", enhanced)
        np.save(folder / "mse_in.npy", mse_batch(clean, degraded))
        np.save(folder / "mse_out.npy", mse_batch(clean, enhanced))
        (folder / "enhancer.txt").write_text(enhancer.sha256 + "\n")
        print(f"{folder.name}: {len(clean)} enhanced in {time.monotonic() - t0:.0f} s", flush=True)


def autostrength() -> None:
    """Apply the enhancer's automatic strength to stored full-strength outputs.

    Labels made before the enhancer measured each photo hold full-strength outputs; this
    keeps them as ``enhanced_full.npy`` and rewrites ``enhanced.npy`` and ``mse_out.npy``
    as the enhancer now produces them, without running the network again.
    """
    from photoenhance.core.ml.autostrength import measure

    for folder in sorted(pool_dir().iterdir()):
        t0 = time.monotonic()
        full_path = folder / "enhanced_full.npy"
        if not full_path.exists():
            (folder / "enhanced.npy").rename(full_path)
        full = np.load(full_path)
        clean = np.load(folder / "clean.npy")
        degraded = np.load(folder / "degraded.npy")
        s = np.array([measure(im).strength for im in degraded], np.float32)[:, None, None, None]
        out = degraded.astype(np.float32) + s * (full.astype(np.float32) - degraded)
        enhanced = np.clip(np.round(out), 0, 255).astype(np.uint8)
        np.save(folder / "enhanced.npy", enhanced)
        np.save(folder / "mse_out.npy", mse_batch(clean, enhanced))
        np.save(folder / "auto_strength.npy", s[:, 0, 0, 0])
        print(f"{folder.name}: {len(clean)} regions, mean strength {s.mean():.2f}, "
              f"{(s == 0).mean() * 100:.0f} % left alone, {time.monotonic() - t0:.0f} s",
              flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train.rank.labels")
    p.add_argument("stage", choices=["prepare", "views", "enhance", "autostrength"])
    p.add_argument("--per-photo", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--enhancer", type=Path, default=None, help="weights (default shipped)")
    p.add_argument("--pool", type=Path, default=None, help="pool folder (default data/rank/pool)")
    args = p.parse_args(argv)
    if args.pool:
        _POOL[:] = [args.pool]
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.stage == "prepare":
        prepare(args.per_photo, args.seed)
    elif args.stage == "views":
        for folder in sorted(pool_dir().iterdir()):
            save_views(folder)
    elif args.stage == "autostrength":
        autostrength()
    else:
        enhance(args.batch, args.enhancer)


if __name__ == "__main__":
    main()
