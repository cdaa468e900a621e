"""SciPy drop-ins: ``convolve``, ``correlate``, ``fftconvolve``, ``oaconvolve``,
``convolve2d``, ``correlate2d``, ``choose_conv_method``, ``correlation_lags``.

Each function validates with SciPy 1.17's messages (before any work), builds
the problem (axes, output windows, result dtype), picks an algorithm and runs
it in ``jitconv._core``. jitconv extras are keyword-only: ``axes`` on every
function and ``workers`` (threads for this call).
"""
import timeit
import warnings

import numpy as np

from . import _config, _core, _methods
from . import _validate as V

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


def _needs_fallback(*arrays):
    return not all(V.native(a.dtype) for a in arrays)


def _empty_error(a, b, op):
    if a.size == 0 or b.size == 0:
        if op == "convolve":
            raise ValueError("a cannot be empty" if a.size == 0 else "v cannot be empty")
        raise ValueError("first array argument cannot be empty" if a.size == 0
                         else "second array argument cannot be empty")


def _pick(a, k, axes, wins, rt, workers):
    """'auto': guards (bool, integer exactness, non-finite), then the cost model."""
    g = _methods.guard(a, k)
    if g is not None:
        return g[0]
    single = _fft_single(a, k)
    td, tf = _methods.costs(a.shape, k.shape, axes, wins, _core.compute_dtype(rt),
                            single, workers)
    return "fft" if tf < td else "direct"


def _fft_single(a, b):
    """FFT in single precision when both inputs are (at most) single precision."""
    single = (np.dtype(np.float32), np.dtype(np.complex64))
    return _core.fft_float(a.dtype) in single and _core.fft_float(b.dtype) in single


def _conv_nd(a, k, axes, mode, method, workers, s1, s2):
    """Shared body of convolve/correlate once ``k`` is the convolution kernel."""
    wins = V.windows(mode, s1, s2, axes)
    rt = np.result_type(a, k)
    if method == "auto":
        method = _pick(a, k, axes, wins, rt, workers)
    if method == "direct":
        res = _core.run_direct(a, k, axes, wins, rt, workers)
        return _core.finalize(res, rt, rounded=False)
    res = _core.run_fft(a, k, axes, wins, _fft_single(a, k), workers)
    if res.size and not np.isfinite(res).all():
        warnings.warn(_NAN_WARNING, RuntimeWarning, stacklevel=3)
    return _core.finalize(res, rt, rounded=True)


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
    a = np.asarray(in1)
    k = np.asarray(in2)
    if a.ndim == k.ndim == 0:
        return a * k
    if a.ndim != k.ndim:
        raise ValueError("volume and kernel should have the same dimensionality")
    ax = V.conv_axes(a, k, axes)
    V.swap_needed(mode, a.shape, k.shape, ax if axes is not None else None)
    V.method(method)
    {"auto": V.mode_auto, "direct": V.mode_direct, "fft": V.mode_fft}[method](mode)
    workers = _config.check_workers(workers)
    if _needs_fallback(a, k):
        if axes is not None:
            raise TypeError(f"axes= is not supported for dtype {np.result_type(a, k)}")
        return _scipy().convolve(a, k, mode=mode, method=method)
    _empty_error(a, k, "convolve")
    return _conv_nd(a, k, ax, mode, method, workers, a.shape, k.shape)


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
    a = np.asarray(in1)
    v = np.asarray(in2)
    if a.ndim == v.ndim == 0:
        return a * (np.conj(v) if v.dtype.kind == "c" else v)
    if a.ndim != v.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    V.mode_direct(mode)
    V.method(method)
    ax = V.conv_axes(a, v, axes)
    V.swap_needed(mode, a.shape, v.shape, ax if axes is not None else None)
    workers = _config.check_workers(workers)
    if _needs_fallback(a, v):
        if axes is not None:
            raise TypeError(f"axes= is not supported for dtype {np.result_type(a, v)}")
        return _scipy().correlate(a, v, mode=mode, method=method)
    _empty_error(a, v, "correlate")
    return _conv_nd(a, _reverse_conj(v, ax), ax, mode, method, workers, a.shape, v.shape)


def _freq_prologue(in1, in2, mode, axes):
    """Checks shared by fftconvolve and oaconvolve; None means 'return early'."""
    a = np.asarray(in1)
    k = np.asarray(in2)
    if a.ndim == k.ndim == 0:
        return a * k, None
    if a.ndim != k.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    ax = V.fft_axes(a, k, axes)
    V.swap_needed(mode, a.shape, k.shape, ax)
    V.mode_fft(mode)
    return None, (a, k, ax)


def _freq(in1, in2, mode, axes, workers, runner):
    early, parts = _freq_prologue(in1, in2, mode, axes)
    if parts is None:
        return early
    a, k, ax = parts
    workers = _config.check_workers(workers)
    if _needs_fallback(a, k):
        fn = _scipy().fftconvolve if runner is _core.run_fft else _scipy().oaconvolve
        return fn(a, k, mode=mode, axes=axes)
    rt = np.result_type(_core.fft_float(a.dtype), _core.fft_float(k.dtype))
    if V.swap_needed(mode, a.shape, k.shape, ax):
        a, k = k, a
    wins = V.windows(mode, a.shape, k.shape, ax)
    shape = V.out_shape(a.shape, k.shape, ax, wins)
    if a.size == 0 or k.size == 0:
        return np.zeros(tuple(0 if (a.shape[i] == 0 or k.shape[i] == 0) else s
                              for i, s in enumerate(shape)), dtype=rt)
    if not ax:
        # only length-1 convolved axes: SciPy multiplies (keeping the input dtype)
        return np.ascontiguousarray(np.broadcast_to(a * k, shape))
    res = runner(a, k, ax, wins, _fft_single(a, k), workers)
    res = np.broadcast_to(res, shape) if res.shape != shape else res
    return np.ascontiguousarray(res, dtype=rt)


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
    return _freq(in1, in2, mode, axes, workers, _core.run_fft)


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
    return _freq(in1, in2, mode, axes, workers, _core.run_oa)


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
    if measure:
        times = {}
        for m in ("fft", "direct"):
            times[m] = _timeit_fast(lambda: convolve(a, k, mode=mode, method=m))
        g = None
        if a.ndim == k.ndim and not _needs_fallback(a, k) and a.size and k.size:
            g = _methods.guard(a, k)
        chosen = g[0] if g else ("fft" if times["fft"] < times["direct"] else "direct")
        return chosen, times
    V.mode_auto(mode)
    if a.ndim != k.ndim or a.ndim == 0 or a.size == 0 or k.size == 0:
        return "direct"
    if _needs_fallback(a, k):
        return _scipy().choose_conv_method(a, k, mode=mode)
    if V.swap_needed(mode, a.shape, k.shape):
        a, k = k, a
    ax = list(range(a.ndim))
    return _pick(a, k, ax, V.windows(mode, a.shape, k.shape, ax), np.result_type(a, k),
                 _config.default_workers())


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
