"""``uniform_filter`` of images in one sweep: the two passes fused, under ``'auto'``.

SciPy's ``uniform_filter`` of an image is two ``uniform_filter1d`` passes:
the first writes a whole intermediate image that the second reads back.
Candidates ``filter-box`` (parallel) and ``filter-box-serial`` (family
``'float'``, ``kernels.filter_float``) compute each output row from running
sums instead: column sums over ``sr`` rows, updated by one row in and one
row out per output row, extended along the row by the column mode, then a
running sum of ``sc`` of them along the row, times ``1 / (sr sc)`` (one
multiplication, no division). The image is read once and the output
written once: the memory traffic of one pass (W16, 2048^2 float64, one
thread: 6.0 ms with the output allocated, OpenCV's ``blur`` 10.8 ms).

Where: rule ``'box'`` (a real input into a float output, 2 passes) whose
passes are the last two axes (images, or stacks of images), float input,
at least ``MIN_WORK`` outputs (smaller calls keep SciPy's bits), never under
the ``'exact'`` restriction (integer or bool data, NaN/inf in the input or
a constant ``cval``: SciPy's running sums carry a NaN along the rest of its
line, these sums only through the windows that hold it). NaN/inf need no
scan of the data first: a NaN or inf read anywhere in a band stays in its
column sums (``inf - inf`` is NaN), which the kernel checks at the end of
each band; the candidate then raises ``guards.NonFinite`` and the engine
runs SciPy's sums instead (W16: the scan cost 1.4 ms of a 7.6 ms call).

Error bound. The column sums restart at every band of ``BAND`` output rows
(fixed: results are bitwise identical for any thread count); all sums are
float64. With ``M`` the largest ``|value|`` of the extended input (``cval``
included), each output differs from the exact mean by at most ``(sr + sc +
2 BAND + 2 C + 2) * eps64 * M`` (``C`` columns; first order: a running sum
over ``l`` steps errs by ``(size + 2 l) eps`` times its largest window), and
from SciPy's (two running sums of its own, over whole lines) by at most
``(2 sr + 2 sc + 2 BAND + 2 R + 4 C + 4) * eps64 * M`` (``R`` rows), plus
one rounding of each result (``u |out|``, ``u = 2**-24``) for float32
outputs, whose intermediate SciPy also rounds to float32 (another ``u M``).
"""
import math

import numpy as np

from .. import _launch
from .._extend import line_map
from ..kernels import filter_float as _k
from . import cost, guards
from .base import Candidate
from .filter_line32 import MIN_WORK, PAGE, aligned

#: output rows per task; the column sums restart at every band
BAND = 128
#: blocks of tasks per thread
BLOCKS_PER_THREAD = 4


def _geometry(p):
    """``(sr, sc, row mode, col mode, row lead, col lead)`` of a box over the last two axes."""
    nd = len(p.shape)
    i, j = p.order.index(nd - 2), p.order.index(nd - 1)
    return (p.wshape[i], p.wshape[j], p.modes[i], p.modes[j],
            p.wshape[i] // 2 + p.origins[i], p.wshape[j] // 2 + p.origins[j])


def run_box(p, x, cval, workers, parallel):
    """The fused ``uniform_filter`` of ``x`` over its last two axes (``p.rule == 'box'``)."""
    sr, sc, mr, mc, lr, lc = _geometry(p)
    shape = x.shape
    R, C = shape[-2:]
    B = math.prod(shape[:-2])
    cd = np.dtype(np.float32) if x.dtype == np.float32 else np.dtype(np.float64)
    if cd == np.float32 and "constant" in (mr, mc) and float(np.float32(cval)) != float(cval):
        cd = np.dtype(np.float64)  # the constant row holds cval exactly
    xs = np.ascontiguousarray(x, dtype=cd).reshape(B, R, C)
    out = np.empty((B, R, C), p.cdtype)
    ntasks = B * -(-R // BAND)
    nblk = max(1, min(ntasks, workers * BLOCKS_PER_THREAD)) if parallel and workers > 1 else 1
    ebuf = aligned(4 * nblk, C + sc - 1, np.float64, xs, PAGE // 2).reshape(nblk, 4, -1)
    crow = np.full(C, cval, cd)
    bad = np.zeros(nblk, np.int64)
    _launch.launch(_k.box_parallel, _k.box_serial,
                   (_launch.readonly(xs), out, sr, sc, line_map(R, sr, lr, mr),
                    line_map(C, sc, lc, mc), lc, float(cval), 1.0 / (sr * sc), BAND,
                    _launch.readonly(crow), ebuf, bad),
                   workers, parallel, "filter-box")
    if bad.any():  # the output is this call's own array: dropped
        raise guards.NonFinite("NaN or inf in the input")
    return out.reshape(shape)


class FilterBox(Candidate):
    """``uniform_filter`` of images, both passes in one sweep, on the call's threads."""
    id = "filter-box"
    kind = "filter"
    family = "float"
    parallel = True
    #: NaN/inf are noticed in the column sums (no scan of the data first)
    nonfinite_guard = "self"

    def supports(self, p):
        nd = len(p.shape)
        return (p.rule == "box" and p.family == "auto" and nd >= 2
                and sorted(p.order) == [nd - 2, nd - 1]
                and np.dtype(p.dtype).kind == "f" and p.size >= MIN_WORK
                and (not self.parallel or _launch.parallel_ok(p.workers)))

    def estimate(self, p):
        return cost.filter_box(p, self.parallel)

    def run(self, p, x, w, cval, out=None):
        if "constant" in p.modes and not math.isfinite(cval):
            raise guards.NonFinite("a non-finite cval")
        return run_box(p, x, cval, p.workers, self.parallel)


class FilterBoxSerial(FilterBox):
    """``filter-box`` on one thread (the same bits)."""
    id = "filter-box-serial"
    parallel = False
