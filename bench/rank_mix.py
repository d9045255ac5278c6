"""The ranker benchmark's mixes: ground truth per photo, cached, and the figures.

A *mix* turns each bench photo into a test photo and records the truth: the realised gain
of the shipped pipeline (restorer at its automatic strength, guard included: what
``enhance`` does with tone off; :class:`~photoenhance.train.rank.enhance_batch.BatchEnhancer`),
PSNR against the clean photo, 48 dB floor. Two mixes:

- ``synthetic``: issue 5's mix (``photoenhance.train.degrade``, 40 % clean);
- ``realistic``: :func:`photoenhance.train.rank.realmix.realistic_fault` (camera noise and
  camera JPEG, OpenCV and other web JPEG, shake, defocus, tone faults, clipping,
  combinations; 40 % clean), plus the camera photos of ``shared/data/exif``, always clean.

The camera photos need a clean reference: with the photo as its own reference, an enhancer
that removes an old compact camera's real noise and JPEG blocks reads as a loss of up to
15 dB. So each is first averaged down (Pillow's ``reduce``: 2x from 256 px on the short
side, 4x from 1024 px), which leaves a clean photo with real-camera content and texture,
as the bench sets were made; then a centre crop of at most 768 px is taken. The ones under
256 px (thumbnails of 64-227 px) cannot be averaged down and are left out of the mix; the
clean-photo medians (``bench/rank.py --clean``) still score every one at full size.

The truth of a (mix, seed) is cached as the ranker's views of each test photo (so another
ranker is scored without decoding or enhancing again) in ``--cache``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from photoenhance.core.imaging import decode_rgb
from photoenhance.core.ml.autostrength import measure
from photoenhance.core.rank.inputs import Views, make_views
from photoenhance.core.rank.metrics import pr_auc, roc_auc, spearman
from photoenhance.core.rank.scale import DEFAULT_THRESHOLD, gain_to_score
from photoenhance.train.degrade import DegradeConfig, degrade
from photoenhance.train.rank.labels import mse_batch, true_gain
from photoenhance.train.rank.realmix import FACTORS, realistic_fault

BENCH_DEGRADE = DegradeConfig(p_clean=0.40, p_noise=0.21, p_jpeg=0.14, p_blur=0.09)
SETS = ("kodak24", "cbsd68", "live1_color")
EXTS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".bmp"}
EXIF_SIDE = 768
#: Camera photos with a shorter side than this have no clean reference (thumbnails).
EXIF_MIN_SIDE = 256
#: Bumped when the truth's definition changes (2: camera photos averaged down).
CACHE_VERSION = 2


def bench_images(shared: Path) -> list[tuple[str, np.ndarray]]:
    out = []
    for name in SETS:
        for path in sorted((shared / "data" / "bench" / name).iterdir()):
            if path.suffix.lower() in {".png", ".bmp", ".jpg", ".tif", ".tiff"}:
                out.append((f"{name}/{path.name}", np.asarray(decode_rgb(path).image)))
    return out


def exif_paths(shared: Path) -> list[Path]:
    """Every photo file under ``shared/data/exif`` (decodable ones are kept later)."""
    return [p for p in sorted((shared / "data" / "exif").rglob("*"))
            if p.is_file() and p.suffix.lower() in EXTS]


def reference_factor(short_side: int) -> int:
    """How much a camera photo is averaged down to be its own clean reference (0: too small
    to be, left out)."""
    return 4 if short_side >= 1024 else 2 if short_side >= EXIF_MIN_SIDE else 0


def exif_images(shared: Path) -> list[tuple[str, np.ndarray]]:
    """The camera photos averaged down to clean references (:func:`reference_factor`),
    centre-cropped to ``EXIF_SIDE``."""
    out = []
    for path in exif_paths(shared):
        try:
            im = decode_rgb(path).image
            f = reference_factor(min(im.size))
            if not f:
                continue
            img = np.asarray(im.convert("RGB").reduce(f))
        except Exception:  # noqa: BLE001  (corrupt files are part of that folder)
            continue
        h, w = img.shape[:2]
        y, x = max(0, (h - EXIF_SIDE) // 2), max(0, (w - EXIF_SIDE) // 2)
        out.append((f"exif/{path.name}", np.ascontiguousarray(img[y:y + EXIF_SIDE,
                                                                   x:x + EXIF_SIDE])))
    return out


def _synthetic(img: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    d = degrade(x, seed=seed, cfg=BENCH_DEGRADE)
    s = np.zeros(len(FACTORS), np.float32)
    s[[0, 1, 2, 5]] = d.strengths[0].numpy()
    out = (d.image[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return out, s, "synthetic" if s.any() else "clean"


def _gain(enhancer: object, clean: np.ndarray, deg: np.ndarray) -> float:
    if measure(deg).strength <= 0:  # the enhancer returns it unchanged: exactly 0 dB
        return 0.0
    enh = enhancer(deg[None])[0]  # type: ignore[operator]
    return float(true_gain(mse_batch(clean[None], deg[None]), mse_batch(clean[None], enh[None]))[0])


def truth(mix: str, seed: int, images: list[tuple[str, np.ndarray]], enhancer: object,
          cache: Path) -> dict[str, np.ndarray]:
    """Views, truth and known strengths of one draw of ``mix`` (cached)."""
    path = cache / f"{mix}_seed{seed}_{len(images)}_{CACHE_VERSION}.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    rows: dict[str, list] = {k: [] for k in ("name", "kind", "gain", "strengths", "g", "c", "a")}
    for i, (name, clean) in enumerate(images):
        if name.startswith("exif/"):
            deg, s, kind = clean, np.zeros(len(FACTORS), np.float32), "clean"
        elif mix == "synthetic":
            deg, s, kind = _synthetic(clean, seed * 10_000 + i)
        else:
            f = realistic_fault(clean, np.random.default_rng(seed * 10_000 + i))
            deg, s, kind = f.image, f.strengths, f.kind
        v = make_views(deg)
        for k, val in (("name", name), ("kind", kind), ("gain", _gain(enhancer, clean, deg)),
                       ("strengths", s), ("g", v.global_view), ("c", v.crops),
                       ("a", v.auto_strength)):
            rows[k].append(val)
    out = {k: np.stack([np.asarray(x) for x in v]) for k, v in rows.items()}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def predict(scorer: object, t: dict[str, np.ndarray]) -> np.ndarray:
    """The scorer's outputs (gain with its 'left alone means 0 dB' rule, factors, ...)."""
    views = [Views(g, c, float(a)) for g, c, a in zip(t["g"], t["c"], t["a"], strict=True)]
    out = []
    for i in range(0, len(views), 32):
        part = views[i:i + 32]
        pred = scorer.predict(part)  # type: ignore[attr-defined]
        auto = np.array([v.auto_strength for v in part])
        pred[auto <= 0, 0] = 0.0
        out.append(pred)
    return np.concatenate(out)


def figures(pred: np.ndarray, t: dict[str, np.ndarray], factors: tuple[str, ...]) -> dict:
    """AP, Spearman, the clean false-alarm rate and per-factor head accuracy of one draw."""
    score = gain_to_score(pred[:, 0])
    gain, positive, clean = t["gain"], t["gain"] >= 1.0, t["kind"] == "clean"
    flagged = score >= DEFAULT_THRESHOLD
    res = {"n": len(gain), "positives": int(positive.sum()), "clean": int(clean.sum()),
           "ap": round(pr_auc(score, positive), 4), "spearman": round(spearman(score, gain), 4),
           "spearman_faulty": round(spearman(score[~clean], gain[~clean]), 4),
           "clean_flagged": round(float(flagged[clean].mean()), 4),
           "precision_at_0.4": round(float(positive[flagged].mean()) if flagged.any() else 0, 4),
           "recall_at_0.4": round(float(flagged[positive].mean()), 4)}
    for i, name in enumerate(FACTORS):
        if name not in factors:
            continue
        head = pred[:, 1 + factors.index(name)]
        present = t["strengths"][:, i] >= 0.15
        if present.any() and (~present).any():
            res[f"{name}_auc"] = round(roc_auc(head, present), 4)
            res[f"{name}_acc"] = round(float(((head >= 0.15) == present).mean()), 4)
    return res


def mean_sd(draws: list[dict]) -> dict[str, list[float]]:
    """[mean, sd] of every figure over the draws."""
    keys = [k for k in draws[0] if all(k in d for d in draws)]
    return {k: [round(float(np.mean([d[k] for d in draws])), 4),
                round(float(np.std([d[k] for d in draws], ddof=1)) if len(draws) > 1 else 0.0,
                      4)] for k in keys}
