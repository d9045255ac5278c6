"""Train the enhancer: ``python -m photoenhance.train enhancer [--minutes M] [--resume]``.

Reads the clean patches made by :mod:`photoenhance.train.data`, degrades them on
the fly with :func:`photoenhance.train.degrade.degrade`, and trains
:class:`~photoenhance.core.ml.nets.EnhanceUNet` with AdamW, a warm-up + cosine learning rate
and the Charbonnier loss. Each step's batch, augmentation and degradation are drawn from
``seed`` and the step number, so a run with ``--steps`` is reproducible; with ``--minutes``
the schedule follows the wall clock (so it ends on time on a shared machine).

``--degradations camera-v2`` degrades ``--camera-share`` of each batch with the camera model
of :mod:`photoenhance.train.camera` instead (sensor noise through demosaicing and an ISP,
camera shake, camera and web JPEG), made on the training device; ``--camera JSON`` sets its
ranges. The default stays v1, as the shipped models were trained.

It checkpoints to ``checkpoints/enhancer-last.pt`` every few minutes (``--resume`` carries
on from there) and exports ``models/enhancer-v1.pt`` plus its model card periodically and at
the end, so a usable model exists even if the run is cut short.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photoenhance.core.ml.device import pick_device, use_bf16
from photoenhance.core.ml.nets import EnhanceUNet, build
from photoenhance.core.ml.registry import ENHANCER, write_atomic, write_card
from photoenhance.core.paths import models_dir
from photoenhance.train import REPO
from photoenhance.train import degrade as deg
from photoenhance.train.data import data_root

CKPT_DIR = REPO / "checkpoints"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m photoenhance.train enhancer")
    p.add_argument("--minutes", type=float, default=90.0, help="wall-clock training budget")
    p.add_argument("--steps", type=int, default=0, help="fixed step count (reproducible)")
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from these weights (a checkpoint or exported .pt) with a fresh schedule",
    )
    p.add_argument(
        "--loss",
        choices=("mix", "psnr", "charbonnier"),
        default="charbonnier",
        help="charbonnier (default, as the shipped model); psnr: mean per-sample log-MSE, so "
        "every sample counts in dB; mix: Charbonnier plus --psnr-weight times that",
    )
    p.add_argument("--psnr-weight", type=float, default=0.03)
    p.add_argument(
        "--mix",
        type=float,
        nargs=4,
        metavar=("CLEAN", "NOISE", "JPEG", "BLUR"),
        default=None,
        help="sample-mode shares (the rest is mixed); default: DegradeConfig's",
    )
    for name, dest in (
        ("--disk-radius", "disk_radius"),
        ("--gauss-blur", "gauss_blur"),
        ("--motion-length", "motion_length"),
    ):
        p.add_argument(
            name,
            dest=dest,
            type=float,
            nargs=2,
            metavar=("LO", "HI"),
            default=None,
            help=f"{dest.replace('_', ' ')} range in px (default: DegradeConfig's)",
        )
    p.add_argument(
        "--jpeg-q",
        type=int,
        nargs=2,
        metavar=("LO", "HI"),
        default=None,
        help="JPEG quality range (default: DegradeConfig's)",
    )
    p.add_argument(
        "--degradations",
        choices=("v1", "camera-v2"),
        default="v1",
        help="v1 (default, as the shipped models): core/ml/degrade.py on the CPU; camera-v2: "
        "--camera-share of each batch through the camera model of photoenhance/train/"
        "camera.py, made on the training device (the rest stays v1)",
    )
    p.add_argument(
        "--camera-share",
        type=float,
        default=1.0,
        help="with --degradations camera-v2: share of each batch degraded by the camera "
        "model; the rest gets v1 (--mix), which keeps the Gaussian and Pillow-JPEG skills",
    )
    p.add_argument(
        "--camera",
        type=json.loads,
        default=None,
        metavar="JSON",
        help='CameraConfig fields over the defaults, e.g. \'{"p_blur": 0.9, '
        '"blur_shares": [0.2, 0.8, 0]}\' for a shake-heavy mix',
    )
    p.add_argument(
        "--textured-share",
        type=float,
        default=0.75,
        help="share of each batch drawn from the textured patch set (data --textured); "
        "0 trains on the plain patches only, as models up to v1.1 did",
    )
    p.add_argument(
        "--cond-blur",
        action="store_true",
        help="condition the net on a blur hint (EnhanceUNet(cond=1)): how blurred the photo "
        "reads to the automatic strength, drawn in training as it reads on such samples",
    )
    p.add_argument(
        "--arch",
        type=json.loads,
        default=None,
        metavar="JSON",
        help='net shape over the defaults, e.g. \'{"enc_blocks": [1, 1, 2, 2], "dec_blocks": '
        "[1, 1, 1]}'; with --init, residual blocks the weights lack start as identities and "
        "blocks the net lacks are dropped",
    )
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=96)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--export-minutes", type=float, default=15.0)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--out", type=Path, default=None, help="weights path (default models/)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument(
        "--prefetch",
        type=int,
        default=-1,
        help="threads that make the next batches (patches, degradations, hints) while the "
        "net trains; 0: made in the loop; -1 (default): 0 on the CPU, where the loop already "
        "uses every core, else up to 6",
    )
    p.add_argument(
        "--texture-from",
        type=int,
        default=0,
        help="sample textured patches more often from this step on",
    )
    args = p.parse_args(argv)
    if not 0.0 <= args.camera_share <= 1.0:
        p.error("--camera-share takes a share between 0 and 1")
    if args.camera is not None:
        try:
            camera_config(args)
        except (TypeError, ValueError) as e:
            p.error(f"--camera: {e}")
    shape_keys = {"widths", "enc_blocks", "dec_blocks"}
    if args.arch is not None and (not isinstance(args.arch, dict) or set(args.arch) - shape_keys):
        p.error(f"--arch takes a JSON object with some of {sorted(shape_keys)}")
    return args


def lr_at(frac: float, peak: float, warmup: float = 0.02) -> float:
    if frac < warmup:
        return peak * (0.05 + 0.95 * frac / warmup)
    t = min(1.0, (frac - warmup) / (1 - warmup))
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


def charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((a - b) ** 2 + eps * eps).mean()


def psnr_loss(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Minus the mean per-sample PSNR, in units of 10 dB.

    Each sample counts by its PSNR, not by its squared error, so a clean photo that the
    model alters by 1/255 costs as much as a noisy one left 1/255 too rough. With plain
    L1/L2 losses the noisy samples dominate and the net learns to smooth clean detail.
    """
    mse = (a - b).pow(2).flatten(1).mean(1)
    return torch.log10(mse + eps).mean()


def training_loss(pred: torch.Tensor, y: torch.Tensor, args: argparse.Namespace) -> torch.Tensor:
    if args.loss == "psnr":
        return psnr_loss(pred, y)
    if args.loss == "charbonnier":
        return charbonnier(pred, y)
    return charbonnier(pred, y) + args.psnr_weight * psnr_loss(pred, y)


def texture_weights(patches: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Sampling probabilities favouring textured patches: 30 % uniform, 70 % by gradient.

    The Debian wallpapers are mostly smooth (sky, bokeh); benchmark and real photos have far
    more fine texture, which a blind denoiser otherwise learns to treat as noise.
    """
    g = np.empty(len(patches), np.float64)
    for i in range(0, len(patches), chunk):
        p = patches[i : i + chunk].astype(np.float32)
        g[i : i + chunk] = np.abs(np.diff(p, axis=1)).mean((1, 2, 3)) + np.abs(
            np.diff(p, axis=2)
        ).mean((1, 2, 3))
    return 0.3 / len(g) + 0.7 * g / g.sum()


def batch_at(
    patches: np.ndarray,
    step: int,
    args: argparse.Namespace,
    weights: np.ndarray | None = None,
    textured: np.ndarray | None = None,
) -> torch.Tensor:
    rng = np.random.default_rng([args.seed, step])
    n_tex = round(args.batch * args.textured_share) if textured is not None else 0
    idx = np.sort(rng.choice(len(patches), args.batch - n_tex, replace=False, p=weights))
    parts = [patches[idx]]
    if textured is not None and n_tex:
        parts.append(textured[np.sort(rng.choice(len(textured), n_tex, replace=False))])
    x = torch.from_numpy(np.concatenate(parts)).permute(0, 3, 1, 2).float() / 255
    size = patches.shape[1]
    if args.patch < size:
        oy, ox = rng.integers(0, size - args.patch + 1, 2)
        x = x[..., oy : oy + args.patch, ox : ox + args.patch]
    k = int(rng.integers(0, 8))
    x = torch.rot90(x, k % 4, (2, 3))
    return x.flip(3) if k >= 4 else x


#: The blur hint at run time is the automatic strength's softness ramp
#: (``autostrength.blur_hint``): how much the photo *looks* blurred, not how much it is.
#: ``train blurcal`` measured that ramp on 2-3.5x downscaled training crops. Its deciles (0,
#: 10 %, ..., 100 %) were (0, 0, .42, .67, .87, 1, ...) on crops blurred with the training
#: kernels and (0 x 6, .06, .29, .47, 1, 1) on unblurred ones: soft wallpaper detail often
#: reads as blurred. Trained with hints drawn from those, the net did not use them (the hint
#: weights stayed near 0.003 after 3,000 steps). These tables keep their shape but make the
#: hint more reliable: a blurred sample mostly gets a high hint, an unblurred one mostly none
#: and sometimes a false one, so the net learns to deblur when told and to check the pixels
#: before it sharpens.
HINT_DECILES_BLURRED = (0.2, 0.5, 0.7, 0.85, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
HINT_DECILES_UNBLURRED = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.4, 0.9)
#: Learning-rate multiplier for the hint maps (``cond_*`` parameters).
COND_LR_SCALE = 10.0
#: Noise above this strength (5/255) hides blur from the softness measure: such samples
#: get the unblurred table.
HINT_NOISE_MAX = 0.1


def blur_hint(strengths: torch.Tensor, seed: int) -> torch.Tensor:
    """The conditioning (N, 1) for a degraded batch (``strengths`` as ``degrade`` returns)."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(strengths.shape[0], generator=gen) * 10
    lo, frac = u.floor().long().clamp(max=9), u - u.floor()

    def draw(table: tuple[float, ...]) -> torch.Tensor:
        t = torch.tensor(table)
        return t[lo] + frac * (t[lo + 1] - t[lo])

    blurred = (strengths[:, 1] > 0) & (strengths[:, 0] < HINT_NOISE_MAX)
    hint = torch.where(blurred, draw(HINT_DECILES_BLURRED), draw(HINT_DECILES_UNBLURRED))
    return hint[:, None]


Batch = tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"]


class Prefetch:
    """The batches of steps ``start``, ``start + 1``, ... in order, made ahead of time.

    ``make(step)`` must depend on the step alone (each batch is drawn from the seed and the
    step number), so the batches are the same with any number of ``workers``; 0 makes each
    one when it is asked for. On a GPU the degradations (Pillow JPEG round trips, blur
    convolutions) run on the CPU, and made in the loop they would leave the GPU waiting.
    """

    def __init__(self, make: Callable[[int], Batch], start: int, workers: int) -> None:
        self._make, self._next = make, start
        self._pool = ThreadPoolExecutor(workers, "prefetch") if workers > 0 else None
        self._depth = 2 * workers
        self._queue: deque[Future[Batch]] = deque()

    def get(self) -> Batch:
        if self._pool is None:
            self._next += 1
            return self._make(self._next - 1)
        while len(self._queue) < self._depth:
            self._queue.append(self._pool.submit(self._make, self._next + len(self._queue)))
        self._next += 1
        return self._queue.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._queue.clear()


def prefetch_workers(args: argparse.Namespace, device: torch.device) -> int:
    """``--prefetch``, with -1 resolved: none on the CPU, else all but two cores, up to 6."""
    if args.prefetch >= 0:
        return int(args.prefetch)
    return 0 if device.type == "cpu" else max(1, min(6, (os.cpu_count() or 2) - 2))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a.float() - b.float()) ** 2).mean().clamp_min(1e-10)
    return float(10 * torch.log10(1 / mse))


def val_sets(
    val: np.ndarray, val_tex: np.ndarray | None = None
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fixed degraded copies of held-out training-source patches, one set per condition.

    With ``val_tex`` (the held-out textured patches) the noise, JPEG and blur sets are
    also made from those, as ``*_tex``: they track the benchmarks far better.
    """
    sets = _val_sets(val)
    if val_tex is not None and len(val_tex):
        tex = _val_sets(val_tex)
        sets.update({f"{k}_tex": v for k, v in tex.items() if k not in ("clean", "clean_tex")})
    return sets


def _val_sets(val: np.ndarray) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    pick = val[:: max(1, len(val) // 48)][:48]
    clean = torch.from_numpy(pick.copy()).permute(0, 3, 1, 2).float() / 255
    gen = torch.Generator().manual_seed(1234)
    n = clean.shape[0]
    tex = texture_weights(val)
    textured = torch.from_numpy(val[np.sort(np.argsort(tex)[-48:])].copy())
    textured = textured.permute(0, 3, 1, 2).float() / 255
    q8 = lambda t: (t.clamp(0, 1) * 255).round() / 255  # noqa: E731
    return {
        "clean": (clean, clean),
        "clean_tex": (textured, textured),
        "gauss25": (q8(deg.gaussian_noise(clean, torch.full((n,), 25 / 255), gen)), clean),
        "jpeg20": (deg.jpeg(clean, [20] * n, [2] * n), clean),
        "disk2": (q8(deg.apply_kernels(clean, deg.disk_kernels(torch.full((n,), 2.0)))), clean),
    }


@torch.inference_mode()
def evaluate(
    model: torch.nn.Module, sets: dict[str, Any], device: torch.device, bf16: bool
) -> dict[str, list[float]]:
    model.eval()
    out: dict[str, list[float]] = {}
    cond = bool(getattr(model, "n_cond", 0))
    for name, (x, y) in sets.items():
        # a 2 px defocus reads fully soft (hint 1); clean, noisy and JPEG patches read sharp
        hint = torch.tensor([[1.0 if name.startswith(("disk2", "shake")) else 0.0]])
        parts = []
        for i in range(0, len(x), 16):
            xb = x[i : i + 16].to(device).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                yb = model(xb, hint.expand(len(xb), 1)) if cond else model(xb)
            parts.append(yb.float().cpu())
        pred = torch.cat(parts)
        out[name] = [round(psnr(x, y), 2), round(psnr(pred, y), 2)]
    model.train()
    return out


def manifest_summary() -> dict[str, Any]:
    path = data_root() / "manifest.json"
    if not path.exists():
        return {}
    m = json.loads(path.read_text())
    imgs = m["images"]
    return {
        "source": "Debian packages: " + ", ".join(sorted({e["package"] for e in imgs})),
        "images": len(imgs),
        "megapixels": m["megapixels"],
        "per_package": dict(Counter(e["package"] for e in imgs)),
        "licenses": {e["package"]: e["license"] for e in imgs},
        "held_out_for_validation": sorted(e["image"] for e in imgs if e["split"] == "val"),
        "preprocessing": "downscaled twice per photo (1.5-1.75x and 1.75-2x, Lanczos), "
        "cut into 128x128 patches, flat patches (std <= 4/255) dropped",
    }


def export(model: EnhanceUNet, path: Path, state: dict[str, Any]) -> None:
    """Write fp16 weights and the model card (atomic, so readers never see half a file)."""
    import io

    sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(sd, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buf.getvalue())
    card = {
        "name": path.stem,
        "model_id": "photoenhance-enhancer",
        "version": path.stem.split("-")[-1],
        "task": "blind restoration: sensor noise, blur, JPEG artefacts, clipped highlights",
        "architecture": {
            "class": "EnhanceUNet",
            "config": model.config,
            "params": sum(p.numel() for p in model.parameters()),
            "contract": "(N,3,H,W) float [0,1] -> same, clamped; global residual",
            "weights_dtype": "float16",
        },
        "training": state,
        "data": manifest_summary(),
        "degradations": {
            "config": dataclasses.asdict(deg.DegradeConfig()),
            "description": (deg.__doc__ or "").strip(),
        },
        "license_note": "weights trained by photoenhance on the photos listed under data",
    }
    write_card(path, card)


_BLOCK = re.compile(r"^(enc|dec)\.(\d+)\.(\d+)\.")


def load_init(model: EnhanceUNet, state: dict[str, Any], reshape: bool, name: str) -> None:
    """Start ``model`` from ``state`` (a checkpoint's or an exported model's weights).

    The hint maps (``cond_*``) may be missing: they start at zero, so an unconditioned net
    grows into a conditioned one that computes the same. With ``reshape`` (``--arch``) the
    net may also have residual blocks the weights lack, which start as identities (their
    second convolution zeroed), and lack blocks the weights have, which are dropped. Any
    other difference is refused with SystemExit.
    """
    try:
        res = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    except RuntimeError as e:  # a tensor of another shape
        raise SystemExit(f"{name} does not fit this net: {e}") from e
    new_blocks = {m.group(0) for k in res.missing_keys if (m := _BLOCK.match(k))}
    bad_missing = [
        k
        for k in res.missing_keys
        if not k.startswith("cond_") and not (reshape and _BLOCK.match(k))
    ]
    bad_unexpected = [k for k in res.unexpected_keys if not (reshape and _BLOCK.match(k))]
    if bad_missing or bad_unexpected:
        raise SystemExit(f"{name} does not fit this net: {res}")
    with torch.no_grad():
        for prefix in sorted(new_blocks):
            block: Any = model.get_submodule(prefix.rstrip("."))
            block.conv2.weight.zero_()
            block.conv2.bias.zero_()
    if new_blocks or res.unexpected_keys:
        dropped = sorted({m.group(0) for k in res.unexpected_keys if (m := _BLOCK.match(k))})
        print(f"new blocks (identity): {sorted(new_blocks)}; dropped: {dropped}", flush=True)


def save_ckpt(
    path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, step: int, elapsed: float
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed},
        tmp,
    )
    os.replace(tmp, path)


def degrade_config(args: argparse.Namespace) -> deg.DegradeConfig:
    """The degradation mix of ``--mix`` and the range options over the defaults."""
    cfg = deg.DegradeConfig(*args.mix) if args.mix else deg.DegradeConfig()

    def pick(name: str, default: tuple[float, float]) -> tuple[float, float]:
        lo_hi = getattr(args, name, None)
        return (float(lo_hi[0]), float(lo_hi[1])) if lo_hi else default

    return dataclasses.replace(
        cfg,
        disk_radius=pick("disk_radius", cfg.disk_radius),
        gauss_blur=pick("gauss_blur", cfg.gauss_blur),
        motion_length=pick("motion_length", cfg.motion_length),
        jpeg_q=tuple(args.jpeg_q) if getattr(args, "jpeg_q", None) else cfg.jpeg_q,
    )


def camera_config(args: argparse.Namespace) -> Any:
    """The camera model's :class:`~photoenhance.train.camera.CameraConfig` of ``--camera``."""
    from photoenhance.train.camera import CameraConfig  # training-only package, loaded here

    fields = {f.name for f in dataclasses.fields(CameraConfig)}
    extra = args.camera or {}
    if not isinstance(extra, dict) or set(extra) - fields:
        raise ValueError(f"takes a JSON object with some of {sorted(fields)}")
    kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in extra.items()}
    return CameraConfig(**kwargs)


def camera_batch(
    xb: torch.Tensor,
    yb: torch.Tensor,
    hint: torch.Tensor | None,
    step: int,
    args: argparse.Namespace,
    device: torch.device,
) -> Batch:
    """Degrade the last ``--camera-share`` of a batch with the camera model on ``device``.

    The batch comes from :class:`Prefetch`: its first samples were degraded there by v1 (on
    the CPU), its last ones left clean for this; the generator is seeded by the step.
    """
    from photoenhance.train import camera

    n = xb.shape[0]
    k = round(n * args.camera_share)
    xb, yb = xb.to(device), yb.to(device)
    if k == 0:
        return xb, yb, hint
    gen = torch.Generator(device=device).manual_seed(args.seed * 1_000_003 + step)
    clean = yb[n - k :]
    xc, params = camera.degrade_batch(
        clean, gen, camera_config(args), measure_noise=hint is not None
    )
    x = torch.cat([xb[: n - k], xc])
    if hint is not None:
        cam_hint = blur_hint(params.strengths(), args.seed * 7_919 + step).to(hint)
        hint = torch.cat([hint[: n - k], cam_hint])
    return x, yb, hint


def camera_val_sets(
    val: np.ndarray, args: argparse.Namespace
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Held-out patches through the camera model at fixed settings (CPU, seeded): mid-ISO
    noise with a camera JPEG, and camera shake alone."""
    from photoenhance.train import camera

    pick = val[:: max(1, len(val) // 48)][:48]
    clean = torch.from_numpy(pick.copy()).permute(0, 3, 1, 2).float() / 255
    off: dict[str, Any] = {"p_clean": 0.0, "p_blur": 0.0, "p_sharpen": 0.0, "p_web": 0.0}
    noise = camera.CameraConfig(**{**off, "p_noise": 1.0, "iso": (1600, 1600)})
    shake = camera.CameraConfig(
        **{**off, "p_blur": 1.0, "blur_shares": (0.0, 1.0, 0.0), "p_noise": 0.0},
        p_camera_jpeg=0.0,
    )
    out = {}
    for name, cfg in (("camera1600", noise), ("shake", shake)):
        x, _ = camera.degrade_batch(clean, torch.Generator().manual_seed(4321), cfg)
        out[name] = (x, clean)
    return out


def run(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device()
    bf16 = use_bf16(device)
    root = data_root()
    patches = np.load(root / "patches_train_128.npy", mmap_mode="r")
    patches = np.ascontiguousarray(patches)
    textured = None
    val_tex = None
    if args.textured_share > 0:
        tex_path = root / "patches_train_tex_128.npy"
        if not tex_path.exists():
            raise SystemExit(
                f"{tex_path} is missing: run `python -m photoenhance.train data "
                "--textured` first, or pass --textured-share 0"
            )
        textured = np.load(tex_path)
        val_tex = np.load(root / "patches_val_tex_128.npy")
    sets = val_sets(np.load(root / "patches_val_128.npy"), val_tex)
    if args.degradations == "camera-v2":
        sets.update(camera_val_sets(np.load(root / "patches_val_128.npy"), args))
    weights = texture_weights(patches)
    model = build({**(args.arch or {}), "cond": 1 if args.cond_blur else 0})
    model = model.to(device).to(memory_format=torch.channels_last)
    # the hint maps learn COND_LR_SCALE x faster: their gradient is a weak, noisy signal
    # (a third of the samples are blurred), and at the base rate they stayed too small to
    # switch anything in thousands of steps
    cond = [p for n, p in model.named_parameters() if n.startswith("cond_")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("cond_")]
    groups = [{"params": rest, "scale": 1.0}]
    if cond:
        groups.append({"params": cond, "scale": COND_LR_SCALE})
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=1e-4, betas=(0.9, 0.99))
    ckpt = CKPT_DIR / "enhancer-last.pt"
    step, elapsed0 = 0, 0.0
    stage1: dict[str, Any] | None = None
    if args.resume and ckpt.exists():
        st = torch.load(ckpt, map_location=device, weights_only=True)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, elapsed0 = int(st["step"]), float(st["elapsed"])
        print(f"resumed at step {step}, {elapsed0 / 60:.1f} min", flush=True)
    elif args.init:
        st = torch.load(args.init, map_location=device, weights_only=True)
        load_init(model, st.get("model", st), reshape=args.arch is not None, name=str(args.init))
        print(f"initialised from {args.init}", flush=True)
        prev_card = models_dir() / f"{ENHANCER}.json"
        if prev_card.exists():
            stage1 = json.loads(prev_card.read_text()).get("training", {})
    out = args.out or models_dir() / f"{ENHANCER}.pt"
    budget = args.minutes * 60
    t0 = time.monotonic() - elapsed0
    last_ckpt = last_export = time.monotonic()
    history: list[dict[str, Any]] = []
    loss_ema = None

    def frac() -> float:
        if args.steps:
            return step / args.steps
        return (time.monotonic() - t0) / budget

    def state() -> dict[str, Any]:
        return {
            "steps": step,
            "minutes": round((time.monotonic() - t0) / 60, 1),
            "batch": args.batch,
            "patch": args.patch,
            "train_patches": len(patches),
            "textured_patches": 0 if textured is None else len(textured),
            "textured_share": args.textured_share if textured is not None else 0.0,
            "optimizer": "AdamW wd 1e-4",
            "lr_peak": args.lr,
            "schedule": "2% warm-up then cosine to 2% of peak",
            "loss": {
                "psnr": "PSNR (mean per-sample log10 MSE)",
                "charbonnier": "Charbonnier",
                "mix": f"Charbonnier + {args.psnr_weight} x mean per-sample log10 MSE",
            }[args.loss],
            "init": str(args.init) if args.init else None,
            "degradation_mix": dataclasses.asdict(mix),
            "degradation_model": (
                {
                    "name": "camera-v2",
                    "share": args.camera_share,
                    "config": dataclasses.asdict(camera_config(args)),
                    "description": "photoenhance/train/camera.py (module docstring)",
                }
                if args.degradations == "camera-v2"
                else {"name": "v1"}
            ),
            "seed": args.seed,
            "blur_hint": (
                {
                    "what": "autostrength softness ramp, drawn per sample from its deciles",
                    "deciles_blurred": HINT_DECILES_BLURRED,
                    "deciles_unblurred": HINT_DECILES_UNBLURRED,
                    "noise_max": HINT_NOISE_MAX,
                }
                if args.cond_blur
                else None
            ),
            "device": str(device),
            "bf16": bf16,
            "val_psnr_in_out": history[-1] if history else {},
            "initial_training": stage1,
        }

    mix = degrade_config(args)

    n_cam = round(args.batch * args.camera_share) if args.degradations == "camera-v2" else 0

    def make(at: int) -> Batch:
        clean = batch_at(patches, at, args, weights if at >= args.texture_from else None, textured)
        if n_cam:  # the last n_cam patches go to the camera model, on the device, clean
            n1 = clean.shape[0] - n_cam
            d = deg.degrade(clean[:n1], seed=args.seed * 1_000_003 + at, cfg=mix)
            x, y = torch.cat([d.image, clean[n1:]]), torch.cat([d.target, clean[n1:]])
            strengths = torch.cat([d.strengths, torch.zeros(n_cam, 4)])
        else:
            d = deg.degrade(clean, seed=args.seed * 1_000_003 + at, cfg=mix)
            x, y, strengths = d.image, d.target, d.strengths
        hint = blur_hint(strengths, args.seed * 7_919 + at) if args.cond_blur else None
        return x, y, hint

    batches = Prefetch(make, step, prefetch_workers(args, device))
    model.train()
    while frac() < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_at(frac(), args.lr) * g["scale"]
        xb, yb, hint = batches.get()
        if args.degradations == "camera-v2":
            xb, yb, hint = camera_batch(xb, yb, hint, step, args, device)
        x = xb.to(device).contiguous(memory_format=torch.channels_last)
        y = yb.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = model(x) if hint is None else model(x, hint.to(device))
        loss = training_loss(pred.float(), y, args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        step += 1
        lv = float(loss.detach())
        loss_ema = lv if loss_ema is None else 0.98 * loss_ema + 0.02 * lv
        if step % 50 == 0:
            print(
                f"step {step} {frac() * 100:.1f}% loss {loss_ema:.5f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {(time.monotonic() - t0) / 60:.1f} min",
                flush=True,
            )
        if step % args.eval_every == 0:
            history.append({"step": step, **evaluate(model, sets, device, bf16)})
            print("val", json.dumps(history[-1]), flush=True)
        now = time.monotonic()
        if now - last_ckpt > args.ckpt_minutes * 60:
            save_ckpt(ckpt, model, opt, step, now - t0)
            last_ckpt = now
        if now - last_export > args.export_minutes * 60:
            export(model, out, state())
            last_export = now
            print(f"exported {out}", flush=True)
    batches.close()
    history.append({"step": step, **evaluate(model, sets, device, bf16)})
    print("final val", json.dumps(history[-1]), flush=True)
    save_ckpt(ckpt, model, opt, step, time.monotonic() - t0)
    export(model, out, state())
    print(f"done: {step} steps, exported {out}", flush=True)
