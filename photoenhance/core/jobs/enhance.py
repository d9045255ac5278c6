"""Enhance a batch of photos into metadata-preserving copies.

Threads, as in the project's style guide: the calling thread is the one inference lane
(it owns the model; in the GUI, :class:`photoenhance.core.jobs.lane.InferenceLane`, whose
queued previews run between two photos); decoding the next photo and writing the previous
copy happen on a small I/O pool, so the model is rarely idle. One bad file fails only its
own item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from photoenhance.core.errors import Cancelled, PhotoEnhanceError
from photoenhance.core.imaging import (
    DecodedImage,
    OutputPolicy,
    Provenance,
    load_image,
    write_enhanced_copy,
)
from photoenhance.core.jobs.lane import between_images
from photoenhance.core.jobs.verdict import Judge, Verdict
from photoenhance.core.ml.plan import EnhancePlan
from photoenhance.core.progress import CancelToken, EtaEstimator, Progress, ProgressCallback

log = logging.getLogger(__name__)

ItemStatus = Literal["done", "failed", "skipped"]


class EnhancerLike(Protocol):
    """What the batch needs of :class:`photoenhance.core.ml.infer.Enhancer`."""

    @property
    def model_id(self) -> str: ...
    @property
    def sha256(self) -> str: ...

    def enhance(self, image: np.ndarray, strength: float = 1.0, tile: int = 512,
                overlap: int = 32, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None, auto: bool = True,
                blur: float | None = None, route: str | None = None,
                noise: float | None = None, plan: EnhancePlan | None = None) -> np.ndarray: ...

    def plan(self, image: np.ndarray, auto: bool = True) -> EnhancePlan: ...

    def specialist(self, route: str | None) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class EnhanceItem:
    """One photo to enhance, and the library root its copy mirrors under (if any)."""

    source: Path
    library_root: Path | None = None


@dataclass
class EnhanceResult:
    """What happened to one photo."""

    source: Path
    output: Path | None = None
    status: ItemStatus = "done"
    error: str | None = None
    seconds: float = 0.0
    #: Realised gain in dB measured by re-scoring the copy (None: not verified).
    verified_delta: float | None = None
    #: the specialist network that made the copy (None: the general one)
    specialist: str | None = None
    #: what the tone and colour step did, in words (None: the step was off)
    tone: str | None = None
    #: the verdict (:mod:`photoenhance.core.jobs.verdict`) and its predicted gain in dB
    verdict: str | None = None
    predicted_gain: float | None = None
    #: False when the copy has the tone step alone: the restoration's verdict did not keep
    #: it, but the tone step corrected the photo
    restored: bool = True

    def as_dict(self) -> dict[str, str | float | bool | None]:
        return {"source": str(self.source), "output": str(self.output) if self.output else None,
                "status": self.status, "error": self.error, "verdict": self.verdict,
                "predicted_gain": self.predicted_gain, "tone": self.tone,
                "restored": self.restored}


@dataclass
class EnhanceOptions:
    strength: float = 1.0
    #: scale the strength by each photo's measured need (clean photos are left alone)
    auto: bool = True
    tile: int = 1024  # the enhancer's own default (512 spent ~16 % more on tile overlaps)
    policy: OutputPolicy = field(default_factory=OutputPolicy)
    is_original: Callable[[Path], bool] | None = None
    #: correct exposure, contrast and colour after restoring (core.ml.tone); off by default
    #: until the tone model meets its benchmark targets (docs/BENCHMARKS.md, issue 22)
    tone: bool = False
    #: write the copy even when its verdict is ``blocked`` or ``not improved``
    force: bool = False


def _decode(item: EnhanceItem) -> DecodedImage:
    return load_image(item.source)


def _provenance(enhancer: EnhancerLike, base: Provenance, route: str | None) -> Provenance:
    """``base``, naming the specialist that serves ``route`` where there is one."""
    found = enhancer.specialist(route)
    return base if found is None else replace(base, specialist_id=found[0],
                                              specialist_sha256=found[1])


def _write(item: EnhanceItem, pixels: np.ndarray, prov: Provenance,
           opts: EnhanceOptions) -> Path:
    return write_enhanced_copy(item.source, pixels, prov, library_root=item.library_root,
                               policy=opts.policy, is_original=opts.is_original)


def enhance_batch(
    items: Iterable[EnhanceItem], enhancer: EnhancerLike, opts: EnhanceOptions | None = None,
    *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
    on_start: Callable[[EnhanceItem], None] | None = None, judge: Judge | None = None,
) -> Iterator[EnhanceResult]:
    """Enhance ``items`` in order, yielding one result per item as it finishes.

    ``on_start(item)`` is called (on the calling thread) just before an item's inference.
    With ``judge`` (:func:`photoenhance.core.jobs.verdict.load_judge`), each photo gets its
    verdict before its copy is written; a ``blocked`` or ``not improved`` one is not written
    (status ``skipped``, the reason in ``error``) unless ``opts.force``.

    Cancelling stops within one tile of work; the item in flight writes nothing and the
    generator raises :class:`Cancelled` after yielding the results already finished.
    """
    opts = opts or EnhanceOptions()
    todo = list(items)
    prov = Provenance(enhancer.model_id, enhancer.sha256, opts.strength)
    eta = EtaEstimator(len(todo))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="photoenhance-io") as pool:
        decoded: Future[DecodedImage] | None = pool.submit(_decode, todo[0]) if todo else None
        writing: tuple[EnhanceItem, Future[Path], float, str | None, Verdict,
                       str | None, bool] | None = None
        for i, item in enumerate(todo):
            between_images()  # on the GUI's inference lane: previews queued meanwhile
            if cancel is not None and cancel.cancelled:
                break
            assert decoded is not None
            current, decoded = decoded, (pool.submit(_decode, todo[i + 1])
                                         if i + 1 < len(todo) else None)
            start = time.monotonic()
            if on_start is not None:
                on_start(item)
            pixels = _enhance_one(item, current, enhancer, opts, i, len(todo), progress, cancel,
                                  judge)
            if writing is not None:
                yield _finish(*writing)
                writing = None
            if isinstance(pixels, EnhanceResult):
                yield pixels
            else:
                made, route, verdict, tone, restored = pixels
                if restored and not verdict.writes and not opts.force:
                    yield EnhanceResult(item.source, None, "skipped", verdict.reason,
                                        time.monotonic() - start, verdict.realised_gain,
                                        verdict=verdict.verdict,
                                        predicted_gain=verdict.predicted_gain)
                else:
                    item_prov = _provenance(enhancer, prov, route)
                    writing = (item, pool.submit(_write, item, made, item_prov, opts), start,
                               item_prov.specialist_id or None, verdict, tone, restored)
            if progress is not None:
                progress(Progress(i + 1, len(todo), str(item.source), "photos",
                                  eta.update(i + 1)))
        if writing is not None:
            yield _finish(*writing)
        if decoded is not None:
            decoded.cancel()
    if cancel is not None:
        cancel.raise_if_cancelled()


def _enhance_one(item: EnhanceItem, decoded: Future[DecodedImage], enhancer: EnhancerLike,
                 opts: EnhanceOptions, index: int, total: int,
                 progress: ProgressCallback | None, cancel: CancelToken | None,
                 judge: Judge | None = None,
                 ) -> tuple[np.ndarray, str | None, Verdict, str | None, bool] | EnhanceResult:
    """The enhanced pixels, the route that picked their network, the verdict, what the
    tone step did and whether the pixels are restored, or the item's failure. Restoration
    runs first, in the photo's own tone, and the verdict judges it; the tone step (off by
    default) comes after. Where the verdict does not keep the restoration (and it is not
    forced), the tone step runs on the original instead: a dark but clean photo is what it
    is for, and a copy with its correction alone is written.

    The photo is planned here, once (:meth:`Enhancer.plan`), so the copy's provenance can
    name the network used."""
    def tile_progress(p: Progress) -> None:
        if progress is not None and p.total:
            progress(Progress(index, total, str(item.source), "photos", None))

    try:
        image = decoded.result()
        plan = enhancer.plan(image.pixels, auto=opts.auto)
        pixels = _with_smaller_tiles_on_oom(
            lambda tile: enhancer.enhance(image.pixels, strength=opts.strength, tile=tile,
                                          progress=tile_progress, cancel=cancel, plan=plan),
            opts.tile, item.source)
        verdict = Verdict(None)
        if judge is not None:
            stats = getattr(enhancer, "guard_stats", None)
            verdict = judge(image.pixels, pixels, stats.kept_share if stats else None)
        tone, restored = None, True
        if opts.tone:  # after restoring; torch is imported by the enhancer already
            from photoenhance.core.ml.tone import apply_tone

            if verdict.writes or opts.force:
                pixels, tone = apply_tone(pixels, opts.strength)
            else:  # the restoration is not kept: the tone step alone, on the original
                toned, words = apply_tone(image.pixels, opts.strength)
                if words != "no change":
                    pixels, tone, restored = toned, words, False
        return pixels, plan.route, verdict, tone, restored
    except Cancelled:
        return EnhanceResult(item.source, status="skipped", error="cancelled")
    except PhotoEnhanceError as exc:
        return EnhanceResult(item.source, status="failed", error=str(exc))
    except Exception as exc:  # a bug or an unexpected library error: fail this item only
        log.exception("Enhancing %s failed", item.source)
        return EnhanceResult(item.source, status="failed",
                             error=f"{item.source}: enhancement failed ({exc})")


MIN_TILE = 128


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "memory" in str(exc).lower())


def _with_smaller_tiles_on_oom(run: Callable[[int], np.ndarray], tile: int,
                               source: Path) -> np.ndarray:
    """Run ``run(tile)``; on out-of-memory, retry with halved tiles, then give up."""
    while True:
        try:
            return run(tile)
        except (MemoryError, RuntimeError) as exc:
            if not _is_oom(exc):
                raise
            if tile <= MIN_TILE:
                raise PhotoEnhanceError("not enough memory to enhance this photo",
                                        source) from exc
            tile = max(MIN_TILE, tile // 2)
            log.warning("Out of memory on %s; retrying with %d px tiles", source, tile)


def _finish(item: EnhanceItem, fut: Future[Path], start: float,
            specialist: str | None = None, verdict: Verdict | None = None,
            tone: str | None = None, restored: bool = True) -> EnhanceResult:
    try:
        out = fut.result()
    except PhotoEnhanceError as exc:
        return EnhanceResult(item.source, status="failed", error=str(exc),
                             seconds=time.monotonic() - start)
    except Exception as exc:  # a bug in encoding: fail the item, keep the batch going
        log.exception("Writing the copy of %s failed", item.source)
        return EnhanceResult(item.source, status="failed",
                             error=f"{item.source}: could not write the copy ({exc})",
                             seconds=time.monotonic() - start)
    v = verdict or Verdict(None)
    return EnhanceResult(item.source, out, "done", seconds=time.monotonic() - start,
                         verified_delta=v.realised_gain, specialist=specialist,
                         verdict=v.verdict, predicted_gain=v.predicted_gain, tone=tone,
                         restored=restored)
