"""Benchmark the library scanner against the cheapest possible header-only walk.

Usage: ``python bench/scan.py [--files 10000] [--repeat 5] [--cache DIR]``

It generates (once, cached under the temp dir) a library of small JPEGs with EXIF in nested
folders, then measures in the same run, in ``--repeat`` interleaved rounds (medians):

- baseline: a bare recursive ``os.scandir`` walk with a header-only ``Image.open`` per file;
- first scan: :func:`photoenhance.core.library.run_scan` into a new, empty catalog;
- rescan: the same scan again with nothing changed, also compared with a bare
  ``os.scandir`` walk that stats every file (the floor of any rescan that notices edits).

It prints first-scan throughput, first-scan / baseline throughput (target >= 0.5), and
rescan time / first-scan time (target <= 0.1).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import piexif
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoenhance.core.catalog import Catalog  # noqa: E402
from photoenhance.core.library import run_scan  # noqa: E402


def _exif(i: int) -> bytes:
    return piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Make: b"BenchCam",
                piexif.ImageIFD.Model: f"M{i % 7}".encode(),
                piexif.ImageIFD.Orientation: 1 + i % 8,
            },
            "Exif": {piexif.ExifIFD.DateTimeOriginal: f"2024:01:{1 + i % 28:02} 12:00:00".encode()},
        }
    )


def make_library(root: Path, count: int) -> Path:
    """``count`` small distinct JPEGs with EXIF, 3 folder levels deep; reused if complete."""
    done = root / ".complete"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for i in range(count):
        folder = root / f"{2000 + i % 20}" / f"{i // 20 % 12:02}" / f"event{i % 9}"
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        img = Image.new("RGB", (64, 48), (i % 256, i // 256 % 256, 128))
        img.save(buf, "JPEG", quality=85, exif=_exif(i))
        (folder / f"IMG_{i:06}.jpg").write_bytes(buf.getvalue())
    done.touch()
    return root


def baseline_walk(root: Path) -> int:
    """The floor: list every folder with os.scandir and open each file's header."""
    count, stack = 0, [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith(".jpg"):
                    with Image.open(entry.path) as im:
                        im.size  # noqa: B018 - header only
                    count += 1
    return count


def stat_walk(root: Path) -> int:
    """The floor of any rescan that notices edits: list every folder, stat every file."""
    count, stack = 0, [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith(".jpg"):
                    entry.stat()
                    count += 1
    return count


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def measure(library: Path, work: Path, repeat: int) -> list[dict[str, float]]:
    """Interleaved rounds of baseline, first scan (new catalog) and no-change rescan.

    Interleaving keeps each round's ratios fair on a shared, noisy machine.
    """
    rounds = []
    for i in range(repeat):
        baseline = timed(lambda: baseline_walk(library))
        stat_floor = timed(lambda: stat_walk(library))
        start = time.perf_counter()
        with Catalog.open(work / f"catalog{i}.sqlite") as cat:
            run_scan(cat, [library])
            first = time.perf_counter() - start
            rescan = timed(lambda cat=cat: run_scan(cat, [library]))  # type: ignore[misc]
        rounds.append(
            {
                "baseline_s": baseline,
                "first_s": first,
                "rescan_s": rescan,
                "stat_walk_s": stat_floor,
            }
        )
    return rounds


def report(files: int, rounds: list[dict[str, float]]) -> None:
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    speed = statistics.median(r["baseline_s"] / r["first_s"] for r in rounds)
    rescan = statistics.median(r["rescan_s"] / r["first_s"] for r in rounds)
    floor = statistics.median(r["rescan_s"] / r["stat_walk_s"] for r in rounds)
    rows = [
        ("files", f"{files}", f"median of {len(rounds)} interleaved rounds"),
        (
            "baseline: scandir + header open",
            f"{files / med['baseline_s']:,.0f} files/s",
            f"{med['baseline_s']:.3f} s",
        ),
        (
            "first scan (new catalog)",
            f"{files / med['first_s']:,.0f} files/s",
            f"{med['first_s']:.3f} s",
        ),
        ("no-change rescan", f"{files / med['rescan_s']:,.0f} files/s", f"{med['rescan_s']:.3f} s"),
        ("first scan / baseline throughput", f"{speed:.2f}", "target >= 0.5"),
        ("rescan / first scan time", f"{rescan:.3f}", "target <= 0.1"),
        ("rescan / bare scandir+stat walk", f"{floor:.2f}", "1.0 is the floor"),
    ]
    for name, value, note in rows:
        print(f"{name:<34} {value:>18}  {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every round")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "photoenhance-bench-scan"
    )
    args = parser.parse_args()
    library = make_library(args.cache / f"lib{args.files}", args.files)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as work:
        rounds = measure(library, Path(work), args.repeat)
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    if args.verbose:
        for r in rounds:
            print({k: round(v, 3) for k, v in r.items()})
    report(args.files, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
