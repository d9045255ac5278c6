"""One answer, everywhere in the GUI, to "did enhancing this photo help?".

The do-no-harm guard stores a verdict (``improved``, ``unchanged``, ``not improved`` or
``blocked``) and a predicted gain in dB on each job item. Rows from before it, or from a
catalog without those columns, fall back to what the catalog already records: the verified
gain of the copy (``verified_delta``) and the ``not_improved`` status.
"""

from __future__ import annotations

from typing import Any

from photoenhance.core.jobs.verify import NOT_IMPROVED, NOT_IMPROVED_DB
from photoenhance.core.rank.scale import score_to_gain

VERDICTS = ("improved", "unchanged", "not improved", "blocked")
#: Colour of each verdict (text and chips), on the dark theme.
VERDICT_COLOURS = {"improved": "#7bd88f", "unchanged": "#a0a0a0",
                   "not improved": "#ffb347", "blocked": "#ff6b6b"}


def item_verdict(item: Any) -> str | None:
    """The verdict of a job item, batch row or library row; None when nothing says yet."""
    verdict = getattr(item, "verdict", None)
    if verdict:
        text = str(getattr(verdict, "value", verdict)).replace("_", " ")
        return text if text in VERDICTS else None
    status = str(getattr(item, "status", "") or "")
    if status == NOT_IMPROVED or getattr(item, "not_improved", False):
        return "not improved"
    delta = getattr(item, "verified_delta", None)
    if delta is not None and (status in ("", "done") or getattr(item, "output", None)):
        return "not improved" if float(delta) < NOT_IMPROVED_DB else "improved"
    return None


def item_gain(item: Any) -> float | None:
    """The predicted gain in dB: the guard's when stored, else the ranker's (the catalog's
    ``gain_db`` behind the score, or, for rows without one, the score's inverse)."""
    for name in ("predicted_gain", "gain_db"):
        gain = getattr(item, name, None)
        if gain is not None:
            return round(float(gain), 2)
    score = getattr(item, "score", None)
    if score is None or not 0.0 < float(score) < 1.0:
        return None
    return round(score_to_gain(float(score)), 2)


def format_gain(gain: float | None) -> str:
    return "" if gain is None else f"{gain:+.1f} dB"


def describe(item: Any) -> str:
    """``"improved · +1.4 dB predicted"``, or what is known of it."""
    verdict, gain = item_verdict(item), item_gain(item)
    parts = [verdict or "not verified"]
    if gain is not None:
        parts.append(f"{format_gain(gain)} predicted")
    delta = getattr(item, "verified_delta", None)
    if delta is not None:
        parts.append(f"{float(delta):+.1f} dB measured")
    return "  ·  ".join(parts)
