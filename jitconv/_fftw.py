"""FFT convolution with FFTW (through pyFFTW). The only module that imports pyfftw.

Rules this module keeps (the failure modes are in ``docs/reliability.md``):
- plans are built on scratch buffers owned by the plan, never on caller memory
  (FFTW_MEASURE overwrites its arrays);
- one FFTW object is used by one thread only: plan caches are per thread;
- FFTW planning and plan destruction happen under one process-wide lock
  (``LOCK``), which the wisdom functions must also take;
- each thread's cache is bounded in bytes (least recently used plans go first).
"""
import importlib.machinery
import importlib.util
import math
import os
import re
import sys
import threading
from collections import Counter, OrderedDict

import numpy as np


def _load_pyfftw():
    """pyFFTW's extension module (FFTW, wisdom, aligned arrays).

    ``import pyfftw`` also imports ``pyfftw.interfaces``, which imports
    ``scipy.fft`` and, when installed, ``dask.array``: 0.43 s of the 0.79 s
    that ``import jitconv`` took here. The extension itself needs only numpy
    and loads in 5 ms, so it is loaded on its own, under its own name
    (``pyfftw.pyfftw``): a later ``import pyfftw`` by the user finds and
    reuses it. Falls back to the package import if the layout is unexpected.
    """
    mod = sys.modules.get("pyfftw.pyfftw")
    if mod is not None:
        return mod
    if "pyfftw" not in sys.modules:
        try:
            spec = importlib.util.find_spec("pyfftw")
            for loc in spec.submodule_search_locations or ():
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = os.path.join(loc, "pyfftw" + suffix)
                    if os.path.exists(path):
                        es = importlib.util.spec_from_file_location("pyfftw.pyfftw", path)
                        mod = importlib.util.module_from_spec(es)
                        sys.modules["pyfftw.pyfftw"] = mod
                        try:
                            es.loader.exec_module(mod)
                        except BaseException:
                            del sys.modules["pyfftw.pyfftw"]
                            raise
                        return mod
        except Exception:  # noqa: BLE001 - any surprise: the regular import below
            pass
    import pyfftw.pyfftw as mod  # noqa: E402 - the full package import
    return mod


pyfftw = _load_pyfftw()

from . import _config, _trace

LOCK = threading.RLock()
_tls = _config.local(plans=None, nbytes=0, touched=None, effort=None, timelimit=None,
                     first=False)

#: transforms (batch included) smaller than this run on one FFTW thread
THREADED_MIN = 1 << 15

#: ``forked``: this process is a fork child of a process that ran threaded
#: FFTW plans. FFTW's worker pool does not survive fork (a threaded execute
#: in the child waits forever for workers that no longer exist, verified),
#: so the child plans single-threaded.
_state = {"forked": False, "threaded": False, "unsaved": False}

#: FFTW plans made by this process: ``'from_wisdom'`` (FFTW had wisdom for the
#: transform at the planning effort: nothing measured), ``'planned'`` (FFTW's
#: planner ran at MEASURE/PATIENT effort within its time limit; it may still
#: reuse partial wisdom, e.g. a stored time-out; its wisdom is flagged
#: ``unsaved`` until the planner stores it), ``'estimated'`` (FFTW_ESTIMATE)
STATS = Counter()

REAL = {False: np.dtype(np.float64), True: np.dtype(np.float32)}
CPLX = {False: np.dtype(np.complex128), True: np.dtype(np.complex64)}


class _Plan:
    __slots__ = ("fftw", "inp", "out", "nbytes", "level")

    def __init__(self, fftw, inp, out, level):
        self.fftw, self.inp, self.out = fftw, inp, out
        self.nbytes = inp.nbytes + out.nbytes
        #: the planning effort it was made at (``_LEVEL``): a measuring
        #: planner replaces it by a more patient plan
        self.level = level

    def __del__(self):
        # destroying an FFTW plan must not overlap wisdom export or planning,
        # also when a thread's cache dies with its thread
        try:
            with LOCK:
                self.fftw = None
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class _Numpy:
    """A transform run by NumPy's pocketfft, with FFTW's conventions (an
    unscaled inverse), on the same buffers a FFTW plan would own.

    FFTW_ESTIMATE still searches: the first plan of a new size costs 1.5-6 ms
    here (1e6 points: 15 ms), against 0.1-0.2 ms for the same size planned
    again (FFTW keeps its solutions), while pocketfft builds its plan in
    microseconds and runs within 1-4x of FFTW. So in a key's first call
    (``first_use``) a transform this process never ran runs here, and FFTW
    plans it when it recurs (see ``_get_plan``), as the planner measures a
    key only when it recurs.
    """
    __slots__ = ("kind", "inp", "out", "axes", "s")

    def __init__(self, kind, inp, out, axes):
        self.kind, self.inp, self.out, self.axes = kind, inp, out, tuple(axes)
        self.s = tuple(out.shape[a] for a in self.axes)

    def execute(self):
        fft = np.fft
        if self.kind == "r2c":
            fft.rfftn(self.inp, axes=self.axes, out=self.out)
        elif self.kind == "c2r":
            fft.irfftn(self.inp, s=self.s, axes=self.axes, norm="forward", out=self.out)
        elif self.kind == "c2c":
            fft.fftn(self.inp, axes=self.axes, out=self.out)
        else:
            fft.ifftn(self.inp, axes=self.axes, norm="forward", out=self.out)


#: the largest transform (points, batch included; half for single precision,
#: which NumPy runs ~2x slower) whose first use runs on NumPy: beyond it FFTW's
#: ESTIMATE search is small next to the transform (measured: NumPy 3-5 ms on
#: 2^18 float64 points against 4-7 ms of FFTW planning and execution; 14x
#: slower than threaded FFTW on a 132^3 float32 volume)
NUMPY_FIRST_MAX = 1 << 17

#: transforms (kind, shapes, precision, axes, slot) this process has asked for:
#: the first request of one runs on NumPy (``_Numpy``), a repeat plans FFTW
_SEEN = set()


def _cache():
    c = _tls.plans
    if c is None:
        c = _tls.plans = OrderedDict()
        _tls.nbytes = 0
    return c


def _get_plan(kind, in_shape, out_shape, single, axes, threads, slot):
    key = (kind, in_shape, out_shape, single, axes, threads, slot, _config.SETTINGS.deterministic)
    seen = _tls.touched
    if seen is not None:
        seen.add(key)
    c = _cache()
    p = c.get(key)
    # the whole buffer counts, batch included: 4096 transforms of 40x40
    # points run 2-5x faster with MEASURE plans than with ESTIMATE ones
    n = math.prod(in_shape)
    flag, limit = _flags(n)
    if p is not None and p.level >= _LEVEL[flag]:
        c.move_to_end(key)
        return p
    fresh = p is None
    if p is not None:   # a measuring planner upgrades an ESTIMATE plan
        with LOCK:
            c.pop(key)
            _tls.nbytes -= p.nbytes
            del p
    # first use of a transform in this process, in a key's first call
    # (``first_use``), without wisdom: NumPy's pocketfft instead of an FFTW
    # search (below, once the wisdom lookup has failed)
    first = (fresh and _tls.first and _tls.effort is None
             and not _config.SETTINGS.deterministic and _config.FIRST_USE_NUMPY
             and n <= (NUMPY_FIRST_MAX >> single) and key[:5] + key[6:7] not in _SEEN)
    if len(_SEEN) > 100_000:   # endless new shapes: bounded memory
        _SEEN.clear()
    _SEEN.add(key[:5] + key[6:7])
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
    fftw = None
    level = _LEVEL[flag]
    with LOCK:
        # wisdom first (stored, or made at a higher effort): a plan FFTW can
        # make from wisdom costs no measuring
        for wflag in _WISDOM_TRIES[flag]:
            try:
                fftw = pyfftw.FFTW(inp, out, axes=axes, direction=direction,
                                   flags=(wflag, "FFTW_WISDOM_ONLY", "FFTW_DESTROY_INPUT"),
                                   threads=threads)
                STATS["from_wisdom"] += 1
                level = max(level, _LEVEL[wflag])
                break
            except RuntimeError:
                pass
        if fftw is None and first:
            fftw = _Numpy(kind, inp, out, axes)
            level = -1   # replaced by an FFTW plan on the next use
            STATS["numpy"] += 1
        if fftw is None and flag != "FFTW_WISDOM_ONLY":
            fftw = pyfftw.FFTW(inp, out, axes=axes, direction=direction,
                               flags=(flag, "FFTW_DESTROY_INPUT"), threads=threads,
                               planning_timelimit=limit)
            if flag == "FFTW_ESTIMATE":
                STATS["estimated"] += 1
            else:
                STATS["planned"] += 1
                _state["unsaved"] = True
        if fftw is None:  # FFTW_WISDOM_ONLY without wisdom for this transform
            fftw = pyfftw.FFTW(inp, out, axes=axes, direction=direction,
                               flags=("FFTW_ESTIMATE", "FFTW_DESTROY_INPUT"), threads=threads)
            STATS["estimated"] += 1
    if threads > 1:
        _state["threaded"] = True
    p = _Plan(fftw, inp, out, level)
    c[key] = p
    _tls.nbytes += p.nbytes
    if _tls.nbytes > _config.PLAN_CACHE_BYTES or len(c) > _config.PLAN_CACHE_PLANS:
        with LOCK:  # FFTW's destroy_plan is not thread-safe either
            while len(c) > 1 and (_tls.nbytes > _config.PLAN_CACHE_BYTES
                                  or len(c) > _config.PLAN_CACHE_PLANS):
                _, old = c.popitem(last=False)
                _tls.nbytes -= old.nbytes
                del old
    return p


_FLAG = {"estimate": "FFTW_ESTIMATE", "measure": "FFTW_MEASURE",
         "exhaustive": "FFTW_PATIENT", "wisdom_only": "FFTW_WISDOM_ONLY"}
_LEVEL = {"FFTW_ESTIMATE": 0, "FFTW_WISDOM_ONLY": 0, "FFTW_MEASURE": 1, "FFTW_PATIENT": 2}
#: wisdom looked up before planning at a flag: the most patient first
_WISDOM_TRIES = {"FFTW_ESTIMATE": ("FFTW_PATIENT", "FFTW_MEASURE"),
                 "FFTW_WISDOM_ONLY": ("FFTW_PATIENT", "FFTW_MEASURE"),
                 "FFTW_MEASURE": ("FFTW_PATIENT", "FFTW_MEASURE"),
                 "FFTW_PATIENT": ("FFTW_PATIENT",)}


def _flags(n):
    """FFTW planner flag and time limit for a transform of ``n`` points.

    Outside the planner's measuring (a call's run, or a key's first call)
    plans are FFTW_ESTIMATE unless wisdom has better ones: a first call
    costs no FFTW measuring. While the planner measures a key (``planning``),
    plans follow its effort (MEASURE, or PATIENT for 'exhaustive'), bounded by
    a share of the planning budget, since FFTW_MEASURE alone takes ~15 s on
    2^20 points and ~50 s on a prime; they replace the ESTIMATE plans in the
    cache. Small transforms use ESTIMATE (measuring them gains nothing).
    """
    if _config.SETTINGS.deterministic:
        return "FFTW_ESTIMATE", None  # ESTIMATE plans depend on sizes only
    effort = _tls.effort
    if effort is None:
        effort = "wisdom_only" if _config.SETTINGS.effort == "wisdom_only" else "estimate"
    if effort in ("measure", "exhaustive") and n < _config.FFTW_MEASURE_MIN:
        effort = "estimate"
    limit = _tls.timelimit
    if limit is None:
        limit = max(0.05, _config.SETTINGS.budget / 4)
    return _FLAG[effort], limit


class planning:
    """Context (per thread) for FFTW plans built while the planner measures."""

    def __init__(self, effort, timelimit):
        self.effort, self.timelimit = effort, timelimit

    def __enter__(self):
        self.prev = _tls.effort, _tls.timelimit
        _tls.effort, _tls.timelimit = self.effort, self.timelimit

    def __exit__(self, *exc):
        _tls.effort, _tls.timelimit = self.prev


class first_use:
    """Context (per thread): the first call of a key. Its transforms that this
    process never ran take NumPy's pocketfft (``_Numpy``) instead of an FFTW
    search; later calls, plans (``jitconv.plan``) and the planner's measuring
    use FFTW. ``first_use(False)``: not here (work spread over threads, whose
    items must be computed alike whatever thread takes them)."""

    def __init__(self, on=True):
        self.on = on

    def __enter__(self):
        self.prev = _tls.first
        _tls.first = self.on

    def __exit__(self, *exc):
        _tls.first = self.prev


class touching:
    """Context (per thread): the set of plan-cache keys this thread's
    transforms use inside it (``evict`` drops them)."""

    def __enter__(self):
        self.prev = _tls.touched
        _tls.touched = set()
        return _tls.touched

    def __exit__(self, *exc):
        seen = _tls.touched
        _tls.touched = self.prev
        if self.prev is not None:
            self.prev |= seen


def evict(keys):
    """Drop the plans of ``keys`` (from ``touching``) from this thread's cache,
    with their buffers: the planner evicts the plans of the candidates that
    lost (up to a plan cache of scratch-sized buffers per key measured)."""
    c = _cache()
    with LOCK:   # FFTW's destroy_plan is not thread-safe
        for key in keys:
            p = c.pop(key, None)
            if p is not None:
                _tls.nbytes -= p.nbytes
                del p


def _load(dst, src):
    """Copy ``src`` into the corner of ``dst`` and zero the rest of ``dst``.

    Only the padding is zeroed (disjoint slabs, one per axis), not the whole
    buffer first: one write pass instead of two (W4: 5.6 -> 3 ms).
    """
    dst[tuple(slice(0, s) for s in src.shape)] = src
    for d, (n, m) in enumerate(zip(src.shape, dst.shape)):
        if n < m:
            dst[tuple(slice(0, src.shape[i]) for i in range(d)) + (slice(n, None),)] = 0


def _threads(shape, workers):
    """FFTW threads for transforms of ``shape`` (batch included).

    FFTW's threads cost more than they save on small transforms (measured: a
    68-point transform with 2 threads took milliseconds on a busy machine);
    a fork child and deterministic mode plan single-threaded.
    """
    if _state["forked"] or _config.SETTINGS.deterministic or math.prod(shape) < THREADED_MIN:
        return 1
    return workers


class _Geometry:
    """Transform kinds, padded shapes and thread count of one frequency-domain product."""

    def __init__(self, shape_a, shape_k, axes, fshape, complex_, workers):
        self.axes = tuple(axes)
        shp_a, shp_k = list(shape_a), list(shape_k)
        for ax, n in zip(self.axes, fshape):
            shp_a[ax] = n
            shp_k[ax] = n
        self.shp_a, self.shp_k = tuple(shp_a), tuple(shp_k)
        self.shp_o = tuple(np.broadcast_shapes(self.shp_a, self.shp_k))
        self.complex = complex_
        self.fwd, self.inv = ("c2c", "c2c-inv") if complex_ else ("r2c", "c2r")
        self.threads = _threads(self.shp_o, workers)
        # a kernel's transform is often far smaller than the batch of the
        # input's (overlap-add: 1 block against 11): threads of its own size
        self.threads_k = _threads(self.shp_k, workers)
        self.scale = 1.0 / float(math.prod(fshape))

    def spec(self, s):
        if self.complex:
            return tuple(s)
        s = list(s)
        s[self.axes[-1]] = s[self.axes[-1]] // 2 + 1
        return tuple(s)

    def plan(self, which, single, slot):
        if which == "a":
            return _get_plan(self.fwd, self.shp_a, self.spec(self.shp_a), single, self.axes,
                             self.threads, (slot, 0))
        if which == "k":
            return _get_plan(self.fwd, self.shp_k, self.spec(self.shp_k), single, self.axes,
                             self.threads_k, (slot, 1))
        return _get_plan(self.inv, self.spec(self.shp_o), self.shp_o, single, self.axes,
                         self.threads, (slot, 2))


def spectrum(k, shape_a, axes, fshape, complex_, single, workers):
    """The (scaled) spectrum of a kernel, as a new array, for `freq_conv`'s ``kspec``."""
    g = _Geometry(shape_a, k.shape, axes, fshape, complex_, workers)
    pk = g.plan("k", single, 9)
    _load(pk.inp, k)
    pk.fftw.execute()
    return np.multiply(pk.out, g.scale, dtype=pk.out.dtype)


def freq_conv(a, k, axes, fshape, crop, single, workers, slot=0, kspec=None, out=None,
              load=None):
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
    slot : int
        Separates plans of the same shapes used at once (overlap-add vs full).
    kspec : ndarray, optional
        ``k``'s spectrum from `spectrum` (a reusable plan's cache); ``k`` is
        then only used for its shape.
    out : ndarray, optional
        Where to write ``result[crop]`` (a new array otherwise).
    load : callable, optional
        ``load(buf)`` writes ``a`` (zero-padded) into the plan's input buffer
        itself, so that ``a`` need not exist (only its shape and dtype are
        used): the ndimage FFT writes its boundary extension there directly.

    Returns
    -------
    ndarray
        ``out`` or a new array (never a plan buffer) holding ``result[crop]``.
    """
    complex_ = a.dtype.kind == "c" or k.dtype.kind == "c"
    g = _Geometry(a.shape, k.shape, axes, fshape, complex_, workers)
    pa = g.plan("a", single, slot)
    pi = g.plan("inv", single, slot)
    _trace.record("fft-complex" if complex_ else "fft-real")
    if load is None:
        _load(pa.inp, a)
    else:
        load(pa.inp)
    pa.fftw.execute()
    if kspec is None:
        pk = g.plan("k", single, slot)
        _load(pk.inp, k)
        pk.fftw.execute()
        np.multiply(pa.out, pk.out, out=pi.inp)
        pi.fftw.execute()
        res = pi.out[crop]
        return np.multiply(res, g.scale, dtype=res.dtype, out=out)
    np.multiply(pa.out, kspec, out=pi.inp)
    pi.fftw.execute()
    res = pi.out[crop]
    if out is None:
        return res.copy()
    np.copyto(out, res, casting="same_kind")
    return out


def rfft_padded(x, axes, fshape, workers, slot="nn"):
    """Real FFT of ``x`` zero-padded to ``fshape`` along ``axes`` (the last
    axes), as a new complex array. Used by the CNN ops' FFT candidate."""
    single = x.dtype == np.float32
    shp = x.shape[:x.ndim - len(axes)] + tuple(fshape)
    spec = shp[:-1] + (shp[-1] // 2 + 1,)
    p = _get_plan("r2c", shp, spec, single, tuple(axes), _threads(shp, workers), (slot, 0))
    _load(p.inp, x)
    p.fftw.execute()
    return p.out.copy()


def irfft_cropped(X, axes, fshape, crop, workers, slot="nn"):
    """Inverse of `rfft_padded` (scaled), ``result[crop]`` as a new array."""
    single = X.dtype == np.complex64
    shp = X.shape[:X.ndim - len(axes)] + tuple(fshape)
    p = _get_plan("c2r", X.shape, shp, single, tuple(axes), _threads(shp, workers), (slot, 1))
    np.copyto(p.inp, X)
    p.fftw.execute()
    res = p.out[crop]
    return np.multiply(res, 1.0 / math.prod(fshape), dtype=res.dtype)


def forward(x, nt, fshape, complex_, single, workers, slot, prune=False):
    """FFT over the last ``nt`` axes of ``x``, zero-padded to ``fshape`` (real
    to half-spectrum unless ``complex_``). Returns the plan's output buffer:
    valid until this thread's next transform with the same ``slot``. Records
    no trace (callers running it on several threads record once).

    ``prune``: transform the last axis of the rows that hold data only, then
    the other axes on that spectrum padded with zero rows (W23's 32x32 data
    in 40x40 transforms: 32 row transforms instead of 40).
    """
    shp = x.shape[:x.ndim - nt] + tuple(fshape)
    h = fshape[-1] if complex_ else fshape[-1] // 2 + 1
    threads = _threads(shp, workers)
    rows = x.shape[x.ndim - nt:-1]
    if prune and nt > 1 and math.prod(rows) < 0.9 * math.prod(fshape[:-1]):
        lead = x.shape[:x.ndim - nt]
        s1 = lead + rows + (fshape[-1],)
        p1 = _get_plan("c2c" if complex_ else "r2c", s1, lead + rows + (h,), single,
                       (len(s1) - 1,), threads, (slot, 2))
        _load(p1.inp, x)
        p1.fftw.execute()
        s2 = lead + tuple(fshape[:-1]) + (h,)
        p2 = _get_plan("c2c", s2, s2, single, tuple(range(len(lead), len(s2) - 1)), threads,
                       (slot, 3))
        _load(p2.inp, p1.out)
        p2.fftw.execute()
        return p2.out
    spec = shp[:-1] + (h,)
    axes = tuple(range(len(shp) - nt, len(shp)))
    p = _get_plan("c2c" if complex_ else "r2c", shp, spec, single, axes, threads, (slot, 0))
    _load(p.inp, x)
    p.fftw.execute()
    return p.out


def inverse(X, nt, fshape, crop, complex_, single, workers, slot, out=None, fk=None,
            sum_axes=(), prune=False):
    """Inverse of `forward` (scaled): ``result[crop]``, into ``out`` or a new array.

    The spectrum is ``X``, or with ``fk`` the product ``X * fk`` summed over
    ``sum_axes``, computed straight into the plan's input (one pass less).
    ``prune``: the axes before the last are transformed first, and the last
    one only for the rows ``crop`` keeps (W23: 13 row transforms instead of 40).
    """
    if fk is None:
        spec = X.shape
    else:
        full = np.broadcast_shapes(X.shape, fk.shape)
        spec = tuple(n for i, n in enumerate(full) if i not in sum_axes)
    shp = spec[:len(spec) - nt] + tuple(fshape)
    axes = tuple(range(len(shp) - nt, len(shp)))
    last = "c2c-inv" if complex_ else "c2r"
    threads = _threads(shp, workers)
    keep = crop[len(spec) - nt:-1]
    kept = tuple(len(range(*k.indices(n))) for k, n in zip(keep, fshape[:-1]))
    pruned = prune and nt > 1 and math.prod(kept) < 0.9 * math.prod(fshape[:-1])
    if pruned:
        p = _get_plan("c2c-inv", spec, spec, single, axes[:-1], threads, (slot, 4))
    else:
        p = _get_plan(last, spec, shp, single, axes, threads, (slot, 1))
    if fk is None:
        np.copyto(p.inp, X)
    elif sum_axes:
        np.sum(np.multiply(X, fk), axis=sum_axes, out=p.inp)
    else:
        np.multiply(X, fk, out=p.inp)
    p.fftw.execute()
    if pruned:
        lead = spec[:len(spec) - nt]
        rows = p.out[crop[:len(spec) - 1] + (slice(None),)]
        sb = lead + kept + (spec[-1],)
        pb = _get_plan(last, sb, lead + kept + (fshape[-1],), single, (len(sb) - 1,), threads,
                       (slot, 5))
        np.copyto(pb.inp, rows)
        pb.fftw.execute()
        res = pb.out[(slice(None),) * (len(sb) - 1) + (crop[-1],)]
    else:
        res = p.out[crop]
    return np.multiply(res, 1.0 / math.prod(fshape), dtype=res.dtype, out=out)


# ---------------------------------------------------------------- wisdom
# FFTW's wisdom functions are not thread-safe (export while another thread
# plans corrupts the heap): all of them run under LOCK.

_ENTRY = re.compile(rb"^\(([A-Za-z0-9_]+) (\d+) #x([0-9a-f]{1,8}) #x([0-9a-f]{1,8}) "
                    rb"#x([0-9a-f]{1,8}) #x[0-9a-f]{1,8} #x[0-9a-f]{1,8} #x[0-9a-f]{1,8} "
                    rb"#x[0-9a-f]{1,8}\)$")
_HEADER = re.compile(rb"^\(fftw-[0-9.]+[a-z0-9.-]* fftw[fl]?_wisdom( #x[0-9a-f]{1,8}){4}$")
#: FFTW packs flags and impatience into 20-bit fields; a wider value makes
#: FFTW abort (``planner.c: assertion failed: flags.u == u``)
_FIELD_MAX = (1 << 20) - 1


def valid_wisdom(text):
    """True if ``text`` is well-formed FFTW wisdom that FFTW can import safely."""
    if not isinstance(text, bytes) or len(text) > 64 * 2**20:
        return False
    lines = text.strip().split(b"\n")
    if not lines or not _HEADER.match(lines[0].strip()):
        return False
    if lines[-1].strip() != b")":
        return False
    for line in lines[1:-1]:
        m = _ENTRY.match(line.strip())
        if not m:
            return False
        if any(int(m.group(g), 16) > _FIELD_MAX for g in (3, 4, 5)):
            return False
    return True


def export_wisdom():
    """FFTW wisdom (double, single, long double) as a tuple of bytes; the
    wisdom of measured plans counts as saved from here on."""
    with LOCK:
        _state["unsaved"] = False
        return tuple(pyfftw.export_wisdom())


def unsaved():
    """True when plans were measured since the wisdom was last exported."""
    return _state["unsaved"]


def mark_saved():
    """Forget that measured plans' wisdom is unsaved (persistence is off)."""
    _state["unsaved"] = False


def import_wisdom(wisdom):
    """Import validated wisdom; returns the tuple of booleans FFTW reports."""
    wisdom = tuple(wisdom)
    if len(wisdom) != 3 or not all(valid_wisdom(w) for w in wisdom):
        raise ValueError("malformed FFTW wisdom")
    with LOCK:
        return tuple(pyfftw.import_wisdom(wisdom))


def forget_wisdom():
    with LOCK:
        pyfftw.forget_wisdom()


def fftw_version():
    return getattr(pyfftw, "fftw_version", "unknown")


def pyfftw_version():
    try:
        from importlib.metadata import version
        return version("pyFFTW")
    except Exception:  # noqa: BLE001 - metadata missing: ask the package
        import pyfftw as pkg
        return pkg.__version__


def _before_fork():
    LOCK.acquire()


def _after_fork_parent():
    LOCK.release()


def _after_fork_child():
    # no plan was in flight (the lock was held across fork); start clean
    global LOCK
    LOCK = threading.RLock()
    _tls.__dict__.clear()
    if _state["threaded"]:
        _state["forked"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                        after_in_child=_after_fork_child)
