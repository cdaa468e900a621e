"""SciPy drop-ins: ``convolve``, ``correlate``, ``fftconvolve``, ``oaconvolve``,
``convolve2d``, ``correlate2d``, ``choose_conv_method``, ``correlation_lags``.

Each function is a shell: SciPy 1.17's checks (``_validate.signal``, before
any work), then the engine (``_engine``): guards, the planner's candidate,
the result in SciPy's dtype. jitconv extras are keyword-only: ``axes`` on
``convolve``/``correlate`` and ``workers`` (threads for this call) on all.
"""
import numpy as np

from . import _engine
from ._validate import signal as check

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
           "correlate2d", "choose_conv_method", "correlation_lags"]


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
    return _engine.signal("convolve", in1, in2, mode, method, axes, workers)


def correlate(in1, in2, mode="full", method="auto", *, axes=None, lags=None, workers=None):
    """Cross-correlate two N-dimensional arrays (drop-in for ``scipy.signal.correlate``).

    ``z[k] = sum_l in1[l] * conj(in2[l - k])``: no kernel flip, and the
    second input is conjugated. With `lags`, only the lags asked for are
    computed.

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
    lags : int, range, or tuple of them, optional
        Keyword-only jitconv extra: compute only these lags of the 'full'
        correlation, numbered as ``correlation_lags(n, m, 'full')`` numbers
        them (``-(m - 1) .. n - 1`` along an axis where `in1` has length
        ``n`` and `in2` length ``m``; lag ``k`` is ``sum_l in1[l + k] *
        conj(in2[l])``). An int ``L`` means lags ``-L .. L``; a ``range``
        gives the lags themselves (increasing; a step > 1 takes every
        step-th lag of the covering window, at that window's cost). Either
        applies to every correlated axis; a tuple gives one per axis in
        `axes` order. The result is exactly the matching slice of
        ``correlate(in1, in2, 'full', method)`` (bitwise on the direct
        paths), in the same order. Only with ``mode='full'``. Lags outside
        the full correlation, decreasing ranges and tuples of the wrong
        length raise ValueError before any work.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call.

    Returns
    -------
    ndarray
        The cross-correlation, dtype ``result_type(in1, in2)``.

    See Also
    --------
    convolve, correlation_lags

    Notes
    -----
    `lags` follows NumPy's proposal for ``np.correlate`` (``max_lag=L`` and
    ``lags=range(...)``, numpy PR #31261) with these differences: one
    keyword (an int is the largest ``|lag|``), N-d arrays and batches
    (`axes`) with one range per axis, lags outside the full correlation are
    an error (not zeros), and `mode` stays 'full' (NumPy implies a mode
    ``'lags'``).

    Examples
    --------
    >>> import jitconv
    >>> jitconv.correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> jitconv.correlate([1, 2, 3], [0, 1, 0.5], lags=1)
    array([2. , 3.5, 3. ])
    >>> jitconv.correlate([1, 2, 3], [0, 1, 0.5], lags=range(0, 3))
    array([3.5, 3. , 0. ])
    """
    return _engine.signal("correlate", in1, in2, mode, method, axes, workers, lags)


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
    return _engine.signal("fftconvolve", in1, in2, mode, None, axes, workers)


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
    return _engine.signal("oaconvolve", in1, in2, mode, None, axes, workers)


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
    return _engine.execute(check.boundary_call("convolve2d", in1, in2, mode, boundary, fillvalue,
                                               workers))


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
    return _engine.execute(check.boundary_call("correlate2d", in1, in2, mode, boundary,
                                               fillvalue, workers))


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
    return _engine.choose_conv_method(in1, in2, mode, measure, convolve, check.signal_call)


def correlation_lags(in1_len, in2_len, mode="full", *, lags=None):
    """Lag indices of a 1-D cross-correlation (drop-in for ``scipy.signal.correlation_lags``).

    Parameters
    ----------
    in1_len : int
        Length of the first input.
    in2_len : int
        Length of the second input.
    mode : {'full', 'valid', 'same'}, optional
        Output size of the correlation these lags label.
    lags : int or range, optional
        Keyword-only jitconv extra: the lags of ``correlate(..., lags=lags)``
        (checked the same way; only with ``mode='full'``).

    Returns
    -------
    lags : ndarray of int
        ``lags[i]`` is the shift of `in2` relative to `in1` at output ``i``.

    Examples
    --------
    >>> import jitconv
    >>> jitconv.correlation_lags(6, 4, 'same')
    array([-2, -1,  0,  1,  2,  3])
    >>> jitconv.correlation_lags(6, 4, lags=2)
    array([-2, -1,  0,  1,  2])
    """
    if lags is not None:
        return check.lag_array(in1_len, in2_len, mode, lags)
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
