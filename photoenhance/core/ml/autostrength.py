"""Automatic strength: how much of the enhancer's correction a photo should receive.

The enhancer is blind: it has to guess from the pixels whether fine detail is texture or
noise, and on clean, detailed photos it guesses "noise" often enough to soften them (Kodak24
clean: 34 dB output vs input at full strength). Photo tools solve this the same way: they
measure the photo first and set the strength from what they find ("auto" in Topaz, the
noise-level detection behind Lightroom's Denoise amount). So before enhancing, we measure:

- **noise**: the sensor-noise standard deviation of the luma, from the median absolute
  value of the finest diagonal Haar wavelet band (Donoho's estimator), taken per 64x64 crop
  over a grid of crops, and then the lower quartile of the crops: detailed crops overstate
  noise, smooth ones show it as it is. A photo detailed all over (foliage, brickwork, gravel)
  has no smooth crops, and this alone reads its texture as noise (CBSD68 clean: up to 12.6).
  So when it reads any noise at all, a second estimate checks it: the weak-texture patch PCA
  of Liu, Tanaka and Okutomi (IEEE TIP 2013). Texture spans few directions of the space of
  6x6 patches and noise spans them all, so the smallest eigenvalue of the covariance of the
  patches with the least gradient energy is the noise variance. It is nearly unbiased for
  white noise (i.i.d. RGB sigma 3 / 5 / 25 reads 2.05 / 3.38 / 16.4 in luma against 2.0 /
  3.34 / 16.7) and reads clean photos low (CBSD68, Kodak24, LIVE1: median 0.6), but it
  under-reads noise that is spatially correlated or JPEG-compressed (the smallest
  eigenvalue is the finest detail, which such noise lacks). The noise is therefore the Haar
  estimate capped at ``TEXTURE_CAP`` times the PCA one: clean photos that read as noisy go
  from 30 of 121 to 9, synthetic camera, correlated and white noise keep all their strength,
  white noise after JPEG at quality 85 / 75 keeps 92 / 70 % of it, and the real noisy photos
  of RNI15 keep 91 % (``bench/noise.py``). Patches with a clipped pixel are left out of the
  PCA: clipping removes the noise there.
  Texture that fills every crop (gravel and grass on a 640x480 camera JPEG) still reads
  as noise to both (sigma 6.7), because it is as fine and as dense as noise. What tells
  them apart is its sparseness: natural texture's wavelet coefficients are heavy-tailed
  (kurtosis 12 and more on the smoothest crops of clean photos) and noise's are Gaussian
  (kurtosis 3; the scale-mixture view of Zoran and Weiss 2009). So the estimate is
  multiplied by ``sqrt(1 - t)``, with ``t`` the texture share of the band that its
  kurtosis implies (:data:`TEXTURE_KURTOSIS`): strong noise keeps most of its reading
  (white sigma 15 on Kodak: kurtosis 4), texture loses it. Weak noise on a textured photo
  is heavy-tailed too; it is told apart by its colour (sensor noise has fine chroma,
  a camera JPEG's texture next to none), and keeps its reading (:data:`CHROMA_RAMP`).
- **JPEG quantisation**: the 8x8 DCT of the luma on the JPEG grid; the two lowest AC
  coefficients of a decoded JPEG sit on multiples of their quantisation step, which is
  found as the largest step whose multiples they line up with (a phase-coherence test),
  and expressed as a multiple of the standard quality-50 table. (Blocking measures such as
  the luma step across block borders depend on the content as much as on the quality.)

- **softness**: how much of a crop's gradient energy (squared neighbour differences)
  survives a further [1 2 1] blur. A sharp edge or fine texture keeps under half of it (Kodak24:
  0.20-0.41), detail that is already soft keeps most of it (Kodak24 with a 2 px defocus
  disk: 0.70-0.83; 9 px motion: 0.49-0.79). Squared, because the plain gradient of a clean
  step edge survives any blur. Taken over the quarter of the crops with the most contrast:
  the photo's edges and detail decide, so a sharp subject before a soft background reads as
  sharp.

The strength is the largest of three ramps, noise from ``NOISE_RAMP[0]`` to ``NOISE_RAMP[1]``
(luma sigma, 8-bit units), quantisation from ``JPEG_RAMP[0]`` to ``JPEG_RAMP[1]`` (up to
``JPEG_MAX``) and softness over ``BLUR_RAMP``, so a clean photo is left alone, a noisy one
gets the full correction, a compressed one most of it, and the user's own strength setting
scales the result. The softness ramp is also the enhancer's *blur hint* (:attr:`blur`): the
net is told how blurred the photo reads, and was trained with hints drawn as this measure
reads on blurred and on unblurred training photos, so it deblurs a photo that reads soft
without sharpening soft detail that was never blurred.
It costs about 10-15 ms for a 12 MP photo on these CPUs: at most 64 crops of 64 px are read;
the PCA check runs only on photos whose Haar estimate reads some noise, and doubles the
cost for them (``bench/noise.py``: 2.6x on a noisy 12 MP photo).

The same ramps pick the network (:attr:`AutoStrength.route`): a photo with one strong fault
(its ramp at least ``ROUTE_MIN``, every other ramp below it) goes to a specialist trained
mostly on that fault, where the enhancer ships one, as Topaz's Autopilot picks a model per
photo. Mixed faults, mild faults and clean photos go to the general network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from photoenhance.core.ml.threads import single_threaded_blas

#: Luma noise sigma (8-bit units) where the strength starts rising, and where it is full.
#: Clean held-out training photos measure 0.5-1.2; Gaussian noise of RGB sigma 3 measures 2.
NOISE_RAMP = (1.5, 4.0)
#: JPEG quantisation ramp, as a multiple of the standard q50 table (quality 75 is 0.5, 50 is
#: 1, 30 is 1.67, 20 is 2.5, 10 is 5), and the strength it reaches. Enhancer v1.2 on held-out
#: training patches gains most at strength 0.8-1 for quality 10-30, 0.8 at 50, 0.5-0.65 at 75
#: and 0.3 at 90 (where full strength loses 0.3 dB); on LIVE1 0.65-0.8 is best at every
#: quality. A compressed photo is measured in full, so the ramp can start low.
JPEG_RAMP = (0.15, 1.0)
JPEG_MAX = 0.8
#: Blur ramp over the gradient energy kept by a [1 2 1] re-blur (see :func:`_softness`): the
#: blur hint and the strength it sets, or None (softness reported only, hint 0). Kodak24
#: reads 0.20-0.41, blurred with a 2 px disk 0.70-0.83. On 2-3.5x downscaled training crops
#: (`train blurcal`), unblurred ones read 0.37 / 0.77 / 0.83 (median, 90th, 99th percentile):
#: wallpaper detail is often soft, so the enhancer is trained with such hints too (see
#: ``HINT_DECILES_*`` in ``train/enhancer.py``, which must follow this ramp).
BLUR_RAMP: tuple[float, float] | None = (0.45, 0.75)
#: Crops whose RMS luma gradient is below this (8-bit units) say nothing about blur.
_MIN_CONTRAST = 1.5
CROP = 64
MAX_CROPS = 64
#: The noise is the Haar estimate, at most this many times the weak-texture PCA estimate.
TEXTURE_CAP = 2.0
#: Kurtosis of the finest diagonal Haar band of clean, detailed photo crops (the smoothest
#: quarter of the crops): 640x480 camera JPEGs of leaves, gravel and grass 7.0, 8.9, 12.3,
#: Kodak24 kodim08 12.3, others 13-25. Gaussian noise has 3, and a noisy photo's band is a
#: mix: its kurtosis is 3 + (K - 3) t^2, with t the share of the band's variance that is
#: texture, so t = sqrt((kurtosis - 3) / (K - 3)) and the noise keeps sqrt(1 - t) of its
#: sigma.
#: The kurtosis alone cannot tell weak noise on a textured photo from texture (Kodak kodim08
#: with weak camera noise reads 8.6), but colour can: sensor noise is in every channel, so
#: the finest band of the chroma is as strong as the luma's (chroma / luma 1.4-1.9 for
#: camera and white noise, 1.0-2.7 for 10 of the 15 real noisy photos of RNI15), while a
#: camera JPEG's texture has next to no fine chroma (0.0-0.26: the chroma is subsampled and
#: texture is mostly luma). The kurtosis discount applies in full below ``CHROMA_RAMP[0]``
#: and not at all above ``CHROMA_RAMP[1]``.
CHROMA_RAMP = (0.5, 1.0)
TEXTURE_KURTOSIS = 7.0
#: PCA patch side (even); patches start at every second pixel, which reads 4x fewer of them
#: than every pixel, at the same accuracy.
_PCA_PATCH = 6
#: A patch counts as weak texture while its gradient energy (sum of squared central
#: differences) is under this times the noise variance: the 1 - 1e-6 quantile of that energy
#: for pure white noise, Gamma(r/2, 2 tr/r) with r, tr the rank and trace of D'D for the 6x6
#: patch difference operator D (r = 32, tr = 24; ``scipy.stats.gamma.ppf``; a test checks its upper
#: tail with ``torch.special.gammaincc``).
_PCA_TAU = 63.9237
#: Fewer patches than this many times their dimension make a poor covariance.
_PCA_MIN_PATCHES = 8
#: A ramp this high, alone, routes the photo to the specialist for its fault.
ROUTE_MIN = 0.5
#: The routes, in the order of the ramps (:attr:`AutoStrength.ramps`).
ROUTES = ("noise", "jpeg", "blur")


@dataclass(frozen=True)
class AutoStrength:
    strength: float  # 0-1, multiply the user's strength by this
    noise_sigma: float  # luma, 8-bit units
    jpeg_scale: float  # JPEG quantisation vs the standard q50 table; 0 = none seen
    softness: float = 0.0  # gradient energy kept by a re-blur: ~0.3 sharp, ~0.8 soft

    @property
    def blur(self) -> float:
        """The enhancer's blur hint, 0-1: how blurred the photo reads (the softness ramp)."""
        return _blur_hint(self.softness)

    @property
    def ramps(self) -> dict[str, float]:
        """Each fault's ramp, 0-1, keyed by :data:`ROUTES` (JPEG before its ``JPEG_MAX``)."""
        return {
            "noise": _ramp(self.noise_sigma, *NOISE_RAMP),
            "jpeg": _ramp(self.jpeg_scale, *JPEG_RAMP),
            "blur": self.blur,
        }

    @property
    def route(self) -> str | None:
        """The one strong fault (a :data:`ROUTES` name) for a specialist network, or None."""
        strong = [k for k, v in self.ramps.items() if v >= ROUTE_MIN]
        return strong[0] if len(strong) == 1 else None

    @property
    def reason(self) -> str:
        """What the strength answers to, in a photographer's words ("" when left alone)."""
        if self.strength <= 0.0:
            return ""
        r = self.ramps
        words = {
            "noise": r["noise"],
            "JPEG compression": JPEG_MAX * r["jpeg"],
            "softness": r["blur"],
        }
        return max(words, key=lambda k: words[k])

    def as_dict(self) -> dict[str, float]:
        return {
            "strength": round(self.strength, 3),
            "noise_sigma": round(self.noise_sigma, 2),
            "jpeg_scale": round(self.jpeg_scale, 3),
            "softness": round(self.softness, 3),
            "blur": round(self.blur, 3),
        }


def _luma(image: np.ndarray) -> np.ndarray:
    """Luma in 8-bit units (float32) of grey, RGB or RGBA crops (N, H, W[, C]), any dtype."""
    a = np.asarray(image)
    if a.dtype == np.uint8:
        scale = 1.0
    elif a.dtype == np.uint16:
        scale = 255.0 / 65535.0
    elif np.issubdtype(a.dtype, np.floating):
        scale = 255.0
    else:
        scale = 255.0 / float(np.iinfo(a.dtype).max)
    if a.ndim == 4 and a.shape[3] >= 3:
        a = a[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif a.ndim == 4:
        a = a[..., 0].astype(np.float32)
    else:
        a = a.astype(np.float32)
    return a * np.float32(scale)


def _crop_origins(length: int, count: int) -> np.ndarray:
    """Up to ``count`` crop starts along one axis, spread evenly, on the 8-pixel JPEG grid."""
    last = length - CROP
    if last < 0:
        return np.zeros(0, np.int64)
    starts = np.linspace(0, last, max(1, count)).astype(np.int64)
    return np.unique(starts - starts % 8)


def _crops(a: np.ndarray | Image.Image) -> np.ndarray:
    """A grid of CROP x CROP crops (or the whole image, if smaller), on the JPEG 8x8 grid.

    A Pillow image is cropped in place, so a 24 MP photo is never copied whole.
    """
    if isinstance(a, Image.Image):
        w, h = a.size
        if h < CROP or w < CROP:
            a = np.asarray(a)
    else:
        h, w = a.shape[:2]
    if h < CROP or w < CROP:
        ch, cw = h - h % 8 or h, w - w % 8 or w
        return np.asarray(a)[None, :ch, :cw]
    per_axis = int(np.sqrt(MAX_CROPS))
    ys = _crop_origins(h, min(per_axis, h // CROP))
    xs = _crop_origins(w, min(per_axis, w // CROP))
    if isinstance(a, Image.Image):
        return np.stack([np.asarray(a.crop((c, r, c + CROP, r + CROP))) for r in ys for c in xs])
    return np.stack([a[r : r + CROP, c : c + CROP] for r in ys for c in xs])


def _noise_sigma(crops: np.ndarray) -> float:
    return _noise_and_kurtosis(crops)[0]


def _haar_hh(c: np.ndarray) -> np.ndarray:
    """The finest diagonal Haar band of (N, H, W) crops, flattened per crop."""
    c = c[:, : c.shape[1] // 2 * 2, : c.shape[2] // 2 * 2]
    hh = (c[:, 0::2, 0::2] - c[:, 0::2, 1::2] - c[:, 1::2, 0::2] + c[:, 1::2, 1::2]) / 2
    return np.asarray(hh.reshape(len(c), -1), np.float64)


def _noise_and_kurtosis(crops: np.ndarray,
                        rgb: np.ndarray | None = None) -> tuple[float, float, float]:
    """The Haar noise estimate (lower quartile of the crops); the kurtosis of the diagonal
    Haar band over that smoothest quarter of the crops (3 for Gaussian noise); and there,
    the band's chroma-to-luma strength (0 for grey crops or no ``rgb``)."""
    if crops.shape[1] < 2 or crops.shape[2] < 2:
        return 0.0, 3.0, 0.0
    hh = _haar_hh(crops)
    per_crop = np.median(np.abs(hh), axis=1) / 0.6745
    pick = np.argsort(per_crop)[: max(1, len(crops) // 4)]
    smooth = hh[pick] - hh[pick].mean(1, keepdims=True)
    var = np.square(smooth).mean(1)
    kurt = np.square(np.square(smooth)).mean(1) / np.maximum(np.square(var), 1e-12)
    chroma = 0.0
    if rgb is not None and rgb.ndim == 4 and rgb.shape[3] >= 3:
        sub = _luma(rgb[pick])
        chans = [_luma(rgb[pick][..., i : i + 1].repeat(3, axis=3)) for i in (0, 2)]
        c_mad = [np.median(np.abs(_haar_hh(ch - sub)), axis=1) / 0.6745 for ch in chans]
        ratio = np.hypot(*c_mad) / np.maximum(per_crop[pick], 1e-6)
        chroma = float(np.median(ratio))
    return float(np.percentile(per_crop, 25)), float(np.median(kurt)), chroma


def _texture_share(kurtosis: float, chroma: float = 0.0) -> float:
    """Share of the Haar band's variance that is texture, from its kurtosis (see the module
    docstring): 0 for Gaussian noise, 1 at :data:`TEXTURE_KURTOSIS` and above; counted less
    the more fine chroma the band has (:data:`CHROMA_RAMP`)."""
    share = np.sqrt(np.clip((kurtosis - 3.0) / (TEXTURE_KURTOSIS - 3.0), 0.0, 1.0))
    return float(share * (1.0 - _ramp(chroma, *CHROMA_RAMP)))


def _clipped(rgb: np.ndarray) -> np.ndarray:
    """(N, H, W) mask of the pixels with a colour channel at black or white, of crops from
    :func:`_crops` (grey, RGB or RGBA, any dtype)."""
    n_chans = 1 if rgb.ndim == 3 or rgb.shape[3] < 3 else 3
    chans = [rgb] if rgb.ndim == 3 else [rgb[..., i] for i in range(n_chans)]
    out = np.zeros(chans[0].shape, bool)
    for ch in chans:
        v = _luma(ch)
        out |= (v <= 0.5) | (v >= 254.5)
    return out


def _pair_sums(a: np.ndarray) -> np.ndarray:
    """Sums over the 2 x 2 blocks of (N, H, W) ``a`` (a last odd row or column dropped)."""
    a = a[:, : a.shape[1] // 2 * 2, : a.shape[2] // 2 * 2]
    return a[:, 0::2, 0::2] + a[:, 0::2, 1::2] + a[:, 1::2, 0::2] + a[:, 1::2, 1::2]


def _window_sums(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum over every h x w window (the valid ones) of (N, H, W) ``a``."""
    c = np.pad(a, ((0, 0), (1, 0), (1, 0))).cumsum(1).cumsum(2)
    return c[:, h:, w:] - c[:, :-h, w:] - c[:, h:, :-w] + c[:, :-h, :-w]


def _pca_noise(crops: np.ndarray, clipped: np.ndarray) -> float | None:
    """Noise sigma of luma crops from the weak-texture patch PCA (see the module docstring):
    the smallest eigenvalue of the patch covariance, then, twice, again over only the patches
    whose gradient energy pure noise of that variance would reach. None when too few
    patches are left to tell.

    Patches are 6 x 6 at every second pixel, so their gradient energies and clipped-pixel
    counts are window sums over 2 x 2 block sums (3 x 2, 2 x 3 and 3 x 3 blocks).
    """
    d = _PCA_PATCH
    _, h, w = crops.shape
    if h < d or w < d:
        return None
    c = crops[:, : h // 2 * 2, : w // 2 * 2].astype(np.float32) - np.float32(128.0)
    half = np.float32(0.5)
    gh = _pair_sums(np.square(half * (c[:, :, 2:] - c[:, :, :-2])))
    gv = _pair_sums(np.square(half * (c[:, 2:] - c[:, :-2])))
    energy = (_window_sums(gh, d // 2, d // 2 - 1) + _window_sums(gv, d // 2 - 1, d // 2)).ravel()
    bad = _window_sums(_pair_sums(clipped[:, : c.shape[1], : c.shape[2]].astype(np.float32)),
                       d // 2, d // 2).ravel() > 0
    x = np.lib.stride_tricks.sliding_window_view(c, (d, d), axis=(1, 2))[:, ::2, ::2]
    x = x.reshape(-1, d * d)
    need = _PCA_MIN_PATCHES * d * d
    if len(x) - int(bad.sum()) >= need:  # else clipping is everywhere: keep every patch
        x, energy = x[~bad], energy[~bad]
    if len(x) < need:
        return None

    def smallest_eigenvalue(p: np.ndarray) -> float:
        p = p - p.mean(0)
        return float(np.linalg.eigvalsh(p.T @ p / (len(p) - 1))[0])

    var = smallest_eigenvalue(x)
    for _ in range(2):
        weak = energy < var * _PCA_TAU
        if weak.sum() < need:
            break
        x, energy = x[weak], energy[weak]
        var = smallest_eigenvalue(x)
    return float(np.sqrt(max(var, 0.0)))


def _softness(crops: np.ndarray) -> float:
    """Share of the luma gradient energy that survives a [1 2 1] x [1 2 1] blur: the median over
    the quarter of the crops with the most contrast (the photo's edges and detail, where
    focus shows; smooth shading is soft in any photo).

    0 when too few crops have contrast to tell (flat photos, tiny images).
    """
    if crops.shape[1] < 4 or crops.shape[2] < 4:
        return 0.0
    k0, k1 = np.float32(0.25), np.float32(0.5)
    b = k0 * crops[:, :-2] + k1 * crops[:, 1:-1] + k0 * crops[:, 2:]
    b = k0 * b[:, :, :-2] + k1 * b[:, :, 1:-1] + k0 * b[:, :, 2:]
    c = crops[:, 1:-1, 1:-1]

    def energy(x: np.ndarray) -> np.ndarray:
        dy, dx = np.diff(x, axis=1), np.diff(x, axis=2)
        return np.asarray(np.square(dy).mean((1, 2)) + np.square(dx).mean((1, 2)), np.float32)

    e0, e1 = energy(c), energy(b)
    ok = np.nonzero(e0 >= _MIN_CONTRAST**2)[0]
    if len(ok) < min(4, len(crops)):
        return 0.0
    top = ok[np.argsort(e0[ok])[-max(4, len(ok) // 4) :]]
    return float(np.median(e1[top] / e0[top]))


def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return np.asarray(m, dtype=np.float32)


_DCT = _dct_matrix()
#: The two lowest AC coefficients and their entries in the JPEG standard luma table (q50).
_AC = ((0, 1, 11.0), (1, 0, 12.0))


def _quant_step(coef: np.ndarray) -> float:
    """The JPEG quantisation step that ``coef`` sit on multiples of (0 if none is found).

    For each candidate step, only coefficients of at least half a step count (the cluster at
    zero fits every step), and there must be enough of them: a smooth photo's few small
    coefficients would otherwise "fit" any large step.
    """
    c = np.abs(coef[np.abs(coef) >= 2.0])
    need = max(32, len(coef) // 500)
    if len(c) < need:
        return 0.0
    if len(c) > 4096:  # plenty to find the step; keeps the test cheap on big photos
        c = c[:: len(c) // 4096 + 1]
        need = max(32, need * len(c) // len(coef))
    steps = np.arange(4, 121, dtype=np.float32)[:, None]
    use = c[None, :] >= steps / 2
    count = use.sum(1)
    phase = 2 * np.pi * c[None, :] / steps
    # the mean cosine, not the phase coherence: at twice the true step, or for a smooth
    # photo's coefficients just over half a step, the phases agree but sit near pi. The
    # worst fifth is left out: blocks with clipped highlights or saturated colours lose
    # their place on the grid when decoded (LIVE1 at q30 fits its true step at 0.80-0.86
    # over all coefficients, a test photo with 16 % clipped pixels at 0.67-0.69; over the
    # best four fifths, 0.92 and more; wrong steps, clean and noisy photos stay under 0.31).
    cos = np.where(use, np.cos(phase), np.inf)
    fit = np.where(use, cos, 0).sum(1) / np.maximum(count, 1)
    good = []
    for i in np.nonzero((fit >= 0.4) & (count >= need))[0]:  # few: sort only those
        kept = np.sort(cos[i])[count[i] // 5 : count[i]]
        if kept.mean() >= 0.85:
            good.append(i)
    return float(steps[good[-1], 0]) if len(good) else 0.0


def _jpeg_scale(crops: np.ndarray) -> float:
    """How coarse the photo's JPEG quantisation is, as a multiple of the standard q50 table.

    Pillow/libjpeg: quality 10 -> 5.0, 20 -> 2.5, 30 -> 1.67, 50 -> 1.0, 80 -> 0.4; 0 when
    the pixels show no 8x8 quantisation (not a JPEG, or resized or cropped off the grid).
    """
    h, w = crops.shape[1] // 8 * 8, crops.shape[2] // 8 * 8
    if h < 8 or w < 8:
        return 0.0
    b = crops[:, :h, :w].reshape(len(crops), h // 8, 8, w // 8, 8).transpose(0, 1, 3, 2, 4)
    d = _DCT @ (b.reshape(-1, 8, 8) - 128.0) @ _DCT.T
    scales = [_quant_step(d[:, u, v]) / base for u, v, base in _AC]
    return float(min(scales))


def _ramp(value: float, lo: float, hi: float) -> float:
    return float(np.clip((value - lo) / (hi - lo), 0.0, 1.0))


def _blur_hint(softness: float) -> float:
    return _ramp(softness, *BLUR_RAMP) if BLUR_RAMP else 0.0


def measure(image: np.ndarray | Image.Image) -> AutoStrength:
    """Measure a photo (H x W [x C] uint8/uint16/float array, or an 8-bit RGB/L Pillow
    image) and pick its automatic strength."""
    single_threaded_blas()  # its patch covariance is a BLAS product: see .threads
    a = image if isinstance(image, Image.Image) else np.asarray(image)
    if (a.width * a.height if isinstance(a, Image.Image) else a.size) == 0:
        return AutoStrength(0.0, 0.0, 0.0)
    rgb = _crops(a)
    crops = _luma(rgb)
    sigma, kurt, chroma = _noise_and_kurtosis(crops, rgb)
    if sigma > NOISE_RAMP[0]:  # reads some noise: is it texture? (below, it changes nothing)
        pca = _pca_noise(crops, _clipped(rgb))
        if pca is not None:
            sigma = min(sigma, TEXTURE_CAP * pca)
        sigma *= float(np.sqrt(1.0 - _texture_share(kurt, chroma)))
    jpeg = _jpeg_scale(crops)
    soft = _softness(crops)
    blur = _blur_hint(soft)
    strength = max(_ramp(sigma, *NOISE_RAMP), JPEG_MAX * _ramp(jpeg, *JPEG_RAMP), blur)
    return AutoStrength(strength, sigma, jpeg, soft)
