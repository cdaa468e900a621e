"""Driver of the direct path: normalise, pad, batch, call the numba kernel.

The public functions describe every direct problem as "the window
``[start, start + length)`` along each convolved axis of the full convolution
``a * k``, broadcast over the other axes". This module turns that into the one
kernel shape of ``kernels.direct`` (valid correlation of a padded 4-d batch).
"""
import itertools
import math
import threading
import warnings

import numpy as np
import numba

from . import _config, _trace
from ._shapes import broadcast
from .kernels import direct as _k

#: accumulator dtype for each compute dtype of the data
ACC = {
    np.dtype(np.float32): np.dtype(np.float64),
    np.dtype(np.float64): np.dtype(np.float64),
    np.dtype(np.complex64): np.dtype(np.complex128),
    np.dtype(np.complex128): np.dtype(np.complex128),
    np.dtype(np.int64): np.dtype(np.int64),
}

CHUNK = 2048

#: float32 products are summed in float32 over this many taps, then in
#: float64 (see kernels.direct); 0 for the other dtypes
BLOCK = 16


def weights_dtype(cdtype):
    """dtype of the kernel's weights: the data's for float32 (blocked float32
    sums), else the accumulator's."""
    return cdtype if cdtype == np.float32 else ACC[cdtype]


def _batch_view(arr, nb, bshape, B):
    """Reshape the leading ``nb`` (batch) axes of ``arr`` to one axis of size 1 or B."""
    own = arr.shape[:nb]
    rest = arr.shape[nb:]
    if own == bshape:
        return arr.reshape((B,) + rest)
    if math.prod(own) == 1:
        return arr.reshape((1,) + rest)
    return np.broadcast_to(arr, bshape + rest).reshape((B,) + rest)


def direct_conv(a, k, axes, windows, cdtype, workers, parallel=None):
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

    Returns
    -------
    ndarray of dtype ``cdtype`` (int64 for integer problems).
    """
    cdtype = np.dtype(cdtype)
    acc = ACC[cdtype]
    nd = a.ndim
    axes = list(axes)
    batch = [i for i in range(nd) if i not in axes]
    perm = batch + axes
    at, kt = a.transpose(perm), k.transpose(perm)
    nb = len(batch)
    # convolution is commutative: the smaller operand becomes the kernel
    if math.prod(at.shape[nb:]) < math.prod(kt.shape[nb:]):
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
    w = np.ascontiguousarray(kt[flip], dtype=weights_dtype(cdtype))
    out_dtype = cdtype
    d = len(axes)
    if d <= 3:
        pad = (1,) * (3 - d)
        x4 = xs.reshape((xs.shape[0],) + pad + xs.shape[1:])
        w4 = w.reshape((w.shape[0],) + pad + w.shape[1:])
        out = np.empty((B,) + pad + tuple(L), dtype=out_dtype)
        _run(x4, w4, out, workers, parallel, [0] * (3 - d) + lo)
    else:
        out = _run_high(xs, w, B, L, out_dtype, acc, workers, parallel, lo)
    out = out.reshape(tuple(bshape) + tuple(L))
    if perm == list(range(nd)):
        return out
    inv = [0] * nd
    for i, p in enumerate(perm):
        inv[p] = i
    return out.transpose(inv)


def _readonly(a):
    """A read-only view: the kernel sees one numba type whether or not the
    caller's array was writeable (numba specialises on the flag)."""
    v = a.view()
    v.flags.writeable = False
    return v


class _Threads:
    """Kernel threads in use by parallel regions of this process.

    Each parallel call reserves its threads; when fewer than two are free it
    runs the serial kernel instead. So Python threads calling jitconv at once
    never oversubscribe the CPUs, and under numba's ``workqueue`` layer (which
    aborts the process on concurrent parallel launches) only one parallel
    region ever runs at a time.
    """

    def __init__(self, total):
        self.free = total
        self.active = 0
        self.lock = threading.Lock()
        self.layer = None  # numba's threading layer, known after the first launch
        self.first = threading.Lock()

    def take(self, n):
        with self.lock:
            if self.layer == "workqueue" and self.active:
                return 0
            k = min(n, self.free)
            if k < 2:
                return 0
            self.free -= k
            self.active += 1
            return k

    def give(self, k):
        with self.lock:
            self.free += k
            self.active -= 1


THREADS = _Threads(_config.CPUS)


def _run(x, w, out, workers, parallel=None, offsets=(0, 0, 0)):
    """Run the kernel; ``offsets``: input position of output 0, tap 0, per spatial axis."""
    if out.size == 0:
        return
    bounds = tuple(int(v) for v in offsets)
    x, w = _readonly(x), _readonly(w)
    if parallel is None:
        parallel = out.size * (w.size // w.shape[0]) >= _config.SERIAL_WORK
    block = BLOCK if w.dtype == np.float32 else 0
    proto = np.empty(0, ACC[np.dtype(out.dtype)])
    launch(_k.corr_valid_parallel, _k.corr_valid_serial,
           (x, w, out, CHUNK, block, proto) + bounds, workers, parallel, "direct")


def launch(par, ser, args, workers, parallel=True, trace=None):
    """Run kernel ``par`` on up to ``workers`` threads, or its serial twin ``ser``.

    Threads come from the process-wide budget (``THREADS``); with fewer than
    two free, after a fork of an OpenMP parent, or when ``parallel`` is false,
    the serial twin runs. ``trace``: path name recorded as ``trace-serial`` /
    ``trace-parallel``.
    """
    k = 0
    if parallel and workers > 1 and not _config.FORKED_AFTER_OMP:
        k = THREADS.take(min(workers, numba.config.NUMBA_NUM_THREADS))
    if k < 2:
        if trace:
            _trace.record(trace + "-serial")
        _call(ser, *args)
        return
    if trace:
        _trace.record(trace + "-parallel")
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(k)
        if THREADS.layer is None:
            with THREADS.first:  # the layer starts once; learn which it is
                _call(par, *args)
                THREADS.layer = numba.threading_layer()
        else:
            _call(par, *args)
    finally:
        numba.set_num_threads(prev)
        THREADS.give(k)


_KERNELS = [_k._counted, _k._task, _k.corr_valid_serial, _k.corr_valid_parallel]


def register_kernels(*dispatchers):
    """Kernels whose on-disk cache ``_call`` flushes when it is unreadable."""
    _KERNELS.extend(dispatchers)


def _call(fn, *args):
    """Call a kernel; recover once from a corrupt on-disk numba cache.

    A truncated ``.nbc`` or garbage ``.nbi`` (a killed writer, a full disk)
    makes numba raise while loading (numba#10434): usually ``UnpicklingError``,
    but random bytes can unpickle into other errors. Inputs are validated
    before any kernel runs, so a kernel call has no other expected failure:
    drop our cache index, warn, compile afresh, retry once.
    """
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - see above; a second failure propagates
        caches = [d._cache for d in _KERNELS if type(getattr(d, "_cache", None)).__name__
                  not in ("NoneType", "NullCache")]
        if not caches:
            raise
        for cache in caches:
            try:
                cache.flush()
            except OSError:
                pass
        warnings.warn(f"jitconv: the numba cache was unreadable ({type(exc).__name__}: {exc}); "
                      "it was cleared and the kernels are compiled again", RuntimeWarning,
                      stacklevel=4)
        return fn(*args)


def _run_high(xs, w, B, L, out_dtype, acc, workers, parallel, offsets):
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
            _run(xi, wi, part, workers, parallel, offsets[e:])
            total[(slice(None),) + o] += part
    return total.astype(out_dtype, copy=False)


def _after_fork_in_child():
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel ran in the parent: nothing to fear
        return
    if layer == "omp":
        _config.FORKED_AFTER_OMP = True


if hasattr(__import__("os"), "register_at_fork"):
    __import__("os").register_at_fork(after_in_child=_after_fork_in_child)


def valid_corr(xs, w, cdtype, workers):
    """Valid correlation of one N-d (N <= 3) array ``xs`` with weights ``w``."""
    cdtype = np.dtype(cdtype)
    pad = (1,) * (4 - xs.ndim)
    x4 = np.ascontiguousarray(xs, dtype=cdtype).reshape(pad + xs.shape)
    w4 = np.ascontiguousarray(w, dtype=weights_dtype(cdtype)).reshape(pad + w.shape)
    L = tuple(max(0, x - m + 1) for x, m in zip(xs.shape, w.shape))
    out = np.empty(pad + L, dtype=cdtype)
    _run(x4, w4, out, workers)
    return out.reshape(L)
