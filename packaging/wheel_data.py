"""setuptools build step that puts the shipped ``models/`` and ``resources/`` into the wheel.

pyproject.toml names ``BuildPyWithData`` as the ``build_py`` command. After the normal
``build_py`` it copies the repository's ``models/*.pt``, ``models/*.json`` and everything
under ``resources/`` into ``photoenhance/_data/`` in the build folder, where
``photoenhance.core.paths.models_dir()`` / ``resources_dir()`` look in an installed copy. The
sdist carries the same folders through MANIFEST.in, so a wheel built from the sdist (what
``pip install photoenhance-*.tar.gz`` does) gets them the same way.

Editable installs (``pip install -e .``) are left alone: there the source checkout's own
``models/`` and ``resources/`` are found.

This file is loaded by setuptools from its path (``packaging.wheel_data.BuildPyWithData``);
it is not imported as part of the ``packaging`` library.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
#: folder name -> glob patterns (relative to that folder) shipped in the wheel
SHIPPED = {
    "models": ("*.pt", "*.json"),
    "resources": ("**/*",),
}
#: never shipped, wherever they are
SKIP_NAMES = {".gitignore", ".gitkeep", ".DS_Store", "__pycache__"}


def shipped_files(root: Path = ROOT) -> list[tuple[Path, Path]]:
    """(source file, path relative to ``photoenhance/_data``) for every shipped file."""
    out: list[tuple[Path, Path]] = []
    for name, patterns in SHIPPED.items():
        base = root / name
        if not base.is_dir():
            continue
        seen: set[Path] = set()
        for pattern in patterns:
            for src in sorted(base.glob(pattern)):
                rel = src.relative_to(base)
                if not src.is_file() or src in seen or SKIP_NAMES & set(rel.parts):
                    continue
                seen.add(src)
                out.append((src, Path(name) / rel))
    return out


class BuildPyWithData(build_py):
    """``build_py`` plus a copy of models/ and resources/ into ``photoenhance/_data``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        data = Path(self.build_lib) / "photoenhance" / "_data"
        if data.exists():  # drop files left from an earlier build (e.g. a retired model)
            shutil.rmtree(data)
        for src, rel in shipped_files():
            dst = data / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(src), str(dst), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            data = Path(self.build_lib) / "photoenhance" / "_data"
            outputs += [str(data / rel) for _, rel in shipped_files()]
        return outputs
