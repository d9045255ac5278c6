"""Calibrate the blur hint: ``python -m photoenhance.train blurcal``.

The enhancer is told how blurred a photo reads: the softness ramp of
:mod:`photoenhance.core.ml.autostrength`. This script measures how that softness relates to
the true blur strength (the spatial standard deviation of the blur kernel / 4 px, as
:mod:`photoenhance.train.degrade` reports it), which is what the hint tables the enhancer
is trained with (``HINT_DECILES_*`` in ``train/enhancer.py``) were read from. It
downscales the training photos (never the benchmark ones) 2-3.5x like the textured patch
set, cuts 384 px crops, blurs three in four of them with a random kernel from the training
ranges, and prints the softness each reads against the true strength, per softness bin, with
the linear fit over the blurred crops and where unblurred crops fall.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from PIL import Image

from photoenhance.core.ml import autostrength
from photoenhance.train import degrade as deg
from photoenhance.train.data import _downscale, data_root, pick

CROP = 384


def _kernel(kind: int, cfg: deg.DegradeConfig, rng: np.random.Generator) -> torch.Tensor:
    if kind == 0:
        return deg.disk_kernels(torch.tensor([rng.uniform(*cfg.disk_radius)]))
    if kind == 1:
        return deg.gaussian_kernels(torch.tensor([rng.uniform(*cfg.gauss_blur)]))
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 30)))
    return deg.motion_kernels(torch.tensor([rng.uniform(*cfg.motion_length)]), gen)


def samples(
    crops_per_photo: int, cfg: deg.DegradeConfig, seed: int = 0
) -> list[tuple[float, float, int]]:
    """(softness, true blur strength, kind) per crop; kind -1 is unblurred."""
    rng = np.random.default_rng(seed)
    out = []
    for ph in pick(data_root()):
        with Image.open(ph.path) as im:
            small = _downscale(im.convert("RGB"), rng.uniform(2.0, 3.5))
        h, w = small.shape[:2]
        if h < CROP or w < CROP:
            continue
        for _ in range(crops_per_photo):
            y, x = rng.integers(0, h - CROP + 1), rng.integers(0, w - CROP + 1)
            crop = torch.from_numpy(small[y : y + CROP, x : x + CROP].copy())
            t = crop.permute(2, 0, 1)[None].float() / 255
            kind, b = -1, 0.0
            if rng.random() < 0.75:
                kind = int(rng.integers(3))
                ker = _kernel(kind, cfg, rng)
                t = deg.apply_kernels(t, ker)
                b = float((deg.kernel_std(ker) / 4.0).clamp(0, 1)[0])
            img = (t[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
            out.append((autostrength.measure(img).softness, b, kind))
    return out


def summarise(rows: list[tuple[float, float, int]]) -> dict[str, object]:
    a = np.array(rows, dtype=np.float64)
    soft, b, kind = a[:, 0], a[:, 1], a[:, 2]
    clean = soft[kind < 0]
    blurred = kind >= 0
    bins = np.arange(0.0, 1.01, 0.05)
    table = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        m = blurred & (soft >= lo) & (soft < hi)
        c = int(((soft >= lo) & (soft < hi) & (kind < 0)).sum())
        if m.sum() or c:
            med = float(np.median(b[m])) if m.sum() else None
            table.append(
                {
                    "softness": f"{lo:.2f}-{hi:.2f}",
                    "blurred": int(m.sum()),
                    "median_strength": med,
                    "unblurred": c,
                }
            )
    fit = np.polyfit(soft[blurred], b[blurred], 1)
    return {
        "crops": len(a),
        "unblurred_softness_percentiles_50_90_95_99": np.percentile(clean, [50, 90, 95, 99])
        .round(3)
        .tolist(),
        "fit_strength_vs_softness": {
            "slope": round(float(fit[0]), 4),
            "intercept": round(float(fit[1]), 4),
        },
        "bins": table,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m photoenhance.train blurcal")
    ap.add_argument("--crops", type=int, default=8, help="crops per photo")
    ap.add_argument("--disk-radius", type=float, nargs=2, default=(0.5, 3.0))
    ap.add_argument("--gauss-blur", type=float, nargs=2, default=(0.3, 2.0))
    ap.add_argument("--motion-length", type=float, nargs=2, default=(3.0, 13.0))
    args = ap.parse_args(argv)
    cfg = deg.DegradeConfig(
        disk_radius=tuple(args.disk_radius),
        gauss_blur=tuple(args.gauss_blur),
        motion_length=tuple(args.motion_length),
    )
    print(json.dumps(summarise(samples(args.crops, cfg)), indent=1))


if __name__ == "__main__":
    main()
