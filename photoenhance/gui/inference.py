"""The GUI's inference lane and the models it owns: the shipped enhancer and scorer.

Both load lazily, on the lane's thread (:class:`photoenhance.core.jobs.lane.InferenceLane`),
never on the GUI thread; tests pass tiny models instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from photoenhance.core.errors import ModelError
from photoenhance.core.jobs.lane import InferenceLane, LazyModel
from photoenhance.core.settings import Settings

ENHANCER, SCORER = "enhancer", "scorer"


def default_enhancer(settings: Settings | None = None) -> Any:
    """The shipped enhancer on the device chosen in the settings (the lane sets the thread
    count)."""
    import torch  # loads only when needed

    from photoenhance.core.ml.infer import Enhancer

    settings = settings or Settings()
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            "the GPU is chosen in Settings but no CUDA GPU is available; choose Automatic or CPU"
        )
    return Enhancer.load(device=None if settings.device == "auto" else settings.device)


def default_scorer() -> Any:
    from photoenhance.core.rank.scorer import Scorer

    return Scorer.load()


def new_lane(settings: Callable[[], Settings], enhancer: LazyModel | None = None,
             scorer: LazyModel | None = None) -> InferenceLane:
    """The lane owning ``enhancer`` and ``scorer`` (default: the shipped models, the
    enhancer on the device ``settings()`` names when it loads)."""
    models = {
        ENHANCER: enhancer or LazyModel(lambda: default_enhancer(settings()), "Enhancement model"),
        SCORER: scorer or LazyModel(default_scorer, "Scores"),
    }
    return InferenceLane(models, threads=settings().threads)
