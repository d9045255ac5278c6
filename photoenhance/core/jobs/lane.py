"""One inference lane: a long-lived worker thread that owns the models and runs their work.

The app's models (the enhancer and the ranker's scorer) are used on one thread only, the
lane's, as the style guide asks:

- it calls ``torch.set_num_threads`` once when it starts (and again only when the setting
  changes), and runs every job inside ``torch.inference_mode()``, which is per-thread;
- jobs run one at a time, in order; each has a :class:`CancelToken`, checked before it
  starts (the enhancer and the batch check it again between tiles and between images);
- a job submitted with a ``key`` replaces a queued job with the same key (a newer preview
  of the same view drops the stale one);
- an *interactive* job (a preview, a scoring call) also runs between two photos of a running
  batch (:func:`between_images`), so the compare view answers while a batch runs.

Other threads reach a model through :meth:`InferenceLane.remote`: its methods run on the lane
while the caller waits (the scan's scoring, the watch service's ingest thread). The lane has
no Qt: the GUI turns its jobs into signals in :mod:`photoenhance.gui.bridge`. The CLI needs
no lane: there the calling thread owns the model.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any, TypeVar

from photoenhance.core.errors import Cancelled, ModelError
from photoenhance.core.progress import CancelToken

log = logging.getLogger(__name__)

T = TypeVar("T")

_current = threading.local()  # .lane: the InferenceLane whose worker this thread is


class LazyModel:
    """Loads a model with ``factory`` the first time it is asked for; remembers a failure.

    :meth:`get` blocks while loading: the lane calls it on its own thread.
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

    def get_or_none(self) -> Any:
        try:
            return self.get()
        except ModelError:
            return None

    def reset(self) -> None:
        """Forget the model (or the failure): the next :meth:`get` loads again."""
        with self._lock:
            self._model, self._error = None, None

    @property
    def loaded(self) -> bool:
        """Whether :meth:`get` would return at once (a model, or a remembered failure)."""
        return self._model is not None or self._error is not None

    @property
    def error(self) -> str | None:
        return self._error


@dataclass
class _Job:
    run: Callable[[CancelToken], Any]
    future: Future[Any]
    cancel: CancelToken
    key: str | None
    interactive: bool
    on_dropped: Callable[[], None] | None


class InferenceLane:
    """The one thread that runs the models (see the module docstring).

    ``models`` names each :class:`LazyModel` (``"enhancer"``, ``"scorer"``); ``threads``
    is torch's intra-op thread count (0: torch's default). The worker starts with the first
    job, so an app that never enhances or scores never imports torch.
    """

    def __init__(self, models: Mapping[str, LazyModel], threads: int = 0,
                 name: str = "photoenhance-inference") -> None:
        self.models = dict(models)
        self._threads, self._applied = threads, -1
        self._name = name
        self._queue: deque[_Job] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    # --- from any thread ------------------------------------------------------------------
    def submit(self, run: Callable[[CancelToken], T], *, cancel: CancelToken | None = None,
               key: str | None = None, interactive: bool = False,
               on_dropped: Callable[[], None] | None = None) -> Future[T]:
        """Queue ``run(cancel)``; a queued job with the same ``key`` is dropped (its future
        cancelled, its ``on_dropped`` called). ``on_dropped`` is also called when the job's
        token is cancelled before it starts, or the lane closes first."""
        job = _Job(run, Future(), cancel or CancelToken(), key, interactive, on_dropped)
        stale: list[_Job] = []
        with self._wake:
            if self._closed:
                raise Cancelled("the inference lane is closed")
            if key is not None:
                stale = [j for j in self._queue if j.key == key]
                for j in stale:
                    self._queue.remove(j)
            self._queue.append(job)
            self._start()
            self._wake.notify()
        for j in stale:
            _drop(j)
        return job.future

    def call(self, run: Callable[[CancelToken], T], cancel: CancelToken | None = None) -> T:
        """Run ``run(cancel)`` on the lane and wait for it (at once when already there)."""
        if self.on_lane():
            return run(cancel or CancelToken())
        try:
            return self.submit(run, cancel=cancel, interactive=True).result()
        except CancelledError:
            raise Cancelled("cancelled") from None

    def model(self, name: str) -> Any:
        """The model ``name`` (loaded on the lane on first use); raises :class:`ModelError`."""
        if not self.on_lane():
            return self.call(lambda _c: self.model(name))
        import torch

        with torch.inference_mode(False):  # its weights are ordinary tensors
            return self.models[name].get()

    def model_or_none(self, name: str) -> Any:
        try:
            return self.model(name)
        except ModelError:
            return None

    def remote(self, name: str) -> Remote:
        """Model ``name`` for other threads: its methods run on the lane."""
        return Remote(self, name)

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` torch threads from the next job on (0: leave torch's default)."""
        self._threads = threads

    def on_lane(self) -> bool:
        return getattr(_current, "lane", None) is self

    def close(self, timeout: float = 10.0) -> bool:
        """Drop the queued jobs, let the running one finish (cancel it first), stop the
        worker; False if it is still busy after ``timeout`` seconds."""
        with self._wake:
            self._closed = True
            dropped = list(self._queue)
            self._queue.clear()
            self._wake.notify_all()
        for j in dropped:
            _drop(j)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # --- on the lane ----------------------------------------------------------------------
    def run_interactive(self) -> None:
        """Run the queued interactive jobs now (called on the lane between two photos)."""
        while True:
            with self._wake:
                job = next((j for j in self._queue if j.interactive), None)
                if job is None:
                    return
                self._queue.remove(job)
            self._run(job)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        _current.lane = self
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
            self._run(job)

    def _apply_threads(self) -> None:
        if self._threads != self._applied:
            import torch

            if self._threads > 0:
                torch.set_num_threads(self._threads)
            self._applied = self._threads

    def _run(self, job: _Job) -> None:
        if job.cancel.cancelled:
            _drop(job)
            return
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            self._apply_threads()
            import torch

            with torch.inference_mode():
                result = job.run(job.cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on it
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)


def _drop(job: _Job) -> None:
    if not job.future.cancel() and not job.future.done():
        job.future.set_exception(Cancelled("dropped"))
    if job.on_dropped is not None:
        try:
            job.on_dropped()
        except Exception:  # a listener that went away must not stop the lane
            log.exception("Dropping an inference job failed")


def between_images() -> None:
    """On an inference lane: run its queued interactive jobs (previews, scoring calls) before
    the next photo. Elsewhere (the CLI) nothing. The batch calls it between two photos."""
    lane: InferenceLane | None = getattr(_current, "lane", None)
    if lane is not None:
        lane.run_interactive()


class Remote:
    """A lane's model for other threads: :meth:`get` returns it wrapped so that every
    method call runs on the lane, the caller waiting. Attributes that are not methods
    (``model_id``, ``version``) are read directly."""

    def __init__(self, lane: InferenceLane, name: str) -> None:
        self._lane, self._name = lane, name

    def get(self) -> Any:
        """The wrapped model (loaded on the lane); raises :class:`ModelError`."""
        return _OnLane(self._lane, self._lane.model(self._name))

    def get_or_none(self) -> Any:
        model = self._lane.model_or_none(self._name)
        return None if model is None else _OnLane(self._lane, model)

    @property
    def error(self) -> str | None:
        return self._lane.models[self._name].error


class _OnLane:
    def __init__(self, lane: InferenceLane, model: Any) -> None:
        self._lane, self._model = lane, model

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._model, attr)
        if not callable(value):
            return value

        def on_lane(*args: Any, **kwargs: Any) -> Any:
            return self._lane.call(lambda _c: value(*args, **kwargs))

        return on_lane
