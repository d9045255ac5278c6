"""Score photos: decode in a thread pool, batch the views, run the improvability net.

``Scorer.load()`` reads ``models/improvability-v1.pt`` (checked against the sha256 in its
card) and, when the user has calibrated, their own last layer from the data dir.

Each result carries the hidden vector the ``overall`` layer read, as float16 (the form the
catalog stores, :mod:`.rerank`): the gain is computed from that rounded vector, so a re-score
from the catalog gives the very same gain.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photoenhance.core.errors import ModelError, PhotoEnhanceError
from photoenhance.core.ml.nets.improvability import ImprovabilityNet, fold_batch_norms
from photoenhance.core.ml.registry import open_checked, sha256_file
from photoenhance.core.paths import models_dir
from photoenhance.core.progress import CancelToken, Progress, ProgressCallback
from photoenhance.core.rank.chips import chips
from photoenhance.core.rank.inputs import Views, load_views, make_views
from photoenhance.core.rank.scale import gain_to_score
from photoenhance.core.rank.userhead import load_user_head

MODEL_NAME = "improvability-v1"
#: Torch intra-op threads for a process that scores photos one at a time as they arrive
#: (``photoenhance watch``). One photo's forward is a few small convolutions: with two
#: threads on two cores that another process kept busy, it took 0.99 s instead of 0.05 s
#: (each OpenMP thread waits for the other to be scheduled), and the watch latency p95 went
#: from 1.3 s to 5-9 s; with one thread it stayed under 2 s (bench/watch.py --load 2).
STREAMING_THREADS = 1


def use_streaming_threads() -> None:
    """Set torch's (process-wide) thread count for scoring a stream of single photos."""
    torch.set_num_threads(STREAMING_THREADS)


@dataclass(frozen=True)
class ScoreResult:
    """One photo's score (``None`` with an ``error`` when it could not be read)."""

    path: Path | None
    score: float | None
    gain_db: float | None = None
    factors: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    #: the hidden vector (float16) the gain was computed from; ``unchanged``: the enhancer
    #: measured the photo clean, so its gain is 0 whatever the last layer says
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    unchanged: bool = False
    #: the tone step's further predicted gain (dB), for nets with a tone head
    tone_gain_db: float | None = None

    def chips(self) -> list[str]:
        """The factors worth a chip (:func:`photoenhance.core.rank.chips.chips`)."""
        return chips(self.factors, self.gain_db, self.tone_gain_db)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": str(self.path) if self.path else None,
                               "score": self.score, "gain_db": self.gain_db,
                               "factors": self.factors or None,
                               "chips": self.chips() if self.score is not None else None}
        if self.error:
            out["error"] = self.error
        return out


def views_to_tensors(views: Sequence[Views]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack views into float tensors in [0, 1]: (B, 3, G, G) and (B, K, 3, C, C)."""
    g = torch.from_numpy(np.stack([v.global_view for v in views])).permute(0, 3, 1, 2)
    c = torch.from_numpy(np.stack([v.crops for v in views])).permute(0, 1, 4, 2, 3)
    return g.float().div_(255), c.float().div_(255)


class Scorer:
    """Runs an :class:`ImprovabilityNet` on photos; thread-compatible for one caller."""

    def __init__(self, net: ImprovabilityNet, model_id: str = MODEL_NAME,
                 version: str = "0", sha256: str = "",
                 user_head: torch.nn.Linear | None = None) -> None:
        self.net = net.eval()
        self.model_id, self.version, self.sha256 = model_id, version, sha256
        if user_head is not None:
            self.net.overall = user_head
        self.calibrated = user_head is not None
        self._kept = threading.local()  # the last hidden vectors, per calling thread
        self.net.overall.register_forward_pre_hook(self._keep_hidden)

    def _keep_hidden(self, _layer: torch.nn.Module, args: tuple[torch.Tensor, ...],
                     ) -> tuple[torch.Tensor, ...]:
        """Round the vector ``overall`` reads to float16, as stored, and keep it."""
        self._kept.hidden = args[0].half()
        return (self._kept.hidden.to(args[0].dtype), *args[1:])

    @classmethod
    def load(cls, path: Path | None = None, use_user_head: bool = True) -> Scorer:
        """Load shipped weights (default ``models/improvability-v1.pt``)."""
        path = path or models_dir() / f"{MODEL_NAME}.pt"
        if not path.is_file():
            raise ModelError("the improvability model is missing; reinstall photoenhance", path)
        sha = open_checked(path)[1]
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
            net = ImprovabilityNet.from_config(blob["config"])
            net.load_state_dict(blob["state_dict"])
            fold_batch_norms(net.eval())  # inference only: a scorer never trains its backbone
        except (RuntimeError, KeyError, OSError, ValueError) as exc:
            raise ModelError(f"cannot load model weights ({exc})", path) from exc
        head = load_user_head(sha) if use_user_head else None
        return cls(net, str(blob.get("model_id", path.stem)), str(blob.get("version", "1")),
                   sha, head)

    @property
    def factors(self) -> tuple[str, ...]:
        """The net's factor names, in the order of :meth:`predict`'s columns."""
        return self.net.factor_names

    @torch.inference_mode()
    def predict(self, views: Sequence[Views]) -> np.ndarray:
        """(N, 1 + F [+ 1]): predicted gain in dB, the F factor strengths in [0, 1]
        (:attr:`factors`), then the tone step's gain in dB when the net has a tone head."""
        n_out = 1 + len(self.factors) + (self.net.tone is not None)
        if not views:
            return np.zeros((0, n_out), dtype=np.float32)
        g, c = views_to_tensors(views)
        out = self.net(g, c).float()
        f = 1 + len(self.factors)
        out[:, 1:f] = torch.sigmoid(out[:, 1:f])
        return out.numpy()

    def results(self, views: Sequence[Views], paths: Sequence[Path | None]) -> list[ScoreResult]:
        pred = self.predict(views)
        kept = getattr(self._kept, "hidden", None) if views else None
        hidden = kept.numpy() if kept is not None else [None] * len(views)
        # a photo the enhancer measures as clean comes back unchanged: exactly no gain
        unchanged = np.array([v.auto_strength <= 0.0 for v in views], dtype=bool)
        pred[unchanged, 0] = 0.0
        gains = np.round(pred[:, 0].astype(np.float64), 3)
        scores = gain_to_score(gains)
        f = 1 + len(self.factors)
        return [ScoreResult(p, round(float(s), 4), float(g),
                            {n: round(float(v), 4) for n, v in zip(self.factors, row[1:f],
                                                                   strict=True)},
                            embedding=h, unchanged=bool(u),
                            tone_gain_db=round(float(row[f]), 3) if len(row) > f else None)
                for p, s, g, row, h, u in zip(paths, scores, gains, pred, hidden, unchanged,
                                              strict=True)]

    def score_arrays(self, images: Sequence[np.ndarray]) -> list[ScoreResult]:
        """Score in-memory (H, W, 3) uint8 RGB images."""
        return self.results([make_views(im) for im in images], [None] * len(images))

    def score_paths(self, paths: Sequence[Path], batch_size: int = 16,
                    progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, workers: int | None = None,
                    ) -> list[ScoreResult]:
        """Score image files, in order. Unreadable files get a result with ``error`` set."""
        out: list[ScoreResult] = []
        for batch in decoded_batches(paths, batch_size, cancel, workers):
            good = [(p, v) for p, v in batch if isinstance(v, Views)]
            scored = iter(self.results([v for _, v in good], [p for p, _ in good]))
            out += [next(scored) if isinstance(v, Views) else ScoreResult(p, None, error=v)
                    for p, v in batch]
            if progress:
                progress(Progress(len(out), len(paths), str(batch[-1][0]), "Scoring"))
        return out


def _load(path: Path) -> Views | str:
    try:
        return load_views(path)
    except PhotoEnhanceError as exc:
        return exc.reason
    except (OSError, ValueError, MemoryError) as exc:  # decoder errors on corrupt files
        return f"cannot decode image ({exc})"


def decoded_batches(paths: Sequence[Path], batch_size: int, cancel: CancelToken | None,
                     workers: int | None) -> Iterator[list[tuple[Path, Views | str]]]:
    """Yield batches of (path, views or error), decoding ahead in a thread pool."""
    workers = workers or min(4, os.cpu_count() or 1)
    ahead = max(2 * batch_size, 2 * workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="score-decode") as pool:
        pending: deque[tuple[Path, Future[Views | str]]] = deque()
        todo = iter(paths)
        batch: list[tuple[Path, Views | str]] = []
        try:
            _fill(pending, todo, pool, ahead)
            while pending:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                path, fut = pending.popleft()
                batch.append((path, fut.result()))
                _fill(pending, todo, pool, ahead)
                if len(batch) == batch_size or not pending:
                    yield batch
                    batch = []
        finally:
            for _, fut in pending:
                fut.cancel()


def _fill(pending: deque[tuple[Path, Future[Views | str]]], todo: Iterator[Path],
          pool: ThreadPoolExecutor, ahead: int) -> None:
    submit: Callable[[Path], Future[Views | str]] = lambda p: pool.submit(_load, p)  # noqa: E731
    while len(pending) < ahead:
        nxt = next(todo, None)
        if nxt is None:
            return
        pending.append((nxt, submit(nxt)))


def save_model(net: ImprovabilityNet, path: Path, version: str = "1",
               card: dict[str, Any] | None = None) -> str:
    """Write weights to ``path`` and the model card (with their sha256) beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.float() if v.is_floating_point() else v).detach().cpu().contiguous()
             for k, v in net.state_dict().items()}
    torch.save({"config": net.config, "state_dict": state, "model_id": path.stem,
                "version": version}, path)
    sha = sha256_file(path)
    full = {"name": path.stem, "version": version, "file": path.name, "sha256": sha,
            "architecture": {"class": "ImprovabilityNet", "config": net.config}, **(card or {})}
    path.with_suffix(".json").write_text(json.dumps(full, indent=2) + "\n")
    return sha
