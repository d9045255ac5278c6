"""Benchmark the automatic strength's noise measure: texture read as noise, and noise missed.

    .venv/bin/python bench/noise.py [--shared ../shared] [--out docs/bench_noise.json]

The enhancer's automatic strength (:mod:`photoenhance.core.ml.autostrength`) reads a luma
noise sigma and routes a photo whose noise ramp reaches ``ROUTE_MIN`` to the noise
specialist. Reading texture as noise softens clean photos; missing noise leaves noisy ones
alone. In one run, for the Haar estimate alone (the measure before the texture check) and for
the shipped measure (Haar capped by the weak-texture PCA):

- clean Kodak24, CBSD68 and LIVE1 (``shared/data/bench``): how many route to the noise
  specialist (they should not) and the summed noise ramp (0 is right);
- the same photos (Kodak24 and every 4th CBSD68) with synthetic noise of the enhancer's kinds
  (:mod:`photoenhance.train.degrade`: white, camera-pipeline and luma/chroma-correlated, and
  white noise then JPEG at quality 85 and 75): the summed ramp (higher is right);
- RNI15, real noisy photos without a reference: the summed ramp.

Also the time per measurement of a 12 MP photo, clean and noisy, as a ratio to the Haar-only
measure in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from photoenhance.core.ml import autostrength as A  # noqa: E402
from photoenhance.train.degrade import camera_noise, correlated_noise  # noqa: E402

CLEAN_SETS = ("kodak24", "cbsd68", "live1_color")
NOISY = ("white", "camera", "correlated", "white+jpeg85", "white+jpeg75")


def _images(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.iterdir())
            if p.suffix.lower() in {".png", ".bmp", ".jpg", ".tif", ".tiff"}]


def _noisy(img: np.ndarray, kind: str, gen: torch.Generator) -> np.ndarray:
    x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255
    if kind == "camera":
        y = camera_noise(x, gen)
    elif kind == "correlated":
        y = correlated_noise(x, gen)
    else:  # white, RGB sigma 2-20
        sigma = 2 + 18 * float(torch.rand(1, generator=gen))
        y = x + torch.randn(x.shape, generator=gen) * sigma / 255
    out = (y[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if "jpeg" in kind:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=int(kind[-2:]))
        out = np.asarray(Image.open(buf).convert("RGB"))
    return out


def _sigmas(img: np.ndarray | Image.Image) -> tuple[float, float]:
    """(Haar-only sigma, shipped sigma)."""
    rgb = A._crops(img)
    haar = A._noise_sigma(A._luma(rgb))
    return haar, A.measure(img).noise_sigma


def _ramp(sigma: float) -> float:
    return A._ramp(sigma, *A.NOISE_RAMP)


def _summary(pairs: list[tuple[float, float]]) -> dict[str, dict[str, float]]:
    out = {}
    for i, name in enumerate(("haar_only", "shipped")):
        ramps = [_ramp(p[i]) for p in pairs]
        out[name] = {"noise_routes": int(sum(r >= A.ROUTE_MIN for r in ramps)),
                     "ramp_sum": round(float(sum(ramps)), 2),
                     "median_sigma": round(float(np.median([p[i] for p in pairs])), 2)}
    return out


def _best_ms(fn: object, repeats: int = 7) -> float:
    fn()  # type: ignore[operator]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return 1000 * min(times)


def speed(src: np.ndarray) -> dict[str, dict[str, float]]:
    big = Image.fromarray(src).resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 8, (3000, 4000, 3))
    noisy = Image.fromarray(np.clip(np.asarray(big) + noise, 0, 255).astype(np.uint8))
    res = {}
    for label, img in (("clean_12MP", big), ("noisy_12MP", noisy)):
        def haar_only(img: Image.Image = img) -> None:
            rgb = A._crops(img)
            c = A._luma(rgb)
            A._noise_sigma(c), A._jpeg_scale(c), A._softness(c)

        t_old, t_new = _best_ms(haar_only), _best_ms(lambda img=img: A.measure(img))
        res[label] = {"haar_only_ms": round(t_old, 1), "shipped_ms": round(t_new, 1),
                      "ratio": round(t_new / t_old, 2)}
    return res


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    bench = args.shared / "data" / "bench"
    result: dict[str, object] = {}
    clean = {s: _images(bench / s) for s in CLEAN_SETS}
    pairs = [_sigmas(img) for s in CLEAN_SETS for img in clean[s]]
    result["clean"] = {"images": len(pairs), **_summary(pairs)}
    noisy_src = clean["kodak24"] + clean["cbsd68"][::4]
    gen = torch.Generator().manual_seed(0)
    for kind in NOISY:
        pairs = [_sigmas(_noisy(img, kind, gen)) for img in noisy_src]
        result[kind] = {"images": len(pairs), **_summary(pairs)}
    rni = bench / "real_noisy_rni15"
    if rni.is_dir():
        pairs = [_sigmas(img) for img in _images(rni)]
        result["rni15_real"] = {"images": len(pairs), **_summary(pairs)}
    result["speed"] = speed(clean["kodak24"][0])
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
