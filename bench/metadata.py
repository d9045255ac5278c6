"""Metadata round trip: how much metadata an enhanced copy keeps.

Two sets: the camera files of ../shared/data/exif (when present), and files generated here
the way the tests make them (``tests/fixtures/imaging/trailer_fixtures.py``): JPEGs with
AFCP, FotoStation, Photo Mechanic, Samsung and unknown trailers, Google and Samsung Motion
Photos, MPO files (stereo, preview) and Ultra HDR photos (with and without a video).

For every JPEG/HEIF/TIFF it writes an enhanced copy (identity pixels) with
``write_enhanced_copy`` into a temporary mirror of the folder and counts what the verifier and
``exiftool -a -G1 -s`` see as preserved, lost or changed (documented updates excluded; what a
copy records in ``photoenhance:Dropped`` is counted apart, as "dropped, recorded"). As a
baseline measured in the same run it also re-saves each file the way most tools do
(Pillow ``save`` with the EXIF and ICC blobs) and diffs that with exiftool.

    .venv/bin/python bench/metadata.py [--root ../shared/data/exif] [--max-heif-mp 0]
        [--no-generated]
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "imaging"))

from photoenhance.core.errors import PhotoEnhanceError  # noqa: E402
from photoenhance.core.imaging import (  # noqa: E402
    OutputPolicy,
    Provenance,
    load_image,
    read_metadata,
    write_enhanced_copy,
)
from photoenhance.devtools.metadata_check import (  # noqa: E402
    exiftool_diff,
    recorded_drops,
    verify_metadata,
)

SUFFIXES = {".jpg", ".jpeg", ".heic", ".heif", ".tif", ".tiff"}
#: Files that are not expected to round trip, with the reason (none in the current corpus).
EXPECTED_FAILURES: dict[str, str] = {}
#: exiftool tags that live in a HEIF auxiliary image (HDR gain map), which is not copied.
KNOWN_AUX_LOSSES = {"XMP-HDRGainMap:HDRGainMapVersion", "XMP-x:XMPToolkit"}
PROV = Provenance("bench-identity", "0" * 64, 1.0)


def _pixels(src: Path, max_heif_mp: float) -> tuple[np.ndarray, bool]:
    meta = read_metadata(src)
    width, height = meta.size
    if meta.format == "HEIF" and max_heif_mp and width * height > max_heif_mp * 1e6:
        step = int(np.ceil(np.sqrt(width * height / (max_heif_mp * 1e6))))
        return load_image(src).pixels[::step, ::step], True
    return load_image(src).pixels, False


def _baseline(src: Path, out_dir: Path, size: tuple[int, int]) -> Path:
    """What a typical tool writes: Pillow re-save carrying only the EXIF and ICC blobs."""
    with Image.open(src) as im:
        fmt = "HEIF" if im.format in ("HEIF", "AVIF") else str(im.format)
        kwargs = {k: im.info[k] for k in ("exif", "icc_profile") if im.info.get(k)}
        buf = io.BytesIO()
        (im if im.size == size else im.resize(size)).save(buf, fmt, **kwargs)
    out = out_dir / f"baseline-{src.name}"
    out.write_bytes(buf.getvalue())
    return out


def _generated(lib: Path) -> None:
    import trailer_fixtures

    lib.mkdir(parents=True)
    trailer_fixtures.all_files(lib)


def run(root: Path | None, max_heif_mp: float) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-metadata-"))
    lib = work / "lib"
    if root is None:
        _generated(lib)
    else:
        shutil.copytree(root, lib)
    files = sorted(p for p in lib.rglob("*")
                   if p.is_file() and p.suffix.lower().strip('"') in SUFFIXES)
    totals = dict(tried=0, written=0, v_pres=0, v_lost=0, v_changed=0, e_pres=0, e_lost=0,
                  e_changed=0, agree=0, b_lost=0, b_changed=0, b_files_lossy=0, dropped=0)
    failures: list[str] = []
    start = time.perf_counter()
    for src in files:
        rel = src.relative_to(lib).as_posix()
        totals["tried"] += 1
        try:
            pixels, resized = _pixels(src, max_heif_mp)
            out = write_enhanced_copy(src, pixels, PROV, library_root=lib, policy=OutputPolicy())
        except PhotoEnhanceError as exc:
            failures.append(f"{rel}: {exc.reason} "
                            f"({EXPECTED_FAILURES.get(rel, 'UNEXPECTED')})")
            continue
        totals["written"] += 1
        for line in recorded_drops(read_metadata(out).xmp):
            totals["dropped"] += 1
            print(f"  {rel}: dropped, recorded: {line}")
        rep = verify_metadata(src, out)
        totals["v_pres"] += rep.preserved
        totals["v_lost"] += len(rep.lost)
        totals["v_changed"] += len(rep.changed)
        diff = exiftool_diff(src, out, resized=resized)
        size = (pixels.shape[1], pixels.shape[0])
        base = exiftool_diff(src, _baseline(src, work, size), resized=resized)
        if diff is not None and base is not None:
            lost = [t for t in diff.lost if t not in KNOWN_AUX_LOSSES]
            totals["e_pres"] += diff.preserved
            totals["e_lost"] += len(lost)
            totals["e_changed"] += len(diff.changed)
            totals["agree"] += int(not lost and not diff.changed) == int(rep.ok)
            totals["b_lost"] += len(base.lost)
            totals["b_changed"] += len(base.changed)
            totals["b_files_lossy"] += int(bool(base.lost or base.changed))
        if rep.lost or rep.changed:
            print(f"  {rel}: lost {rep.lost} changed {rep.changed}")
    elapsed = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    _report(totals, failures, elapsed, exiftool=shutil.which("exiftool") is not None)
    return 0 if totals["v_lost"] == 0 and totals["e_lost"] == 0 else 1


def _report(t: dict[str, int], failures: list[str], elapsed: float, exiftool: bool) -> None:
    print(f"files tried                      {t['tried']}")
    print(f"copies written                   {t['written']}")
    print(f"expected failures                {len(failures)}")
    for line in failures:
        print(f"  {line}")
    print(f"verifier: tags preserved         {t['v_pres']}")
    print(f"verifier: tags lost              {t['v_lost']}")
    print(f"verifier: tags changed           {t['v_changed']}")
    print(f"dropped, recorded in provenance  {t['dropped']}  (listed above; documented)")
    if not exiftool:
        print("exiftool: not installed (apt-get install libimage-exiftool-perl)")
    else:
        print(f"exiftool: tags preserved         {t['e_pres']}")
        print(f"exiftool: tags lost              {t['e_lost']}  (+ HDR gain-map aux tags, "
              "documented)")
        print(f"exiftool: tags changed           {t['e_changed']}")
        print(f"exiftool agrees with verifier    {t['agree']}/{t['written']} files")
        print(f"baseline (Pillow re-save): lost  {t['b_lost']}, changed {t['b_changed']}, "
              f"in {t['b_files_lossy']}/{t['written']} files")
        ratio = (t["e_lost"] + t["e_changed"]) / max(1, t["b_lost"] + t["b_changed"])
        print(f"lost+changed vs baseline         {ratio:.3f}x")
    print(f"wall time                        {elapsed:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO.parent / "shared" / "data" / "exif")
    parser.add_argument("--max-heif-mp", type=float, default=0.0,
                        help="shrink bigger HEIFs to this many MP (0: full size; HEVC is slow)")
    parser.add_argument("--no-generated", action="store_true",
                        help="skip the generated trailer / MPO / Ultra HDR files")
    args = parser.parse_args()
    logging.getLogger("photoenhance.core.imaging.write").setLevel(logging.ERROR)  # listed below
    status = 0
    if args.root.is_dir():
        print(f"== camera files: {args.root}")
        status |= run(args.root, args.max_heif_mp)
    else:
        print(f"no data at {args.root}; camera files skipped", file=sys.stderr)
    if not args.no_generated:
        print("== generated: trailers, Motion Photos, MPO, Ultra HDR")
        status |= run(None, args.max_heif_mp)
    return status


if __name__ == "__main__":
    sys.exit(main())
