"""The exact family of ``scipy.ndimage``'s filters: SciPy's own sums, bitwise.

Drivers that turn a filter problem into a call of ``kernels.filter``: the
input as C-contiguous rows of the kernels' dtype, the boundary mode as index
maps (``jitconv._extend``), the weights as taps, the work as blocks of
disjoint outputs with a row of scratch each.

Candidates ``filter-direct`` (parallel over blocks of outputs) and
``filter-direct-serial`` (one thread: small problems, busy machines): the
``nd`` rule (``correlate``/``convolve``) and the ``line`` rule
(``correlate1d`` and every separable filter's pass). Their results are
SciPy's, bit for bit, for any thread count: integer outputs truncate
exactly where SciPy's do.
"""
import math

import numpy as np

from .. import _config, _launch
from .._extend import index, line_map
from ..kernels import filter as _k
from . import cost
from .base import Candidate

#: SciPy drops N-d taps with ``|w| <= DBL_EPSILON`` from the sum
EPS = float(np.finfo(np.float64).eps)
#: outputs per task along a line (a chunk and its taps' inputs stay in L1/L2)
CHUNK = 1024
#: inner (vectorised) columns per task when lines run along a leading axis:
#: long, so a task's row lookups are amortised (W15's pass along axis 0 of
#: 2048 columns: 13.5 ms at 2048, 15.8 at 512, 25 at 128; its rows stay in L2)
INNER = 2048
#: columns per task of a running sum along a leading axis (one task walks the
#: whole axis: enough tasks for the threads)
INNER_RUNNING = 256
#: blocks of tasks per thread (load balance; each block has its own scratch row)
BLOCKS_PER_THREAD = 4


def kernel_dtype(x, cd, cval, rows):
    """The dtype the kernel computes the input in: ``cd``, unless a constant row
    (``rows``: kernels reading whole rows of the input's dtype) cannot hold
    ``cval`` exactly in float32."""
    # compared as Python floats: NumPy 2 would round ``cval`` to float32 first
    if cd == np.float32 and rows and float(np.float32(cval)) != float(cval):
        return np.dtype(np.float64)
    return np.dtype(cd)


def as_kernel(x, cd):
    """``x`` as a C-contiguous array of dtype ``cd``; a bool array by its bytes
    (SciPy reads ``npy_bool`` as a number: a byte 2 left by an earlier pass
    of a bool output is 2, where NumPy's cast would give 1)."""
    if x.dtype.kind == "b":
        x = x.view(np.uint8)
    return np.ascontiguousarray(x, dtype=cd)


def _blocks(ntasks, workers, parallel):
    if not parallel or workers < 2:
        return 1
    return max(1, min(ntasks, workers * BLOCKS_PER_THREAD))


def _parallel(work, parallel):
    return work >= _config.SERIAL_WORK if parallel is None else parallel


def run_nd(x, w, modes, origins, cval, cd, workers, parallel=None):
    """``correlate`` of ``x`` with N-d weights ``w`` (SciPy's ``NI_Correlate`` sum)."""
    cd = kernel_dtype(x, cd, cval, rows="constant" in modes)
    shape = x.shape
    D = len(shape)
    N = shape[-1]
    R = math.prod(shape[:-1])
    xs = as_kernel(x, cd).reshape(R, N)
    out = np.empty((R, N), cd)
    m = w.shape
    mlast = m[-1]
    lead = np.array(shape[:-1], dtype=np.int64)
    klead = np.array(m[:-1], dtype=np.int64)
    rstride = np.array([math.prod(shape[d + 1:-1]) for d in range(D - 1)], dtype=np.int64)
    maxn = max(shape[:-1], default=1)
    maxk = max(m[:-1], default=1)
    maps = np.full((max(D - 1, 1), maxn, maxk), -1, dtype=np.int64)
    for d in range(D - 1):
        pos = np.arange(shape[d])[:, None] + np.arange(m[d])[None, :] - (m[d] // 2 + origins[d])
        maps[d, :shape[d], :m[d]] = index(pos, shape[d], modes[d])
    w2 = np.ascontiguousarray(w, dtype=np.float64).reshape(-1, mlast)
    keep = np.abs(w2) > EPS
    tap_ptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
    tap_kr, tap_b = (a.astype(np.int64) for a in np.nonzero(keep))
    tap_w = np.ascontiguousarray(w2[keep])
    elead = mlast // 2 + origins[-1]
    emap = line_map(N, mlast, elead, modes[-1])
    chunk = min(N, CHUNK)
    ntasks = R * ((N + chunk - 1) // chunk)
    par = _parallel(R * N * max(1, tap_w.size), parallel)
    nblk = _blocks(ntasks, workers, par)
    scratch = np.empty((nblk, chunk))
    srcbuf = np.empty((nblk, w2.shape[0]), dtype=np.int64)
    crow = _launch.readonly(np.full(chunk, cval, dtype=cd))
    _launch.launch(_k.nd_parallel, _k.nd_serial,
                   (_launch.readonly(xs), out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr,
                    tap_b, tap_w, emap, elead, mlast, float(cval), crow, srcbuf, scratch),
                   workers, par, "filter-nd")
    return out.reshape(shape)


def _rows_view(shape, axis):
    """``(outer, length, inner)`` of ``shape`` around ``axis``."""
    return (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))


def run_line(x, w, axis, mode, origin, cval, sym, cd, workers, parallel=None):
    """``correlate1d`` of ``x`` along ``axis`` (SciPy's ``NI_Correlate1D`` sums)."""
    shape = x.shape
    m = w.shape[0]
    lead = m // 2 + origin
    w = np.ascontiguousarray(w, dtype=np.float64)
    last = axis == len(shape) - 1
    cd = kernel_dtype(x, cd, cval, rows=not last and mode == "constant")
    par = _parallel(math.prod(shape) * m, parallel)
    if last:
        N = shape[-1]
        xs = as_kernel(x, cd).reshape(-1, N)
        out = np.empty(xs.shape, cd)
        chunk = min(N, CHUNK)
        ntasks = xs.shape[0] * ((N + chunk - 1) // chunk)
        nblk = _blocks(ntasks, workers, par)
        scratch = np.empty((nblk, 2 * chunk + m - 1))
        _launch.launch(_k.line_last_parallel, _k.line_last_serial,
                       (_launch.readonly(xs), out, chunk, w, int(sym), line_map(N, m, lead, mode),
                        lead, float(cval), scratch), workers, par, "filter-line")
        return out.reshape(shape)
    O, L, I = _rows_view(shape, axis)
    xs = as_kernel(x, cd).reshape(O, L, I)
    out = np.empty(xs.shape, cd)
    chunk = min(I, INNER)
    ntasks = O * L * ((I + chunk - 1) // chunk)
    nblk = _blocks(ntasks, workers, par)
    scratch = np.empty((nblk, chunk))
    crow = np.full(chunk, cval, dtype=cd)
    _launch.launch(_k.line_rows_parallel, _k.line_rows_serial,
                   (_launch.readonly(xs), out, chunk, w, int(sym), line_map(L, m, lead, mode),
                    _launch.readonly(crow), scratch), workers, par, "filter-line")
    return out.reshape(shape)


def run_uniform(x, size, axis, mode, origin, cval, cd, workers, parallel=None, out=None):
    """``uniform_filter1d`` of ``x`` along ``axis``: SciPy's running sums;
    ``out``: where the result may go along the last axis (may be ``x``: the
    kernel copies four lines before it writes their outputs)."""
    shape = x.shape
    lead = size // 2 + origin
    last = axis == len(shape) - 1
    cd = kernel_dtype(x, cd, cval, rows=not last and mode == "constant")
    par = _parallel(math.prod(shape) * 4, parallel)
    if last:
        N = shape[-1]
        xs = as_kernel(x, cd).reshape(-1, N)
        if out is None or out.dtype != cd:
            out = np.empty(xs.shape, cd)
        out = out.reshape(xs.shape)
        nblk = _blocks((xs.shape[0] + 3) // 4, workers, par)
        scratch = np.empty((nblk, 4 * (N + size - 1) + 4 * N))
        _launch.launch(_k.uniform_last_parallel, _k.uniform_last_serial,
                       (_launch.readonly(xs), out, int(size), line_map(N, size, lead, mode), lead,
                        float(cval), scratch), workers, par, "filter-uniform")
        return out.reshape(shape)
    O, L, I = _rows_view(shape, axis)
    xs = as_kernel(x, cd).reshape(O, L, I)
    out = np.empty(xs.shape, cd)
    chunk = min(I, INNER_RUNNING)
    nblk = _blocks(O * ((I + chunk - 1) // chunk), workers, par)
    scratch = np.empty((nblk, chunk))
    crow = np.full(chunk, cval, dtype=cd)
    _launch.launch(_k.uniform_rows_parallel, _k.uniform_rows_serial,
                   (_launch.readonly(xs), out, chunk, int(size), line_map(L, size, lead, mode),
                    _launch.readonly(crow), scratch), workers, par, "filter-uniform")
    return out.reshape(shape)


class FilterDirect(Candidate):
    """SciPy's sums for ``correlate``/``convolve`` (N-d taps in C order) and
    ``correlate1d`` (SciPy's symmetric/antisymmetric/general formulas), on
    the call's threads."""
    id = "filter-direct"
    kind = "filter"
    family = "direct"
    parallel = True

    def supports(self, p):
        return p.rule in ("nd", "line") and (not self.parallel or _launch.parallel_ok(p.workers))

    def estimate(self, p):
        return cost.filter_direct(p, self.parallel)

    def run(self, p, x, w, cval, out=None):
        if p.rule == "nd":
            return run_nd(x, w, p.modes, p.origins, cval, p.cdtype, p.workers, self.parallel)
        return run_line(x, w, p.axis, p.modes[0], p.origins[0], cval, p.sym, p.cdtype, p.workers,
                        self.parallel)


class FilterDirectSerial(FilterDirect):
    """``filter-direct`` on one thread (the same bits)."""
    id = "filter-direct-serial"
    parallel = False
