"""Render resources/icons/photoenhance.svg to the PNG sizes desktops and the app use.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py [--check]

Writes resources/icons/photoenhance-<N>.png for N in SIZES (Qt's SVG renderer, which is in
PySide6-Essentials, so nothing else is needed). ``--check`` only verifies that every PNG exists
with the right size, and exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "photoenhance.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def png_path(size: int, icons: Path = ICONS) -> Path:
    return icons / f"photoenhance-{size}.png"


def render(svg: Path = SVG, icons: Path = ICONS, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: cannot parse {svg}")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        out = png_path(size, icons)
        if not image.convertToFormat(QImage.Format.Format_ARGB32).save(str(out), "PNG"):
            raise SystemExit(f"render_icons: cannot write {out}")
        written.append(out)
    return written


def check(icons: Path = ICONS, sizes: tuple[int, ...] = SIZES) -> list[str]:
    """Problems with the rendered PNGs (empty when all are present at the right size)."""
    from PIL import Image

    problems = []
    for size in sizes:
        path = png_path(size, icons)
        if not path.is_file():
            problems.append(f"missing {path}")
            continue
        with Image.open(path) as im:
            if im.size != (size, size):
                problems.append(f"{path} is {im.size}, want {size}x{size}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the PNGs")
    args = parser.parse_args(argv)
    if not args.check:
        for path in render():
            print(path.relative_to(ICONS.parent.parent))
    problems = check()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
