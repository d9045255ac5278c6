"""photoenhance/core must never import Qt: the CLI and tests run it without a GUI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "photoenhance" / "core"
QT_ROOTS = {"PySide6", "PyQt5", "PyQt6", "PySide2", "shiboken6", "qtpy"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_sources_do_not_import_qt() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert files, "no core sources found"
    offenders = {str(f.relative_to(CORE)): sorted(_imported_roots(f) & QT_ROOTS) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_core_loads_no_qt_module() -> None:
    modules = [
        "photoenhance.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in sorted(CORE.rglob("*.py"))
        if p.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m.removesuffix('.__init__'))\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in "
        f"{sorted(QT_ROOTS)!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_check_catches_a_qt_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6 import QtCore\n", encoding="utf-8")
    assert _imported_roots(bad) & QT_ROOTS == {"PySide6"}
