"""A contact sheet of ranked photos, to look at: 100 % crops with old and new scores.

    python bench/rank_sheet.py --old models/improvability-v1.pt --new CANDIDATE.pt \\
        --out docs/rank/contact-sheet.png [--seed 0] [--n 6]

Rows: named clean photos (``--photo``, e.g. DSCN0021, the textured wallpapers Path and
EveningGlow), then the realistic mix's draw ``--seed`` of the bench sets: the ``--n`` photos
the new ranker scores highest and ``--n`` of the clean ones it scores highest (its worst
false alarms). Each tile is a 256 px crop at 100 % from the middle of the photo as scored,
captioned with the fault, the realised gain of the shipped pipeline (when known), both
scores and the new ranker's chips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import rank_mix  # noqa: E402

from photoenhance.core.imaging import decode_rgb  # noqa: E402
from photoenhance.core.rank.scorer import Scorer  # noqa: E402
from photoenhance.train.rank.realmix import realistic_fault  # noqa: E402

TILE = 256


def _crop(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    y, x = max(0, (h - TILE) // 2), max(0, (w - TILE) // 2)
    out = np.zeros((TILE, TILE, 3), np.uint8)
    c = img[y:y + TILE, x:x + TILE]
    out[:c.shape[0], :c.shape[1]] = c
    return out


def _tile(img: np.ndarray, lines: list[str]) -> Image.Image:
    tile = Image.new("RGB", (TILE, TILE + 52), "white")
    tile.paste(Image.fromarray(_crop(img)), (0, 0))
    draw = ImageDraw.Draw(tile)
    for i, line in enumerate(lines):
        draw.text((4, TILE + 2 + 16 * i), line, fill="black")
    return tile


def tiles(old: Scorer, new: Scorer, items: list[tuple[str, np.ndarray, str]]) -> list[Image.Image]:
    out = []
    for (name, img, truth), a, b in zip(items, old.score_arrays([i for _, i, _ in items]),
                                        new.score_arrays([i for _, i, _ in items]), strict=True):
        chips = ",".join(b.chips()) or "-"
        scores = f"old {a.score:.2f}  new {b.score:.2f} ({b.gain_db:+.1f} dB) {chips}"
        out.append(_tile(img, [f"{name[:40]}", f"{truth}", scores]))
    return out


def bench_items(new: Scorer, shared: Path, seed: int, n: int) -> list[tuple[str, np.ndarray, str]]:
    images = rank_mix.bench_images(shared)
    faults = [realistic_fault(img, np.random.default_rng(seed * 10_000 + i))
              for i, (_, img) in enumerate(images)]
    scores = np.array([r.score for r in new.score_arrays([f.image for f in faults])])
    clean = [i for i, f in enumerate(faults) if f.kind == "clean"]
    top = list(np.argsort(-scores)[:n]) + sorted(clean, key=lambda i: -scores[i])[:n]
    return [(images[i][0], faults[i].image, f"fault: {faults[i].kind}") for i in top]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--old", type=Path, required=True)
    p.add_argument("--new", type=Path, required=True)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--photo", type=Path, action="append", default=[])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=6)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    old, new = (Scorer.load(m, use_user_head=False) for m in (args.old, args.new))
    items = [(ph.name, np.asarray(decode_rgb(ph).image), "clean photo") for ph in args.photo]
    items += bench_items(new, args.shared, args.seed, args.n)
    ts = tiles(old, new, items)
    cols = 4
    sheet = Image.new("RGB", (cols * (TILE + 6), -(-len(ts) // cols) * (TILE + 58)), "white")
    for k, t in enumerate(ts):
        sheet.paste(t, ((k % cols) * (TILE + 6), (k // cols) * (TILE + 58)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)


if __name__ == "__main__":
    main()
