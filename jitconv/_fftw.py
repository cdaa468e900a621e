"""FFT convolution with FFTW (through pyFFTW). The only module that imports pyfftw.

Rules this module keeps (see RELIABILITY.md):
- plans are built on scratch buffers owned by the plan, never on caller memory
  (FFTW_MEASURE overwrites its arrays);
- one FFTW object is used by one thread only: plan caches are per thread;
- FFTW planning and plan destruction happen under one process-wide lock
  (``LOCK``), which the wisdom functions must also take;
- each thread's cache is bounded in bytes (least recently used plans go first).
"""
import threading
from collections import OrderedDict

import numpy as np
import pyfftw

from . import _config, _trace
from ._shapes import next_fast_len

LOCK = threading.RLock()
_tls = threading.local()

REAL = {False: np.dtype(np.float64), True: np.dtype(np.float32)}
CPLX = {False: np.dtype(np.complex128), True: np.dtype(np.complex64)}


class _Plan:
    __slots__ = ("fftw", "inp", "out", "nbytes")

    def __init__(self, fftw, inp, out):
        self.fftw, self.inp, self.out = fftw, inp, out
        self.nbytes = inp.nbytes + out.nbytes


def _cache():
    c = getattr(_tls, "plans", None)
    if c is None:
        c = _tls.plans = OrderedDict()
        _tls.nbytes = 0
    return c


def clear_plan_cache():
    """Drop this thread's cached FFTW plans (others keep theirs)."""
    c = _cache()
    with LOCK:
        c.clear()
        _tls.nbytes = 0


def _get_plan(kind, in_shape, out_shape, single, axes, threads, slot):
    key = (kind, in_shape, out_shape, single, axes, threads, slot)
    c = _cache()
    p = c.get(key)
    if p is not None:
        c.move_to_end(key)
        return p
    if kind == "r2c":
        idt, odt, direction = REAL[single], CPLX[single], "FFTW_FORWARD"
    elif kind == "c2r":
        idt, odt, direction = CPLX[single], REAL[single], "FFTW_BACKWARD"
    elif kind == "c2c":
        idt, odt, direction = CPLX[single], CPLX[single], "FFTW_FORWARD"
    else:  # "c2c-inv"
        idt, odt, direction = CPLX[single], CPLX[single], "FFTW_BACKWARD"
    inp = pyfftw.empty_aligned(in_shape, dtype=idt)
    out = pyfftw.empty_aligned(out_shape, dtype=odt)
    flags = (_config.FFTW_EFFORT, "FFTW_DESTROY_INPUT")
    with LOCK:
        fftw = pyfftw.FFTW(inp, out, axes=axes, direction=direction, flags=flags,
                           threads=threads, planning_timelimit=_config.FFTW_TIMELIMIT)
    p = _Plan(fftw, inp, out)
    c[key] = p
    _tls.nbytes += p.nbytes
    if _tls.nbytes > _config.PLAN_CACHE_BYTES:
        with LOCK:  # FFTW's destroy_plan is not thread-safe either
            while _tls.nbytes > _config.PLAN_CACHE_BYTES and len(c) > 1:
                _, old = c.popitem(last=False)
                _tls.nbytes -= old.nbytes
                del old
    return p


def _load(dst, src, lo=None):
    """Zero ``dst`` and copy ``src`` into its corner (or at offsets ``lo``)."""
    dst[...] = 0
    dst[tuple(slice(0, s) for s in src.shape)] = src


def freq_conv(a, k, axes, fshape, crop, single, workers, slot=0):
    """Circular convolution of ``a`` and ``k`` of lengths ``fshape`` along ``axes``.

    Parameters
    ----------
    a, k : ndarray
        Same ndim; other axes broadcast. Real or complex of any dtype.
    axes : tuple of int
        Transform axes (non-negative, unique).
    fshape : tuple of int
        FFT length per axis in ``axes`` (>= each operand's length there).
    crop : tuple of slice
        Part of the result to return, one slice per axis of the result.
    single : bool
        Compute in single precision (float32/complex64).
    workers : int
        FFTW threads.

    Returns
    -------
    ndarray
        A new array (not a plan buffer) holding ``result[crop]``.
    """
    axes = tuple(axes)
    complex_ = a.dtype.kind == "c" or k.dtype.kind == "c"
    nd = a.ndim
    shp_a = list(a.shape)
    shp_k = list(k.shape)
    for ax, n in zip(axes, fshape):
        shp_a[ax] = n
        shp_k[ax] = n
    shp_o = list(np.broadcast_shapes(tuple(shp_a), tuple(shp_k)))
    if complex_:
        fwd, inv = "c2c", "c2c-inv"
        spec = lambda s: tuple(s)
    else:
        fwd, inv = "r2c", "c2r"
        last = axes[-1]

        def spec(s):
            s = list(s)
            s[last] = s[last] // 2 + 1
            return tuple(s)
    pa = _get_plan(fwd, tuple(shp_a), spec(shp_a), single, axes, workers, (slot, 0))
    pk = _get_plan(fwd, tuple(shp_k), spec(shp_k), single, axes, workers, (slot, 1))
    pi = _get_plan(inv, spec(shp_o), tuple(shp_o), single, axes, workers, (slot, 2))
    _trace.record("fft-complex" if complex_ else "fft-real")
    _load(pa.inp, a)
    pa.fftw.execute()
    _load(pk.inp, k)
    pk.fftw.execute()
    scale = 1.0 / float(np.prod(fshape))
    np.multiply(pa.out, pk.out, out=pi.inp)
    pi.fftw.execute()
    res = pi.out[crop]
    out = np.multiply(res, scale, dtype=res.dtype)
    return out


def fast_shape(lengths):
    return tuple(next_fast_len(int(n)) for n in lengths)
