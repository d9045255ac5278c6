"""Do-no-harm benchmark: enhance every clean photo at default settings, measure the change.

Usage::

    nice python bench/harm.py [--limit N] [--crops docs/harm] [--json out.json]

Clean photos: every photo under ``../shared/data/exif`` of at least 64 px that decodes, and
clean Kodak24, CBSD68 and LIVE1 (``../shared/data/bench``; evaluation data only). Each is
enhanced the way ``photoenhance enhance`` does by default (automatic strength, routing,
the guard) and reported as output-vs-input PSNR (RGB, 8-bit): median, 10th percentile and
worst, per set and over all; and the same as written (a photo whose verdict is
``blocked`` or ``not improved`` gets no copy by default, so the original is what is left).
Each is also scored by the shipped ranker: how many are flagged "worth fixing" (score at
least 0.4), and the verdict core gives the copy. The
guard's cost is the time spent in :func:`photoenhance.core.ml.guard.guard` as a ratio to
the rest of the enhancement, measured in this run. ``--crops DIR`` saves side-by-side crops
(input | output, 100 %) of the worst photos.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoenhance.core.errors import PhotoEnhanceError  # noqa: E402
from photoenhance.core.imaging import load_image  # noqa: E402
from photoenhance.core.jobs.verdict import SKIPPED, decide  # noqa: E402
from photoenhance.core.ml.infer import Enhancer  # noqa: E402
from photoenhance.core.rank.scale import DEFAULT_THRESHOLD  # noqa: E402
from photoenhance.core.rank.scorer import Scorer  # noqa: E402

SHARED = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data"
SETS = {"kodak24": "Kodak24", "cbsd68": "CBSD68", "live1_color": "LIVE1"}
EXTS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".bmp"}


def photos() -> list[tuple[str, Path]]:
    out = [("exif", p) for p in sorted((SHARED / "exif").rglob("*"))
           if p.is_file() and p.suffix.lower() in EXTS]
    for folder, name in SETS.items():
        out += [(name, p) for p in sorted((SHARED / "bench" / folder).glob("*"))
                if p.suffix.lower() in EXTS]
    return out


def decode(path: Path) -> np.ndarray | None:
    try:
        if path.suffix.lower() == ".bmp":  # LIVE1 ships BMPs, which the app does not open
            return np.asarray(Image.open(path).convert("RGB"))
        return load_image(path).pixels
    except (PhotoEnhanceError, OSError, ValueError):
        return None


def rgb8(a: np.ndarray) -> np.ndarray:
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    a = a[..., :3]
    if a.dtype == np.uint16:
        a = (a.astype(np.float32) / 257.0).round().astype(np.uint8)
    return np.ascontiguousarray(a.astype(np.uint8))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    peak = 65535.0 if a.dtype == np.uint16 else 255.0
    return 99.0 if mse == 0 else min(99.0, 10 * np.log10(peak**2 / mse))


def summary(values: list[float]) -> dict[str, float]:
    v = np.array(values)
    return {"n": len(v), "median": float(np.median(v)), "p10": float(np.percentile(v, 10)),
            "worst": float(v.min())}


def crop_pair(inp: np.ndarray, out: np.ndarray, side: int = 192) -> Image.Image:
    """The ``side`` px crop where the output differs most from the input, input | output."""
    d = np.abs(inp.astype(np.float32) - out.astype(np.float32)).sum(2)
    h, w = d.shape
    s = min(side, h, w)
    c = np.pad(d, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    win = c[s:, s:] - c[:-s, s:] - c[s:, :-s] + c[:-s, :-s]
    y, x = np.unravel_index(int(np.argmax(win[::8, ::8])), win[::8, ::8].shape)
    y, x = y * 8, x * 8
    pair = np.concatenate([inp[y:y + s, x:x + s], np.full((s, 4, 3), 255, np.uint8),
                           out[y:y + s, x:x + s]], axis=1)
    return Image.fromarray(pair)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="at most N photos per set (smoke)")
    ap.add_argument("--crops", type=Path, default=None, help="save worst-case crops here")
    ap.add_argument("--worst", type=int, default=4, help="how many worst cases to crop")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not SHARED.is_dir():
        print(f"No data at {SHARED} (set PHOTOENHANCE_SHARED).", file=sys.stderr)
        return 2
    enh, scorer = Enhancer.load(), Scorer.load(use_user_head=False)
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    guard_s = total_s = 0.0
    for set_name, path in photos():
        if args.limit and seen.get(set_name, 0) >= args.limit:
            continue
        pixels = decode(path)
        if pixels is None or min(pixels.shape[:2]) < 64:
            continue
        seen[set_name] = seen.get(set_name, 0) + 1
        t0 = time.perf_counter()
        out = enh.enhance(pixels)
        total_s += time.perf_counter() - t0
        guard_s += enh.guard_stats.seconds
        a, b = rgb8(pixels), rgb8(out)
        before, after = scorer.score_arrays([a, b])
        v = decide(before.gain_db, after.gain_db, changed=not np.array_equal(pixels, out),
                   guard_kept=enh.guard_stats.kept_share)
        raw = round(psnr(pixels, out), 2)
        row = {"set": set_name, "path": str(path), "psnr": raw,
               # what the app leaves on disk: a skipped photo keeps only its original
               "psnr_written": raw if v.writes else 99.0,
               "score": before.score, "flagged": bool((before.score or 0) >= DEFAULT_THRESHOLD),
               "verdict": v.verdict, "predicted_gain": v.predicted_gain}
        rows.append(row)
        print(f"{row['psnr']:6.2f} dB  score {before.score:.3f}  {v.verdict:<13} {path}",
              flush=True)
    report: dict[str, object] = {}
    print("| set | photos | median dB | p10 | worst | p10 as written | worst as written | "
          "skipped by verdict | flagged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ["exif", *SETS.values(), "all"]:
        sel = [r for r in rows if name == "all" or r["set"] == name]
        if not sel:
            continue
        s = summary([float(r["psnr"]) for r in sel])  # type: ignore[arg-type]
        w = summary([float(r["psnr_written"]) for r in sel])  # type: ignore[arg-type]
        s["flagged"] = sum(bool(r["flagged"]) for r in sel)
        s["skipped"] = sum(r["verdict"] in SKIPPED for r in sel)
        report[name] = {**s, "written": w}
        print(f"| {name} | {s['n']} | {s['median']:.2f} | {s['p10']:.2f} | {s['worst']:.2f} | "
              f"{w['p10']:.2f} | {w['worst']:.2f} | {s['skipped']} | "
              f"{s['flagged']} ({100 * s['flagged'] / s['n']:.1f} %) |")
    ratio = guard_s / max(total_s - guard_s, 1e-9)
    report["guard_cost_ratio"] = ratio
    print(f"guard: {guard_s:.2f} s of {total_s:.2f} s enhancing = {100 * ratio:.1f} % of the rest")
    worst = sorted(rows, key=lambda r: float(r["psnr"]))[: args.worst]  # type: ignore[arg-type]
    report["worst"] = worst
    if args.crops is not None:
        args.crops.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(worst):
            pixels = decode(Path(str(r["path"])))
            assert pixels is not None
            pair = crop_pair(rgb8(pixels), rgb8(enh.enhance(pixels)))
            dest = args.crops / f"worst{i + 1}_{Path(str(r['path'])).stem}.png"
            pair.save(dest, optimize=True)
            print(f"crop {dest} ({r['psnr']} dB)")
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": rows, "summary": report}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
