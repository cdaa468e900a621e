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


def _batch_view(arr, nb, bshape, B):
    """Reshape the leading ``nb`` (batch) axes of ``arr`` to one axis of size 1 or B."""
    own = arr.shape[:nb]
    rest = arr.shape[nb:]
    if own == bshape:
        return arr.reshape((B,) + rest)
    if math.prod(own) == 1:
        return arr.reshape((1,) + rest)
    return np.broadcast_to(arr, bshape + rest).reshape((B,) + rest)


def sums_layout(shape, kshape, axes):
    """How ``direct_conv`` lays out a problem whose data has extents ``shape``
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


def direct_conv(a, k, axes, windows, cdtype, workers, parallel=None, wdtype=None, layout=None):
    """Window of the full convolution ``a * k`` along ``axes``, computed directly.

    Parameters
    ----------
    a, k : ndarray
        Same ndim, any dtype castable to ``cdtype``; axes not in ``axes`` broadcast.
    axes : sequence of int
        Convolved axes (non-negative, unique).
    windows : sequence of (start, length)
        Output window per convolved axis, in full-convolution coordinates.
    cdtype : dtype
        float32, float64, complex64, complex128 or int64.
    workers : int
        Threads for this call.
    parallel : bool or None
        Run the parallel kernel (True), the serial one (False), or decide by
        the amount of work (None).
    wdtype : dtype, optional
        The weights' dtype, if not ``weights_dtype``'s choice.
    layout : tuple, optional
        ``sums_layout`` of the whole data when ``a`` is a piece of it (a
        dask chunk with its halo), so that the piece's outputs are bitwise
        the whole's. Default: ``sums_layout`` of ``a`` and ``k``.

    Returns
    -------
    ndarray of dtype ``cdtype`` (int64 for integer problems).
    """
    cdtype = np.dtype(cdtype)
    acc = ACC[cdtype]
    nd = a.ndim
    axes, windows = list(axes), list(windows)
    inner, swap = layout if layout is not None else sums_layout(a.shape, k.shape, axes)
    if axes and inner != axes[-1]:
        i = axes.index(inner)
        axes.append(axes.pop(i))
        windows.append(windows.pop(i))
    batch = [i for i in range(nd) if i not in axes]
    perm = batch + axes
    at, kt = a.transpose(perm), k.transpose(perm)
    nb = len(batch)
    if swap:
        at, kt = kt, at
    bshape = broadcast(at.shape[:nb], kt.shape[:nb])
    B = math.prod(bshape)
    at = _batch_view(at, nb, bshape, B)
    kt = _batch_view(kt, nb, bshape, B)
    m = kt.shape[1:]
    L = [w[1] for w in windows]
    # output i reads input positions i + j + lo (j over the kernel); outside
    # the input is zero padding, skipped by the kernel (never copied)
    lo = [w[0] - (mi - 1) for w, mi in zip(windows, m)]
    xs = np.ascontiguousarray(at, dtype=cdtype)
    flip = (slice(None),) + (slice(None, None, -1),) * len(axes)
    w = np.ascontiguousarray(kt[flip], dtype=wdtype or weights_dtype(cdtype, kt.shape[1:]))
    d = len(axes)
    if d <= 3:
        pad = (1,) * (3 - d)
        x4 = xs.reshape((xs.shape[0],) + pad + xs.shape[1:])
        w4 = w.reshape((w.shape[0],) + pad + w.shape[1:])
        out = np.empty((B,) + pad + tuple(L), dtype=cdtype)
        correlate(x4, w4, out, workers, parallel, [0] * (3 - d) + lo)
    else:
        out = _correlate_high(xs, w, B, L, cdtype, acc, workers, parallel, lo)
    out = out.reshape(tuple(bshape) + tuple(L))
    if perm == list(range(nd)):
        return out
    inv = [0] * nd
    for i, p in enumerate(perm):
        inv[p] = i
    return out.transpose(inv)


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
        return cost.DIRECT_FIXED + cost.macs(p) * cost.mac_cost(p)

    def run(self, p, a, k):
        return direct_conv(a, k, p.axes, p.wins, p.cdtype, 1, parallel=False,
                           layout=p.sums_layout)


class DirectParallel(Candidate):
    id = "direct-parallel"

    def supports(self, p):
        return _launch.parallel_ok(p.workers)

    def estimate(self, p):
        tasks = cost.batch(p) * max(1, math.prod(w[1] for w in p.wins[:-1]) if p.wins else 1)
        tasks *= max(1, (p.wins[-1][1] + CHUNK - 1) // CHUNK) if p.wins else 1
        par = min(p.workers, tasks)
        return (cost.DIRECT_FIXED + cost.PARALLEL_FIXED
                + cost.macs(p) * cost.mac_cost(p) / par)

    def run(self, p, a, k):
        return direct_conv(a, k, p.axes, p.wins, p.cdtype, p.workers, parallel=True,
                           layout=p.sums_layout)
