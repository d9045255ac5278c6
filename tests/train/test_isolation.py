"""The app never imports the offline training package ``photoenhance.train``."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "photoenhance"
#: training code that may use it (the trainer's camera-v2 option)
ALLOWED = (PKG / "train", PKG / "core" / "ml" / "train")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_no_app_module_imports_the_training_package() -> None:
    files = [p for p in PKG.rglob("*.py") if not any(p.is_relative_to(a) for a in ALLOWED)]
    assert len(files) > 20
    bad = {
        str(p.relative_to(PKG)): sorted(
            n for n in _imports(p) if n.startswith("photoenhance.train")
        )
        for p in files
    }
    assert not {k: v for k, v in bad.items() if v}
    assert "photoenhance.train.camera" in _imports(PKG / "core" / "ml" / "train" / "enhancer.py")
