"""The app's packages import only downward, and never the offline tools.

Layers, lowest first (a package may import its own layer and the ones below):

    errors, paths, progress, logs < imaging, catalog, settings < ml < rank < jobs < library
    < cli, gui

``photoenhance.train`` (training, labelling) and ``photoenhance.devtools`` (metadata checker,
screenshots) sit above the app: they import it, and core, cli and gui never import them.
Imports inside functions count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "photoenhance"

LAYERS: list[set[str]] = [
    {"core.errors", "core.paths", "core.progress", "core.logs"},
    {"core.imaging", "core.catalog", "core.settings"},
    {"core.ml"},
    {"core.rank"},
    {"core.jobs"},
    {"core.library"},
    {"cli", "gui"},
]
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
#: Never imported by the app.
OFFLINE = {"train", "devtools"}
APP_ROOTS = ("core", "cli", "gui")


def unit_of(module: str) -> str | None:
    """The layer unit of a dotted module name: ``core.ml`` for ``photoenhance.core.ml.infer``,
    ``gui`` for ``photoenhance.gui.app``; None for modules outside photoenhance and for the
    package root (``photoenhance``, ``photoenhance.core``, ``photoenhance.__version__``)."""
    parts = module.split(".")
    if parts[0] != "photoenhance" or len(parts) < 2:
        return None
    if parts[1] == "core":
        return "core." + parts[2] if len(parts) > 2 else None
    return None if parts[1].startswith("__") else parts[1]


def imported_units(path: Path, package: str) -> set[str]:
    """Every photoenhance unit that the file at ``path`` (in dotted ``package``) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from photoenhance.core import paths` imports core.paths: try each name as a
            # submodule, falling back to the module itself.
            names.extend(f"{base}.{alias.name}" for alias in node.names)
            names.append(base)
    units = {unit_of(n) for n in names}
    return {u for u in units if u is not None}


def _source_files() -> list[tuple[str, Path, str]]:
    """(unit, path, dotted package) for every app source file."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        unit = unit_of(module)
        if unit is not None:
            package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            out.append((unit, path, package))
    return out


def violations() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for unit, path, package in _source_files():
        for target in imported_units(path, package):
            if unit in OFFLINE or target == unit:
                continue
            if target in OFFLINE or LEVEL[target] > LEVEL[unit]:
                found.setdefault(str(path.relative_to(PKG)), []).append(target)
    return {k: sorted(v) for k, v in found.items()}


def test_every_app_package_has_a_layer() -> None:
    units = {unit for unit, _, _ in _source_files()}
    assert units - OFFLINE <= set(LEVEL), sorted(units - OFFLINE - set(LEVEL))
    assert {"core.ml", "core.rank", "core.progress", "cli", "gui", "train"} <= units


def test_no_upward_imports_and_no_offline_tools_in_the_app() -> None:
    assert violations() == {}


def test_importing_the_app_loads_no_offline_tool() -> None:
    """Catches what the source scan cannot, e.g. an ``importlib`` import by name."""
    modules = [
        ".".join(p.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__")
        for root in APP_ROOTS
        for p in sorted((PKG / root).rglob("*.py"))
        if p.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[:2] in "
        f"{[['photoenhance', o] for o in sorted(OFFLINE)]!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_front_ends_hold_no_sql() -> None:
    """The CLI and the GUI format what core's queries return; they never build queries."""
    found = []
    for path in sorted([*(PKG / "cli").rglob("*.py"), *(PKG / "gui").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(PKG)}: {n}" for n in names
                      if n.split(".")[0] in ("sqlalchemy", "sqlite3")]
    assert found == []


def test_the_check_sees_upward_lazy_and_relative_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from photoenhance.core import jobs\n"
                   "def f():\n"
                   "    from photoenhance.train import enhancer\n"
                   "    from ..rank import scorer\n", encoding="utf-8")
    assert imported_units(bad, "photoenhance.core.ml") == {"core.jobs", "train", "core.rank"}
    assert unit_of("photoenhance.__version__") is None
    assert unit_of("numpy.core.multiarray") is None
