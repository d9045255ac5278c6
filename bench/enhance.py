"""Benchmark the enhancer against its input and against peers users would otherwise pick.

Usage::

    python bench/enhance.py [--quick] [--model models/enhancer-v1.pt] [--bm3d-n 3]
    python bench/enhance.py --speed-only [--tile N]   # just the 24 MP end-to-end figure

Needs ``../shared/data/bench`` (evaluation data only; it is never trained on). Reports, in
one run, PSNR/SSIM (RGB, 8-bit, whole image) for:

- CBSD68 and Kodak24 with Gaussian noise sigma 15/25/50: input, ours (blind), OpenCV
  ``fastNlMeansDenoisingColored`` (h tuned per sigma on the first image, sigma given) and,
  on a small subset, BM3D from PyPI ``bm3d`` (sigma given). Noisy images are clipped to
  [0, 1] and stored as 8-bit, like real files.
- LIVE1 colour JPEG at q 10/20/30/40 (Pillow, 4:2:0).
- Kodak24 with a defocus disk (radius 2 px) and a random-trajectory motion blur (9 px).
- Clean Kodak24: output vs input (do no harm).
- Speed: a 24 MP JPEG decoded, enhanced and encoded end to end in a fresh process (MP/s and
  peak RSS), plus our MP/s as a ratio to a plain 3x3 conv reference timed in that process.

Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from photoenhance.core.ml.infer import DEFAULT_TILE, Enhancer  # noqa: E402
from photoenhance.train import degrade as deg  # noqa: E402

BENCH = Path(os.environ.get("PHOTOENHANCE_SHARED", REPO.parent / "shared")) / "data" / "bench"
Array = np.ndarray


# ------------------------------------------------------------------ metrics


def psnr(a: Array, b: Array) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def _gauss_1d(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    r = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    return g / g.sum()


def _filt(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, 'valid' borders, on (C, 1, H, W)."""
    x = F.conv2d(x, g.view(1, 1, -1, 1))
    return F.conv2d(x, g.view(1, 1, 1, -1))


def ssim(a: Array, b: Array) -> float:
    """SSIM (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5), mean over RGB channels."""
    x = torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[:, None]
    y = torch.from_numpy(b.astype(np.float32) / 255).permute(2, 0, 1)[:, None]
    g = _gauss_1d()
    mu_x, mu_y = _filt(x, g), _filt(y, g)
    sxx = _filt(x * x, g) - mu_x**2
    syy = _filt(y * y, g) - mu_y**2
    sxy = _filt(x * y, g) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    m = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return float(m.double().mean())


# ------------------------------------------------------------------ data


def load_set(name: str, limit: int | None) -> list[Array]:
    files = sorted(p for p in (BENCH / name).iterdir() if p.suffix.lower() in (".png", ".bmp"))
    files = files[:limit] if limit else files
    return [np.asarray(Image.open(p).convert("RGB")) for p in files]


def add_noise(img: Array, sigma: float, seed: int) -> Array:
    rng = np.random.default_rng(seed)
    noisy = img.astype(np.float64) + rng.normal(0, sigma, img.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def jpeg(img: Array, q: int) -> Array:
    t = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    out = deg.jpeg(t, [q], [2])[0]
    return (out.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def blur(img: Array, kind: str) -> Array:
    if kind == "defocus":
        ker = deg.disk_kernels(torch.tensor([2.0]))
    else:
        ker = deg.motion_kernels(torch.tensor([9.0]), torch.Generator().manual_seed(5))
    t = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    out = deg.apply_kernels(t, ker)[0].clamp(0, 1)
    return (out.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


# ------------------------------------------------------------------ methods


def nlm(noisy: Array, h: float) -> Array:
    import cv2

    bgr = noisy[..., ::-1].copy()
    out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21)
    return out[..., ::-1].copy()


def bm3d_rgb(noisy: Array, sigma: float) -> Array:
    import bm3d

    out = bm3d.bm3d_rgb(noisy.astype(np.float64) / 255, sigma / 255)
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


Scores = list[tuple[float, float]]


def per_image(pairs: list[tuple[Array, Array]]) -> Scores:
    return [(psnr(o, c), ssim(o, c)) for o, c in pairs]


def mean(scores: Scores, n: int | None = None) -> tuple[float, float]:
    sub = scores[:n] if n else scores
    return float(np.mean([s[0] for s in sub])), float(np.mean([s[1] for s in sub]))


class Table:
    cols = ("input", "ours", "OpenCV NLM", "BM3D")

    def __init__(self) -> None:
        self.rows: list[str] = []

    def add(self, label: str, cells: dict[str, tuple[float, float]]) -> None:
        def fmt(v: tuple[float, float] | None) -> str:
            return "-" if v is None else f"{v[0]:.2f} / {v[1]:.4f}"

        self.rows.append(f"| {label} | " + " | ".join(fmt(cells.get(c)) for c in self.cols) + " |")
        print(self.rows[-1], flush=True)


def run_noise(
    enh: Enhancer,
    sets: dict[str, list[Array]],
    args: argparse.Namespace,
    table: Table,
    results: dict[str, object],
) -> None:
    for set_name, imgs in sets.items():
        n_nlm = min(len(imgs), args.nlm_n if set_name == "CBSD68" else max(1, args.nlm_n // 2))
        for sigma in (15, 25, 50):
            noisy = [add_noise(im, sigma, i) for i, im in enumerate(imgs)]
            inp = per_image(list(zip(noisy, imgs, strict=True)))
            tile = args.tile or None
            pairs = zip(noisy, imgs, strict=True)
            ours = per_image([(enh.enhance(n, tile=tile), c) for n, c in pairs])
            cells = {"input": mean(inp), "ours": mean(ours)}
            table.add(f"{set_name} σ{sigma} blind, all {len(imgs)}", cells)
            results[f"{set_name} sigma{sigma}"] = cells
            if args.nlm_n <= 0:  # no peer asked for (OpenCV may be absent)
                continue
            hs = (0.4, 0.5, 0.6, 0.8, 1.0)
            h = max(hs, key=lambda f: psnr(nlm(noisy[0], f * sigma), imgs[0]))
            peer = per_image([(nlm(noisy[i], h * sigma), imgs[i]) for i in range(n_nlm)])
            cells = {"input": mean(inp, n_nlm), "ours": mean(ours, n_nlm), "OpenCV NLM": mean(peer)}
            bm3d_n = min(args.bm3d_n, len(imgs)) if set_name == "CBSD68" and sigma > 15 else 0
            if bm3d_n:
                try:
                    b = per_image([(bm3d_rgb(noisy[i], sigma), imgs[i]) for i in range(bm3d_n)])
                    cells["BM3D"] = mean(b)
                    sub = {
                        "input": mean(inp, bm3d_n),
                        "ours": mean(ours, bm3d_n),
                        "OpenCV NLM": mean(peer, bm3d_n),
                        "BM3D": mean(b),
                    }
                    results[f"{set_name} sigma{sigma} first{bm3d_n}"] = sub
                except Exception as e:  # noqa: BLE001 - the peer is optional
                    print(f"BM3D skipped: {type(e).__name__}: {e}", flush=True)
            label = f"{set_name} σ{sigma}, first {n_nlm} (NLM h={h}σ, σ given)"
            if "BM3D" in cells:
                del cells["BM3D"]
                table.add(label, cells)
                table.add(
                    f"{set_name} σ{sigma}, first {bm3d_n} (BM3D, σ given)",
                    results[f"{set_name} sigma{sigma} first{bm3d_n}"],
                )  # type: ignore[arg-type]
            else:
                table.add(label, cells)
            results[f"{set_name} sigma{sigma} first{n_nlm}"] = cells


def run_quality(enh: Enhancer, args: argparse.Namespace, table: Table) -> dict[str, object]:
    lim = (12, 8, 10) if args.quick else (None, None, None)
    if args.limit:
        lim = (args.limit,) * 3
    cbsd, kodak = load_set("cbsd68", lim[0]), load_set("kodak24", lim[1])
    live = load_set("live1_color", lim[2])
    results: dict[str, object] = {}
    run_noise(enh, {"CBSD68": cbsd, "Kodak24": kodak}, args, table, results)

    def ours(x: Array) -> Array:
        return enh.enhance(x, tile=args.tile or None)

    for q in (10, 20, 30, 40):
        comp = [jpeg(im, q) for im in live]
        cells = {
            "input": mean(per_image(list(zip(comp, live, strict=True)))),
            "ours": mean(per_image([(ours(c), im) for c, im in zip(comp, live, strict=True)])),
        }
        results[f"LIVE1 q{q}"] = cells
        table.add(f"LIVE1 colour JPEG q{q} (Pillow 4:2:0), all {len(live)}", cells)
    for kind in ("defocus", "motion"):
        bl = [blur(im, kind) for im in kodak]
        cells = {
            "input": mean(per_image(list(zip(bl, kodak, strict=True)))),
            "ours": mean(per_image([(ours(b), im) for b, im in zip(bl, kodak, strict=True)])),
        }
        results[f"Kodak24 {kind}"] = cells
        table.add(f"Kodak24 {kind} blur, all {len(kodak)}", cells)
    # Photos returned untouched have an infinite PSNR, so a mean of per-image PSNRs says
    # little here: report the PSNR of the pooled squared error, and the worst photo.
    outs = [ours(im) for im in kodak]
    pairs = list(zip(outs, kodak, strict=True))
    mses = [float(np.mean((o.astype(np.float64) - im) ** 2)) for o, im in pairs]
    per = per_image(pairs)
    pooled = float(10 * np.log10(255.0**2 / max(float(np.mean(mses)), 1e-10)))
    cells = {"ours": (pooled, float(np.mean([s[1] for s in per])))}
    results["Kodak24 clean (output vs input)"] = {
        **cells,
        "worst_psnr": min(s[0] for s in per),
        "unchanged": sum(m == 0 for m in mses),
    }
    table.add(f"Kodak24 clean: output vs input (pooled MSE), all {len(kodak)}", cells)
    print(
        f"  clean: worst photo {min(s[0] for s in per):.2f} dB, "
        f"{sum(m == 0 for m in mses)} of {len(kodak)} returned unchanged",
        flush=True,
    )
    return results


# ------------------------------------------------------------------ speed


def reference_mps(seconds: float = 3.0) -> float:
    """MP/s of a plain full-resolution 3x3 conv 32->32 (fp32, channels_last) on this machine."""
    conv = torch.nn.Conv2d(32, 32, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.rand(1, 32, 512, 512).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        conv(x)
        t, n = time.perf_counter(), 0
        while time.perf_counter() - t < seconds:
            conv(x)
            n += 1
    return 512 * 512 * n / (time.perf_counter() - t) / 1e6


def peak_rss_gb() -> float:
    """This process's own peak RSS: VmHWM on Linux (``ru_maxrss`` survives ``exec``, so in a
    child it can report the parent's size instead)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def speed_child(path: Path, model: str | None, tile: int | None) -> None:
    """Run in a fresh process: decode + enhance + encode one JPEG; print JSON."""
    enh = Enhancer.load(model)
    ref1 = reference_mps()
    t0 = time.perf_counter()
    img = np.asarray(Image.open(path).convert("RGB"))
    t1 = time.perf_counter()
    out = enhancer_out = enh.enhance(img, tile=tile)
    t2 = time.perf_counter()
    Image.fromarray(out).save(path.with_name("out.jpg"), quality=95)
    t3 = time.perf_counter()
    ref2 = reference_mps()
    mp = img.shape[0] * img.shape[1] / 1e6
    del enhancer_out
    print(
        json.dumps(
            {
                "megapixels": round(mp, 1),
                "decode_s": t1 - t0,
                "enhance_s": t2 - t1,
                "encode_s": t3 - t2,
                "mps_decode_enhance": mp / (t2 - t0),
                "mps_end_to_end": mp / (t3 - t0),
                "ref_conv_mps": (ref1 + ref2) / 2,
                "peak_rss_gb": peak_rss_gb(),
                "ru_maxrss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                "threads": torch.get_num_threads(),
                "tile": tile or DEFAULT_TILE,
                "bf16": enh._bf16,  # noqa: SLF001
            }
        ),
        flush=True,
    )


def run_speed(args: argparse.Namespace) -> dict[str, float]:
    src = np.asarray(Image.open(sorted((BENCH / "kodak24").glob("*.png"))[0]).convert("RGB"))
    big = Image.fromarray(src).resize((6000, 4000), Image.Resampling.LANCZOS)
    noisy = add_noise(np.asarray(big), 8, 0)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "24mp.jpg"
        Image.fromarray(noisy).save(path, quality=92)
        del big, noisy
        cmd = [sys.executable, __file__, "--speed-child", str(path), "--tile", str(args.tile)]
        if args.model:
            cmd += ["--model", args.model]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def print_speed(sp: dict[str, float]) -> None:
    print(
        f"\nspeed, {sp['megapixels']} MP JPEG, {sp['threads']} threads, tile {sp.get('tile')}, "
        f"bf16={sp['bf16']}: "
        f"decode {sp['decode_s']:.2f} s, enhance {sp['enhance_s']:.2f} s, encode "
        f"{sp['encode_s']:.2f} s; decode+enhance {sp['mps_decode_enhance']:.2f} MP/s, with JPEG "
        f"encode {sp['mps_end_to_end']:.2f} MP/s, peak RSS {sp['peak_rss_gb']:.2f} GB; "
        f"reference 3x3 conv {sp['ref_conv_mps']:.1f} MP/s, ratio ours (end to end)/reference "
        f"{sp['mps_end_to_end'] / sp['ref_conv_mps']:.3f}",
        flush=True,
    )


def write_metrics(args: argparse.Namespace, results: dict[str, object]) -> None:
    """Merge the results into the model card (the weights, and so the sha256, are unchanged)."""
    from photoenhance.core.ml.registry import card_path, weights_path, write_atomic

    card_file = card_path(Path(args.model) if args.model else weights_path())
    card = json.loads(card_file.read_text())
    card["metrics"] = {
        "command": "python bench/enhance.py" + (" --quick" if args.quick else ""),
        "format": "[PSNR dB, SSIM] RGB 8-bit; noisy inputs clipped and 8-bit",
        **results,
    }
    write_atomic(card_file, (json.dumps(card, indent=2) + "\n").encode())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="subsets: 12 CBSD68, 8 Kodak, 10 LIVE1")
    p.add_argument("--model", default=None, help="weights (default: shipped models/)")
    p.add_argument("--bm3d-n", type=int, default=2, help="CBSD68 images for BM3D (0: skip)")
    p.add_argument("--nlm-n", type=int, default=10, help="CBSD68 images for NLM (Kodak: half)")
    p.add_argument("--tile", type=int, default=0, help="tile side (0: the enhancer's default)")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--speed-only", action="store_true", help="only the 24 MP speed figure")
    p.add_argument("--limit", type=int, default=0, help="cap every set at N images (smoke)")
    p.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    p.add_argument(
        "--write-card",
        action="store_true",
        help="store the figures under 'metrics' in the model card",
    )
    p.add_argument("--speed-child", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.speed_child:
        speed_child(args.speed_child, args.model, args.tile or None)
        return 0
    if not BENCH.is_dir():
        print(f"Benchmark data not found at {BENCH} (set PHOTOENHANCE_SHARED).", file=sys.stderr)
        return 2
    if args.speed_only:
        sp = run_speed(args)
        print_speed(sp)
        if args.json:
            args.json.write_text(json.dumps({"speed": sp}, indent=1))
        return 0
    enh = Enhancer.load(args.model)
    print(
        f"model {enh.model_id} {enh.version} sha256 {enh.sha256[:12]}, torch threads "
        f"{torch.get_num_threads()}, PSNR dB / SSIM (RGB, 8-bit)\n"
    )
    table = Table()
    print("| set | input | ours | OpenCV NLM | BM3D |\n|---|---|---|---|---|", flush=True)
    results: dict[str, object] = {"quality": run_quality(enh, args, table)}
    if not args.no_speed:
        sp = run_speed(args)
        results["speed"] = sp
        print_speed(sp)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.write_card:
        write_metrics(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
