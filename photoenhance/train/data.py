"""Training data: fetch the Debian photo packages, pick the real photos, cut clean patches.

Steps (each one is skipped when its output already exists, so the script can be re-run):

1. ``apt-get download`` each package of :data:`PACKAGES` into ``data/debs/`` and unpack it
   with ``dpkg-deb -x`` into ``data/unpacked/<package>/``.
2. Pick the real camera photos (see ``shared/docs/DATA.md``) and write
   ``data/manifest.json``: one entry per image with package, path inside the package,
   license, size and split (a few photos are held out for validation).
3. Downscale each photo twice, by random factors in 1.5-1.75x and 1.75-2x (Pillow's
   Lanczos filter with its box pre-reduction, which averages away the source noise and
   JPEG traces) and cut non-overlapping clean patches, dropping flat ones. They are stored
   as one uint8 array
   ``data/patches_<split>_<size>.npy`` of shape (N, size, size, 3) for fast training.
4. With ``--textured``: also the textured set of :func:`cut_textured`
   (``data/patches_<split>_tex_<size>.npy``), which the enhancer trains on by default.

Run with ``python -m photoenhance.train data [--textured]``. Never commit the images.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photoenhance.train import REPO

Image.MAX_IMAGE_PIXELS = 200_000_000

#: Package -> license as declared by the package's copyright file (summary).
PACKAGES: dict[str, str] = {
    "lomiri-wallpapers-16.04": "CC-BY-4.0 / CC-BY-SA-4.0 / CC0 (per file, see package copyright)",
    "lomiri-wallpapers-20.04": "CC-BY-SA-3.0",
    "plasma-workspace-wallpapers": "LGPL-3 / CC-BY-SA-4.0 (per wallpaper)",
    "mate-backgrounds": "GPL-2+",
    "lxqt-themes": "see package copyright (per wallpaper)",
    "palapeli-data": "see package copyright (per image)",
}

_PLASMA = [
    "BytheWater",
    "ColdRipple",
    "ColorfulCups",
    "DarkestHour",
    "EveningGlow",
    "FallenLeaf",
    "Grey",
    "Kite",
    "MilkyWay",
    "OneStandsOut",
    "Path",
    "Volna",
    "summer_1am",
]
_LXQT = [
    "Butterfly-Kenneth-Wimer.jpg",
    "Valendas.png",
    "after-the-rain.jpg",
    "appleflower.png",
    "beam.png",
    "butterfly.png",
    "cloud.png",
    "drop.png",
    "flowers.png",
    "fog.jpg",
    "this-is-not-windows.jpg",
]
_LOMIRI20 = ["Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg"]
#: Held out from training, for the validation patches logged during training.
VAL_IMAGES = {"Kite", "fog.jpg", "castle-maintenon.jpg"}


@dataclass(frozen=True)
class Photo:
    package: str
    path: Path  # absolute path of the unpacked file
    rel: str  # path inside the package
    key: str  # short name


def data_root() -> Path:
    return REPO / "data"


def fetch(root: Path) -> None:
    """Download and unpack every package of :data:`PACKAGES` (idempotent)."""
    debs = root / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in PACKAGES:
        dest = root / "unpacked" / pkg
        if dest.exists():
            continue
        if not list(debs.glob(f"{pkg}_*.deb")):
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True)
        deb = sorted(debs.glob(f"{pkg}_*.deb"))[-1]
        tmp = dest.parent / (dest.name + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        tmp.rename(dest)


#: lomiri-16.04 files that are renders or illustrations, not camera photos (checked by eye:
#: a colour gradient, a rendered clock, and two more 3D-looking renders by the same author).
_LOMIRI16_SKIP = {
    "umang_by_Abhishek_Mudgal.jpg",
    "greentock_by_Peter_Nerlich.jpg",
    "analogpattern_by_Peter_Nerlich.jpg",
    "free_by_Peter_Nerlich.jpg",
}


def _pixels(p: Path) -> int:
    m = re.match(r"(\d+)x(\d+)", p.stem)
    return int(m.group(1)) * int(m.group(2)) if m else 0


def pick(root: Path) -> list[Photo]:
    """Select the real photos inside the unpacked packages, as listed in DATA.md."""
    un = root / "unpacked"
    out: list[Photo] = []

    def add(pkg: str, p: Path) -> None:
        if p.is_file():
            key = p.parts[-4] if pkg == "plasma-workspace-wallpapers" else p.name
            out.append(Photo(pkg, p, str(p.relative_to(un / pkg)), key))

    for p in sorted((un / "lomiri-wallpapers-16.04/usr/share/backgrounds").glob("*.jpg")):
        if not p.is_symlink() and p.name not in _LOMIRI16_SKIP:
            add("lomiri-wallpapers-16.04", p)
    for name in _LOMIRI20:
        add("lomiri-wallpapers-20.04", un / "lomiri-wallpapers-20.04/usr/share/backgrounds" / name)
    for name in _PLASMA:
        imgs = un / "plasma-workspace-wallpapers/usr/share/wallpapers" / name / "contents/images"
        files = [f for f in imgs.glob("*") if f.is_file()] if imgs.exists() else []
        if files:
            add("plasma-workspace-wallpapers", max(files, key=_pixels))
    for p in sorted((un / "mate-backgrounds/usr/share/backgrounds/mate/nature").glob("*.jpg")):
        add("mate-backgrounds", p)
    for name in _LXQT:
        add("lxqt-themes", un / "lxqt-themes/usr/share/lxqt/wallpapers" / name)
    for p in sorted((un / "palapeli-data/usr/share/palapeli/collection").glob("*.jpg")):
        add("palapeli-data", p)
    return out


def write_manifest(root: Path, photos: list[Photo]) -> dict[str, object]:
    entries = []
    for ph in photos:
        with Image.open(ph.path) as im:
            w, h = im.size
        entries.append(
            {
                "image": ph.key,
                "package": ph.package,
                "path": ph.rel,
                "license": PACKAGES[ph.package],
                "width": w,
                "height": h,
                "split": "val" if ph.key in VAL_IMAGES else "train",
            }
        )
    mp = sum(e["width"] * e["height"] for e in entries) / 1e6  # type: ignore[operator]
    manifest = {"images": entries, "count": len(entries), "megapixels": round(mp, 1)}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _downscale(img: Image.Image, scale: float) -> np.ndarray:
    w, h = img.size
    size = (round(w / scale), round(h / scale))
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0))


def _cut(
    root: Path,
    photos: list[Photo],
    name: str,
    cut: Callable[[Image.Image, np.random.Generator], np.ndarray],
    size: int,
    seed: int,
) -> None:
    """Cut every photo with ``cut`` and save ``patches_<split><name>_<size>.npy`` per split."""
    rng = np.random.default_rng(seed)
    splits: dict[str, list[np.ndarray]] = {"train": [], "val": []}
    for ph in photos:
        with Image.open(ph.path) as im:
            img = im.convert("RGB")
        p = cut(img, rng)
        splits["val" if ph.key in VAL_IMAGES else "train"].append(p)
        print(f"{ph.package}/{ph.key}: {img.size} -> {len(p)} patches", flush=True)
    for split, parts in splits.items():
        arr = np.concatenate(parts) if parts else np.empty((0, size, size, 3), np.uint8)
        np.save(root / f"patches_{split}{name}_{size}.npy", arr)
        print(f"{split}{name}: {arr.shape}", flush=True)


def _patches(img: Image.Image, size: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    a = _downscale(img, scale)
    ny, nx = a.shape[0] // size, a.shape[1] // size
    oy = rng.integers(0, a.shape[0] - ny * size + 1)
    ox = rng.integers(0, a.shape[1] - nx * size + 1)
    a = a[oy : oy + ny * size, ox : ox + nx * size]
    p = a.reshape(ny, size, nx, size, 3).transpose(0, 2, 1, 3, 4).reshape(-1, size, size, 3)
    # drop nearly flat patches (sky, blank walls): they teach little
    std = p.reshape(len(p), -1).astype(np.float32).std(axis=1)
    return p[std > 4.0]


def cut_patches(root: Path, photos: list[Photo], size: int = 128, seed: int = 0) -> None:
    def cut(img: Image.Image, rng: np.random.Generator) -> np.ndarray:
        # two downscales per photo (1.5-1.75x and 1.75-2x): more patches, more scales
        return np.concatenate(
            [_patches(img, size, rng.uniform(lo, lo + 0.25), rng) for lo in (1.5, 1.75)]
        )

    _cut(root, photos, "", cut, size, seed)


def grad_energy(p: np.ndarray) -> np.ndarray:
    """Mean absolute neighbour difference per patch (8-bit units): a texture measure.

    Benchmark photos (Kodak24, CBSD68) have a median of 14-17 on 128 px crops; the plain
    patches above have 3.5, which is why :func:`cut_textured` exists.
    """
    a = p.astype(np.float32)
    g = np.abs(np.diff(a, axis=1)).mean((1, 2, 3)) + np.abs(np.diff(a, axis=2)).mean((1, 2, 3))
    return np.asarray(g, np.float32)


#: (downscale range, minimum texture) per pass of :func:`cut_textured`
TEXTURED_PASSES = (((2.0, 2.5), 9.0), ((2.75, 3.25), 7.0), ((3.5, 4.5), 5.0))


def _textured(img: Image.Image, size: int, scale: float, min_grad: float) -> np.ndarray:
    small = _downscale(img, scale)
    step = size // 2  # half-overlapping windows: textured regions are scarce
    out = []
    for y in range(0, small.shape[0] - size + 1, step):
        row = np.stack(
            [small[y : y + size, x : x + size] for x in range(0, small.shape[1] - size + 1, step)]
        )
        out.append(row[grad_energy(row) >= min_grad])
    return np.concatenate(out) if out else np.empty((0, size, size, 3), np.uint8)


def cut_textured(root: Path, photos: list[Photo], size: int = 128, seed: int = 0) -> None:
    """Write ``patches_<split>_tex_<size>.npy``: detailed patches at stronger downscales.

    The wallpapers are mostly sky, sea and bokeh, so the plain patches are far smoother
    than real and benchmark photos, and a net trained on them barely learns to restore
    texture or undo blur (blurring their median patch costs under 1 dB). Here each photo is
    downscaled 2-4.5x (denser detail, and cleaner than the 1.5-2x cut) and half-overlapping
    windows are kept only where the texture measure reaches the pass's minimum.
    """

    def cut(img: Image.Image, rng: np.random.Generator) -> np.ndarray:
        return np.concatenate(
            [_textured(img, size, rng.uniform(*scales), g) for scales, g in TEXTURED_PASSES]
        )

    _cut(root, photos, "_tex", cut, size, seed)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m photoenhance.train data")
    ap.add_argument(
        "--textured", action="store_true", help="also cut the textured patch set (cut_textured)"
    )
    args = ap.parse_args(argv)
    root = data_root()
    fetch(root)
    photos = pick(root)
    manifest = write_manifest(root, photos)
    print(f"{manifest['count']} photos, {manifest['megapixels']} MP", flush=True)
    if not (root / "patches_train_128.npy").exists():
        cut_patches(root, photos)
    if args.textured or not (root / "patches_train_tex_128.npy").exists():
        cut_textured(root, photos)


if __name__ == "__main__":
    main()
