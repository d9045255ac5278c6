"""The do-no-harm guard's cost, as a ratio to the rest of the enhancement in the same run.

Usage::

    nice python bench/guard_cost.py [--photo PATH] [--repeats 3] [--threads N]

Two figures, each timed ``--repeats`` times (interleaved, median):

- **tile**: one 1024 x 1024 tile (the default tile of :mod:`photoenhance.core.ml.infer`)
  cut from the photo, run as ``Enhancer`` runs a tile (conversion, the general network with
  its autocast, the guard at full weight with the pattern check: the most it ever does): the
  guard's time against the rest.
- **photo**: the whole photo through :meth:`Enhancer.enhance` at full strength and full guard
  weight (``auto=False``: every tile is corrected and fully guarded), the time in the guard
  (``guard_stats.seconds``) against the rest of the call.

Both figures are printed for the guard the app runs (on the CPU: the compiled loops of
:mod:`photoenhance.core.ml.guard_kernels`) and, as the same-run baseline, for the torch
version (what runs on other devices or without numba; ``--no-baseline`` skips it).

The photo defaults to the 8 MP camera JPEG ``../shared/data/exif/jpg/hdr/iphone_hdr_NO.jpg``.
``bench/harm.py`` reports the same ratio over its clean photos at default settings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoenhance.core.imaging import load_image  # noqa: E402
from photoenhance.core.ml import guard as guard_module  # noqa: E402
from photoenhance.core.ml.guard import GuardStats  # noqa: E402
from photoenhance.core.ml.infer import DEFAULT_TILE, Enhancer  # noqa: E402

SHARED = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data"
PHOTO = SHARED / "exif" / "jpg" / "hdr" / "iphone_hdr_NO.jpg"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photo", type=Path, default=PHOTO)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the torch guard's run")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.photo.is_file():
        print(f"No photo at {args.photo} (set PHOTOENHANCE_SHARED or --photo).", file=sys.stderr)
        return 2
    pixels = load_image(args.photo).pixels
    enh = Enhancer.load()
    print(f"torch threads: {torch.get_num_threads()}")
    kernels = guard_module._KERNELS
    runs = [("compiled" if kernels is not None else "torch", kernels)]
    if kernels is not None and not args.no_baseline:
        runs.append(("torch (baseline)", None))
    shares = {}
    for name, chosen in runs:
        guard_module._KERNELS = chosen
        shares[name] = _measure(enh, pixels, args.repeats)
        tile, photo = shares[name]
        print(f"{name}: tile {100 * tile:.1f} %, photo {100 * photo:.1f} %")
    guard_module._KERNELS = kernels
    if len(shares) == 2:
        (t1, p1), (t0, p0) = shares.values()
        print(f"compiled / torch guard share: tile {t1 / t0:.2f}, photo {p1 / p0:.2f}")
    return 0


def _measure(enh: Enhancer, pixels: np.ndarray, repeats: int) -> tuple[float, float]:
    """The guard's share of the rest for one tile and for the whole photo (medians)."""
    forward, _ = enh._net(None)
    side = min(DEFAULT_TILE, *pixels.shape[:2])
    crop = np.ascontiguousarray(pixels[:side, :side, :3])
    net_s: list[float] = []
    guard_s: list[float] = []
    photo: list[float] = []
    with torch.inference_mode():
        enh._run(forward, crop, 255.0, 1.0)  # warm up
        for _ in range(repeats):  # one tile as infer.py runs it (autocast included)
            enh.guard_stats = GuardStats()
            t0 = time.perf_counter()
            enh._run(forward, crop, 255.0, 1.0)
            total = time.perf_counter() - t0
            guard_s.append(enh.guard_stats.seconds)
            net_s.append(total - enh.guard_stats.seconds)
    enh.enhance(pixels, auto=False)  # warm up
    for _ in range(repeats):
        t0 = time.perf_counter()
        enh.enhance(pixels, auto=False)
        total = time.perf_counter() - t0
        stats = enh.guard_stats
        photo.append(stats.seconds / max(total - stats.seconds, 1e-9))
    net, grd = statistics.median(net_s), statistics.median(guard_s)
    print(f"  tile {side} x {side}: rest {net:.3f} s, guard {grd:.3f} s = {100 * grd / net:.1f} %")
    h, w = pixels.shape[:2]
    print(f"  photo {w} x {h} ({h * w / 1e6:.1f} MP), auto=False: guard "
          f"{100 * statistics.median(photo):.1f} % of the rest of the enhancement "
          f"(runs: {', '.join(f'{100 * r:.1f}' for r in photo)})")
    return grd / net, statistics.median(photo)


if __name__ == "__main__":
    sys.exit(main())
