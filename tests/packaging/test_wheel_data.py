"""The build_py hook's list of shipped files (fast; the full wheel test is test_wheel.py)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _hook():
    spec = importlib.util.spec_from_file_location("wheel_data",
                                                  REPO / "packaging" / "wheel_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pyproject_uses_the_hook():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["cmdclass"]["build_py"] == \
        "packaging.wheel_data.BuildPyWithData"


def test_shipped_files_cover_models_and_resources(tmp_path):
    (tmp_path / "models").mkdir()
    for name in ("a.pt", "a.json", "notes.txt", "a.pt.tmp"):
        (tmp_path / "models" / name).write_text("x")
    (tmp_path / "resources" / "icons" / "__pycache__").mkdir(parents=True)
    (tmp_path / "resources" / "icons" / "i.png").write_text("x")
    (tmp_path / "resources" / "icons" / "__pycache__" / "c.pyc").write_text("x")
    (tmp_path / "resources" / ".gitkeep").write_text("")
    got = {rel.as_posix() for _, rel in _hook().shipped_files(tmp_path)}
    assert got == {"models/a.pt", "models/a.json", "resources/icons/i.png"}


def test_shipped_files_of_this_checkout_include_icons_and_desktop_files():
    got = {rel.as_posix() for _, rel in _hook().shipped_files()}
    assert "resources/icons/photoenhance.svg" in got
    assert "resources/photoenhance.desktop" in got
    assert {p.relative_to(REPO).as_posix() for p in (REPO / "models").glob("*.pt")} <= got
