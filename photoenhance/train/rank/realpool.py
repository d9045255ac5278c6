"""The realistic label pool: training-photo regions under real faults, labelled by what the
shipped pipeline actually gains.

``python -m photoenhance.train.rank.realpool --worker 0 --workers 2 --shards 40``

Each shard holds ``--shard-size`` regions (256-384 px) of the training photos
(``data/manifest.json``; 1 in 7 photos and the ``val`` split held out, as in
:mod:`.labels`), each photo downscaled 1.5-3x (Lanczos). Every region goes through
:func:`.realmix.realistic_fault` (40 % clean; half of the clean ones are the most textured
of four candidate regions), then:

- ``gain``: the realised gain of the shipped default pipeline, the restorer at its automatic
  strength with the do-no-harm guard (:class:`.enhance_batch.BatchEnhancer`, what
  ``enhance`` does with tone off), PSNR against the clean region, 48 dB floor;
- ``tone_gain``: the further gain of the tone step
  (:func:`photoenhance.core.ml.tone.apply_tone` on the restored region);
- ``strengths``: the known factor strengths (:data:`.realmix.FACTORS`), and ``kind``;
- ``global``/``crops``: the ranker's views of the faulty region.

``--synthetic`` draws issue 5's synthetic mix instead (kept in the pool so the ranker keeps
its figures there). Shards are written whole (``shard_NNNN``), so a pool being generated is
usable as it grows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from photoenhance.core.rank.inputs import make_views
from photoenhance.train.degrade import degrade
from photoenhance.train.rank.labels import LABEL_DEGRADE, mse_batch, true_gain
from photoenhance.train.rank.realmix import FACTORS, KINDS, Fault, realistic_fault

Image.MAX_IMAGE_PIXELS = 200_000_000
SHAPES = ((256, 256), (256, 384), (384, 256), (320, 320))
KIND_NAMES = ("clean", *KINDS, "synthetic")


def load_photos(data: Path, rng: np.random.Generator) -> list[tuple[np.ndarray, bool]]:
    """Every manifest photo, downscaled 1.5-3x, with its held-out flag."""
    manifest = json.loads((data / "manifest.json").read_text())["images"]
    out = []
    for i, e in enumerate(manifest):
        with Image.open(data / "unpacked" / e["package"] / e["path"]) as src:
            im = src.convert("RGB")
            f = rng.uniform(1.5, 3.0)
            im = im.resize((round(im.width / f), round(im.height / f)),
                           Image.Resampling.LANCZOS, reducing_gap=3.0)
        out.append((np.asarray(im), e["split"] == "val" or i % 7 == 3))
    return out


def _texture(region: np.ndarray) -> float:
    g = region.astype(np.float32).mean(2)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def cut_region(photo: np.ndarray, rng: np.random.Generator, textured: bool) -> np.ndarray | None:
    """A random region (one of :data:`SHAPES`) with some detail; the most textured of four
    when ``textured``; ``None`` when the photo is too small or flat there."""
    h, w = SHAPES[int(rng.integers(len(SHAPES)))]
    if photo.shape[0] < h or photo.shape[1] < w:
        return None
    cands = []
    for _ in range(4 if textured else 1):
        y, x = rng.integers(0, photo.shape[0] - h + 1), rng.integers(0, photo.shape[1] - w + 1)
        cands.append(np.ascontiguousarray(photo[y:y + h, x:x + w]))
    best = max(cands, key=_texture)
    return best if best.std() > 8 else None


def synthetic_fault(clean: np.ndarray, rng: np.random.Generator) -> Fault:
    """Issue 5's synthetic mix (:data:`.labels.LABEL_DEGRADE`: Gaussian noise, Pillow JPEG,
    Gaussian/motion blur, clipping), its four strengths put on the six factors."""
    x = torch.from_numpy(clean).permute(2, 0, 1)[None].float() / 255
    d = degrade(x, seed=int(rng.integers(2**31)), cfg=LABEL_DEGRADE)
    img = (d.image[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    s = np.zeros(len(FACTORS), np.float32)
    s[[0, 1, 2, 5]] = d.strengths[0].numpy()
    return Fault(img, s, "synthetic" if s.any() else "clean")


def label_one(clean: np.ndarray, rng: np.random.Generator, enhancer: object,
              synthetic: bool = False) -> dict:
    """Fault, restore, tone: one region's views and labels."""
    from photoenhance.core.ml.tone import apply_tone

    fault = synthetic_fault(clean, rng) if synthetic else realistic_fault(clean, rng)
    restored = enhancer(fault.image[None])  # type: ignore[operator]
    toned = apply_tone(restored[0])[0][None]
    mse_in, mse_out = mse_batch(clean[None], fault.image[None]), mse_batch(clean[None], restored)
    views = make_views(fault.image)
    return {"global": views.global_view, "crops": views.crops,
            "gain": float(true_gain(mse_in, mse_out)[0]),
            "tone_gain": float(true_gain(mse_out, mse_batch(clean[None], toned))[0]),
            "auto": views.auto_strength, "strengths": fault.strengths,
            "kind": KIND_NAMES.index(fault.kind)}


def write_shard(folder: Path, rows: list[dict], holdout: list[bool]) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for key in rows[0]:
        np.save(tmp / f"{key}.npy", np.stack([np.asarray(r[key]) for r in rows]))
    np.save(tmp / "holdout.npy", np.array(holdout))
    tmp.rename(folder)


def make_shard(photos: list[tuple[np.ndarray, bool]], size: int, seed: int,
               enhancer: object, synthetic: bool = False) -> tuple[list[dict], list[bool]]:
    rng = np.random.default_rng(seed)
    rows, held = [], []
    while len(rows) < size:
        photo, is_held = photos[int(rng.integers(len(photos)))]
        region = cut_region(photo, rng, textured=rng.random() < 0.25)
        if region is not None:
            rows.append(label_one(region, rng, enhancer, synthetic))
            held.append(is_held)
    return rows, held


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train.rank.realpool")
    p.add_argument("--data", type=Path, default=Path("data"))
    p.add_argument("--out", type=Path, default=Path("data/rank/pool-real"))
    p.add_argument("--worker", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--shards", type=int, default=40, help="shards in all (all workers)")
    p.add_argument("--shard-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=23)
    p.add_argument("--synthetic", action="store_true",
                   help="issue 5's synthetic mix instead of the realistic one")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from photoenhance.train.rank.enhance_batch import BatchEnhancer

    enhancer = BatchEnhancer()
    photos = load_photos(args.data, np.random.default_rng(args.seed * 1000 + args.worker))
    for k in range(args.worker, args.shards, args.workers):
        folder = args.out / f"shard_{k:04d}"
        if folder.exists():
            continue
        t0 = time.monotonic()
        rows, held = make_shard(photos, args.shard_size, args.seed * 100_000 + k, enhancer,
                                args.synthetic)
        write_shard(folder, rows, held)
        (args.out / "enhancer.txt").write_text(enhancer.sha256 + "\n")
        gains = np.array([r["gain"] for r in rows])
        print(f"shard {k}: {len(rows)} regions in {time.monotonic() - t0:.0f} s, "
              f"gain >= 1 dB {np.mean(gains >= 1):.2f}", flush=True)


if __name__ == "__main__":
    main()
