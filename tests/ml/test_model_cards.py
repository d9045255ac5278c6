"""Every shipped model card has the same shape, and earlier versions live apart from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoenhance.core.ml.registry import open_checked

MODELS = Path(__file__).resolve().parents[2] / "models"
CARDS = sorted(MODELS.glob("*.json"))


def test_there_are_cards() -> None:
    assert {c.stem for c in CARDS} >= {"enhancer-v1", "improvability-v1"}


@pytest.mark.parametrize("card_file", CARDS, ids=lambda p: p.stem)
def test_one_card_shape(card_file: Path) -> None:
    card, sha = open_checked(card_file.with_suffix(".pt"))
    assert card["name"] == card_file.stem and card["file"] == card_file.stem + ".pt"
    assert card["sha256"] == sha and card["version"]
    assert isinstance(card["architecture"], dict) and "config" not in card
    assert card["architecture"]["class"] and isinstance(card["architecture"]["config"], dict)
    assert not [k for k in card if k.startswith("previous")]
    # a model trained from another records that one's training, but not a chain of them
    assert "initial_training" not in (card.get("training", {}).get("initial_training") or {})


def test_history_files_belong_to_shipped_cards_and_never_name_the_shipped_version() -> None:
    histories = sorted((MODELS / "history").glob("*.json"))
    assert histories
    for path in histories:
        card = json.loads((MODELS / path.name).read_text())
        assert card.get("history") in (None, f"history/{path.name}")
        history = json.loads(path.read_text())
        assert history["name"] == card["name"]
        for old in history["versions"]:
            assert old.get("version") != card["version"] or "note" in old
            assert "previous_version" not in old and "before_that" not in old
