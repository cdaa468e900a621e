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
    return _engine.execute(check.correlate(input, weights, output, mode, cval, origin, False,
                                           axes, workers))


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
             workers=None):
    return _engine.execute(check.correlate(input, weights, output, mode, cval, origin, True,
                                           axes, workers))


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                workers=None):
    return _engine.execute(check.correlate1d(input, weights, axis, output, mode, cval, origin,
                                             workers))


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
               workers=None):
    return _engine.execute(check.convolve1d(input, weights, axis, output, mode, cval, origin,
                                            workers))


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, workers=None):
    return _engine.execute(check.gaussian_filter1d(input, sigma, axis, order, output, mode, cval,
                                                   truncate, radius=radius, workers=workers))


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, workers=None):
    return _engine.execute(check.gaussian_filter(input, sigma, order, output, mode, cval,
                                                 truncate, radius=radius, axes=axes,
                                                 workers=workers))


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     workers=None):
    return _engine.execute(check.uniform_filter1d(input, size, axis, output, mode, cval, origin,
                                                  workers=workers))


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
                   workers=None):
    return _engine.execute(check.uniform_filter(input, size, output, mode, cval, origin,
                                                axes=axes, workers=workers))


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    return _engine.execute(check.sobel(input, axis, output, mode, cval, workers=workers))


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    return _engine.execute(check.prewitt(input, axis, output, mode, cval, workers=workers))


def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, workers=None):
    return _engine.execute(check.laplace(input, output, mode, cval, axes=axes, workers=workers))


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     workers=None, **kwargs):
    return _engine.execute(check.gaussian_laplace(input, sigma, output, mode, cval, axes=axes,
                                                  workers=workers, **kwargs))


def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, workers=None, **kwargs):
    return _engine.execute(check.gaussian_gradient_magnitude(input, sigma, output, mode, cval,
                                                             axes=axes, workers=workers,
                                                             **kwargs))
