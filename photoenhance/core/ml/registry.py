"""Where shipped model files live, and how their model cards are read and checksummed.

Both models (the enhancer and the improvability ranker) load through :func:`open_checked`.
A model ``NAME`` is two files in ``models/``: ``NAME.pt`` (weights, loaded with
``torch.load(..., weights_only=True)``) and ``NAME.json``, its model card, one shape for every
model: ``name``, ``version``, ``file``, ``sha256`` of the ``.pt`` file, ``architecture``
(``{"class": ..., "config": {...}, ...}``), then the training data, training and metrics of
this version. Earlier versions are recorded in ``models/history/NAME.json``, which the app
never reads.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from photoenhance.core.errors import ModelError
from photoenhance.core.paths import models_dir

ENHANCER = "enhancer-v1"


def weights_path(name: str = ENHANCER) -> Path:
    return models_dir() / f"{name}.pt"


def card_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_card(weights: Path) -> dict[str, Any]:
    """Read the model card next to ``weights``; raise ModelError if absent or unreadable."""
    path = card_path(weights)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"Model card {path.name} is missing next to {weights}.") from e
    except (OSError, ValueError) as e:
        raise ModelError(f"Model card {path} cannot be read: {e}") from e
    if not isinstance(card, dict):
        raise ModelError(f"Model card {path} is not a JSON object.")
    return card


def verify(weights: Path, card: dict[str, Any]) -> str:
    """Check the weights file exists and matches the card's sha256; return the digest."""
    if not weights.is_file():
        raise ModelError(
            f"Model weights {weights} are missing. Reinstall photoenhance, or train them with "
            "`python -m photoenhance.train enhancer`."
        )
    digest = sha256_file(weights)
    expected = card.get("sha256")
    if expected != digest:
        raise ModelError(
            f"Model weights {weights.name} do not match their model card (sha256 {digest[:12]}"
            f"... expected {str(expected)[:12]}...). The file is damaged or from another "
            "version; reinstall photoenhance."
        )
    return digest


def open_checked(weights: Path) -> tuple[dict[str, Any], str]:
    """The model card of ``weights`` and the weights' sha256, checked against each other;
    ModelError when either file is missing, unreadable or they do not match."""
    card = read_card(weights)
    return card, verify(weights, card)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_card(weights: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``card`` next to ``weights`` with its sha256 and size filled in."""
    card = {
        **card,
        "file": weights.name,
        "sha256": sha256_file(weights),
        "size_bytes": weights.stat().st_size,
    }
    write_atomic(card_path(weights), (json.dumps(card, indent=2) + "\n").encode())
    return card
