"""Models the app loads once, lazily, on a worker thread (never on the GUI thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from photoenhance.core.errors import ModelError
from photoenhance.core.settings import Settings


def default_enhancer(settings: Settings | None = None) -> Any:
    """The shipped enhancer on the device and thread count chosen in the settings."""
    import torch  # loads only when needed

    from photoenhance.core.ml.infer import Enhancer

    settings = settings or Settings()
    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            "the GPU is chosen in Settings but no CUDA GPU is available; choose Automatic or CPU"
        )
    return Enhancer.load(device=None if settings.device == "auto" else settings.device)


def default_scorer() -> Any:
    from photoenhance.core.rank.scorer import Scorer

    return Scorer.load()


class ModelHolder:
    """Loads a model with ``factory`` the first time a worker asks; remembers a failure.

    :meth:`get` blocks while loading, so call it from workers only.
    """

    def __init__(self, factory: Callable[[], Any], what: str) -> None:
        self._factory = factory
        self._what = what
        self._lock = threading.Lock()
        self._model: Any = None
        self._error: str | None = None

    def get(self) -> Any:
        """The model; raises :class:`ModelError` with a readable reason when unavailable."""
        with self._lock:
            if self._model is None and self._error is None:
                try:
                    self._model = self._factory()
                except ModelError as exc:
                    self._error = f"{self._what} not available: {exc}"
            if self._error is not None:
                raise ModelError(self._error)
            return self._model

    def reset(self) -> None:
        """Forget the model (or the failure): the next :meth:`get` loads again."""
        with self._lock:
            self._model, self._error = None, None

    @property
    def loaded(self) -> bool:
        """Whether :meth:`get` would return at once (a model, or a remembered failure)."""
        return self._model is not None or self._error is not None

    def get_or_none(self) -> Any:
        try:
            return self.get()
        except ModelError:
            return None

    @property
    def error(self) -> str | None:
        return self._error
