"""Which factors get a chip: only those that account for a material part of the gain.

The factor heads say how strong each fault looks (0-1); the gain head says how much the app
would actually gain. A chip is a promise that the app can fix that fault, so a factor shows
only when its share of the predicted gain is material:

- the restorer's factors (noise, blur, jpeg) share the predicted restore gain in proportion
  to their strengths; the tone factors (exposure, colour, clipping) share the tone step's
  predicted gain, and only when that gain is known (the tone step is on);
- a factor shows when its strength is at least :data:`MIN_STRENGTH` and its share of the
  gain at least :data:`MATERIAL_DB`; at most :data:`MAX_CHIPS`, largest share first.

So a clean photo (no predicted gain) gets no chip whatever its heads say, and a blown-out
photo the restorer cannot help gets no "jpeg" chip.
"""

from __future__ import annotations

from collections.abc import Mapping

RESTORE = ("noise", "blur", "jpeg")
TONE = ("exposure", "colour", "clipping")
#: a factor weaker than this is not named, whatever the gain
MIN_STRENGTH = 0.15
#: the smallest share of the predicted gain (dB) that earns a chip
MATERIAL_DB = 0.5
MAX_CHIPS = 2


def _shares(factors: Mapping[str, float | None], names: tuple[str, ...],
            gain_db: float | None) -> dict[str, float]:
    vals = {k: float(v) for k in names if (v := factors.get(k)) is not None}
    total = sum(vals.values())
    if gain_db is None or gain_db <= 0 or total <= 0:
        return {}
    return {k: gain_db * v / total for k, v in vals.items() if v >= MIN_STRENGTH}


def chips(factors: Mapping[str, float | None] | None, gain_db: float | None,
          tone_gain_db: float | None = None) -> list[str]:
    """The factors worth a chip, largest share of the gain first (at most two).

    Args:
        factors: strength per factor name (0-1; missing or ``None`` ones are skipped).
        gain_db: the predicted gain of the restorer (``None``: unknown, no chips).
        tone_gain_db: the tone step's predicted gain, when the tone step is on.
    """
    if not factors:
        return []
    share = {**_shares(factors, RESTORE, gain_db), **_shares(factors, TONE, tone_gain_db)}
    keep = {k: v for k, v in share.items() if v >= MATERIAL_DB}
    return sorted(keep, key=lambda k: -keep[k])[:MAX_CHIPS]
