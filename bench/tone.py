"""Benchmark the tone and colour model (``models/tone-v1``) against its input and a peer.

Usage::

    python bench/tone.py [--quick | --limit N] [--json OUT] [--no-speed] [--no-images]

Needs ``../shared/data/bench`` (evaluation only; never trained on). In one run:

- Synthetic faults on Kodak24, CBSD68 and LIVE1 (one seeded draw per photo and fault):
  under-exposure (-1 to -2.5 EV, linear light, clipped), flat contrast (blacks lifted to
  0.06-0.18, whites lowered to 0.82-0.94), colour casts (temperature 0.3-0.7 and tint
  0.1-0.25 log2 steps either way, as gains in linear light). PSNR (RGB, 8 bit) and mean
  CIEDE2000 (every second pixel each way) against the original, for the faulty input, ours
  and the peer. Identity: the original photos themselves, output against input.
- The real low-light photos of ``lowlight_lime`` (no reference): mean luminance (Rec. 709
  luma of the sRGB values, 0-1) and the share of clipped pixels (a channel at 255), before
  and after; side-by-side PNGs (input | peer | ours) in ``docs/tone/``.
- The peer: per-channel auto-levels (0.5 / 99.5 % percentiles stretched to 0 / 255) after a
  gray-world white balance.
- Speed: the tone step on a 24 MP photo as a ratio to the restorer's time for 24 MP
  (``Enhancer.enhance`` timed on a 1 MP crop in the same run, scaled by 24), and to a plain
  3x3 convolution reference.

Prints one markdown table per part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoenhance.core.ml.tone import ToneModel  # noqa: E402

BENCH = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data" / "bench"
SETS = {"kodak24": "kodak24", "cbsd68": "cbsd68", "live1": "live1_color"}
LUMA = np.array([0.2126, 0.7152, 0.0722])
Array = np.ndarray


# ------------------------------------------------------------------ colour


def srgb_to_linear(x: Array) -> Array:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: Array) -> Array:
    v = np.clip(v, 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def to_lab(rgb8: Array) -> Array:
    """CIE L*a*b* (D65) of 8-bit sRGB."""
    lin = srgb_to_linear(rgb8.astype(np.float64) / 255)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: Array, lab2: Array) -> Array:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1."""
    l1, a1, b1 = np.moveaxis(lab1, -1, 0)
    l2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(cm7 / (cm7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lm, cm = (l1 + l2) / 2, (c1p + c2p) / 2
    hs = h1p + h2p
    hm = np.where(np.abs(h1p - h2p) > 180, np.where(hs < 360, hs + 360, hs - 360), hs) / 2
    hm = np.where(c1p * c2p == 0, hs, hm)
    t = (1 - 0.17 * np.cos(np.radians(hm - 30)) + 0.24 * np.cos(np.radians(2 * hm))
         + 0.32 * np.cos(np.radians(3 * hm + 6)) - 0.20 * np.cos(np.radians(4 * hm - 63)))
    sl = 1 + 0.015 * (lm - 50) ** 2 / np.sqrt(20 + (lm - 50) ** 2)
    sc = 1 + 0.045 * cm
    sh = 1 + 0.015 * cm * t
    cm7 = cm**7
    rt = (-2 * np.sqrt(cm7 / (cm7 + 25.0**7))
          * np.sin(np.radians(60 * np.exp(-(((hm - 275) / 25) ** 2)))))
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2
                   + rt * (dc / sc) * (dhh / sh))


def mean_de(a: Array, b: Array) -> float:
    return float(ciede2000(to_lab(a[::2, ::2]), to_lab(b[::2, ::2])).mean())


def psnr(a: Array, b: Array) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


# ------------------------------------------------------------------ faults and peer


def _to8(x: Array) -> Array:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def under_exposed(img: Array, rng: np.random.Generator) -> Array:
    ev = rng.uniform(-2.5, -1.0)
    return _to8(linear_to_srgb(srgb_to_linear(img / 255.0) * 2**ev))


def flat(img: Array, rng: np.random.Generator) -> Array:
    lo, hi = rng.uniform(0.06, 0.18), rng.uniform(0.82, 0.94)
    return _to8(lo + (hi - lo) * img / 255.0)


def cast(img: Array, rng: np.random.Generator) -> Array:
    t = rng.uniform(0.3, 0.7) * rng.choice([-1, 1])
    m = rng.uniform(0.1, 0.25) * rng.choice([-1, 1])
    gains = 2 ** np.array([t / 2 + m / 3, -2 * m / 3, -t / 2 + m / 3])
    return _to8(linear_to_srgb(srgb_to_linear(img / 255.0) * gains))


FAULTS = {"under-exposure": under_exposed, "flat contrast": flat, "colour cast": cast}


def autolevels(img: Array) -> Array:
    """The peer: gray-world white balance, then per-channel 0.5/99.5 % auto-levels."""
    x = img.astype(np.float64)
    means = x.reshape(-1, 3).mean(0)
    x = x * (means.mean() / np.maximum(means, 1e-6))
    lo = np.percentile(x.reshape(-1, 3), 0.5, axis=0)
    hi = np.percentile(x.reshape(-1, 3), 99.5, axis=0)
    return _to8((x - lo) / np.maximum(hi - lo, 1e-6))


# ------------------------------------------------------------------ parts


def load(dirname: str) -> list[tuple[str, Array]]:
    out = []
    for p in sorted((BENCH / dirname).iterdir()):
        with Image.open(p) as im:
            out.append((p.name, np.asarray(im.convert("RGB"))))
    return out


def synthetic(model: ToneModel, limit: int | None, images: bool = False
              ) -> dict[str, dict[str, float]]:
    """PSNR and CIEDE2000 per set and fault; with ``images``, side-by-sides (faulty | peer |
    ours | original) of each set's first photo and fault in ``docs/tone/``."""
    rows: dict[str, dict[str, list[float]]] = {}
    for set_name, dirname in SETS.items():
        photos = load(dirname)[:limit]
        for i, (_, img) in enumerate(photos):
            for f_i, (fault, fn) in enumerate(FAULTS.items()):
                bad = fn(img, np.random.default_rng(1000 * f_i + i))
                ours = model.apply(bad)[0]
                peer = autolevels(bad)
                if images and i == 0:
                    side_by_side(f"{set_name}_{fault.split()[-1]}", [bad, peer, ours, img],
                                 REPO / "docs" / "tone", prefix="synthetic")
                r = rows.setdefault(f"{set_name} {fault}", {})
                for k, v in (("in", bad), ("ours", ours), ("peer", peer)):
                    r.setdefault(f"psnr_{k}", []).append(psnr(v, img))
                    r.setdefault(f"de_{k}", []).append(mean_de(v, img))
            out = model.apply(img)[0]
            r = rows.setdefault(f"{set_name} identity", {})
            r.setdefault("psnr_ours", []).append(psnr(out, img))
            r.setdefault("unchanged", []).append(float(np.array_equal(out, img)))
        print(f"  {set_name} done", file=sys.stderr, flush=True)
    return {k: {m: float(np.mean(v)) for m, v in r.items()} for k, r in rows.items()}


def luminance(img: Array) -> float:
    return float((img / 255.0 @ LUMA).mean())


def clipped(img: Array) -> float:
    return float((img >= 255).any(axis=2).mean())


def side_by_side(name: str, panels: list[Array], out_dir: Path, prefix: str = "lime") -> Path:
    h = 240
    ims = [Image.fromarray(p).resize((round(p.shape[1] * h / p.shape[0]), h),
                                     Image.Resampling.LANCZOS) for p in panels]
    canvas = Image.new("RGB", (sum(i.width for i in ims) + 8 * (len(ims) - 1), h), "white")
    x = 0
    for im in ims:
        canvas.paste(im, (x, 0))
        x += im.width + 8
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{prefix}_{Path(name).stem}.png"
    canvas.save(path, optimize=True)
    return path


def lowlight(model: ToneModel, images: bool) -> list[dict[str, object]]:
    out_dir = REPO / "docs" / "tone"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, img in load("lowlight_lime"):
        ours, edit = model.apply(img)
        peer = autolevels(img)
        rows.append({"photo": name, "lum_in": luminance(img), "lum_ours": luminance(ours),
                     "lum_peer": luminance(peer), "clip_in": clipped(img),
                     "clip_ours": clipped(ours), "clip_peer": clipped(peer),
                     "edit": edit.description, "strength": edit.strength,
                     "confidence": edit.confidence})
        if images:
            side_by_side(name, [img, peer, ours], out_dir)
    return rows


def _time(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(model: ToneModel) -> dict[str, float]:
    """Seconds of the tone step on 24 MP, of the restorer scaled to 24 MP, their ratio."""
    from photoenhance.core.ml.infer import Enhancer

    rng = np.random.default_rng(0)
    base = load("kodak24")[0][1]
    big = np.asarray(Image.fromarray(base).resize((6000, 4000), Image.Resampling.BILINEAR))
    big = np.clip(big.astype(np.int16) + rng.integers(-3, 4, big.shape), 0, 255).astype(np.uint8)
    tone_s = _time(lambda: model.apply(big), repeat=2)
    crop = np.ascontiguousarray(big[:1024, :1024])
    enh = Enhancer.load(device="cpu")
    enh.enhance(crop[:256, :256], auto=False)  # warm-up
    restore_s = _time(lambda: enh.enhance(crop, auto=False), repeat=2) * big.size / crop.size
    x = torch.rand(1, 3, 1024, 1024)
    w = torch.randn(3, 3, 3, 3)
    with torch.inference_mode():
        ref_s = _time(lambda: F.conv2d(x, w, padding=1)) * big.size / crop.size
    return {"tone_s_24mp": tone_s, "restorer_s_24mp": restore_s,
            "ratio_to_restorer": tone_s / restore_s, "ratio_to_3x3_ref": tone_s / ref_s}


# ------------------------------------------------------------------ report


def report(syn: dict[str, dict[str, float]], low: list[dict[str, object]],
           spd: dict[str, float] | None) -> None:
    print("| set, fault | PSNR in | ours | peer | gain ours | gain peer | dE00 in | ours | peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, r in syn.items():
        if "identity" in k:
            continue
        print(f"| {k} | {r['psnr_in']:.2f} | {r['psnr_ours']:.2f} | {r['psnr_peer']:.2f} | "
              f"{r['psnr_ours'] - r['psnr_in']:+.2f} | {r['psnr_peer'] - r['psnr_in']:+.2f} | "
              f"{r['de_in']:.2f} | {r['de_ours']:.2f} | {r['de_peer']:.2f} |")
    faulty = [r for k, r in syn.items() if "identity" not in k]
    gain = np.mean([r["psnr_ours"] - r["psnr_in"] for r in faulty])
    gain_peer = np.mean([r["psnr_peer"] - r["psnr_in"] for r in faulty])
    de_ratio = np.mean([r["de_ours"] for r in faulty]) / np.mean([r["de_in"] for r in faulty])
    print(f"\nmean gain: ours {gain:+.2f} dB, peer {gain_peer:+.2f} dB; "
          f"mean dE00 ours / input {de_ratio:.3f}")
    for k, r in syn.items():
        if "identity" in k:
            print(f"{k}: output vs input {r['psnr_ours']:.2f} dB (PSNR capped at 100), "
                  f"{r['unchanged'] * 100:.0f} % bit-identical")
    print("\n| LIME photo | lum in | ours | peer | clipped in | ours | peer | edit |")
    print("|---|---|---|---|---|---|---|---|")
    for r in low:
        print(f"| {r['photo']} | {r['lum_in']:.3f} | {r['lum_ours']:.3f} | {r['lum_peer']:.3f} | "
              f"{r['clip_in']:.4f} | {r['clip_ours']:.4f} | {r['clip_peer']:.4f} | "
              f"{r['edit']} |")
    if spd:
        print(f"\nspeed: tone step {spd['tone_s_24mp']:.2f} s at 24 MP, restorer "
              f"{spd['restorer_s_24mp']:.1f} s (1 MP crop x 24), ratio "
              f"{spd['ratio_to_restorer']:.3f}; ratio to a 3x3 conv {spd['ratio_to_3x3_ref']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--checkpoint", type=Path, default=None,
                    help="a trainer checkpoint (state_dict) instead of a shipped model")
    ap.add_argument("--config", default=None,
                    help="architecture config (JSON) of --checkpoint; default: the shipped card's")
    ap.add_argument("--quick", action="store_true", help="six photos per set")
    ap.add_argument("--limit", type=int, default=None, help="the first N photos of each set")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-images", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    if not BENCH.is_dir():
        sys.exit(f"{BENCH} is missing: the benchmark needs the shared evaluation data")
    if args.checkpoint:
        from photoenhance.core.ml.nets.tone import build_tone
        from photoenhance.core.ml.registry import read_card, weights_path

        config = json.loads(args.config) if args.config else \
            read_card(weights_path("tone-v1"))["architecture"]["config"]
        net = build_tone(config)
        net.load_state_dict(torch.load(args.checkpoint, weights_only=True))
        model = ToneModel.from_net(net, "checkpoint")
    else:
        model = ToneModel.load(args.model)
    syn = synthetic(model, 6 if args.quick else args.limit, not args.no_images)
    low = lowlight(model, not args.no_images)
    spd = None if args.no_speed else speed(model)
    report(syn, low, spd)
    if args.json:
        args.json.write_text(json.dumps({"synthetic": syn, "lowlight": low, "speed": spd},
                                        indent=1))


if __name__ == "__main__":
    main()
