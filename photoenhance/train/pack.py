"""Pack the training patches into one file small enough to travel to a lent GPU machine.

The device tool carries at most 64 MiB of the working tree, and the repository itself takes
about 24 MB of it (mostly ``models/``); the patch arrays are about 800 MB raw. ``pack`` stores
each 128 px patch as a JPEG (quality 95, 4:4:4 chroma: a median 47 dB from the original on
the plain set, 41.5 dB on the textured one, well above the 26-31 dB that the enhancer's
targets are measured at), keeps the validation sets whole and an evenly spaced share of each
training set so the file fits ``budget_mb``. ``unpack`` decodes it back into the
``data/patches_*.npy`` arrays the trainer reads::

    python -m photoenhance.train pack [--budget-mb 36] [--out data/pack.npz]
    python -m photoenhance.train unpack data/pack.npz     # on the GPU machine

The GPU recipe is in ``docs/bench_enhance.md`` ("Training on a lent GPU").
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from photoenhance.train.data import data_root

#: The patch sets, as in ``data/patches_<name>.npy``; validation sets travel whole.
SETS = ("train_128", "train_tex_128", "val_128", "val_tex_128")
QUALITY = 95


def _encode(patch: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(patch).save(buf, "JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def _pick(n: int, share: float) -> np.ndarray:
    """Evenly spaced indices covering ``share`` of ``n`` (at least one)."""
    k = max(1, min(n, round(n * share)))
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def pack(root: Path, out: Path, budget_mb: float = 36.0, quality: int = QUALITY) -> dict[str, int]:
    """Write ``out`` (.npz) from the patch sets under ``root``; returns patches kept per set."""
    arrays = {s: np.load(root / f"patches_{s}.npy", mmap_mode="r") for s in SETS}
    blobs: dict[tuple[str, int], bytes] = {}  # each patch is encoded once, however many tries

    def encoded(s: str, i: int) -> bytes:
        if (s, i) not in blobs:
            blobs[s, i] = _encode(np.ascontiguousarray(arrays[s][i]), quality)
        return blobs[s, i]

    # estimate the size per patch from a sample, then share the budget left after validation
    est = {
        s: float(np.mean([len(encoded(s, int(i))) for i in _pick(len(a), 64 / len(a))]))
        for s, a in arrays.items()
    }
    val_bytes = sum(est[s] * len(arrays[s]) for s in SETS if s.startswith("val"))
    train_bytes = sum(est[s] * len(arrays[s]) for s in SETS if s.startswith("train"))
    share = min(1.0, max(0.0, budget_mb * 2**20 * 0.97 - val_bytes) / train_bytes)
    for _ in range(4):  # the estimate can be a little off: shrink the share until it fits
        kept = _write(arrays, out, share, encoded)
        over = out.stat().st_size / (budget_mb * 2**20)
        if over <= 1.0:
            break
        share *= 0.97 / over
    return kept


def _write(
    arrays: dict[str, np.ndarray],
    out: Path,
    share: float,
    encoded: Callable[[str, int], bytes],
) -> dict[str, int]:
    payload: dict[str, np.ndarray] = {}
    kept: dict[str, int] = {}
    for s, a in arrays.items():
        idx = np.arange(len(a)) if s.startswith("val") else _pick(len(a), share)
        parts = [encoded(s, int(i)) for i in idx]
        payload[f"{s}_bytes"] = np.frombuffer(b"".join(parts), np.uint8)
        payload[f"{s}_ends"] = np.cumsum([len(b) for b in parts]).astype(np.int64)
        kept[s] = len(idx)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(tmp, **payload)
    tmp.replace(out)
    return kept


def unpack(src: Path, root: Path) -> dict[str, int]:
    """Decode ``src`` into ``root/patches_<set>.npy``; returns patches written per set."""
    written: dict[str, int] = {}
    root.mkdir(parents=True, exist_ok=True)
    with np.load(src) as z:
        for s in SETS:
            data, ends = z[f"{s}_bytes"], z[f"{s}_ends"]
            starts = np.concatenate([[0], ends[:-1]])
            patches = np.stack(
                [
                    np.asarray(Image.open(io.BytesIO(data[a:b].tobytes())).convert("RGB"))
                    for a, b in zip(starts, ends, strict=True)
                ]
            )
            np.save(root / f"patches_{s}.npy", patches)
            written[s] = len(patches)
    return written


def main(argv: list[str] | None, command: str) -> None:
    ap = argparse.ArgumentParser(prog=f"python -m photoenhance.train {command}")
    if command == "pack":
        ap.add_argument("--out", type=Path, default=data_root() / "pack.npz")
        ap.add_argument("--budget-mb", type=float, default=36.0)
        ap.add_argument("--quality", type=int, default=QUALITY)
        args = ap.parse_args(argv)
        kept = pack(data_root(), args.out, args.budget_mb, args.quality)
        size = args.out.stat().st_size / 2**20
        print(f"{args.out}: {size:.1f} MiB, patches kept {kept}", flush=True)
    else:
        ap.add_argument("src", type=Path)
        args = ap.parse_args(argv)
        print(f"unpacked into {data_root()}: {unpack(args.src, data_root())}", flush=True)
