"""The do-no-harm guard's per-pixel work on the CPU, as compiled loops (numba).

:mod:`.guard` describes the method. Written with torch operations, the guard is about 25
passes over the tile, each memory-bound: about 16 ms for a 1 MP tile on two cores, 18-21 %
of the enhancement (issue 20 asks for at most 15 %). Here the same arithmetic is three
loops over the tile's rows, each reading the tile once while it is in cache:

- :func:`stats_rows`: the residual ``e = x - y``, its luma ``r``, the luma detail of the
  output ``h`` (luma minus its 5 x 5 box blur, edges replicated), and per ``BLOCK`` x
  ``BLOCK`` cell the sums of ``r h``, ``h^2``, ``r^2``, ``r r'`` at the six lags, of ``e``
  per channel, and of ``e^2`` (the energy the net removed);
- :func:`correct_rows`: the corrected residual ``s (e - b d)`` (``b`` the detail given
  back, ``d`` the 3-channel detail of the output, ``s`` the strength; both maps resized
  bilinearly from the block grid), its per-cell sums for the colour check, and, where the
  detail is given back, the residual itself (the next pass cannot read the detail of a
  tile it is overwriting);
- :func:`write_rows`: the output ``x - e' + c`` clamped to [0, 1] (``c`` the colour given
  back), written in place when asked, and the energy of the change kept.

Each works on whole rows of cells, ``[b0, b1)``, so :func:`.kernels.parallel` runs them on
several threads (they release the GIL). Tiles are float32, channels last, one row of ``3 w``
values per image row. The decisions are the torch guard's, to float32 rounding:
``tests/ml/test_guard_fast.py`` checks both against the first, straightforward version.

numba compiles these on first use (a few seconds, once: the machine code is cached on disk;
see :mod:`.kernels`).
"""

from __future__ import annotations

import numpy as np

from photoenhance.core.ml.kernels import jit as _jit
from photoenhance.core.ml.kernels import parallel, require

require()

#: Side of the statistics cells; :data:`photoenhance.core.ml.guard.BLOCK` (checked there).
BLOCK = 16
_LR, _LG, _LB = np.float32(0.299), np.float32(0.587), np.float32(0.114)
_BOX = np.float32(1.0 / 25.0)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)



@_jit
def _luma_row(src: np.ndarray, dst: np.ndarray, w: int) -> None:
    """Luma of one row (3 w interleaved values) into ``dst[2 : w + 2]``, with its two
    edge values replicated on each side."""
    for j in range(w):
        dst[j + 2] = _LR * src[3 * j] + _LG * src[3 * j + 1] + _LB * src[3 * j + 2]
    dst[0] = dst[2]
    dst[1] = dst[2]
    dst[w + 2] = dst[w + 1]
    dst[w + 3] = dst[w + 1]


@_jit
def _to_cells(row: np.ndarray, w: int, out: np.ndarray) -> None:
    """Add the sums of a row of ``w`` values over each ``BLOCK`` columns to ``out`` (wb)."""
    for c in range(out.shape[0]):
        acc = 0.0
        for j in range(c * BLOCK, min(c * BLOCK + BLOCK, w)):
            acc += row[j]
        out[c] += acc


@_jit
def _to_cells3(row: np.ndarray, w: int, out: np.ndarray) -> None:
    """Add the per-channel sums of a row of ``3 w`` interleaved values over each ``BLOCK``
    columns to ``out`` (wb, 3)."""
    for c in range(out.shape[0]):
        for ch in range(3):
            acc = 0.0
            for j in range(c * BLOCK, min(c * BLOCK + BLOCK, w)):
                acc += row[3 * j + ch]
            out[c, ch] += acc


@_jit
def stats_rows(xf: np.ndarray, yf: np.ndarray, h: int, w: int, b0: int, b1: int,
               lags: bool, sums: np.ndarray, esum: np.ndarray) -> float:
    """Cell sums of rows of cells ``[b0, b1)`` into ``sums`` (hb, wb, 9): ``r h``,
    ``h^2``, ``r^2`` and the lag products (0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)
    (``r[i + dy, j + max(dx, 0)] r[i, j + max(-dx, 0)]``, ``r`` zero outside the tile;
    left 0 when not ``lags``), and ``e`` per channel into ``esum`` (hb, wb, 3). Returns the
    sum of ``e^2`` over these rows. Products are summed down each column of a row of cells
    first (flat loops, which vectorise), then across the cells."""
    wb = sums.shape[1]
    nq = 9 if lags else 3
    ly = np.empty((BLOCK + 4, w + 4), np.float32)  # luma of y, rows r0 - 2 .. r1 + 1
    hs = np.empty((BLOCK + 4, w), np.float32)  # their horizontal 5-sums
    rr = np.zeros((BLOCK + 2, w + 2), np.float32)  # residual luma, rows r0 .. r1 + 1
    e3 = np.empty(3 * w, np.float32)
    ecol = np.empty(3 * w, np.float32)  # e summed down the columns of a row of cells
    col = np.empty((9, w), np.float32)  # the products, summed the same way
    vs = np.empty(w, np.float32)
    dd = np.empty(w, np.float32)
    cells = np.empty(wb, np.float64)
    removed = 0.0
    for bi in range(b0, b1):
        r0 = bi * BLOCK
        n = min(r0 + BLOCK, h) - r0
        for k in range(n + 4):
            i = min(max(r0 - 2 + k, 0), h - 1)
            _luma_row(yf[i], ly[k], w)
            lk = ly[k]
            hk = hs[k]
            for j in range(w):
                hk[j] = lk[j] + lk[j + 1] + lk[j + 2] + lk[j + 3] + lk[j + 4]
        ecol[:] = 0.0
        for k in range(n + 2):
            i = r0 + k
            rk = rr[k]
            if i >= h:
                rk[:] = 0.0
                continue
            xr = xf[i]
            yr = yf[i]
            sq = _ZERO
            for q in range(3 * w):
                e3[q] = xr[q] - yr[q]
            for j in range(w):
                rk[j] = _LR * e3[3 * j] + _LG * e3[3 * j + 1] + _LB * e3[3 * j + 2]
            if k < n:
                for q in range(3 * w):
                    ecol[q] += e3[q]
                    sq += e3[q] * e3[q]
                removed += float(sq)
        col[:nq] = 0.0
        c_rh, c_hh, c_rr = col[0], col[1], col[2]
        # short loops over few arrays each: with many, the compiler's runtime aliasing
        # checks give up and the loop is not vectorised
        vs[:] = hs[0] + hs[1] + hs[2] + hs[3] + hs[4]  # vertical 5-sum, kept running
        for k in range(n):
            if k > 0:
                h_in, h_out = hs[k + 4], hs[k - 1]
                for j in range(w):
                    vs[j] += h_in[j] - h_out[j]
            r_k, r_1, r_2 = rr[k], rr[k + 1], rr[k + 2]
            lk = ly[k + 2]
            for j in range(w):
                dd[j] = lk[j + 2] - vs[j] * _BOX  # the luma detail of y
            for j in range(w):
                c_rh[j] += r_k[j] * dd[j]
            for j in range(w):
                c_hh[j] += dd[j] * dd[j]
            for j in range(w):
                c_rr[j] += r_k[j] * r_k[j]
            if lags:
                l0, l1, l2, l3, l4, l5 = col[3], col[4], col[5], col[6], col[7], col[8]
                for j in range(w):
                    l0[j] += r_k[j] * r_k[j + 1]
                for j in range(w):
                    l1[j] += r_k[j] * r_1[j]
                for j in range(w):
                    l2[j] += r_k[j] * r_1[j + 1]
                for j in range(w):
                    l3[j] += r_1[j] * r_k[j + 1]
                for j in range(w):
                    l4[j] += r_k[j] * r_k[j + 2]
                for j in range(w):
                    l5[j] += r_k[j] * r_2[j]
        for m in range(nq):
            cells[:] = 0.0
            _to_cells(col[m], w, cells)
            for c in range(wb):
                sums[bi, c, m] += cells[c]
        _to_cells3(ecol, w, esum[bi])
    return removed


@_jit
def expand(m: np.ndarray, ix0: np.ndarray, ix1: np.ndarray, lx: np.ndarray,
           out: np.ndarray) -> None:
    """Each row of the block map ``m`` (hb, wb, C), resized bilinearly along the columns
    to ``w`` (as ``F.interpolate(..., align_corners=False)``) and written as ``3 w``
    interleaved values into ``out`` (hb, 3 w): C = 3 as it is, C = 1 repeated three times."""
    ch = m.shape[2]
    for a in range(m.shape[0]):
        o = out[a]
        for j in range(ix0.shape[0]):
            p, q, u = ix0[j], ix1[j], lx[j]
            for k in range(3):
                kk = k if ch == 3 else 0
                o[3 * j + k] = m[a, p, kk] + u * (m[a, q, kk] - m[a, p, kk])


@_jit
def _hsum5(yr: np.ndarray, w: int, out: np.ndarray) -> None:
    """Horizontal 5-sums of one row of ``3 w`` interleaved values (edges replicated)."""
    n3 = 3 * w
    for q in range(n3 - 12):  # offsets >= 0: a negative index would be wrapped (scalar code)
        out[q + 6] = yr[q] + yr[q + 3] + yr[q + 6] + yr[q + 9] + yr[q + 12]
    for e in range(12):  # two pixels at each end
        q = e if e < 6 else n3 - 12 + e
        j, c = q // 3, q % 3
        acc = _ZERO
        for dj in range(-2, 3):
            acc += yr[3 * min(max(j + dj, 0), w - 1) + c]
        out[q] = acc


@_jit
def correct_rows(xf: np.ndarray, yf: np.ndarray, h: int, w: int, b0: int, b1: int,
                 back: np.ndarray, rows: tuple[int, int], strength: np.ndarray, has_back: bool,
                 has_strength: bool, iy0: np.ndarray, iy1: np.ndarray, ly: np.ndarray,
                 ef: np.ndarray, esum: np.ndarray) -> int:
    """The corrected residual ``s (e - b d)`` of rows of cells ``[b0, b1)``: its per-cell
    sums into ``esum`` (hb, wb, 3), and, when ``has_back``, the residual itself into
    ``ef`` (h, 3 w). ``back`` and ``strength`` are block maps expanded along the columns
    (:func:`expand`, (hb, 3 w)); ``back`` is read on rows ``rows = (a, b)`` only (0
    elsewhere), ``strength`` when ``has_strength``; ``iy0``, ``iy1``, ``ly`` resize them
    along the rows. Returns the number of rows whose 3-channel detail was computed."""
    a, b = rows
    n3 = 3 * w
    hs = np.empty((BLOCK + 4, n3), np.float32)  # horizontal 5-sums of y, rows r0 - 2 ..
    vs = np.empty(n3, np.float32)  # the 5 x 5 sum around the current row
    e3 = np.empty(n3, np.float32)
    tmp = np.empty(n3, np.float32)
    ecol = np.empty(n3, np.float32)
    detail_rows = 0
    for bi in range(b0, b1):
        r0 = bi * BLOCK
        n = min(r0 + BLOCK, h) - r0
        detail = has_back and r0 < b and r0 + n > a
        if detail:
            for k in range(n + 4):
                _hsum5(yf[min(max(r0 - 2 + k, 0), h - 1)], w, hs[k])
            vs[:] = hs[0] + hs[1] + hs[2] + hs[3] + hs[4]
        ecol[:] = 0.0
        for k in range(n):
            i = r0 + k
            xr = xf[i]
            yr = yf[i]
            if detail and k > 0:
                h_in, h_out = hs[k + 4], hs[k - 1]
                for q in range(n3):
                    vs[q] += h_in[q] - h_out[q]
            t = ly[i]
            sa = strength[iy0[i]] if has_strength else strength[0]
            sb = strength[iy1[i]] if has_strength else strength[0]
            # short loops over few arrays each: with many, the compiler's runtime aliasing
            # checks give up and the loop is not vectorised (2x slower when tried)
            for q in range(n3):
                e3[q] = xr[q] - yr[q]
            if detail and a <= i < b:
                detail_rows += 1
                ba, bb = back[iy0[i]], back[iy1[i]]
                for q in range(n3):
                    tmp[q] = yr[q] - vs[q] * _BOX  # the detail of y
                for q in range(n3):
                    e3[q] -= (ba[q] + t * (bb[q] - ba[q])) * tmp[q]
            if has_strength:
                for q in range(n3):
                    e3[q] *= sa[q] + t * (sb[q] - sa[q])
            if has_back:
                er = ef[i]
                for q in range(n3):
                    er[q] = e3[q]
            for q in range(n3):
                ecol[q] += e3[q]
        _to_cells3(ecol, w, esum[bi])
    return detail_rows


@_jit
def write_rows(xf: np.ndarray, of: np.ndarray, h: int, w: int, b0: int, b1: int,
               ef: np.ndarray, use_e: bool, strength: np.ndarray, has_strength: bool,
               colour: np.ndarray, iy0: np.ndarray, iy1: np.ndarray, ly: np.ndarray) -> float:
    """The guarded output of rows of cells ``[b0, b1)``, in place of the net's output ``y``
    in ``of`` (h, 3 w): ``x - e' + c`` clamped to [0, 1], with ``e'`` read from ``ef`` when
    ``use_e``, else ``s (x - y)`` (``s`` 1 unless ``has_strength``), and ``c`` the colour
    map; both maps expanded along the columns (:func:`expand`). Returns the sum of
    ``(out - x)^2``. (``y`` is read from the array it is written to: read from another
    one that is the same memory, the loops would not vectorise.)"""
    n3 = 3 * w
    kept = 0.0
    for i in range(b0 * BLOCK, min(b1 * BLOCK, h)):
        xr = xf[i]
        orow = of[i]
        ca, cb, t = colour[iy0[i]], colour[iy1[i]], ly[i]
        acc = _ZERO
        if use_e:
            er = ef[i]
            for q in range(n3):
                v = xr[q] - er[q] + (ca[q] + t * (cb[q] - ca[q]))
                v = min(max(v, _ZERO), _ONE)
                orow[q] = v
                acc += (v - xr[q]) * (v - xr[q])
        elif has_strength:
            sa, sb = strength[iy0[i]], strength[iy1[i]]
            for q in range(n3):
                s = sa[q] + t * (sb[q] - sa[q])
                v = xr[q] - s * (xr[q] - orow[q]) + (ca[q] + t * (cb[q] - ca[q]))
                v = min(max(v, _ZERO), _ONE)
                orow[q] = v
                acc += (v - xr[q]) * (v - xr[q])
        else:
            for q in range(n3):
                v = orow[q] + (ca[q] + t * (cb[q] - ca[q]))
                v = min(max(v, _ZERO), _ONE)
                orow[q] = v
                acc += (v - xr[q]) * (v - xr[q])
        kept += float(acc)
    return kept


__all__ = ["BLOCK", "correct_rows", "expand", "parallel", "stats_rows", "write_rows"]
