"""The enhancement batch: order, one bad file never stops the rest, cancel, OOM retry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photoenhance.core.errors import Cancelled
from photoenhance.core.jobs.enhance import EnhanceItem, EnhanceOptions, enhance_batch
from photoenhance.core.ml.infer import Enhancer
from photoenhance.core.ml.nets import build
from photoenhance.core.progress import CancelToken, Progress

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def enhancer() -> Enhancer:
    torch.manual_seed(0)
    net = build({"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]})
    return Enhancer.from_model(net, device="cpu", model_id="tiny-test", version="0")


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(n):
        p = folder / f"p{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (40 + i, 56, 3), np.uint8)).save(p, quality=85)
        paths.append(p)
    return paths


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_batch_writes_copies_and_survives_bad_files(tmp_path: Path, enhancer: Enhancer) -> None:
    good = _photos(tmp_path / "lib", 3)
    bad = tmp_path / "lib" / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    gone = tmp_path / "lib" / "vanished.jpg"
    before = {p: _digest(p) for p in good}
    items = [EnhanceItem(good[0], tmp_path / "lib"), EnhanceItem(bad), EnhanceItem(gone),
             EnhanceItem(good[1], tmp_path / "lib"), EnhanceItem(good[2], tmp_path / "lib")]
    reports: list[Progress] = []
    results = list(enhance_batch(items, enhancer, progress=reports.append))
    assert [r.status for r in results] == ["done", "failed", "failed", "done", "done"]
    assert "broken.jpg" in (results[1].error or "") and "vanished.jpg" in (results[2].error or "")
    for r in (results[0], results[3], results[4]):
        assert r.output is not None and r.output.parent == tmp_path / "lib" / "Enhanced"
        with Image.open(r.output) as im:
            assert im.size == Image.open(r.source).size
    assert {p: _digest(p) for p in good} == before
    assert reports[-1].done == reports[-1].total == 5


def test_cancel_stops_and_writes_nothing_partial(tmp_path: Path, enhancer: Enhancer) -> None:
    photos = _photos(tmp_path / "lib", 4)
    token = CancelToken()
    seen = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.done >= 1:
            token.cancel()

    gen = enhance_batch([EnhanceItem(p, tmp_path / "lib") for p in photos], enhancer,
                        progress=progress, cancel=token)
    results = []
    with pytest.raises(Cancelled):
        for r in gen:
            results.append(r)
    assert results and results[0].status == "done"
    outputs = sorted((tmp_path / "lib" / "Enhanced").iterdir())
    assert len(outputs) == len([r for r in results if r.status == "done"]) < 4
    assert not [p for p in outputs if p.name.startswith(".photoenhance-tmp")]


def test_out_of_memory_retries_with_smaller_tiles(tmp_path: Path, enhancer: Enhancer) -> None:
    photo = _photos(tmp_path / "lib", 1)[0]
    tiles: list[int] = []
    real = enhancer.enhance

    class Flaky:
        model_id, sha256 = enhancer.model_id, enhancer.sha256

        def enhance(self, image, strength=1.0, tile=512, overlap=32, progress=None,
                    cancel=None, auto=True, blur=None, route=None, noise=None, plan=None):
            tiles.append(tile)
            if tile > 128:
                raise RuntimeError("DefaultCPUAllocator: not enough memory")
            return real(image, strength, tile, overlap, progress, cancel, auto, blur, route,
                        noise, plan)

        plan = staticmethod(enhancer.plan)

        def specialist(self, route):
            return enhancer.specialist(route)

    (result,) = enhance_batch([EnhanceItem(photo)], Flaky(), EnhanceOptions(tile=512))
    assert result.status == "done" and tiles == [512, 256, 128]


def test_strength_zero_keeps_pixels(tmp_path: Path, enhancer: Enhancer) -> None:
    p = tmp_path / "a.png"
    arr = np.random.default_rng(3).integers(0, 255, (33, 47, 3), np.uint8)
    Image.fromarray(arr).save(p)
    (r,) = enhance_batch([EnhanceItem(p)], enhancer, EnhanceOptions(strength=0.0))
    assert r.status == "done" and r.output is not None
    assert np.array_equal(np.asarray(Image.open(r.output)), arr)


def test_copy_names_the_specialist_that_made_it(tmp_path: Path) -> None:
    """A photo routed to a specialist records it in the copy's XMP and in the result."""
    torch.manual_seed(0)
    cfg = {"widths": [8, 16], "enc_blocks": [1, 1], "dec_blocks": [0]}
    routed = Enhancer.from_model(build(cfg), device="cpu", model_id="tiny-test",
                                 experts={"noise": build(cfg)})
    yy, xx = np.mgrid[0:192, 0:256]
    clean = np.stack([xx, yy, (xx + yy) // 2], -1).astype(np.float64) * 0.6 + 40
    noisy = clean + np.random.default_rng(5).normal(0, 15, clean.shape)
    folder = tmp_path / "lib"
    folder.mkdir()
    for name, img in (("clean.png", clean), ("noisy.png", noisy)):
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / name)
    items = [EnhanceItem(folder / "clean.png", folder), EnhanceItem(folder / "noisy.png", folder)]
    plain, made = list(enhance_batch(items, routed))
    assert made.status == "done" and made.specialist == "tiny-test-noise"
    assert made.output is not None and b"SpecialistID>tiny-test-noise<" in made.output.read_bytes()
    assert plain.status == "done" and plain.specialist is None
    assert plain.output is not None and b"SpecialistID" not in plain.output.read_bytes()
    assert b"ModelID>tiny-test<" in plain.output.read_bytes()
