"""SciPy drop-ins: ``convolve``, ``correlate``, ``fftconvolve``, ``oaconvolve``,
``convolve2d``, ``correlate2d``, ``choose_conv_method``, ``correlation_lags``.

Each function validates with SciPy 1.17's messages (before any work), builds
the problem (axes, output windows, result dtype), picks an algorithm and runs
it in ``jitconv._core``. jitconv extras are keyword-only: ``axes`` on every
function and ``workers`` (threads for this call).
"""
import dataclasses
import math
import timeit
import warnings

import numpy as np

from . import _algorithms, _config, _core, _methods, _problem, _separable
from . import _validate as V
from ._planner import PLANNER

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
           "correlate2d", "choose_conv_method", "correlation_lags"]

_NAN_WARNING = ("Use of fft convolution on input with NAN or inf results in NAN"
                " or inf output. Consider using method='direct' instead.")


def _scipy():
    """SciPy's own implementations, for dtypes numba cannot hold (long double,
    object). Taken from the private module so that a substituted
    ``scipy.signal`` namespace (as in our SciPy-suite runner) cannot recurse."""
    from scipy.signal import _signaltools
    return _signaltools


def _reverse_conj(x, axes):
    idx = [slice(None)] * x.ndim
    for ax in axes:
        idx[ax] = slice(None, None, -1)
    x = x[tuple(idx)]
    return np.conj(x) if x.dtype.kind == "c" else x


def _fallback(op, a, k, **kw):
    """SciPy computes dtypes numba cannot hold; its accidental errors (pocketfft's
    RuntimeError on some mixes, IndexError on empty FFT input) become TypeError.

    jitconv's NaN/inf guard applies here too: SciPy's 'auto' would send
    non-finite inputs to the FFT, and its cost model itself raises
    OverflowError on a long double inf (``int(inf)``).
    """
    a, k = (x.astype(x.dtype.newbyteorder("=")) if x.dtype.byteorder == ">" else x
            for x in (a, k))
    if kw.get("method") == "auto" and not (_methods.all_finite(a) and _methods.all_finite(k)):
        kw["method"] = "direct"
    try:
        return getattr(_scipy(), op)(a, k, **kw)
    except (RuntimeError, IndexError) as e:
        raise TypeError(f"{op} does not support inputs of dtypes {a.dtype} and {k.dtype}"
                        f" ({e})") from e
    except OverflowError as e:
        raise ValueError(f"{op}: values out of range for dtypes {a.dtype} and {k.dtype}"
                         f" ({e})") from e


def _needs_fallback(*arrays):
    return not all(V.native(a.dtype) for a in arrays)


def _empty_error(a, b, op):
    if a.size == 0 or b.size == 0:
        if op == "convolve":
            raise ValueError("a cannot be empty" if a.size == 0 else "v cannot be empty")
        raise ValueError("first array argument cannot be empty" if a.size == 0
                         else "second array argument cannot be empty")


class Job:
    """A validated call, ready to run: operands as the core sees them and the problem."""

    __slots__ = ("a", "k", "problem", "rt", "guard", "shape", "pending")

    def __init__(self, a, k, problem, rt, guard, shape, pending=False):
        self.a, self.k, self.problem, self.rt, self.guard, self.shape = a, k, problem, rt, guard, shape
        #: the NaN/inf guard is not evaluated yet: it only matters when the
        #: planner picks an FFT candidate (a scan of both inputs is skipped
        #: on every direct pick: 2 ms of 31 on W4)
        self.pending = pending

    def resolve_guard(self):
        """Evaluate a deferred NaN/inf guard; restrict the problem to direct if it fires."""
        if self.pending:
            self.pending = False
            if not (_methods.all_finite(self.a) and _methods.all_finite(self.k)):
                self.guard = "non-finite"
                self.problem = dataclasses.replace(self.problem, family="direct")

    def decide(self):
        """``(decision, hit)`` from the planner."""
        d = PLANNER.choose(self.problem)
        if self.pending and _algorithms.BY_ID[d[0].chosen].family != "direct":
            self.resolve_guard()
            if self.guard is not None:
                return PLANNER.choose(self.problem)
        return d

    def run(self, chosen=None):
        cand = _algorithms.BY_ID[chosen or self.decide()[0].chosen]
        return self.finish(cand.run(self.problem, self.a, self.k), cand)

    def finish(self, res, cand):
        """Cast a candidate's internal result to the caller's dtype and shape."""
        if self.problem.op in ("fftconvolve", "oaconvolve"):
            res = np.broadcast_to(res, self.shape) if res.shape != self.shape else res
            return np.ascontiguousarray(res, dtype=self.rt)
        if cand.family == "direct":
            return _core.finalize(res, self.rt, rounded=False)
        if res.size and not np.isfinite(res).all():
            warnings.warn(_NAN_WARNING, RuntimeWarning, stacklevel=5)  # the caller's line
        return _core.finalize(res, self.rt, rounded=True)


def _nd_job(op, a, k, axes, mode, method, workers, s1, s2):
    """Job for convolve/correlate once ``k`` is the convolution kernel."""
    wins = V.windows(mode, s1, s2, axes)
    rt = np.result_type(a, k)
    guard = None
    if method == "auto":
        g = _methods.guard(a, k, finite=False)
        if g is not None:
            method, guard = "direct", g[1]
    sep = None
    if method != "fft" and k.size <= _SEPARABLE_MAX and k.size < a.size \
            and a.size * k.size >= _SEPARABLE_MIN_WORK:
        sep = _separable.factors(k, axes, rt)
    p = _problem.make(op, method, a, k, axes, wins, rt, workers, separable=sep is not None)
    return Job(a, k, p, rt, guard, V.out_shape(a.shape, k.shape, axes, wins),
               pending=method == "auto")


#: kernels larger than this are not tested for separability (the test reads
#: the whole kernel on every call; large kernels are FFT territory anyway)
_SEPARABLE_MAX = 1 << 16
#: below this many multiply-adds the test costs more than two passes could save
_SEPARABLE_MIN_WORK = 1 << 18


def _setup(op, in1, in2, mode, method, axes, workers):
    """Validate a call of ``op`` (SciPy's checks, in SciPy's order) and build its Job.

    Returns ``(early_result, None)`` for calls answered without a problem
    (0-d inputs, SciPy fallbacks, empty or broadcast-only FFT calls), else
    ``(None, job)``.
    """
    a = np.asarray(in1)
    k = np.asarray(in2)
    if op == "convolve":
        if a.ndim == k.ndim == 0:
            return a * k, None
        if a.ndim != k.ndim:
            raise ValueError("volume and kernel should have the same dimensionality")
        ax, kept = V.fft_axes(a, k, axes)
        V.swap_needed(mode, a.shape, k.shape, kept if axes is not None else None)
        V.method(method)
        {"auto": V.mode_auto, "direct": V.mode_direct, "fft": V.mode_fft}[method](mode)
    elif op == "correlate":
        if a.ndim == k.ndim == 0:
            return a * (np.conj(k) if k.dtype.kind == "c" else k), None
        if a.ndim != k.ndim:
            raise ValueError("in1 and in2 should have the same dimensionality")
        V.mode_direct(mode)
        V.method(method)
        ax, kept = V.fft_axes(a, k, axes)
        V.swap_needed(mode, a.shape, k.shape, kept if axes is not None else None)
    else:  # fftconvolve, oaconvolve
        if a.ndim == k.ndim == 0:
            return a * k, None
        if a.ndim != k.ndim:
            raise ValueError("in1 and in2 should have the same dimensionality")
        ax, kept = V.fft_axes(a, k, axes)
        V.swap_needed(mode, a.shape, k.shape, kept)
        V.mode_fft(mode)
    workers = _config.check_workers(workers)
    if op in ("convolve", "correlate"):
        _empty_error(a, k, op)
    if _needs_fallback(a, k):
        if op in ("convolve", "correlate"):
            if axes is not None:
                raise TypeError(f"axes= is not supported for dtype {np.result_type(a, k)}")
            return _fallback(op, a, k, mode=mode, method=method), None
        return _fallback(op, a, k, mode=mode, axes=axes), None
    if op in ("convolve", "correlate"):
        s1, s2 = a.shape, k.shape
        if op == "correlate":
            k = _reverse_conj(k, ax)
        return None, _nd_job(op, a, k, ax, mode, method, workers, s1, s2)
    rt = np.result_type(_core.fft_float(a.dtype), _core.fft_float(k.dtype))
    if V.swap_needed(mode, a.shape, k.shape, kept):
        a, k = k, a
    wins = V.windows(mode, a.shape, k.shape, ax)
    shape = V.out_shape(a.shape, k.shape, ax, wins)
    if a.size == 0 or k.size == 0:
        return np.zeros(tuple(0 if (a.shape[i] == 0 or k.shape[i] == 0) else n
                              for i, n in enumerate(shape)), dtype=rt), None
    if not kept:
        # only length-1 convolved axes: SciPy multiplies (keeping the input
        # dtype), then crops to the mode's window
        return np.ascontiguousarray(np.broadcast_to(a * k, _full_shape(a, k, ax))[
            _core._crop(a.ndim, ax, wins)]), None
    family = "fft" if op == "fftconvolve" else "oa"
    p = _problem.make(op, family, a, k, ax, wins, rt, workers)
    return None, Job(a, k, p, rt, None, shape)


def _full_shape(a, k, axes):
    return tuple(a.shape[i] + k.shape[i] - 1 if i in axes else max(a.shape[i], k.shape[i])
                 for i in range(a.ndim))


def _call(op, in1, in2, mode, method, axes, workers):
    early, job = _setup(op, in1, in2, mode, method, axes, workers)
    return early if job is None else job.run()


def convolve(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Convolve two N-dimensional arrays (drop-in for ``scipy.signal.convolve``).

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Size of the output: the full discrete linear convolution (default),
        only the elements that do not rely on zero-padding ('valid', where one
        input must be at least as large as the other in every convolved axis),
        or the size of `in1` centred on the 'full' output ('same').
    method : {'auto', 'direct', 'fft'}, optional
        'direct' sums products (exact for integers and booleans), 'fft' uses
        FFTW, 'auto' picks by guards and a cost model of jitconv's kernels.
    axes : int or sequence of int, optional
        Keyword-only jitconv extra: axes to convolve over; the others are
        batch axes, broadcast where one input has length 1. Default: all axes.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call. Default: all CPUs
        available to the process (``jitconv.set_workers`` changes it).

    Returns
    -------
    ndarray
        The convolution, with SciPy's dtype: ``result_type(in1, in2)``.

    Raises
    ------
    ValueError
        For SciPy's error cases, with SciPy's messages, before any work.

    See Also
    --------
    correlate, fftconvolve, oaconvolve

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> jitconv.convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    return _call("convolve", in1, in2, mode, method, axes, workers)


def correlate(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Cross-correlate two N-dimensional arrays (drop-in for ``scipy.signal.correlate``).

    ``z[k] = sum_l in1[l] * conj(in2[l - k])``: no kernel flip, and the
    second input is conjugated.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size, as in `convolve`. In 'valid' mode with `in2` larger than
        `in1` the result is that of SciPy: ``correlate(in2, in1)`` reversed
        and conjugated.
    method : {'auto', 'direct', 'fft'}, optional
        As in `convolve`.
    axes : int or sequence of int, optional
        Keyword-only jitconv extra: axes to correlate over (others broadcast).
    workers : int, optional
        Keyword-only jitconv extra: threads for this call.

    Returns
    -------
    ndarray
        The cross-correlation, dtype ``result_type(in1, in2)``.

    See Also
    --------
    convolve, correlation_lags

    Examples
    --------
    >>> import jitconv
    >>> jitconv.correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    return _call("correlate", in1, in2, mode, method, axes, workers)


def fftconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve two N-dimensional arrays using FFT (drop-in for ``scipy.signal.fftconvolve``).

    Real inputs use real FFTs (FFTW r2c/c2r) at FFTW-friendly padded lengths,
    padded only as far as the requested output needs.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size, as in `convolve`.
    axes : int or array_like of ints or None, optional
        Axes over which to convolve. Default: all axes. Other axes must be
        equal or 1 and broadcast (also in 'same' mode, unlike SciPy).
    workers : int, optional
        Keyword-only jitconv extra: FFTW threads for this call.

    Returns
    -------
    ndarray
        Float result: float64 for integer/bool inputs, float32 for float16
        and float32, complex when an input is complex.

    See Also
    --------
    convolve, oaconvolve

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> np.round(jitconv.fftconvolve([1., 2., 3.], [1., 1.]), 12)
    array([1., 3., 5., 3.])
    """
    return _call("fftconvolve", in1, in2, mode, None, axes, workers)


def oaconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve two N-dimensional arrays using overlap-add (drop-in for ``scipy.signal.oaconvolve``).

    The larger input is split into blocks whose FFT length minimises the cost
    per output (SciPy's Lambert-W rule); all blocks are transformed in one
    batched FFTW call, then their tails are added.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size, as in `convolve`.
    axes : int or array_like of ints or None, optional
        Axes over which to convolve. Default: all axes.
    workers : int, optional
        Keyword-only jitconv extra: FFTW threads for this call.

    Returns
    -------
    ndarray
        As `fftconvolve`.

    See Also
    --------
    fftconvolve

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> x = np.ones(1000); h = np.ones(10)
    >>> float(jitconv.oaconvolve(x, h)[500])
    10.0
    """
    return _call("oaconvolve", in1, in2, mode, None, axes, workers)


def _conv2d(in1, in2, mode, boundary, fillvalue, op, workers):
    a = np.asarray(in1)
    b = np.asarray(in2)
    if not a.ndim == b.ndim == 2:
        raise ValueError(f"{op} inputs must both be 2-D arrays")
    swapped = V.swap_needed(mode, a.shape, b.shape)
    if swapped:
        a, b = b, a
    V.mode_direct(mode)
    try:
        bnd = V.BOUNDARIES[boundary]
    except (KeyError, TypeError):
        raise ValueError(V.MSG_BOUNDARY) from None
    if bnd == "reflect":
        raise ValueError("Incorrect boundary value.")
    rt = np.result_type(a, b)
    if rt.kind == "f" and rt.itemsize > 8 or rt.kind == "c" and rt.itemsize > 16:
        fn = _scipy().convolve2d if op == "convolve2d" else _scipy().correlate2d
        return fn(a if not swapped else b, b if not swapped else a, mode, boundary, fillvalue)
    fill = V.fillvalue(fillvalue, rt) if bnd == "fill" else None
    if rt.kind in "bOSUVMm" or rt == np.float16:
        raise ValueError("convolve2d not available for this type.")
    workers = _config.check_workers(workers)
    res = _core.run_2d(a, b, mode, bnd, fill, op == "convolve2d", rt, workers)
    res = _core.finalize(res, rt, rounded=False)
    return res[::-1, ::-1].copy() if swapped and op == "correlate2d" else res


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Convolve two 2-D arrays with a boundary rule (drop-in for ``scipy.signal.convolve2d``).

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size, as in `convolve`.
    boundary : {'fill', 'wrap', 'symm'}, optional
        'fill' pads with `fillvalue`, 'wrap' ('circular') is periodic, 'symm'
        ('symmetric') mirrors with the edge repeated (d c b a | a b c d).
        Extensions repeat as far as a kernel larger than the image needs.
    fillvalue : scalar, optional
        Value for 'fill'. Default 0.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call.

    Returns
    -------
    ndarray
        dtype ``result_type(in1, in2)``; integers are exact (wrap-around on
        overflow like SciPy).

    See Also
    --------
    correlate2d, convolve

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> jitconv.convolve2d([[1, 2], [3, 4]], [[1, 1]], boundary='wrap')
    array([[3, 3, 3],
           [7, 7, 7]])
    """
    return _conv2d(in1, in2, mode, boundary, fillvalue, "convolve2d", workers)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Cross-correlate two 2-D arrays (drop-in for ``scipy.signal.correlate2d``).

    Like SciPy, 'same' mode of an even-sized kernel is offset by one from
    ``correlate(..., 'same')``; in 'valid' mode with `in2` larger than `in1`
    the inputs are swapped and the result reversed.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size.
    boundary : {'fill', 'wrap', 'symm'}, optional
        Boundary rule, as in `convolve2d`.
    fillvalue : scalar, optional
        Value for 'fill'. Default 0.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call.

    Returns
    -------
    ndarray
        dtype ``result_type(in1, in2)``.

    See Also
    --------
    convolve2d, correlate

    Examples
    --------
    >>> import jitconv
    >>> jitconv.correlate2d([[1, 2, 3]], [[1, 0]])
    array([[0, 1, 2, 3]])
    """
    return _conv2d(in1, in2, mode, boundary, fillvalue, "correlate2d", workers)


def _timeit_fast(fn, repeat=3):
    """SciPy's timing rule: batches of >= 0.5 ms, then best of ``repeat``."""
    timer = timeit.Timer(fn)
    number, x = 1, 0.0
    for p in range(10):
        number = 10 ** p
        x = timer.timeit(number)
        if x >= 5e-3 / 10:
            break
    if x > 1:
        return x / number
    number *= 10
    return min(timer.repeat(repeat, number)) / number


def choose_conv_method(in1, in2, mode="full", measure=False):
    """Find the fastest convolution/correlation method (drop-in for SciPy's).

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input. Should have the same number of dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        Output size, as in `convolve`.
    measure : bool, optional
        If True, time both methods with jitconv's kernels and return the
        faster with the times.

    Returns
    -------
    method : str
        'direct' or 'fft': what ``convolve(in1, in2, mode, 'auto')`` runs.
    times : dict, optional
        With `measure`: seconds per call, ``{'fft': t, 'direct': t}``.

    Notes
    -----
    Unlike SciPy, the answer never is 'fft' for booleans, for integers beyond
    the exact range of float64 (``max|in1|*max|in2|*min(size) > 2**52 - 1``)
    or for inputs holding NaN or inf; with `measure` too.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> jitconv.choose_conv_method(np.ones(10), np.ones(3))
    'direct'
    """
    a = np.asarray(in1)
    k = np.asarray(in2)
    plannable = (a.ndim == k.ndim and a.ndim > 0 and a.size and k.size
                 and not _needs_fallback(a, k))
    if measure:
        if not plannable:  # SciPy's behaviour, errors included
            times = {m: _timeit_fast(lambda: convolve(a, k, mode=mode, method=m))
                     for m in ("fft", "direct")}
            return ("fft" if times["fft"] < times["direct"] else "direct"), times
        _, job = _setup("convolve", a, k, mode, "auto", None, None)
        job.resolve_guard()
        p = job.problem
        if job.guard is not None:  # time the unguarded problem, answer 'direct'
            p = _problem.make("convolve", "auto", job.a, job.k, p.axes, p.wins, job.rt, p.workers)
        d = PLANNER.measure_all(p)
        times = {}
        for cid, t in d.timings.items():
            fam = _algorithms.BY_ID[cid].family
            times[fam] = min(times.get(fam, math.inf), t)
        chosen = "direct" if job.guard else _algorithms.BY_ID[d.chosen].family
        return chosen, times
    V.mode_auto(mode)
    if not plannable:
        if a.ndim == k.ndim and a.size and k.size and a.ndim:
            if not (_methods.all_finite(a) and _methods.all_finite(k)):
                return "direct"   # the NaN/inf guard (SciPy's model overflows on inf)
            return _scipy().choose_conv_method(a, k, mode=mode)
        return "direct"
    _, job = _setup("convolve", a, k, mode, "auto", None, None)
    job.resolve_guard()
    if job.guard is not None:
        return "direct"
    return _algorithms.BY_ID[PLANNER.peek(job.problem).chosen].family


def correlation_lags(in1_len, in2_len, mode="full"):
    """Lag indices of a 1-D cross-correlation (drop-in for ``scipy.signal.correlation_lags``).

    Parameters
    ----------
    in1_len : int
        Length of the first input.
    in2_len : int
        Length of the second input.
    mode : {'full', 'valid', 'same'}, optional
        Output size of the correlation these lags label.

    Returns
    -------
    lags : ndarray of int
        ``lags[i]`` is the shift of `in2` relative to `in1` at output ``i``.

    Examples
    --------
    >>> import jitconv
    >>> jitconv.correlation_lags(6, 4, 'same')
    array([-2, -1,  0,  1,  2,  3])
    """
    if mode == "full":
        return np.arange(-in2_len + 1, in1_len)
    if mode == "same":
        lags = np.arange(-in2_len + 1, in1_len)
        mid = lags.size // 2
        bound = in1_len // 2
        return lags[mid - bound: mid + bound + (in1_len % 2)]
    if mode == "valid":
        d = in1_len - in2_len
        return np.arange(d + 1) if d >= 0 else np.arange(d, 1)
    raise ValueError(f"Mode {mode} is invalid")
