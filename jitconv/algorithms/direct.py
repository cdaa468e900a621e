"""The direct family: the sum of products itself, in numba (``kernels.direct``).

Every direct problem is "the window ``[start, start + length)`` along each
convolved axis of the full convolution ``a * k``, broadcast over the other
axes". The driver here turns that into the one kernel shape of
``kernels.direct``: a valid correlation of a 4-d batch at offsets, with the
zero padding implied (never copied, never multiplied).

Candidates: ``direct-serial`` and ``direct-parallel`` (the same kernel on one
or several threads: bitwise identical results, output-parallel).
"""
import itertools
import math

import numpy as np

from .. import _config, _launch
from .._shapes import broadcast
from ..kernels import direct as _k
from . import cost
from .base import Candidate

#: accumulator dtype for each compute dtype of the data
ACC = {
    np.dtype(np.float32): np.dtype(np.float64),
    np.dtype(np.float64): np.dtype(np.float64),
    np.dtype(np.complex64): np.dtype(np.complex128),
    np.dtype(np.complex128): np.dtype(np.complex128),
    np.dtype(np.int64): np.dtype(np.int64),
}

#: outputs per kernel task along the last axis (a chunk stays in L1 while every tap sweeps it)
CHUNK = 2048

#: float32 kernels of fewer taps than this along one axis take float64 weights:
#: exact products and float64 sums (half the vector width, but short kernels
#: are cheap), as accurate as NumPy's dot-based 1-d path or more; longer ones
#: sum blocks of 8 float32 products in float64 (kernels.direct, "Sums")
SHORT_1D = 64


def weights_dtype(cdtype, kshape=None):
    """dtype the kernel's weights (and the products) take: float32 for float32
    data (float64 for a short 1-d kernel, see ``SHORT_1D``), else the
    accumulator's."""
    if cdtype != np.float32:
        return ACC[cdtype]
    if kshape is not None and sum(1 for k in kshape if k > 1) <= 1 and \
            math.prod(kshape) < SHORT_1D:
        return ACC[cdtype]
    return cdtype


def _batch_mode(own, bshape):
    """How an operand's batch axes become one: 'own' (already the broadcast
    shape), 'one' (size 1), 'broadcast' (a copy)."""
    if own == bshape:
        return "own"
    return "one" if math.prod(own) == 1 else "broadcast"


def _batch_view(arr, nb, bshape, B, mode):
    """The leading ``nb`` (batch) axes of ``arr`` as one axis of size 1 or B."""
    rest = arr.shape[nb:]
    if mode == "own":
        return arr.reshape((B,) + rest)
    if mode == "one":
        return arr.reshape((1,) + rest)
    return np.broadcast_to(arr, bshape + rest).reshape((B,) + rest)


def sums_layout(shape, kshape, axes):
    """How ``DirectPlan`` lays out a problem whose data has extents ``shape``
    (kernel ``kshape``, convolved ``axes``): ``(inner, swap)``.

    ``inner`` is the convolved axis the kernel sweeps innermost (vectorised):
    the last one, unless it is short and another is much longer (a
    (1000, 8) array filtered along axis 0 runs 1000-long vector loops
    instead of 8-long ones). ``swap``: the data is the smaller operand and
    serves as the taps (convolution is commutative). Both decide how the
    sums are grouped (``kernels.direct``, "Sums"); they are decided on the
    operands' extents, never on the window: 'same' and 'valid' are bitwise
    slices of 'full'.
    """
    axes = list(axes)
    lengths = [max(shape[ax], kshape[ax]) for ax in axes]
    inner = axes[-1] if axes else None
    if len(axes) > 1 and lengths[-1] < 64 and max(lengths) >= 4 * lengths[-1]:
        inner = axes[lengths.index(max(lengths))]
    swap = math.prod(shape[ax] for ax in axes) < math.prod(kshape[ax] for ax in axes)
    return inner, swap


class DirectPlan:
    """A direct convolution prepared from shapes alone: ``plan(a, k)`` computes
    the windows ``windows`` of the full convolution ``a * k`` along ``axes``,
    broadcast over the other axes.

    Parameters
    ----------
    shape_a, shape_k : tuple
        Same length; axes not in ``axes`` broadcast.
    axes : sequence of int
        Convolved axes (non-negative, unique).
    windows : sequence of (start, length)
        Output window per convolved axis, in full-convolution coordinates.
    cdtype : dtype
        float32, float64, complex64, complex128 or int64.
    workers : int
        Threads.
    parallel : bool or None
        Run the parallel kernel (True), the serial one (False), or decide by
        the amount of work (None).
    wdtype : dtype, optional
        The weights' dtype, if not ``weights_dtype``'s choice.
    chunk : callable, optional
        ``chunk(out4, workers)``: outputs per kernel task along the last axis
        of the ``(B, L0, L1, L2)`` output (default ``CHUNK``). It changes the
        split of the work, never a sum (``kernels.direct``, "Sums").
    trace : str
        The path name recorded (``trace-serial`` / ``trace-parallel``).
    kernels : tuple, optional
        ``(parallel, serial)`` kernels with ``kernels.direct``'s signature and
        sums (default: ``kernels.direct``'s; ``kernels.direct_batched``'s for
        ``direct-batched``, where ``chunk`` is the batch items per task).
    layout : tuple, optional
        ``sums_layout`` of the whole data when ``a`` is a piece of it (a
        dask chunk with its halo), so that the piece's outputs are bitwise
        the whole's. Default: ``sums_layout`` of the shapes.

    Everything that depends on shapes only is computed once here (axis order,
    which operand is the kernel, offsets, buffer shapes), so a planned call
    costs the kernel and a few views (``jitconv.plan``, the engine's cache of
    repeated calls).
    """

    def __init__(self, shape_a, shape_k, axes, windows, cdtype, workers, parallel=None,
                 wdtype=None, chunk=None, trace="direct", layout=None, kernels=None):
        cdtype = np.dtype(cdtype)
        nd = len(shape_a)
        axes, windows = list(axes), list(windows)
        inner, swap = layout if layout is not None else sums_layout(shape_a, shape_k, axes)
        if axes and inner != axes[-1]:
            i = axes.index(inner)
            axes.append(axes.pop(i))
            windows.append(windows.pop(i))
        batch = [i for i in range(nd) if i not in axes]
        perm = batch + axes
        self.perm = None if perm == list(range(nd)) else perm
        sa = tuple(shape_a[i] for i in perm)
        sk = tuple(shape_k[i] for i in perm)
        nb = len(batch)
        # convolution is commutative: the smaller operand becomes the kernel
        self.swap = bool(swap)
        if self.swap:
            sa, sk = sk, sa
        self.nb = nb
        self.bshape = broadcast(sa[:nb], sk[:nb])
        self.B = B = math.prod(self.bshape)
        self.amode = _batch_mode(sa[:nb], self.bshape)
        self.kmode = _batch_mode(sk[:nb], self.bshape)
        m = sk[nb:]
        L = [w[1] for w in windows]
        # output i reads input positions i + j + lo (j over the kernel); outside
        # the input is zero padding, skipped by the kernel (never copied)
        lo = [w[0] - (mi - 1) for w, mi in zip(windows, m)]
        d = len(axes)
        self.cdtype, self.workers = cdtype, workers
        self.wdtype = np.dtype(wdtype or weights_dtype(cdtype, m))
        # the kernel's axes flipped; its batch axes are nb of them, or one after a broadcast
        self.flip = (slice(None),) * nb + (slice(None, None, -1),) * d
        self.flip1 = (slice(None),) + (slice(None, None, -1),) * d
        self.high = d > 3
        self.L, self.lo = L, lo
        pad = (1,) * max(0, 3 - d)
        kb = B if self.kmode != "one" else 1
        ab = B if self.amode != "one" else 1
        self.x4 = (ab,) + pad + sa[nb:]
        self.w4 = (kb,) + pad + m
        self.out4 = (B,) + pad + tuple(L)
        self.offsets = tuple(int(v) for v in [0] * len(pad) + lo)
        self.final = tuple(self.bshape) + tuple(L)
        if self.perm is None:
            self.inv = None
        else:
            self.inv = [0] * nd
            for i, p in enumerate(perm):
                self.inv[p] = i
        work = math.prod(self.out4) * math.prod(m)
        self.parallel = work >= _config.SERIAL_WORK if parallel is None else parallel
        self.chunk = CHUNK if chunk is None else max(1, int(
            chunk(self.out4, workers if self.parallel else 1)))
        self.trace = trace
        self.kernels = kernels or (_k.corr_valid_parallel, _k.corr_valid_serial)
        self.proto = np.empty(0, ACC[cdtype])
        self.zero = np.zeros(1, self.wdtype)

    def _operands(self, a, k):
        if self.perm is not None:
            a, k = a.transpose(self.perm), k.transpose(self.perm)
        return (k, a) if self.swap else (a, k)

    def data(self, a):
        """The data operand (already transposed and swapped) as the kernel takes it."""
        if self.amode == "broadcast":
            a = _batch_view(a, self.nb, self.bshape, self.B, self.amode)
        x = np.ascontiguousarray(a, dtype=self.cdtype)
        if self.high:
            return _launch.readonly(x.reshape((-1,) + x.shape[self.nb:]))
        x = x.reshape(self.x4)   # a new view: read-only for one kernel signature
        x.setflags(write=False)
        return x

    def weights(self, k):
        """The kernel operand (already transposed and swapped), flipped, as the kernel takes it."""
        if self.kmode == "broadcast":
            k = _batch_view(k, self.nb, self.bshape, self.B, self.kmode)[self.flip1]
        else:
            k = k[self.flip]
        w = np.ascontiguousarray(k, dtype=self.wdtype)
        if self.high:
            return _launch.readonly(w.reshape((-1,) + w.shape[self.nb:]))
        w = w.reshape(self.w4)
        w.setflags(write=False)
        return w

    def __call__(self, a, k):
        a, k = self._operands(a, k)
        return self.run(self.data(a), self.weights(k))

    def bind(self, k):
        """``f(a)`` with the second operand fixed (its weights computed once)."""
        if self.swap:
            return lambda a: self(a, k)
        kk = k.transpose(self.perm) if self.perm is not None else k
        w = self.weights(kk)

        def conv(a):
            return self.run(self.data(a.transpose(self.perm) if self.perm is not None else a), w)
        return conv

    def run(self, x, w):
        if self.high:
            out = _correlate_high(x, w, self.B, self.L, self.cdtype, ACC[self.cdtype],
                                  self.workers, self.parallel, self.lo)
        else:
            out = np.empty(self.out4, self.cdtype)
            if out.size:
                _launch.launch(*self.kernels,
                               (x, w, out, self.chunk, self.proto, self.zero) + self.offsets,
                               self.workers, self.parallel, self.trace)
        out = out.reshape(self.final)
        return out if self.inv is None else out.transpose(self.inv)


def direct_conv(a, k, axes, windows, cdtype, workers, parallel=None, wdtype=None, layout=None):
    """Window of the full convolution ``a * k`` along ``axes``, computed directly
    (see ``DirectPlan``, whose parameters these are).

    Returns
    -------
    ndarray of dtype ``cdtype`` (int64 for integer problems).
    """
    return DirectPlan(a.shape, k.shape, axes, windows, cdtype, workers, parallel, wdtype,
                      layout=layout)(a, k)


def correlate(x, w, out, workers, parallel=None, offsets=(0, 0, 0)):
    """Run the kernel; ``offsets``: input position of output 0, tap 0, per spatial axis."""
    if out.size == 0:
        return
    bounds = tuple(int(v) for v in offsets)
    x, w = _launch.readonly(x), _launch.readonly(w)
    if parallel is None:
        parallel = out.size * (w.size // w.shape[0]) >= _config.SERIAL_WORK
    proto = np.empty(0, ACC[np.dtype(out.dtype)])
    zero = np.zeros(1, w.dtype)
    _launch.launch(_k.corr_valid_parallel, _k.corr_valid_serial,
                   (x, w, out, CHUNK, proto, zero) + bounds, workers, parallel, "direct")


def _correlate_high(xs, w, B, L, out_dtype, acc, workers, parallel, offsets):
    """More than three convolved axes: loop over the leading ones in Python."""
    e = len(L) - 3
    m = w.shape[1:]
    total = np.zeros((B,) + tuple(L), dtype=acc)
    for o in itertools.product(*[range(l) for l in L[:e]]):
        for j in itertools.product(*[range(mi) for mi in m[:e]]):
            pos = tuple(oi + ji + li for oi, ji, li in zip(o, j, offsets))
            if not all(0 <= p < n for p, n in zip(pos, xs.shape[1:])):
                continue  # padding along an outer axis
            xi = np.ascontiguousarray(xs[(slice(None),) + pos])
            wi = np.ascontiguousarray(w[(slice(None),) + j])
            part = np.empty((B,) + tuple(L[e:]), dtype=out_dtype)
            correlate(xi, wi, part, workers, parallel, offsets[e:])
            total[(slice(None),) + o] += part
    return total.astype(out_dtype, copy=False)


def valid_corr(xs, w, cdtype, workers):
    """Valid correlation of one N-d (N <= 3) array ``xs`` with weights ``w``."""
    cdtype = np.dtype(cdtype)
    pad = (1,) * (4 - xs.ndim)
    x4 = np.ascontiguousarray(xs, dtype=cdtype).reshape(pad + xs.shape)
    w4 = np.ascontiguousarray(w, dtype=weights_dtype(cdtype, w.shape)).reshape(pad + w.shape)
    L = tuple(max(0, x - m + 1) for x, m in zip(xs.shape, w.shape))
    out = np.empty(pad + L, dtype=cdtype)
    correlate(x4, w4, out, workers)
    return out.reshape(L)


class DirectSerial(Candidate):
    id = "direct-serial"

    def estimate(self, p):
        return cost.DIRECT_FIXED + cost.direct_work(p)

    def prepare(self, p):
        return DirectPlan(p.shape1, p.shape2, p.axes, p.wins, p.cdtype, 1, parallel=False,
                          layout=p.sums_layout)

    def run(self, p, a, k):
        return self.prepare(p)(a, k)

    def bind(self, p, k):
        return self.prepare(p).bind(k)


class DirectParallel(Candidate):
    id = "direct-parallel"

    def supports(self, p):
        return _launch.parallel_ok(p.workers)

    def estimate(self, p):
        tasks = cost.batch(p) * max(1, math.prod(w[1] for w in p.wins[:-1]) if p.wins else 1)
        tasks *= max(1, (p.wins[-1][1] + CHUNK - 1) // CHUNK) if p.wins else 1
        return (cost.DIRECT_FIXED + cost.PARALLEL_FIXED
                + cost.direct_work(p) / cost.speedup(p.workers, tasks))

    def prepare(self, p):
        return DirectPlan(p.shape1, p.shape2, p.axes, p.wins, p.cdtype, p.workers, parallel=True,
                          layout=p.sums_layout)

    def run(self, p, a, k):
        return self.prepare(p)(a, k)

    def bind(self, p, k):
        return self.prepare(p).bind(k)
