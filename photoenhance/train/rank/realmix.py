"""The ranker's realistic fault mix: what cameras, the web and bad exposure do to photos.

One function, :func:`realistic_fault`, turns a clean uint8 RGB image into a faulty one and
returns the known strength of each of the ranker's six factors (:data:`FACTORS`, 0-1):

- **camera noise** (:mod:`photoenhance.train.camera`: mosaic, shot + read noise at ISO
  200-12800, demosaicing, colour matrix, tone curve, sometimes the camera's sharpening),
  then 70 % of the time a camera JPEG at q 75-98;
- **web JPEG**: OpenCV's encoder (``cv2.imencode``, libjpeg, 4:2:0) at q 15-60, or the
  simulated web round of :mod:`photoenhance.train.jpegsim` (other encoders' tables, a
  downscale, q 20-85);
- **shake** (random trajectories 4-13 px) and **defocus** (disk radius 1-3 px), in linear
  light;
- **tone faults**: exposure -2.5..-0.7 EV, flat contrast, colour casts (temperature and
  tint), in linear light where physics says so; and **clipping**: +0.8..+2 EV that blows
  out highlights;
- **combinations**: shake or a tone fault under camera noise, camera noise then web JPEG;
- and ``p_clean`` left as they are (the regions are clean photos, textured ones included).

Strength scales (as in :mod:`photoenhance.core.rank.scale`): noise = noise std left in the
8-bit output / (50/255); blur = kernel spatial std / 4 px; jpeg = (95 - q) / 85 for the
lowest quality applied; exposure = |EV| / 2.5 (flat contrast: the range lost / 0.4);
colour = the larger of |temperature| / 0.8 and |tint| / 0.3 (log2 gains); clipping = 4 x
the fraction of newly clipped values. All are clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from photoenhance.train import camera
from photoenhance.train import degrade as deg

FACTORS = ("noise", "blur", "jpeg", "exposure", "colour", "clipping")
#: fault kinds and their weights among the faulty share
KINDS = {"camera_noise": 0.22, "web_jpeg": 0.18, "shake": 0.12, "defocus": 0.06,
         "tone": 0.14, "clipping": 0.05, "shake+noise": 0.08, "tone+noise": 0.07,
         "noise+web": 0.08}
NOISE_FULL = 50 / 255


@dataclass(frozen=True)
class Fault:
    """A faulty image (uint8 HxWx3), its factor strengths (6,) and its kind ("clean", ...)."""

    image: np.ndarray
    strengths: np.ndarray
    kind: str


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255


def _u8(x: torch.Tensor) -> np.ndarray:
    return (x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _camera(x: torch.Tensor, rng: np.random.Generator, s: np.ndarray,
            jpeg: bool = True) -> torch.Tensor:
    cfg = camera.CameraConfig(p_clean=0.0, p_blur=0.0, p_noise=1.0, iso=(200.0, 12800.0),
                              p_camera_jpeg=0.7 if jpeg else 0.0, p_web=0.0)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    out, p = camera.degrade_batch(x, gen, cfg)
    s[0] = max(s[0], float(p.noise_std[0]) / NOISE_FULL)
    if int(p.camera_q[0]):
        s[2] = max(s[2], (95 - int(p.camera_q[0])) / 85)
    return out


def opencv_jpeg(img: np.ndarray, q: int) -> np.ndarray:
    """``img`` (uint8 RGB) through OpenCV's JPEG encoder at quality ``q`` (4:2:0)."""
    try:
        import cv2
    except ModuleNotFoundError as exc:  # the web-JPEG faults need the bench extra
        raise ModuleNotFoundError(
            'the realistic mix needs OpenCV: pip install -e ".[bench]"') from exc

    ok, buf = cv2.imencode(".jpg", img[..., ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, int(q)])
    if not ok:
        raise RuntimeError("OpenCV could not encode")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _web(x: torch.Tensor, rng: np.random.Generator, s: np.ndarray) -> torch.Tensor:
    if rng.random() < 0.6:
        q = int(rng.integers(15, 61))
        out = _t(opencv_jpeg(_u8(x), q))
    else:
        q = int(rng.integers(20, 86))
        sub, fam = int(rng.integers(0, 3)), int(rng.integers(0, 4))
        out = camera.web_resize_jpeg(x, float(rng.uniform(0.5, 1.0)), torch.tensor([q]),
                                     torch.tensor([sub]), torch.tensor([fam]))
    s[2] = max(s[2], (95 - q) / 85)
    return out


def _blur(x: torch.Tensor, rng: np.random.Generator, s: np.ndarray, kind: str) -> torch.Tensor:
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    if kind == "shake":
        ker = camera.shake_kernels(torch.tensor([rng.uniform(4.0, 13.0)]), gen)
    else:
        ker = deg.disk_kernels(torch.tensor([rng.uniform(1.0, 3.0)]), camera.KERNEL)
    s[1] = max(s[1], float(deg.kernel_std(ker)[0]) / 4)
    lin = camera.srgb_to_linear(x)
    return camera.linear_to_srgb(camera.blur(lin, ker).clamp(0, 1))


def _tone(x: torch.Tensor, rng: np.random.Generator, s: np.ndarray,
          clipping: bool = False) -> torch.Tensor:
    lin = camera.srgb_to_linear(x)
    gains = np.ones(3)
    picks = ["exposure"] if clipping else list(
        rng.choice(["exposure", "colour", "flat"], size=int(rng.integers(1, 3)), replace=False))
    if "colour" in picks:
        t, m = rng.uniform(0.25, 0.8) * rng.choice([-1, 1]), rng.uniform(-0.3, 0.3)
        gains *= np.exp2([t / 2 + m / 3, -2 * m / 3, -t / 2 + m / 3])
        s[4] = max(abs(t) / 0.8, abs(m) / 0.3)
    if "exposure" in picks:
        ev = rng.uniform(0.8, 2.0) if clipping else rng.uniform(-2.5, -0.7)
        gains *= 2.0**ev
        s[3] = abs(ev) / 2.5
    before = float((x >= 1.0).float().mean())
    lin = (lin * torch.tensor(gains, dtype=torch.float32).view(1, 3, 1, 1)).clamp(0, 1)
    y = camera.linear_to_srgb(lin)
    s[5] = 4 * max(0.0, float((y >= 254.5 / 255).float().mean()) - before)
    if "flat" in picks:
        lo, hi = rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95)
        y = lo + (hi - lo) * y
        s[3] = max(s[3], (lo + 1 - hi) / 0.4)
    return y


def _apply(kind: str, x: torch.Tensor, rng: np.random.Generator, s: np.ndarray) -> torch.Tensor:
    if kind in ("shake", "defocus", "shake+noise"):
        x = _blur(x, rng, s, "defocus" if kind == "defocus" else "shake")
    if kind.startswith("tone") or kind == "clipping":
        x = _tone(x, rng, s, clipping=kind == "clipping")
    if kind in ("camera_noise", "shake+noise", "tone+noise", "noise+web"):
        x = camera.quantise8(x)
        x = _camera(x, rng, s, jpeg=kind != "noise+web")
    if kind in ("web_jpeg", "noise+web"):
        x = _web(camera.quantise8(x), rng, s)
    return x


def realistic_fault(img: np.ndarray, rng: np.random.Generator, p_clean: float = 0.4,
                    kind: str | None = None) -> Fault:
    """A realistic fault on ``img`` (uint8 HxWx3, even sides for the Bayer mosaic are not
    needed), drawn from ``rng``; ``kind`` forces one of :data:`KINDS` (or ``"clean"``)."""
    s = np.zeros(len(FACTORS), np.float32)
    if kind is None:
        if rng.random() < p_clean:
            kind = "clean"
        else:
            names = list(KINDS)
            w = np.array([KINDS[k] for k in names])
            kind = names[int(rng.choice(len(names), p=w / w.sum()))]
    if kind == "clean":
        return Fault(img.copy(), s, kind)
    out = _u8(_apply(kind, _t(img), rng, s))
    return Fault(out, np.clip(s, 0, 1), kind)
