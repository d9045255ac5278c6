"""The tone step at full resolution as one compiled loop (numba; see :mod:`.kernels`).

:func:`photoenhance.core.ml.tone._fast_rows` with numpy reads and writes the photo about
eight times (planes, lookups, the saturation term, the interleaving): 0.94 s for 24 MP,
38 % of the restorer's time on a CPU with bf16 matrix units (issue 22 asks for at most
10 %). Here each pixel is read once and written once, on torch's number of threads, with
the same tables and the same float32 arithmetic in the same order, so the result is the
same to the bit (``tests/ml/test_tone.py`` checks it). The same pass counts the clipped
pixels that the highlight guard compares (two more passes with numpy).
"""

from __future__ import annotations

import numpy as np

from photoenhance.core.ml.kernels import jit_exact, require

require()


@jit_exact
def tone_rows(codes: np.ndarray, out: np.ndarray, lo: int, hi: int, sat: bool,
              lut: np.ndarray, a: np.ndarray, b: np.ndarray, curve: np.ndarray,
              in_top: int, out_top: float) -> float:
    """Rows ``[lo, hi)`` of the edit of integer ``codes`` (H, W, 3) into ``out`` (H, W, 3+).
    Without saturation, ``out = lut[c][code]``; with it, ``v = a[c][code] + l`` with
    ``l = b[0][r] + b[1][g] + b[2][b] + 0.5``, clipped to the curve's range, and
    ``out = curve[int(v)]`` (the tables of ``_fast_rows``). Returns the number of pixels
    with a channel at full scale in the output (``>= out_top``) less that in the input
    (a code ``>= in_top``): the extra clipping, counted in the same pass."""
    top = np.float32(curve.shape[0] - 1)
    zero, half = np.float32(0.0), np.float32(0.5)
    w = codes.shape[1]
    extra = 0
    for i in range(lo, hi):
        row, orow = codes[i], out[i]
        if sat:  # the branch outside the pixel loop: two plain loops
            for j in range(w):
                r, g, bl = row[j, 0], row[j, 1], row[j, 2]
                luma = b[0, r]
                luma += b[1, g]
                luma += b[2, bl]
                luma += half
                o0 = curve[np.int32(min(max(a[0, r] + luma, zero), top))]
                o1 = curve[np.int32(min(max(a[1, g] + luma, zero), top))]
                o2 = curve[np.int32(min(max(a[2, bl] + luma, zero), top))]
                orow[j, 0], orow[j, 1], orow[j, 2] = o0, o1, o2
                extra += (o0 >= out_top or o1 >= out_top or o2 >= out_top) - (
                    r >= in_top or g >= in_top or bl >= in_top)
        else:
            for j in range(w):
                r, g, bl = row[j, 0], row[j, 1], row[j, 2]
                o0, o1, o2 = lut[0, r], lut[1, g], lut[2, bl]
                orow[j, 0], orow[j, 1], orow[j, 2] = o0, o1, o2
                extra += (o0 >= out_top or o1 >= out_top or o2 >= out_top) - (
                    r >= in_top or g >= in_top or bl >= in_top)
    return float(extra)
