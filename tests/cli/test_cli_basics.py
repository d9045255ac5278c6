"""Top-level CLI behaviour: --version, doctor, bad arguments without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

from photoenhance import __version__
from photoenhance.cli.main import main


def test_version_subprocess() -> None:
    out = subprocess.run([sys.executable, "-m", "photoenhance", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"photoenhance {__version__}"


def test_unknown_command_is_one_line_exit_2() -> None:
    out = subprocess.run([sys.executable, "-m", "photoenhance", "frobnicate"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "invalid choice" in out.stderr


def test_doctor_json(tmp_path, capsys) -> None:
    assert main(["--catalog", str(tmp_path / "c.sqlite"), "doctor", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["photoenhance"] == __version__
    assert info["catalog"]["path"].endswith("c.sqlite")
    assert info["device"] in ("cpu",) or info["device"].startswith(("cuda", "mps"))
    for m in info["models"]:
        assert m["matches_card"] is not False, m


def test_gui_missing_root_is_usage_error(tmp_path, capsys) -> None:
    assert main(["--catalog", str(tmp_path / "c.sqlite"), "gui", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_cli_start_does_not_load_torch_or_qt() -> None:
    code = ("import sys\nfrom photoenhance.cli.main import build_parser\nbuild_parser()\n"
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
