"""float32 line passes in float32 arithmetic (``correlate1d`` and every pass of
``gaussian_filter``, ``sobel``, ... on float32 data), under ``'auto'`` only.

SciPy computes a float32 filter in float64 (``NI_Correlate1D``: float32 data
read into float64 line buffers, float64 sums) and rounds each pass to
float32; OpenCV computes it in float32. Candidates ``filter-line32``
(parallel) and ``filter-line32-serial`` (family ``'float'``) sum the taps in
float32 with fused multiply-adds (``kernels.filter_float``): twice the
vector width of SciPy's arithmetic, and along a leading axis four output
rows share every input row they load.

Where: the ``line`` rule, float32 input and float32 output, at least
``MIN_WORK`` multiply-adds (smaller calls keep SciPy's bits: its sums take
microseconds there), never under the ``'exact'`` restriction (integer or
bool data or output). NaN and inf need no guard here: the sums take the
same taps as SciPy's, so a non-finite value reaches the same outputs (NaN
where a window holds NaN, both infinities, or an infinity times a zero
weight; an infinity of the same sign elsewhere), and the other outputs
keep the bound below (the non-finite scan of the other float candidates
costs a pass over the data: 2.8 ms of W15's 37). The exception: data so
large (within ``sum|w|`` of float32's largest value) that a float32 partial
sum overflows where SciPy's float64 sum does not.

Error bound: with ``u = 2**-24`` and weights ``w`` of ``m`` taps rounded to
float32, each output differs from the exact sum of ``w * x`` by at most
``(m + 1) * u * sum|w x|`` (first order), so from SciPy's float32 result
(the float64 sum rounded once) by at most ``(m + 2) * u * sum|w x|``;
``cval`` is rounded to float32 too (its terms are part of ``sum|w x|``).
The grouping of taps depends on the weights only: results are bitwise
identical for any thread count.

A pass along the last axis writes into ``out`` when the engine offers one
(the first pass's result of a separable chain, which it may overwrite):
each line is copied into a scratch line before its outputs are written.
"""
import math

import numpy as np

from .. import _config, _launch
from .._extend import line_map
from ..kernels import filter_float as _k
from . import cost
from .base import Candidate

#: columns per task along a leading axis (rows of up to 16 KiB: four
#: accumulators and the 11 input rows of a block of taps stay in L2, and the
#: loads stream along whole rows; one thread, W15's pass of 2048^2: 6.3 ms at
#: 2048, 7.5 at 1024; of 4096^2: 24 ms at 4096, 28 at 2048, 32 at 1024)
CHUNK_ROWS = 4096
#: output rows per task along a leading axis (load balance: no setup per band)
BAND = 64
#: outputs per pass over the accumulator along the last axis (16 KiB: W15's
#: 4096^2 pass, 33 taps, one thread: 23.1 ms at 4096, 24.5 at 1024)
CHUNK_LAST = 4096
#: blocks of tasks per thread
BLOCKS_PER_THREAD = 4
#: multiply-adds below which SciPy's own sums are used: they take
#: microseconds there, so small calls keep SciPy's bits (as for the rank-1 test
#: of ``filter_separable``)
MIN_WORK = 1 << 16
#: 4K aliasing: a store and a later load 4096 bytes apart (or a multiple)
#: look dependent to the core, which stalls the load. Every large NumPy array
#: starts at the same offset within a page, and a leading-axis pass reads rows
#: whose stride is often a multiple of 4096 bytes, so the scratch rows are
#: placed half a page away from the input (W15's pass: 11 ms with the
#: accumulators at the input's offset, 6.9 half a page away).
PAGE = 4096


def aligned(rows, length, dtype, ref, offset):
    """An empty C array of ``rows`` rows of at least ``length`` items, each row
    starting ``offset`` bytes after ``ref``'s start, modulo a page."""
    dtype = np.dtype(dtype)
    per = -(-length * dtype.itemsize // PAGE) * PAGE // dtype.itemsize
    buf = np.empty(rows * per + PAGE // dtype.itemsize, dtype)
    shift = (ref.ctypes.data + offset - buf.ctypes.data) % PAGE // dtype.itemsize
    return buf[shift:shift + rows * per].reshape(rows, per)


def _blocks(ntasks, workers, parallel):
    if not parallel or workers < 2:
        return 1
    return max(1, min(ntasks, workers * BLOCKS_PER_THREAD))


def run_line32(x, w, axis, mode, origin, cval, workers, parallel, out=None):
    """``correlate1d`` of float32 ``x`` along ``axis`` in float32 arithmetic;
    ``out``: where the result may go along the last axis (may be ``x``)."""
    shape = x.shape
    m = w.shape[0]
    lead = m // 2 + origin
    w32 = np.ascontiguousarray(w, dtype=np.float32)
    xs = np.ascontiguousarray(x, dtype=np.float32)
    emap = line_map(shape[axis], m, lead, mode)
    cv = float(np.float32(cval))
    if axis == len(shape) - 1:
        N = shape[-1]
        xs = xs.reshape(-1, N)
        if out is None:
            res = np.empty(xs.shape, np.float32)
        else:
            res = out.reshape(xs.shape)
        nblk = _blocks(xs.shape[0], workers, parallel)
        chunk = min(N, CHUNK_LAST)
        ext = aligned(nblk, N + m - 1, np.float32, xs, PAGE // 4)
        acc = aligned(nblk, chunk, np.float32, xs, 5 * PAGE // 8)
        _launch.launch(_k.line32_last_parallel, _k.line32_last_serial,
                       (_launch.readonly(xs), res, chunk, w32, emap, lead, cv, ext, acc),
                       workers, parallel, "filter-line32")
        return res.reshape(shape)
    O = math.prod(shape[:axis])
    L = shape[axis]
    In = math.prod(shape[axis + 1:])
    xs = xs.reshape(O, L, In)
    res = np.empty(xs.shape, np.float32)
    chunk = min(In, CHUNK_ROWS)
    ntasks = O * -(-In // chunk) * -(-L // BAND)
    nblk = _blocks(ntasks, workers, parallel)
    acc = aligned(nblk, 4 * -(-chunk // (PAGE // 4)) * (PAGE // 4), np.float32, xs, PAGE // 2)
    edge = np.empty((nblk, m + 3, chunk), np.float32)
    _launch.launch(_k.line32_rows_parallel, _k.line32_rows_serial,
                   (_launch.readonly(xs), res, chunk, BAND, w32, emap, cv,
                    np.arange(m + 3, dtype=np.int64), acc, edge),
                   workers, parallel, "filter-line32")
    return res.reshape(shape)


class FilterLine32(Candidate):
    """float32 line passes in float32 arithmetic, on the call's threads."""
    id = "filter-line32"
    kind = "filter"
    family = "float"
    parallel = True
    #: the same taps as SciPy's sums, window by window: NaN and inf reach the
    #: same outputs (NaN where a window holds NaN, both infinities or an
    #: infinity times a zero weight, an infinity elsewhere), so NaN/inf data
    #: need no scan and no detour (the guard costs a pass over the data)
    nonfinite_guard = False

    def supports(self, p):
        f4 = np.dtype(np.float32)
        return (p.rule == "line" and p.family == "auto" and np.dtype(p.dtype) == f4
                and np.dtype(p.out) == f4 and p.size * p.wshape[0] >= MIN_WORK
                and (not self.parallel or _launch.parallel_ok(p.workers)))

    def estimate(self, p):
        return cost.filter_line32(p, self.parallel)

    def run(self, p, x, w, cval, out=None):
        last = p.axis == len(p.shape) - 1
        par = self.parallel and p.size * p.wshape[0] >= _config.SERIAL_WORK
        return run_line32(x, w, p.axis, p.modes[0], p.origins[0], cval, p.workers, par,
                          out if last else None)


class FilterLine32Serial(FilterLine32):
    """``filter-line32`` on one thread (the same bits)."""
    id = "filter-line32-serial"
    parallel = False
