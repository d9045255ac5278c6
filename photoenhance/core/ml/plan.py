"""One enhancement plan per photo: what the enhancer will do, decided once.

:func:`plan_photo` measures the photo (:func:`photoenhance.core.ml.autostrength.measure`)
and fixes everything that follows from it:

- the **need**: the automatic strength, which multiplies the user's strength (0: the photo is
  clean and comes back as it is);
- the **route**: the photo's one strong fault, which picks a specialist network;
- the **blur** hint the net is given;
- the **noise** level, which weighs the do-no-harm guard (:func:`guard.weight_for_noise`),
  and whether the guard's pattern check applies (denoising only).

The batch (:mod:`photoenhance.core.jobs.enhance`) and the compare view's preview
(:mod:`photoenhance.gui.preview`) both take this plan, so a preview looks as the copy will.
:meth:`photoenhance.core.ml.infer.Enhancer.plan` is the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from photoenhance.core.ml import autostrength


@dataclass(frozen=True)
class EnhancePlan:
    """What to do with one photo. The default (not measured) is the plain model at the
    user's strength, the general network, no blur hint and the guard at full weight."""

    #: multiplies the user's strength (the automatic strength; 1 when not measured)
    need: float = 1.0
    #: the one strong fault (a :data:`autostrength.ROUTES` name) or None: the general net
    route: str | None = None
    #: the net's blur hint, 0-1 (None: not measured, the net is told 0)
    blur: float | None = None
    #: the luma noise sigma (8-bit units) that weighs the guard (None: full weight)
    noise: float | None = None
    #: what the need answers to, in a photographer's words ("" when left alone)
    reason: str = ""
    #: whether the photo was measured (False: the settings turned automatic strength off)
    measured: bool = False

    @property
    def guard_weight(self) -> float:
        """The weight of the guard's detail and pattern checks for this photo."""
        from photoenhance.core.ml.guard import weight_for_noise  # imports torch

        return weight_for_noise(self.noise)

    @property
    def patterns(self) -> bool:
        """Whether the guard checks for wiped repeating patterns (denoising only: a JPEG or
        blur correction is structured by nature, along the 8 x 8 grid and the edges)."""
        return self.route not in ("jpeg", "blur")

    def at_scale(self, scale: float) -> EnhancePlan:
        """The plan for a copy of the photo reduced by ``scale`` (<= 1), as a zoomed-out
        preview enhances: its blur reads that much smaller (roughly: the hint is a ramp), and a
        blurred photo reduced until it no longer reads blurred goes to the general net. The
        need and the noise weight stay the whole photo's: they are decisions about it."""
        if not self.measured or scale >= 1.0:
            return self
        blur = None if self.blur is None else self.blur * scale
        route = self.route
        if route == "blur" and (blur or 0.0) < autostrength.ROUTE_MIN:
            route = None
        return replace(self, blur=blur, route=route)


def plan_photo(image: np.ndarray, auto: bool = True) -> EnhancePlan:
    """The plan for ``image`` (the whole photo, as stored: the JPEG grid is measured there);
    with ``auto`` False, the unmeasured plan (nothing is measured)."""
    if not auto:
        return EnhancePlan()
    m = autostrength.measure(image)
    return EnhancePlan(need=m.strength, route=m.route, blur=m.blur, noise=m.noise_sigma,
                       reason=m.reason, measured=True)
