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
from photoenhance.core.ml.guard import GuardStats  # noqa: E402
from photoenhance.core.ml.infer import DEFAULT_TILE, Enhancer  # noqa: E402

SHARED = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data"
PHOTO = SHARED / "exif" / "jpg" / "hdr" / "iphone_hdr_NO.jpg"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photo", type=Path, default=PHOTO)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.photo.is_file():
        print(f"No photo at {args.photo} (set PHOTOENHANCE_SHARED or --photo).", file=sys.stderr)
        return 2
    pixels = load_image(args.photo).pixels
    enh = Enhancer.load()
    forward, _ = enh._net(None)
    side = min(DEFAULT_TILE, *pixels.shape[:2])
    crop = np.ascontiguousarray(pixels[:side, :side, :3])
    net_s: list[float] = []
    guard_s: list[float] = []
    photo: list[float] = []
    with torch.inference_mode():
        enh._run(forward, crop, 255.0, 1.0)  # warm up
        for _ in range(args.repeats):  # one tile as infer.py runs it (autocast included)
            enh.guard_stats = GuardStats()
            t0 = time.perf_counter()
            enh._run(forward, crop, 255.0, 1.0)
            total = time.perf_counter() - t0
            guard_s.append(enh.guard_stats.seconds)
            net_s.append(total - enh.guard_stats.seconds)
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        enh.enhance(pixels, auto=False)
        total = time.perf_counter() - t0
        stats = enh.guard_stats
        photo.append(stats.seconds / max(total - stats.seconds, 1e-9))
    net, grd = statistics.median(net_s), statistics.median(guard_s)
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"tile {side} x {side}: rest {net:.3f} s, guard {grd:.3f} s = {100 * grd / net:.1f} %")
    h, w = pixels.shape[:2]
    print(f"photo {w} x {h} ({h * w / 1e6:.1f} MP), auto=False: guard "
          f"{100 * statistics.median(photo):.1f} % of the rest of the enhancement "
          f"(runs: {', '.join(f'{100 * r:.1f}' for r in photo)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
