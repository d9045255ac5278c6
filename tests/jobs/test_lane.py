"""The inference lane: one thread, serial jobs, stale previews dropped, models on the lane."""

from __future__ import annotations

import threading

import pytest
import torch

from photoenhance.core.errors import Cancelled, ModelError
from photoenhance.core.jobs.lane import InferenceLane, LazyModel, between_images
from photoenhance.core.progress import CancelToken


class Model:
    model_id = "m"

    def where(self) -> tuple[str, bool]:
        return threading.current_thread().name, torch.is_inference_mode_enabled()


@pytest.fixture
def lane():
    made = InferenceLane({"m": LazyModel(Model, "Model")})
    yield made
    made.close()


def _blocked(lane: InferenceLane) -> threading.Event:
    """Keep the lane busy until the returned event is set."""
    release, started = threading.Event(), threading.Event()
    lane.submit(lambda _c: (started.set(), release.wait(10)))
    assert started.wait(10)
    return release


def test_jobs_run_serially_on_one_thread_in_inference_mode(lane: InferenceLane) -> None:
    seen: list[tuple[str, bool]] = []
    futures = [lane.submit(lambda _c, i=i: seen.append((i, *lane.model("m").where())))
               for i in range(5)]
    for f in futures:
        f.result(10)
    assert [s[0] for s in seen] == list(range(5))
    assert {s[1:] for s in seen} == {("photoenhance-inference", True)}


def test_torch_threads_are_set_once_on_the_lane(monkeypatch) -> None:
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(torch, "set_num_threads",
                        lambda n: calls.append((n, threading.current_thread().name)))
    lane = InferenceLane({}, threads=3)
    for _ in range(3):
        lane.submit(lambda _c: None).result(10)
    lane.set_threads(2)
    lane.submit(lambda _c: None).result(10)
    lane.close()
    assert calls == [(3, "photoenhance-inference"), (2, "photoenhance-inference")]


def test_a_newer_keyed_job_replaces_the_queued_one(lane: InferenceLane) -> None:
    release = _blocked(lane)
    ran, dropped = [], []
    first = lane.submit(lambda _c: ran.append(1), key="preview",
                        on_dropped=lambda: dropped.append(1))
    other = lane.submit(lambda _c: ran.append("batch"))
    second = lane.submit(lambda _c: ran.append(2), key="preview")
    release.set()
    second.result(10)
    other.result(10)
    assert ran == ["batch", 2] and dropped == [1] and first.cancelled()


def test_a_job_cancelled_while_queued_never_starts(lane: InferenceLane) -> None:
    release = _blocked(lane)
    token, dropped = CancelToken(), []
    fut = lane.submit(lambda _c: pytest.fail("ran"), cancel=token,
                      on_dropped=lambda: dropped.append(1))
    token.cancel()
    release.set()
    with pytest.raises(BaseException):  # noqa: B017 - cancelled future or Cancelled
        fut.result(10)
    assert dropped == [1]


def test_interactive_jobs_run_between_images_of_a_batch(lane: InferenceLane) -> None:
    order: list[str] = []
    queued = threading.Event()

    def batch(_c: CancelToken) -> None:
        for i in range(2):
            if i == 1:
                assert queued.wait(10)
            between_images()
            order.append(f"photo {i}")

    def preview_after_first_photo() -> None:
        while "photo 0" not in order:
            threading.Event().wait(0.01)
        lane.submit(lambda _c: order.append("preview"), interactive=True)
        lane.submit(lambda _c: order.append("next batch"))
        queued.set()

    fut = lane.submit(batch)
    helper = threading.Thread(target=preview_after_first_photo)
    helper.start()
    fut.result(10)
    helper.join(10)
    lane.submit(lambda _c: None).result(10)
    assert order == ["photo 0", "preview", "photo 1", "next batch"]
    between_images()  # off the lane (the CLI): nothing to do, no error


def test_remote_model_methods_run_on_the_lane(lane: InferenceLane) -> None:
    remote = lane.remote("m").get()
    assert remote.model_id == "m"
    assert remote.where() == ("photoenhance-inference", True)
    # called from the lane itself (the batch's judge), it runs in place, no deadlock
    assert lane.call(lambda _c: remote.where()) == ("photoenhance-inference", True)


def test_model_failure_is_remembered_and_said(lane: InferenceLane) -> None:
    calls = []

    def missing():
        calls.append(1)
        raise ModelError("models/x.pt is missing")

    bad = InferenceLane({"x": LazyModel(missing, "Scores")})
    with pytest.raises(ModelError, match="Scores not available: models/x.pt is missing"):
        bad.model("x")
    assert bad.remote("x").get_or_none() is None and bad.model_or_none("x") is None
    assert calls == [1] and bad.remote("x").error is not None
    bad.models["x"].reset()
    assert bad.model_or_none("x") is None and calls == [1, 1]
    bad.close()


def test_close_drops_queued_work(lane: InferenceLane) -> None:
    release = _blocked(lane)
    dropped = []
    lane.submit(lambda _c: pytest.fail("ran"), on_dropped=lambda: dropped.append(1))
    closing = threading.Thread(target=lane.close)
    closing.start()
    release.set()
    closing.join(10)
    assert dropped == [1]
    with pytest.raises(Cancelled):
        lane.submit(lambda _c: None)
