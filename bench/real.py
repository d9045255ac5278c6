"""Real camera faults: the enhancer against OpenCV NLM and BM3D, as a user would run them.

Usage::

    python bench/real.py [--subset N] [--bm3d-n N] [--models NAME=DIR ...] [--crops docs/real]
                         [--rows camera,live1,shake,rni15] [--json FILE]

Needs ``../shared/data/bench`` (evaluation only), and for the peers the ``bench`` extra
(``opencv-python-headless``, ``bm3d``); a missing peer is left out of the table. Ours is the
app's own :class:`~photoenhance.core.ml.infer.Enhancer` with automatic strength and routing
(``--models NAME=DIR``: the general model ``DIR/enhancer-v1.pt`` and the specialists its
card lists, found next to it; default ``shipped=models``; several are compared in one run).
The peers are blind too: their sigma is estimated from the noisy image (Donoho's median
absolute deviation of the finest diagonal Haar band, per channel, averaged); NLM's ``h`` is
that sigma times a factor picked per row on its first photo against the reference (this
favours NLM), and on RNI15 the median of those factors.

Rows (PSNR in dB against the clean photo; gains against the degraded input):

- **camera noise**: Kodak24 and CBSD68 through ``photoenhance.train.camera`` at ISO 400,
  1600 and 6400 (noise only: mosaic, shot + read noise, demosaicing, colour matrix, tone;
  no blur, sharpening or web step), as 8-bit PNG and with a camera JPEG (Pillow q 90, 4:2:0
  or 4:2:2). Each photo draws its own pattern, demosaicing method, colour matrix and gains.
- **OpenCV JPEG**: LIVE1 encoded by OpenCV (``cv2.imencode``, libjpeg, 4:2:0) at q 20 and 40.
- **camera shake**: Kodak24 blurred in linear light by a random trajectory 5-13 px across
  (``camera.shake_kernels``), 8-bit. No peer: NLM and BM3D do not deblur.
- **RNI15** (all 15 real noisy photos, no reference; read on a 224 px centre crop, where
  BM3D runs alone): the noise sigma left (the app's own measure, luma 8-bit units) and the
  texture kept: in the quarter of 16 px blocks with the most fine detail, the fine detail's
  std (image minus a 1.5 px Gaussian blur) with the noise's share taken out, output over
  input (median; 1 keeps texture, well under 1 looks waxy). Side-by-side crops (input, each
  model, NLM, BM3D) go to ``--crops``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import enhance as be  # noqa: E402  (bench/enhance.py: metrics and data loading)

from photoenhance.core.ml import autostrength  # noqa: E402
from photoenhance.core.ml.infer import Enhancer  # noqa: E402
from photoenhance.train import camera  # noqa: E402

Array = np.ndarray
ISOS = (400, 1600, 6400)
CAMERA_Q = 90
NLM_FACTORS = (0.7, 1.0, 1.4)


# ------------------------------------------------------------------ degradations


def _to_t(img: Array) -> torch.Tensor:
    return torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255


def _to_u8(t: torch.Tensor) -> Array:
    return (t[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def camera_noise(img: Array, iso: int, jpeg: bool, seed: int) -> Array:
    cfg = camera.CameraConfig(
        p_clean=0.0,
        p_blur=0.0,
        p_noise=1.0,
        iso=(iso, iso),
        p_sharpen=0.0,
        p_camera_jpeg=1.0 if jpeg else 0.0,
        camera_q=(CAMERA_Q, CAMERA_Q),
        p_web=0.0,
    )
    out, _ = camera.degrade_batch(
        _to_t(img), torch.Generator().manual_seed(seed), cfg, jpeg_backend="pil"
    )
    return _to_u8(out)


def opencv_jpeg(img: Array, q: int) -> Array:
    import cv2

    ok, buf = cv2.imencode(".jpg", img[..., ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def shake(img: Array, seed: int) -> Array:
    gen = torch.Generator().manual_seed(seed)
    extent = camera._u(1, 5.0, 13.0, gen)
    ker = camera.shake_kernels(extent, gen)
    lin = camera.srgb_to_linear(_to_t(img))
    return _to_u8(camera.linear_to_srgb(camera.blur(lin, ker)))


# ------------------------------------------------------------------ peers and measures


def estimate_sigma(img: Array) -> float:
    """Noise std in 8-bit units: Donoho's MAD of the finest diagonal Haar band, per channel."""
    x = img.astype(np.float64)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    hh = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2
    return float(np.mean([np.median(np.abs(hh[..., c])) / 0.6745 for c in range(3)]))


def have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def nlm(img: Array, h: float) -> Array:
    return be.nlm(img, max(h, 0.5))


def bm3d(img: Array) -> Array:
    return be.bm3d_rgb(img, max(estimate_sigma(img), 0.5))


def _fine(luma: Array) -> Array:
    t = torch.from_numpy(luma.astype(np.float32))[None, None]
    k = camera.deg.gaussian_kernels(torch.tensor([1.5]), 9)
    return (t - camera.deg.apply_kernels(t, k))[0, 0].numpy()


_WHITE_SHARE: float | None = None


def _white_share() -> float:
    """Share of white noise's variance that the fine-detail filter passes."""
    global _WHITE_SHARE
    if _WHITE_SHARE is None:
        n = np.random.default_rng(0).normal(0, 1, (256, 256)).astype(np.float32)
        _WHITE_SHARE = float(_fine(n)[16:-16, 16:-16].var())
    return _WHITE_SHARE


def _luma(img: Array) -> Array:
    return img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _block_var(a: Array, b: int = 16) -> Array:
    h, w = (a.shape[0] // b) * b, (a.shape[1] // b) * b
    return a[:h, :w].reshape(h // b, b, w // b, b).var(axis=(1, 3)).ravel()


def texture_kept(noisy: Array, out: Array) -> float:
    """Median ratio of fine-detail std (noise share removed), output over input, in the
    quarter of blocks with the most detail."""
    c = _white_share()
    s_in = autostrength.measure(noisy).noise_sigma
    s_out = autostrength.measure(out).noise_sigma
    v_in = np.maximum(_block_var(_fine(_luma(noisy))) - c * s_in**2, 0)
    v_out = np.maximum(_block_var(_fine(_luma(out))) - c * s_out**2, 0)
    top = v_in >= np.quantile(v_in, 0.75)
    return float(np.median(np.sqrt(v_out[top]) / np.sqrt(np.maximum(v_in[top], 1e-6))))


# ------------------------------------------------------------------ runs


class Bench:
    def __init__(self, models: dict[str, Enhancer], args: argparse.Namespace) -> None:
        self.models, self.args = models, args
        self.peers = [p for p, m in (("OpenCV NLM", "cv2"), ("BM3D", "bm3d")) if have(m)]
        self.cols = ["input", *models, *self.peers]
        self.rows: list[str] = []
        self.results: dict[str, dict[str, object]] = {}
        self.nlm_factors: list[float] = []

    def header(self, title: str, cols: list[str]) -> None:
        self.rows += ["", f"**{title}**", "", "| row | " + " | ".join(cols) + " |"]
        self.rows.append("|---" * (len(cols) + 1) + "|")
        print("\n".join(self.rows[-5:]), flush=True)

    def ours(self, img: Array, name: str) -> Array:
        return self.models[name].enhance(img)

    def scored_row(
        self,
        label: str,
        degraded: list[Array],
        clean: list[Array],
        noise: bool,
        bm3d_ok: bool = True,
    ) -> None:
        """PSNR of input, each model and (for noise) the peers; gains against the input."""
        t0 = time.monotonic()
        inp = [be.psnr(d, c) for d, c in zip(degraded, clean, strict=True)]
        cells: dict[str, tuple[float, int]] = {"input": (float(np.mean(inp)), len(inp))}
        gains: dict[str, float] = {}
        for name in self.models:
            s = [be.psnr(self.ours(d, name), c) for d, c in zip(degraded, clean, strict=True)]
            cells[name] = (float(np.mean(s)), len(s))
            gains[name] = float(np.mean(np.subtract(s, inp)))
        if noise and "OpenCV NLM" in self.peers:
            sig0 = estimate_sigma(degraded[0])
            f = max(NLM_FACTORS, key=lambda f: be.psnr(nlm(degraded[0], f * sig0), clean[0]))
            self.nlm_factors.append(f)
            s = [
                be.psnr(nlm(d, f * estimate_sigma(d)), c)
                for d, c in zip(degraded, clean, strict=True)
            ]
            cells["OpenCV NLM"] = (float(np.mean(s)), len(s))
            gains["OpenCV NLM"] = float(np.mean(np.subtract(s, inp)))
        n_b = min(self.args.bm3d_n, len(degraded)) if bm3d_ok else 0
        if noise and "BM3D" in self.peers and n_b:
            s = [be.psnr(bm3d(d), c) for d, c in zip(degraded[:n_b], clean[:n_b], strict=True)]
            cells["BM3D"] = (float(np.mean(s)), n_b)
            gains["BM3D"] = float(np.mean(np.subtract(s, inp[:n_b])))
            for name in self.models:  # ours on the same photos, for a like-for-like gain
                gains[f"{name} on BM3D's {n_b}"] = float(
                    np.mean(
                        [
                            be.psnr(self.ours(d, name), c) - i
                            for d, c, i in zip(degraded[:n_b], clean[:n_b], inp[:n_b], strict=True)
                        ]
                    )
                )

        def fmt(col: str) -> str:
            if col not in cells:
                return "-"
            v, n = cells[col]
            g = "" if col == "input" else f" ({gains[col]:+.2f})"
            return f"{v:.2f}{g}" + (f" [{n}]" if n != len(inp) else "")

        self.rows.append(
            f"| {label} [{len(inp)}] | " + " | ".join(fmt(c) for c in self.cols) + " |"
        )
        print(self.rows[-1], f"  ({time.monotonic() - t0:.0f} s)", flush=True)
        self.results[label] = {"psnr": cells, "gain_db": gains}


def load(name: str, n: int | None) -> list[Array]:
    return be.load_set(name, n)


def run_camera(b: Bench, n: int | None) -> None:
    b.header("Camera-pipeline noise: PSNR dB (gain vs input)", b.cols)
    for set_name, key in (("Kodak24", "kodak24"), ("CBSD68", "cbsd68")):
        imgs = load(key, n)
        for iso in ISOS:
            for jpeg in (False, True):
                deg = [
                    camera_noise(im, iso, jpeg, seed=iso * 1000 + i) for i, im in enumerate(imgs)
                ]
                label = f"{set_name} ISO {iso}" + (f" + camera JPEG q{CAMERA_Q}" if jpeg else "")
                # BM3D is slow: only at mid ISO unless --bm3d-all
                b.scored_row(label, deg, imgs, noise=True, bm3d_ok=iso == 1600 or b.args.bm3d_all)


def run_live1(b: Bench, n: int | None) -> None:
    b.header("OpenCV JPEG (LIVE1)", b.cols)
    imgs = load("live1_color", n)
    for q in (20, 40):
        b.scored_row(f"LIVE1 OpenCV q{q}", [opencv_jpeg(im, q) for im in imgs], imgs, noise=False)


def run_shake(b: Bench, n: int | None) -> None:
    b.header("Camera shake (Kodak24, 5-13 px trajectories)", b.cols)
    imgs = load("kodak24", n)
    b.scored_row("Kodak24 shake", [shake(im, 7000 + i) for i, im in enumerate(imgs)], imgs, False)


def _crop(img: Array, size: int) -> Array:
    h, w = img.shape[:2]
    y, x = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return img[y : y + size, x : x + size]


def run_rni15(b: Bench, crops: Path | None, size: int = 224) -> None:
    """All 15 photos; each method's output is read on the same centre crop (``size`` px).

    Ours and NLM run on the whole photo (ours measures and routes it whole); BM3D, far the
    slowest, runs on the crop with the sigma estimated from the whole photo.
    """
    root = be.BENCH / "real_noisy_rni15"
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    f_nlm = float(np.median(b.nlm_factors)) if b.nlm_factors else 1.0
    cols = ["input", *b.models, *b.peers]
    b.header(
        f"RNI15 (no reference), {size} px centre crops: noise sigma left / texture kept "
        f"(NLM h = {f_nlm} x estimated sigma)",
        cols,
    )
    if crops is not None:
        crops.mkdir(parents=True, exist_ok=True)
    per: dict[str, dict[str, list[float]]] = {c: {"sigma": [], "texture": []} for c in cols}
    for p in files:
        img = np.asarray(Image.open(p).convert("RGB"))
        sigma = estimate_sigma(img)
        outs = {"input": _crop(img, size)}
        for name in b.models:
            outs[name] = _crop(b.ours(img, name), size)
        if "OpenCV NLM" in b.peers:
            outs["OpenCV NLM"] = _crop(nlm(img, f_nlm * sigma), size)
        if "BM3D" in b.peers:
            outs["BM3D"] = be.bm3d_rgb(outs["input"], max(sigma, 0.5))
        cells = []
        for c in cols:
            sig = autostrength.measure(outs[c]).noise_sigma
            tex = 1.0 if c == "input" else texture_kept(outs["input"], outs[c])
            per[c]["sigma"].append(sig)
            per[c]["texture"].append(tex)
            cells.append(f"{sig:.1f} / {tex:.2f}")
        b.rows.append(f"| {p.stem} | " + " | ".join(cells) + " |")
        print(b.rows[-1], flush=True)
        if crops is not None:
            save_crops(crops / f"{p.stem}.jpg", outs)
    mean_cells = [
        f"{np.mean(per[c]['sigma']):.1f} / {np.mean(per[c]['texture']):.2f}" for c in cols
    ]
    b.rows.append(f"| mean [{len(files)}] | " + " | ".join(mean_cells) + " |")
    print(b.rows[-1], flush=True)
    b.results["RNI15"] = {
        c: {"sigma_mean": float(np.mean(v["sigma"])), "texture_mean": float(np.mean(v["texture"]))}
        for c, v in per.items()
    }


def save_crops(path: Path, panels: dict[str, Array]) -> None:
    """Panels side by side with their names, as a small JPEG."""
    h = max(a.shape[0] for a in panels.values())
    w = sum(a.shape[1] for a in panels.values()) + 4 * (len(panels) - 1)
    sheet = Image.new("RGB", (w, h + 14), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    x = 0
    for name, a in panels.items():
        sheet.paste(Image.fromarray(a), (x, 14))
        draw.text((x + 2, 1), name, fill=(0, 0, 0))
        x += a.shape[1] + 4
    sheet.save(path, "JPEG", quality=85)


def parse_models(specs: list[str]) -> dict[str, Enhancer]:
    out = {}
    for spec in specs:
        name, _, folder = spec.partition("=")
        path = Path(folder or name) / "enhancer-v1.pt"
        out[name if folder else Path(name).name] = Enhancer.load(path)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--subset", type=int, default=0, help="first N photos of each set (0: all)")
    p.add_argument("--bm3d-n", type=int, default=2, help="BM3D on the first N of each row")
    p.add_argument("--bm3d-all", action="store_true", help="BM3D on every ISO, not only 1600")
    p.add_argument("--models", nargs="+", default=[f"shipped={REPO / 'models'}"])
    p.add_argument("--rows", default="camera,live1,shake,rni15")
    p.add_argument("--crops", type=Path, default=None, help="folder for the RNI15 crops")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not be.BENCH.exists():
        raise SystemExit(f"{be.BENCH} is missing: this benchmark needs ../shared/data/bench")
    b = Bench(parse_models(args.models), args)
    if "OpenCV NLM" not in b.peers:
        print("opencv-python-headless is not installed: no NLM column", flush=True)
    n = args.subset or None
    rows = set(args.rows.split(","))
    runs: dict[str, Callable[[], None]] = {
        "camera": lambda: run_camera(b, n),
        "live1": lambda: run_live1(b, n),
        "shake": lambda: run_shake(b, n),
        "rni15": lambda: run_rni15(b, args.crops),
    }
    for key, fn in runs.items():
        if key in rows:
            fn()
    print("\n".join(b.rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"crops": str(args.crops), "json": str(args.json)},
                    **b.results,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
