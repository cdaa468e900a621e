"""``scipy.ndimage``'s convolution filters, multithreaded and planned.

``convolve``, ``correlate``, ``convolve1d``, ``correlate1d``,
``gaussian_filter``, ``gaussian_filter1d``, ``uniform_filter``,
``uniform_filter1d`` and the derivative filters built on them (``sobel``,
``prewitt``, ``laplace``, ``gaussian_laplace``,
``gaussian_gradient_magnitude``), with SciPy 1.17's signatures, boundary
modes, origins, output dtypes (``output=`` an array or a dtype), casts and
errors. Each function is a shell: SciPy's checks (``_validate.ndimage``,
before any work), then the engine: the planner's candidate for every filter
pass (``jitconv.algorithms.filter_*``), the result in SciPy's dtype.

The ``'exact'`` candidates compute SciPy's own sums in SciPy's order, bit
for bit; the planner uses them always for integer or bool data and for
NaN/inf, and may pick the FFT or a rank-1 factorisation for float data
(within their stated error bounds). ``workers`` (keyword-only) sets the
threads of one call.
"""
from . import _engine
from ._validate import ndimage as check

__all__ = ["convolve", "correlate", "convolve1d", "correlate1d", "gaussian_filter",
           "gaussian_filter1d", "uniform_filter", "uniform_filter1d", "sobel", "prewitt",
           "laplace", "gaussian_laplace", "gaussian_gradient_magnitude"]

_COMMON = """
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, returned),
        or the dtype of a new result. Default: the input's dtype. Integer
        outputs truncate the float64 sum as SciPy's C casts do.
    mode : {{'reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-mirror',
        'grid-constant', 'grid-wrap'}}{seq}
        How the input is extended beyond its edges: ``d c b a | a b c d | d
        c b a`` (reflect, grid-mirror), ``k k k | a b c d | k k k`` with
        ``k = cval`` (constant, grid-constant), ``a a a | a b c d | d d d``
        (nearest), ``d c b | a b c d | c b a`` (mirror), ``b c d | a b c d |
        a b c`` (wrap, grid-wrap). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
"""
_WORKERS = """
    workers : int, optional, keyword-only
        jitconv extra: threads for this call (default: ``jitconv.set_workers``
        / all CPUs available to the process)."""
_RAISES = """
    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages, before any work."""


# ------------------------------------------------------------- N-d filters
def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
              workers=None):
    """Multidimensional correlation (drop-in for ``scipy.ndimage.correlate``).

    ``out[i] = sum_j weights[j] * input_ext[i + j - c]`` with ``c`` the
    weights' centre (shifted by ``origin``); complex weights are
    conjugated, as ``np.correlate`` does.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    weights : array_like
        The weights, one axis per input axis (or per axis of ``axes``).
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int or sequence of int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The correlation, of the input's shape, in the output dtype.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.

    Examples
    --------
    >>> import numpy as np
    >>> from jitconv import ndimage
    >>> ndimage.correlate(np.arange(5.0), [1.0, 2.0, 0.0], mode="constant")
    array([ 0.,  2.,  5.,  8., 11.])
    """
    return _engine.execute(check.correlate(input, weights, output, mode, cval, origin, False,
                                           axes, workers))


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
             workers=None):
    """Multidimensional convolution (drop-in for ``scipy.ndimage.convolve``).

    ``correlate`` with the weights reversed along every axis and the origin
    negated (one more along even-length axes, SciPy's rule).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    weights : array_like
        The weights, one axis per input axis (or per axis of ``axes``).
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int or sequence of int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``. Positive values shift
        a convolution to the right.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The convolution, of the input's shape, in the output dtype.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.

    Examples
    --------
    >>> import numpy as np
    >>> from jitconv import ndimage
    >>> ndimage.convolve(np.arange(5.0), [1.0, 2.0, 0.0], mode="constant")
    array([ 1.,  4.,  7., 10.,  8.])
    """
    return _engine.execute(check.correlate(input, weights, output, mode, cval, origin, True,
                                           axes, workers))


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                workers=None):
    """1-d correlation along an axis (drop-in for ``scipy.ndimage.correlate1d``).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    weights : array_like
        1-d weights.
    axis : int, optional
        The axis along which to filter. Default -1.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The correlation, of the input's shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.correlate1d(input, weights, axis, output, mode, cval, origin,
                                             workers))


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
               workers=None):
    """1-d convolution along an axis (drop-in for ``scipy.ndimage.convolve1d``).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    weights : array_like
        1-d weights.
    axis : int, optional
        The axis along which to filter. Default -1.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The convolution, of the input's shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.convolve1d(input, weights, axis, output, mode, cval, origin,
                                            workers))


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, workers=None):
    """1-d Gaussian filter (drop-in for ``scipy.ndimage.gaussian_filter1d``).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    sigma : scalar
        Standard deviation of the Gaussian.
    axis : int, optional
        The axis along which to filter. Default -1.
    order : int, optional
        0 smooths; a positive order convolves with that derivative of
        a Gaussian.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    truncate : float, optional
        The kernel reaches ``int(truncate * sigma + 0.5)`` elements either
        side. Default 4.0.
    radius : int, optional
        Keyword-only: the kernel's radius, overriding ``truncate``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.gaussian_filter1d(input, sigma, axis, order, output, mode, cval,
                                                   truncate, radius=radius, workers=workers))


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, workers=None):
    """Multidimensional Gaussian filter (drop-in for ``scipy.ndimage.gaussian_filter``).

    One ``gaussian_filter1d`` pass per axis, each written in the output
    dtype as SciPy writes it (integer outputs truncate between passes).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    sigma : scalar or sequence of scalars
        Standard deviation per axis; axes with sigma <= 1e-15 are skipped.
    order : int or sequence of int, optional
        Derivative order per axis (0: smoothing).
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    truncate : float, optional
        The kernel reaches ``int(truncate * sigma + 0.5)`` elements either
        side. Default 4.0.
    radius : int, optional
        Keyword-only: the kernel's radius, overriding ``truncate``.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.gaussian_filter(input, sigma, order, output, mode, cval,
                                                 truncate, radius=radius, axes=axes,
                                                 workers=workers))


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     workers=None):
    """1-d uniform (moving average) filter (drop-in for ``scipy.ndimage.uniform_filter1d``).

    SciPy's running sum: O(1) work per output whatever the size.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    size : int
        Length of the window.
    axis : int, optional
        The axis along which to filter. Default -1.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.uniform_filter1d(input, size, axis, output, mode, cval, origin,
                                                  workers=workers))


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
                   workers=None):
    """Multidimensional uniform filter (drop-in for ``scipy.ndimage.uniform_filter``).

    One ``uniform_filter1d`` pass per axis with a size above 1, each written
    in the output dtype as SciPy writes it.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    size : int or sequence of int, optional
        Window length per axis. Default 3.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    origin : int or sequence of int, optional
        Shifts the filter: 0 centres it (on element ``m // 2`` of ``m``
        weights), positive values shift it to the left. Must satisfy
        ``-(m // 2) <= origin <= (m - 1) // 2``.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.uniform_filter(input, size, output, mode, cval, origin,
                                                axes=axes, workers=workers))


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Sobel filter (drop-in for ``scipy.ndimage.sobel``).

    ``[-1, 0, 1]`` along ``axis``, then ``[1, 2, 1]`` along each other axis.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    axis : int, optional
        The axis along which to filter. Default -1.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.sobel(input, axis, output, mode, cval, workers=workers))


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Prewitt filter (drop-in for ``scipy.ndimage.prewitt``).

    ``[-1, 0, 1]`` along ``axis``, then ``[1, 1, 1]`` along each other axis.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    axis : int, optional
        The axis along which to filter. Default -1.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.prewitt(input, axis, output, mode, cval, workers=workers))


def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, workers=None):
    """Laplace filter from second differences (drop-in for ``scipy.ndimage.laplace``).

    The sum over ``axes`` of ``[1, -2, 1]`` along each.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.

    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.laplace(input, output, mode, cval, axes=axes, workers=workers))


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     workers=None, **kwargs):
    """Laplace filter from second Gaussian derivatives (drop-in for
    ``scipy.ndimage.gaussian_laplace``).

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    sigma : scalar or sequence of scalars
        Standard deviation per axis (of ``axes``).
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    **kwargs
        ``truncate``, ``radius``: passed to ``gaussian_filter``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.gaussian_laplace(input, sigma, output, mode, cval, axes=axes,
                                                  workers=workers, **kwargs))


def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, workers=None, **kwargs):
    """Gradient magnitude from first Gaussian derivatives (drop-in for
    ``scipy.ndimage.gaussian_gradient_magnitude``).

    As in SciPy 1.17, each derivative smooths along every axis, also those
    not in ``axes``.

    Parameters
    ----------
    input : array_like
        The input: bool, integer, float32, float64 or complex.
    sigma : scalar or sequence of scalars
        Standard deviation per axis.
    output : ndarray or dtype, optional
        Where to write the result (an array of the input's shape, which is
        returned), or the dtype of a new result. Default: the input's dtype.
        Integer outputs truncate the float64 sum as SciPy's C casts do.
    mode : str or sequence of str, optional
        How the input extends beyond its edges: 'reflect' (``d c b a | a b c
        d | d c b a``, also 'grid-mirror'), 'constant' (``k k k | a b c d |
        k k k`` with ``k = cval``, also 'grid-constant'), 'nearest' (``a a a
        | a b c d | d d d``), 'mirror' (``d c b | a b c d | c b a``), 'wrap'
        (``b c d | a b c d | a b c``, also 'grid-wrap'). Default 'reflect'.
    cval : scalar, optional
        The value beyond the edges in 'constant' mode. Default 0.0.
    axes : tuple of int, optional
        Keyword-only: the axes to filter (default all); sequences given for
        the other parameters then have one entry per axis in ``axes``.
    **kwargs
        ``truncate``, ``radius``: passed to ``gaussian_filter``.
    workers : int, optional
        Keyword-only jitconv extra: threads for this call (default:
        ``jitconv.set_workers`` / all CPUs available to the process).

    Returns
    -------
    ndarray
        The filtered input, of its shape.

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages (bad mode, origin, weights, output,
        dtype), before any work.
    """
    return _engine.execute(check.gaussian_gradient_magnitude(input, sigma, output, mode, cval,
                                                             axes=axes, workers=workers,
                                                             **kwargs))
