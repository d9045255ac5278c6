"""Build the sdist and a wheel from it, install into a fresh venv, score with the shipped model.

Nothing is downloaded: the fresh venv gets only photoenhance (``--no-deps``); its
dependencies (torch, Qt, ...) come from the project venv through a ``.pth`` file appended
*after* the fresh site-packages, so the installed copy, not the source checkout or the
project's editable install, is the one that runs. Every command runs from a folder outside
the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
NEEDED = (
    "improvability-v1.pt", "improvability-v1.json", "enhancer-v1.pt", "enhancer-v1.json",
    "enhancer-v1-jpeg.pt", "enhancer-v1-jpeg.json",
    "enhancer-v1-noise.pt", "enhancer-v1-noise.json",
)

pytestmark = pytest.mark.slow


def _needed_models() -> None:
    missing = [n for n in NEEDED if not (MODELS / n).is_file()]
    if missing:
        pytest.skip(f"shipped model files not in models/ yet: {', '.join(missing)}")


def _run(cmd: list[str], cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PIP_NO_INDEX"] = "1"  # never reach for the network
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _fresh_venv(where: Path) -> tuple[Path, Path]:
    """A venv with no packages, that can import the project venv's packages as a fallback."""
    _run([sys.executable, "-m", "venv", "--without-pip", where], cwd=where.parent)
    py = where / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=where).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_project_venv_deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    return py, site


def _pip_install(py: Path, target: Path, cwd: Path) -> None:
    # pip and setuptools come from the project venv via the .pth; --ignore-installed keeps pip
    # from touching the editable photoenhance it sees there.
    _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
          "--ignore-installed", "-q", target], cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _needed_models()
    out = tmp_path_factory.mktemp("dist")
    code = ("import sys; from setuptools import build_meta as b; "
            "print(b.build_sdist(sys.argv[1]))")
    name = _run([sys.executable, "-c", code, out], cwd=REPO).stdout.strip().splitlines()[-1]
    sdist = out / name
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index",
          "--no-build-isolation", "-q", "-w", out, sdist], cwd=out, timeout=300)
    (wheel,) = out.glob("photoenhance-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_sdist_and_wheel_carry_models_and_resources(built):
    import tarfile

    with tarfile.open(built["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    with zipfile.ZipFile(built["wheel"]) as zf:
        wheel_names = set(zf.namelist())
    for n in NEEDED:
        assert f"models/{n}" in names
        assert f"photoenhance/_data/models/{n}" in wheel_names
    shipped_resources = {p.relative_to(REPO).as_posix() for p in (REPO / "resources").rglob("*")
                         if p.is_file()}
    for rel in shipped_resources:
        assert rel in names
        assert f"photoenhance/_data/{rel}" in wheel_names


def test_installed_wheel_scores_with_shipped_model(built, tmp_path):
    py, site = _fresh_venv(tmp_path / "venv")
    _pip_install(py, built["wheel"], cwd=tmp_path)
    where = _run([py, "-c", "import photoenhance, photoenhance.core.paths as p; "
                  "print(photoenhance.__file__); print(p.models_dir()); print(p.resources_dir())"],
                 cwd=tmp_path).stdout.split()
    assert [Path(w) for w in where] == [site / "photoenhance" / "__init__.py",
                                        site / "photoenhance" / "_data" / "models",
                                        site / "photoenhance" / "_data" / "resources"]

    from PIL import Image

    img = tmp_path / "img.png"
    Image.effect_noise((192, 128), 40).convert("RGB").save(img)
    exe = tmp_path / "venv" / "bin" / "photoenhance"
    proc = _run([exe, "score", img, "--json"], cwd=tmp_path, timeout=180)
    (result,) = json.loads(proc.stdout)
    assert result["path"].endswith("img.png")
    assert 0.0 <= result["score"] <= 1.0, result
    doctor = json.loads(_run([exe, "doctor", "--json"], cwd=tmp_path).stdout)
    assert Path(doctor["models_dir"]) == site / "photoenhance" / "_data" / "models"
    files = {m["file"]: m["matches_card"] for m in doctor["models"]}
    assert files.get("improvability-v1.pt") is True and files.get("enhancer-v1.pt") is True


def test_installing_the_sdist_ships_the_weights(built, tmp_path):
    py, site = _fresh_venv(tmp_path / "venv")
    _pip_install(py, built["sdist"], cwd=tmp_path)
    data = site / "photoenhance" / "_data"
    for n in NEEDED:
        assert (data / "models" / n).is_file()
    assert (MODELS / "improvability-v1.pt").read_bytes() == (
        data / "models" / "improvability-v1.pt").read_bytes()
