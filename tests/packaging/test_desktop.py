"""Desktop integration files: icons, the .desktop entry and the AppStream metainfo."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import photoenhance

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "resources"
DESKTOP = RESOURCES / "photoenhance.desktop"
METAINFO = RESOURCES / "io.github.photoenhance.metainfo.xml"
SCREENSHOTS = ("library.png", "compare.png", "batch.png", "settings.png")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install desktop-file-utils appstream)")
    return path


def test_desktop_file_validates():
    proc = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_metainfo_validates_strictly():
    proc = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", "--strict",
                           "--pedantic", str(METAINFO)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "W:" not in proc.stdout and "I:" not in proc.stdout, proc.stdout


def test_desktop_metainfo_and_icons_agree():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(DESKTOP, encoding="utf-8")
    icon = entry["Desktop Entry"]["Icon"]
    assert (RESOURCES / "icons" / f"{icon}.svg").is_file()
    assert entry["Desktop Entry"]["Exec"].split()[0] == "photoenhance"

    root = ET.parse(METAINFO).getroot()
    assert root.findtext("launchable") == DESKTOP.name
    assert METAINFO.name == f"{root.findtext('id')}.metainfo.xml"
    releases = root.findall("releases/release")
    assert releases[0].get("version") == photoenhance.__version__
    assert (releases[-1].get("version"), releases[-1].get("date")) == ("0.1.0", "2026-11-23")
    images = [el.text or "" for el in root.findall("screenshots/screenshot/image")]
    assert [i.rsplit("/", 1)[-1] for i in images] == list(SCREENSHOTS)
    assert root.find("content_rating").get("type") == "oars-1.1"


def test_icons_rendered_at_every_size():
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_icons",
                                                  REPO / "packaging" / "render_icons.py")
    assert spec is not None and spec.loader is not None
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    assert render_icons.check() == []
    assert render_icons.SIZES == (16, 32, 48, 64, 128, 256, 512)


def test_svg_renders_and_png_is_opaque_in_the_middle(tmp_path):
    from PIL import Image
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(RESOURCES / "icons" / "photoenhance.svg")).isValid()
    with Image.open(RESOURCES / "icons" / "photoenhance-64.png") as im:
        rgba = im.convert("RGBA")
        assert rgba.getpixel((32, 32))[3] == 255
        assert rgba.getpixel((0, 0))[3] == 0  # rounded corner is transparent


def test_install_desktop_script_installs_valid_entry_and_uninstalls(tmp_path):
    bindir = tmp_path / "my apps"
    bindir.mkdir()
    exe = bindir / "photoenhance"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    prefix = tmp_path / "share"
    script = REPO / "packaging" / "install_desktop.sh"
    subprocess.run(["bash", str(script), "--prefix", str(prefix), "--exec", str(exe)],
                   check=True, capture_output=True, timeout=60)
    desktop = prefix / "applications" / "photoenhance.desktop"
    assert f'Exec="{exe}" gui' in desktop.read_text()
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert (prefix / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "photoenhance.png"
                ).is_file()
    assert (prefix / "icons/hicolor/scalable/apps/photoenhance.svg").is_file()
    assert (prefix / "metainfo" / METAINFO.name).is_file()
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout
    subprocess.run(["bash", str(script), "--prefix", str(prefix), "--uninstall"], check=True,
                   capture_output=True, timeout=60)
    assert not desktop.exists()
    assert not list(prefix.rglob("photoenhance*"))
