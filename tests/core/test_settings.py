from __future__ import annotations

import json
from pathlib import Path

from photoenhance.core.settings import SETTINGS_VERSION, Settings, load_settings, save_settings


def test_defaults_when_missing(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "nope.json")
    assert s.threshold == 0.4 and s.output_location == "mirror"


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_settings(Settings(threshold=0.55, strength=0.7, watched_roots=["/a"]), path)
    s = load_settings(path)
    assert (s.threshold, s.strength, s.watched_roots) == (0.55, 0.7, ["/a"])
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_old_and_foreign_keys_are_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"threshold": 0.3, "from_the_future": 1}), encoding="utf-8")
    s = load_settings(path)
    assert s.threshold == 0.3 and s.version == SETTINGS_VERSION


def test_corrupt_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json", encoding="utf-8")
    assert load_settings(path) == Settings()
