"""The fast guard decides what the straightforward one did.

``_reference`` is the guard as first written (full-resolution box filters and pooled block
means, colour conversions per pixel, every check always run): short and easy to check
against ``docs/guard.md``. :func:`photoenhance.core.ml.guard.guard` computes the same from
sums of products on the block grid and skips work that cannot change the result, on the
CPU in compiled loops (:mod:`photoenhance.core.ml.guard_kernels`), elsewhere with torch
operations; both versions must agree with it to float32 rounding, on every branch they may
skip.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from photoenhance.core.ml import guard as G  # noqa: N812


def _luma(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(G._LUMA, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def _box(x: torch.Tensor, k: int) -> torch.Tensor:
    p = k // 2
    return F.avg_pool2d(F.pad(x, (p, p, p, p), mode="replicate"), k, stride=1)


def _block_mean(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, G.BLOCK, stride=G.BLOCK, ceil_mode=True)


def _smooth_up(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if m.shape[-1] >= 3 and m.shape[-2] >= 3:
        m = _box(m, 3)
    return F.interpolate(m, size=size, mode="bilinear", align_corners=False)


def _pattern(r: torch.Tensor) -> torch.Tensor:
    rr = _block_mean(r * r)
    best = torch.zeros_like(rr)
    h, w = r.shape[-2:]
    for dy, dx in G._LAGS:
        a = r[..., max(dy, 0):h, max(dx, 0):w]
        b = r[..., : h - max(dy, 0), max(-dx, 0): w - max(dx, 0)]
        a = a[..., :, : b.shape[-1]]
        prod = F.pad(a * b, (0, w - a.shape[-1], 0, h - a.shape[-2]))
        best = torch.maximum(best, _block_mean(prod).abs())
    return best / (rr + 1e-10)


def _reference(x: torch.Tensor, y: torch.Tensor, patterns: bool = True,
               weight: float = 1.0) -> tuple[torch.Tensor, float, float, float]:
    """(output, mean detail given back, removed, kept)."""
    x, y = x.float(), y.float()
    h, w = x.shape[-2:]
    r = _luma(x) - _luma(y)
    detail = y - _box(y, G.DETAIL)
    hy = _luma(detail)
    s_rh, s_hh, s_rr = _block_mean(r * hy), _block_mean(hy * hy), _block_mean(r * r)
    if s_rh.shape[-1] >= 3 and s_rh.shape[-2] >= 3:
        s_rh, s_hh, s_rr = _box(s_rh, 3), _box(s_hh, 3), _box(s_rr, 3)
    rho = s_rh / torch.sqrt(s_rr * s_hh + 1e-10)
    beta = (s_rh / (s_hh + 1e-10)).clamp(0.0, G.BETA_MAX)
    ramp = ((rho - G.RHO_RAMP[0]) / (G.RHO_RAMP[1] - G.RHO_RAMP[0])).clamp(0.0, 1.0)
    back = ramp * beta * weight
    out = y + F.interpolate(back, size=(h, w), mode="bilinear", align_corners=False) * detail
    if patterns and weight > 0.0:
        pat = _pattern(r)
        if pat.shape[-1] >= 3 and pat.shape[-2] >= 3:
            pat = _box(pat, 3)
        keep = ((pat - G.PATTERN_RAMP[0]) / (G.PATTERN_RAMP[1] - G.PATTERN_RAMP[0])).clamp(0, 1)
        strength = 1.0 - (1.0 - G.PATTERN_FLOOR) * keep * weight
        out = x + F.interpolate(strength, size=(h, w), mode="bilinear",
                                align_corners=False) * (out - x)
    if weight > 0.0:
        res = x - out
        out = out + weight * _smooth_up(_block_mean(res - _luma(res)), (h, w))
    out = out.clamp(0.0, 1.0)
    return (out, float(back.mean()), float(torch.sum((y - x) ** 2)),
            float(torch.sum((out - x) ** 2)))


def _case(kind: str, h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, a net's output): noise removed, texture shrunk, a grating wiped out, or no
    change at all."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    base = torch.stack([0.3 + 0.4 * xx / w, 0.5 + 0.2 * yy / h, 0.4 + 0 * xx])[None]
    if kind == "noise":
        x = base + 0.04 * torch.randn(1, 3, h, w, generator=g)
        return x.clamp(0, 1), base
    if kind == "texture":
        tex = 0.1 * torch.sin((xx + yy) * 2.1)[None, None] * torch.rand(1, 3, 1, 1, generator=g)
        x = base + tex + 0.01 * torch.randn(1, 3, h, w, generator=g)
        return x.clamp(0, 1), (base + 0.3 * tex).clamp(0, 1)
    if kind == "grating":
        x = base + 0.12 * torch.sin((xx + yy) * 2 * torch.pi / 3)[None, None]
        y = base.clone()
        y[..., : h // 2, :] = x[..., : h // 2, :]  # wiped out on the lower half only
        return x.clamp(0, 1), y.clamp(0, 1)
    x = base + 0.02 * torch.randn(1, 3, h, w, generator=g)
    return x, x.clone()


@pytest.fixture(params=["compiled", "torch"])
def impl(request, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    """Each test runs on both guards: the compiled CPU loops, and the torch version (other
    devices, or no numba)."""
    if request.param == "torch":
        monkeypatch.setattr(G, "_KERNELS", None)
    return str(request.param)


def test_the_compiled_guard_is_available() -> None:
    """numba is a dependency: CPU tiles must not fall back to the slower torch guard."""
    assert G._KERNELS is not None


@pytest.mark.parametrize("kind", ["noise", "texture", "grating", "same"])
@pytest.mark.parametrize("shape", [(96, 96), (100, 130), (37, 45), (10, 24), (40, 33)])
@pytest.mark.parametrize("patterns", [True, False])
@pytest.mark.parametrize("weight", [0.0, 0.4, 1.0])
def test_fast_guard_matches_the_reference(kind: str, shape: tuple[int, int], patterns: bool,
                                          weight: float, impl: str) -> None:
    x, y = _case(kind, *shape, seed=shape[0] + shape[1])
    for fmt in (torch.contiguous_format, torch.channels_last):  # infer.py's tiles, and plain
        xi, yi = x.contiguous(memory_format=fmt), y.contiguous(memory_format=fmt)
        ref, back, removed, kept = _reference(xi, yi, patterns, weight)
        stats = G.GuardStats()
        out = G.guard(xi, yi, stats, patterns, weight)
        assert out.shape == ref.shape
        assert out.is_contiguous(memory_format=fmt)  # the caller's layout is kept
        assert (out - ref).abs().max() < 1e-5
        assert stats.detail_back == pytest.approx(back, rel=1e-3, abs=1e-5)
        assert stats.removed == pytest.approx(removed, rel=1e-4, abs=1e-9)
        assert stats.kept == pytest.approx(kept, rel=1e-4, abs=1e-9)
        assert stats.map_cells == -(-shape[0] // G.BLOCK) * -(-shape[1] // G.BLOCK)
    assert torch.equal(y, y.contiguous())  # the net's output is not written to


def test_every_branch_is_exercised() -> None:
    """The cases above reach each shortcut and each full path (so the comparison means
    something): detail given back or not, the strength lowered or not."""
    seen = set()
    for kind in ("noise", "texture", "grating", "same"):
        x, y = _case(kind, 96, 96, seed=192)
        _, back, _, _ = _reference(x, y)
        out_np = _reference(x, y, patterns=False)[0]
        lowered = not torch.allclose(_reference(x, y)[0], out_np, atol=1e-6)
        seen.add((kind, back > 0, lowered))
    assert any(k == "texture" and back for k, back, _ in seen)  # detail given back
    assert ("grating", False, True) in seen  # pattern lowers the strength
    assert ("noise", False, False) in seen  # neither: colour only


def test_guard_stats_are_per_call() -> None:
    """A photo returned as it is (strength 0) reports no guard time: bench/harm.py adds the
    stats of every call, and counted the previous photo's again."""
    from photoenhance.core.ml.infer import Enhancer
    from tests.ml.test_infer import _image, _tiny_net

    enh = Enhancer.from_model(_tiny_net(), device="cpu")
    img = _image(64, 80)
    enh.enhance(img, auto=False)
    assert enh.guard_stats.pixels > 0 and enh.guard_stats.seconds > 0
    enh.enhance(img, strength=0.0, auto=False)
    assert enh.guard_stats.pixels == 0 and enh.guard_stats.seconds == 0


def test_guard_cost_skips_work_that_cannot_matter(monkeypatch, impl: str) -> None:
    """The guard's cost, counted rather than timed: at weight 0 it makes no statistics; the
    3-channel detail pass (its costliest) runs only where a block gives detail back, on the
    rows that block's map reaches; a second tile of the same size allocates no new scratch
    memory; ``overwrite`` writes the result into the net's output instead of a fresh tile."""
    calls: list[int] = []
    real_stats, real_fused = G._statistics, G._statistics_fused

    def stats(e_pad, y, grid, lags):  # type: ignore[no-untyped-def]
        calls.append(grid.h)
        return real_stats(e_pad, y, grid, lags)

    def fused(xf, yf, grid, count, patterns, threads):  # type: ignore[no-untyped-def]
        calls.append(grid.h)
        return real_fused(xf, yf, grid, count, patterns, threads)

    monkeypatch.setattr(G, "_statistics", stats)
    monkeypatch.setattr(G, "_statistics_fused", fused)
    x, y = _case("texture", 256, 96, seed=5)
    done = G.GuardStats()
    G.guard(x, y, done, weight=0.0)
    assert calls == [] and done.detail_rows == 0
    G.guard(*_case("noise", 256, 96, seed=5), done)  # noise removed: no detail to give back
    assert calls == [256] and done.detail_rows == 0
    y_top = x.clone()
    y_top[..., :64, :] = y[..., :64, :]  # texture shrunk in the top quarter only
    G.guard(x, y_top, done)
    assert 64 <= done.detail_rows < 128  # the top rows and the map's reach, not all 256
    buffers = {k: v.data_ptr() for k, v in G._SCRATCH.bufs.items()}
    G.guard(x, y)
    assert {k: v.data_ptr() for k, v in G._SCRATCH.bufs.items()} == buffers
    tile = y.contiguous(memory_format=torch.channels_last)
    out = G.guard(x.contiguous(memory_format=torch.channels_last), tile, overwrite=True)
    assert out.data_ptr() == tile.data_ptr()


def test_guard_runs_outside_inference_mode_after_running_inside_it(impl: str) -> None:
    """The app guards under ``torch.inference_mode``; tests and tools call it plainly. The
    per-thread buffers made in one mode must not be reused in the other."""
    x, y = _case("noise", 96, 96, seed=3)
    with torch.inference_mode():
        inside = G.guard(x, y, G.GuardStats(), True, 0.4)
    outside = G.guard(x, y, G.GuardStats(), True, 0.4)
    assert torch.allclose(inside, outside)


def test_warm_compiles_every_loop_the_guard_calls(monkeypatch) -> None:
    """The enhancer compiles the guard's loops when it loads (about 5 s the first time), not
    on the first tile: after :func:`warm`, guarding a tile compiles nothing new."""
    G.warm()
    k = G._KERNELS
    assert k is not None
    loops = (k.stats_rows, k.correct_rows, k.write_rows, k.expand)
    before = [len(f.signatures) for f in loops]
    assert all(before)
    for kind in ("noise", "texture", "grating"):
        G.guard(*_case(kind, 96, 96, seed=7), G.GuardStats())
    assert [len(f.signatures) for f in loops] == before
