"""The CLI lists exactly the commands it has modules for."""

from __future__ import annotations

from pathlib import Path

from photoenhance.cli.main import COMMANDS, build_parser

COMMANDS_DIR = Path(__file__).resolve().parents[2] / "photoenhance" / "cli" / "commands"


def test_every_listed_command_has_a_module_and_every_module_is_listed() -> None:
    modules = {p.stem for p in COMMANDS_DIR.glob("*.py") if p.stem != "__init__"}
    assert set(COMMANDS) == modules


def test_every_command_registers() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) >= set(COMMANDS)
