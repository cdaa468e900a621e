"""``scipy.ndimage``'s filter checks, with SciPy 1.17's exception types and
messages, in SciPy's order, before any work; then the calls.

Each function here has the name and the checks of SciPy's function of that
name (``scipy/ndimage/_filters.py`` and ``_ni_support.py``), followed by
what SciPy's C extension checks while parsing its arguments (the output is
writeable, ``cval`` a real number, origins and sizes integers, the dtypes
supported). Where SciPy's function calls another filter, the function here
builds that filter's call the same way: a separable filter is a ``Chain`` of
1-d calls, a complex one a ``Combine`` of real ones in
``_complex_via_real_components``'s arithmetic; ``uniform_filter`` of a real
input into a float output, once its passes are checked, is one call (rule
``'box'``) whose candidates may fuse the passes. SciPy raises some errors
after running earlier passes; here every pass is checked before any runs.
"""
import numbers
import operator
import sys
import warnings
from collections.abc import Iterable

import numpy as np
from numpy.exceptions import AxisError

from .. import _config
from .._dtypes import native_str
from .._extend import CANONICAL
from .._problem import Call, Chain, Combine, FilterFinish, FilterProblem
from . import workers as check_workers

#: SciPy drops N-d taps with ``|w| <= DBL_EPSILON``; its 1-d symmetry test uses it too
EPS = float(np.finfo(np.float64).eps)

#: dtypes SciPy's C filters read and write (either byte order)
_C_TYPES = {np.dtype(t) for t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                  np.uint32, np.int64, np.uint64, np.float32, np.float64)}

MSG_ORIGIN_ND = ("Invalid origin; origin must satisfy -(weights.shape[k] // 2) <= origin[k] "
                 "<= (weights.shape[k]-1) // 2")
MSG_ORIGIN_1D = ("Invalid origin; origin must satisfy -(len(weights) // 2) <= origin <= "
                 "(len(weights)-1) // 2")


class OutputArray:
    """SciPy handing its own output array on to another filter (a pass, a real
    part): checked like an array of this dtype, written into a new one."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


# ------------------------------------------------------------- _ni_support
def _stacklevel():
    """``stacklevel`` pointing at the first frame outside jitconv."""
    f, level = sys._getframe(1), 1
    while f is not None and f.f_globals.get("__name__", "").startswith("jitconv."):
        f, level = f.f_back, level + 1
    return level


def normalize_axis_index(axis, ndim):
    """SciPy's ``normalize_axis_index``: a range check only (types are checked
    later, by the C extension's argument parsing)."""
    if axis < -ndim or axis >= ndim:
        raise AxisError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    if axis < 0:
        axis = axis + ndim
    return axis


def canonical_mode(mode):
    """SciPy's ``_extend_mode_to_code``: the mode compared with each name in turn."""
    for name in ("nearest", "wrap", "reflect", "grid-mirror", "mirror", "constant", "grid-wrap",
                 "grid-constant"):
        if mode == name:
            return CANONICAL[name]
    raise RuntimeError("boundary mode not supported")


def normalize_sequence(value, rank):
    """SciPy's ``_normalize_sequence``: a scalar repeated, or a sequence of ``rank``."""
    if not isinstance(value, str) and np.iterable(value):
        normalized = list(value)
        if len(normalized) != rank:
            raise RuntimeError("sequence argument must have length equal to input rank")
        return normalized
    return [value] * rank


def get_output(output, input, complex_output=False):
    """SciPy's ``_get_output``, without allocating: the output's dtype and array."""
    if output is None:
        if not complex_output:
            return FilterFinish(np.dtype(input.dtype.name))
        return FilterFinish(np.promote_types(input.dtype, np.complex64))
    if isinstance(output, OutputArray):
        if complex_output and output.dtype.kind != "c":
            raise RuntimeError("output must have complex dtype")
        return FilterFinish(output.dtype)
    if isinstance(output, type | np.dtype):
        if complex_output and np.dtype(output).kind != "c":
            warnings.warn("promoting specified output dtype to complex", UserWarning,
                          stacklevel=_stacklevel())
            output = np.promote_types(output, np.complex64)
        return FilterFinish(np.zeros((), dtype=output).dtype)
    if isinstance(output, str):
        output = np.dtype(output)
        if complex_output and output.kind != "c":
            raise RuntimeError("output must have complex dtype")
        if not issubclass(output.type, np.number):
            raise RuntimeError("output must have numeric dtype")
        return FilterFinish(output)
    output = np.asarray(output)
    if output.shape != input.shape:
        raise RuntimeError("output shape not correct")
    if complex_output and output.dtype.kind != "c":
        raise RuntimeError("output must have complex dtype")
    return FilterFinish(output.dtype, output)


def check_axes(axes, ndim):
    """SciPy's ``_check_axes``."""
    if axes is None:
        return tuple(range(ndim))
    if np.isscalar(axes):
        axes = (operator.index(axes),)
    elif isinstance(axes, Iterable):
        for ax in axes:
            axes = tuple(operator.index(ax) for ax in axes)
            if ax < -ndim or ax > ndim - 1:
                raise ValueError(f"specified axis: {ax} is out of range")
        axes = tuple(ax % ndim if ax < 0 else ax for ax in axes)
    else:
        raise ValueError("axes must be an integer, iterable of integers, or None")
    if len(tuple(set(axes))) != len(axes):
        raise ValueError("axes must be unique")
    return axes


def invalid_origin(origin, lenw):
    return (origin < -(lenw // 2)) or (origin > (lenw - 1) // 2)


def expand_origin(ndim, axes, origin):
    origins = normalize_sequence(origin, len(axes))
    if len(axes) < ndim:
        full = [0] * ndim
        for o, ax in zip(origins, axes):
            full[ax] = o
        origins = full
    return origins


def expand_footprint(ndim, axes, footprint, name):
    if len(axes) < ndim:
        if footprint.ndim != len(axes):
            raise RuntimeError(f"{name}.ndim ({footprint.ndim}) must match len(axes) "
                               f"({len(axes)})")
        footprint = np.expand_dims(footprint, tuple(ax for ax in range(ndim) if ax not in axes))
    return footprint


# ----------------------------------------- SciPy's C argument parsing
def c_double(v):
    """A ``double`` argument: what ``PyFloat_AsDouble`` accepts."""
    t = type(v)
    if not (hasattr(t, "__float__") or hasattr(t, "__index__")):
        raise TypeError(f"must be real number, not {t.__name__}")
    return float(v)


def c_intp(v):
    """An element of an ``npy_intp`` sequence (``PyArray_IntpConverter``)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("an integer is required")
    return operator.index(v)


def writeable(fin):
    if fin.out is not None and not fin.out.flags.writeable:
        raise ValueError("output array is read-only.")


def _supported(dtype):
    return np.dtype(dtype).newbyteorder("=") in _C_TYPES


def line_types(*dtypes):
    """SciPy's line buffers (``NI_InitLineBuffer``) check the input, then the output."""
    for dt in dtypes:
        if not _supported(dt):
            raise RuntimeError(f"array type {np.dtype(dt).newbyteorder('=')!r} not supported")


def symmetry(w):
    """SciPy's ``NI_Correlate1D`` test: 1 symmetric, -1 antisymmetric, 0 neither."""
    m = w.shape[0]
    s1 = m // 2
    if not m & 1:
        return 0
    v = [float(a) for a in w]
    if all(not abs(v[s1 + i] - v[s1 - i]) > EPS for i in range(1, s1 + 1)):
        return 1
    if all(not abs(v[s1 + i] + v[s1 - i]) > EPS for i in range(1, s1 + 1)):
        return -1
    return 0


# ------------------------------------------------------------- problems
def _problem(rule, x, wshape, axis, modes, origins, fin, workers, taps, sym=0):
    return FilterProblem(rule, tuple(x.shape), native_str(x.dtype), tuple(int(m) for m in wshape),
                         int(axis), tuple(modes), tuple(int(o) for o in origins),
                         native_str(fin.dtype), int(workers), taps=int(taps), sym=int(sym),
                         deterministic=bool(_config.SETTINGS.deterministic))


def _stand_in(shape, dtype):
    """The input of a later pass (the output array): shape and dtype, no data yet."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def _real_dtype(dtype):
    return np.empty(0, dtype).real.dtype


def _complex(sub, input, weights, fin, cval):
    """SciPy's ``_complex_via_real_components``: real filters of the parts."""
    ci = input.dtype.kind == "c"
    cw = weights.dtype.kind == "c"
    part = OutputArray(_real_dtype(fin.dtype))
    if ci and cw:
        steps = [("set", "real", sub(input.real, weights.real, part, np.real(cval))),
                 ("sub", "real", sub(input.imag, weights.imag, None, np.imag(cval))),
                 ("set", "imag", sub(input.real, weights.imag, part, np.real(cval))),
                 ("add", "imag", sub(input.imag, weights.real, None, np.imag(cval)))]
    elif ci:
        steps = [("set", "real", sub(input.real, weights, part, np.real(cval))),
                 ("set", "imag", sub(input.imag, weights, part, np.imag(cval)))]
    else:
        if np.iscomplexobj(cval):
            raise ValueError("Cannot provide a complex-valued cval when the input is real.")
        steps = [("set", "real", sub(input, weights.real, part, cval)),
                 ("set", "imag", sub(input, weights.imag, part, cval))]
    writeable(fin)
    return Combine(steps, fin)


def _chain(input, fin, passes, cval):
    """SciPy's separable filters: ``passes`` (``make(src, output, cval) -> Call``)
    in turn, each on the output array. A complex input: its real and
    imaginary parts, pass by pass (real weights never mix them)."""
    writeable(fin)
    if input.dtype.kind == "c" and passes:
        if fin.dtype.kind != "c":
            raise RuntimeError("output must have complex dtype")
        rd = _real_dtype(fin.dtype)
        re = _real_chain(input.real, FilterFinish(rd), passes, np.real(cval))
        im = _real_chain(input.imag, FilterFinish(rd), passes, np.imag(cval))
        return Combine([("set", "real", re), ("set", "imag", im)], fin)
    return _real_chain(input, fin, passes, cval)


def _real_chain(src, fin, passes, cval):
    calls = []
    cur = src
    for make in passes:
        calls.append(make(cur, OutputArray(fin.dtype), cval))
        cur = _stand_in(src.shape, fin.dtype)
    return Chain(src, calls, fin)


# ------------------------------------------------- correlate / convolve
def correlate(input, weights, output, mode, cval, origin, convolution, axes, workers):
    """``correlate``/``convolve`` (SciPy's ``_correlate_or_convolve``)."""
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind == "c" or weights.dtype.kind == "c":
        if weights.dtype.kind == "c" and not convolution:
            weights = weights.conj()  # as np.correlate: conjugate the weights
        fin = get_output(output, input, complex_output=True)
        return _complex(lambda i, w, o, cv: correlate(i, w, o, mode, cv, origin, convolution,
                                                      axes, workers), input, weights, fin, cval)
    axes = check_axes(axes, input.ndim)
    weights = np.asarray(weights, dtype=np.float64)
    weights = expand_footprint(input.ndim, axes, weights, "weights")
    origins = expand_origin(input.ndim, axes, origin)
    wshape = [ii for ii in weights.shape if ii > 0]
    if len(wshape) != input.ndim:
        raise RuntimeError(f"weights.ndim ({len(wshape)}) must match len(axes) ({len(axes)})")
    if convolution:
        weights = weights[tuple([slice(None, None, -1)] * weights.ndim)]
        for ii in range(len(origins)):
            origins[ii] = -origins[ii]
            if not weights.shape[ii] & 1:
                origins[ii] -= 1
    for o, lenw in zip(origins, wshape):
        if invalid_origin(o, lenw):
            raise ValueError(MSG_ORIGIN_ND)
    fin = get_output(output, input)
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeError("A sequence of modes is not supported")
    mode = canonical_mode(mode)
    writeable(fin)
    cv = c_double(cval)
    origins = [c_intp(o) for o in origins]
    if input.size and not (_supported(input.dtype) and _supported(fin.dtype)):
        raise RuntimeError("array type not supported")
    workers = check_workers(workers)
    w = np.ascontiguousarray(weights)
    x = input
    if input.ndim == 0:  # one tap, no axis: a 1-d problem of one element
        x, w, origins = input.reshape(1), w.reshape(1), [0]
        fin = FilterFinish(fin.dtype, fin.out, ())
    taps = int(np.count_nonzero(np.abs(w) > EPS))
    p = _problem("nd", x, w.shape, -1, (mode,) * x.ndim, origins, fin, workers, taps)
    return Call(p, (x, w, cv), fin, pending=True)


def correlate1d(input, weights, axis, output, mode, cval, origin, workers):
    """SciPy's ``correlate1d``."""
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind == "c" or weights.dtype.kind == "c":
        if weights.dtype.kind == "c":
            weights = weights.conj().astype(np.complex128, copy=False)
        fin = get_output(output, input, complex_output=True)
        return _complex(lambda i, w, o, cv: correlate1d(i, w, axis, o, mode, cv, origin, workers),
                        input, weights, fin, cval)
    fin = get_output(output, input)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.shape[0] < 1:
        raise RuntimeError("no filter weights given")
    axis = normalize_axis_index(axis, input.ndim)
    if invalid_origin(origin, len(weights)):
        raise ValueError(MSG_ORIGIN_1D)
    mode = canonical_mode(mode)
    axis = operator.index(axis)
    writeable(fin)
    cv = c_double(cval)
    origin = operator.index(origin)
    line_types(input.dtype, fin.dtype)
    workers = check_workers(workers)
    w = np.ascontiguousarray(weights)
    p = _problem("line", input, w.shape, axis, (mode,), (origin,), fin, workers, w.shape[0],
                 symmetry(w))
    return Call(p, (input, w, cv), fin, pending=True)


def convolve1d(input, weights, axis, output, mode, cval, origin, workers):
    """SciPy's ``convolve1d``: ``correlate1d`` with the weights reversed."""
    weights = np.asarray(weights)
    weights = weights[::-1]
    origin = -origin
    if not weights.shape[0] & 1:
        origin -= 1
    if weights.dtype.kind == "c":
        weights = weights.conj()  # undoes correlate1d's conjugation
    return correlate1d(input, weights, axis, output, mode, cval, origin, workers)


# ---------------------------------------------------------------- Gaussian
def gaussian_kernel1d(sigma, order, radius):
    """SciPy's ``_gaussian_kernel1d``, operation for operation (bitwise its weights)."""
    if order < 0:
        raise ValueError("order must be non-negative")
    exponent_range = np.arange(order + 1)
    sigma2 = sigma * sigma
    x = np.arange(-radius, radius + 1)
    phi_x = np.exp(-0.5 / sigma2 * x ** 2)
    phi_x = phi_x / phi_x.sum()
    if order == 0:
        return phi_x
    # the derivative of q(x) * phi(x) is (q'(x) + q(x) * p'(x)) * phi(x), p' = -x / sigma**2
    q = np.zeros(order + 1)
    q[0] = 1
    D = np.diag(exponent_range[1:], 1)
    P = np.diag(np.ones(order) / -sigma2, -1)
    Q_deriv = D + P
    for _ in range(order):
        q = Q_deriv.dot(q)
    q = (x[:, None] ** exponent_range).dot(q)
    return q * phi_x


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, workers=None):
    """SciPy's ``gaussian_filter1d``."""
    sd = float(sigma)
    lw = int(truncate * sd + 0.5)
    if radius is not None:
        lw = radius
    if not isinstance(lw, numbers.Integral) or lw < 0:
        raise ValueError("Radius must be a nonnegative integer.")
    weights = gaussian_kernel1d(sigma, order, lw)[::-1]
    return correlate1d(input, weights, axis, output, mode, cval, 0, workers)


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, workers=None):
    """SciPy's ``gaussian_filter``: one ``gaussian_filter1d`` pass per axis."""
    input = np.asarray(input)
    fin = get_output(output, input)
    axes = check_axes(axes, input.ndim)
    n = len(axes)
    orders = normalize_sequence(order, n)
    sigmas = normalize_sequence(sigma, n)
    modes = normalize_sequence(mode, n)
    radiuses = normalize_sequence(radius, n)
    todo = [(axes[ii], sigmas[ii], orders[ii], modes[ii], radiuses[ii])
            for ii in range(n) if sigmas[ii] > 1e-15]

    def make(ax, s, o, m, r):
        return lambda src, out, cv: gaussian_filter1d(src, s, ax, o, out, m, cv, truncate,
                                                      radius=r, workers=workers)
    return _chain(input, fin, [make(*t) for t in todo], cval)


# ----------------------------------------------------------------- uniform
def _uniform(x, size, axis, fin, mode, cval, origin, workers):
    cv = c_double(cval)
    origin = operator.index(origin)
    line_types(x.dtype, fin.dtype)
    workers = check_workers(workers)
    p = _problem("uniform", x, (size,), axis, (mode,), (origin,), fin, workers, size)
    return Call(p, (x, np.ones(size), cv), fin, pending=True)


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     workers=None):
    """SciPy's ``uniform_filter1d``."""
    input = np.asarray(input)
    axis = normalize_axis_index(axis, input.ndim)
    if size < 1:
        raise RuntimeError("incorrect filter size")
    complex_output = input.dtype.kind == "c"
    fin = get_output(output, input, complex_output=complex_output)
    if (size // 2 + origin < 0) or (size // 2 + origin >= size):
        raise ValueError("invalid origin")
    mode = canonical_mode(mode)
    size = operator.index(size)
    axis = operator.index(axis)
    writeable(fin)
    if not complex_output:
        return _uniform(input, size, axis, fin, mode, cval, origin, workers)
    part = FilterFinish(_real_dtype(fin.dtype))
    return Combine([("set", "real", _uniform(input.real, size, axis, part, mode, np.real(cval),
                                             origin, workers)),
                    ("set", "imag", _uniform(input.imag, size, axis, part, mode, np.imag(cval),
                                             origin, workers))], fin)


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
                   workers=None):
    """SciPy's ``uniform_filter``: one ``uniform_filter1d`` pass per axis."""
    input = np.asarray(input)
    fin = get_output(output, input, complex_output=input.dtype.kind == "c")
    axes = check_axes(axes, input.ndim)
    n = len(axes)
    sizes = normalize_sequence(size, n)
    origins = normalize_sequence(origin, n)
    modes = normalize_sequence(mode, n)
    todo = [(axes[ii], sizes[ii], origins[ii], modes[ii]) for ii in range(n) if sizes[ii] > 1]

    def make(ax, s, o, m):
        return lambda src, out, cv: uniform_filter1d(src, int(s), ax, out, m, cv, o,
                                                     workers=workers)
    return _box(_chain(input, fin, [make(*t) for t in todo], cval))


def _box(chain):
    """A real ``uniform_filter`` into a float output, of two passes or more, as
    one problem (rule ``'box'``): its exact candidates run SciPy's passes in
    turn, others may fuse them. Other chains stay chains (their passes' checks
    have run either way)."""
    if not isinstance(chain, Chain) or len(chain.calls) < 2:
        return chain
    fin = chain.finish
    if np.dtype(fin.dtype).kind != "f" or chain.source.dtype.kind == "c":
        return chain
    ps = [c.problem for c in chain.calls]
    first = ps[0]
    p = FilterProblem("box", first.shape, first.dtype, tuple(q.wshape[0] for q in ps), -1,
                      tuple(q.modes[0] for q in ps), tuple(q.origins[0] for q in ps),
                      native_str(fin.dtype), first.workers, taps=sum(q.wshape[0] for q in ps),
                      order=tuple(q.axis for q in ps), deterministic=first.deterministic)
    x, _, cv = chain.calls[0].operands
    return Call(p, (x, np.ones(1), cv), fin, pending=True)


# ----------------------------------------------------- derivative filters
def _derivative(input, axis, output, mode, cval, smooth, workers):
    """``sobel``/``prewitt``: [-1, 0, 1] along ``axis``, ``smooth`` along the others."""
    input = np.asarray(input)
    axis = normalize_axis_index(axis, input.ndim)
    fin = get_output(output, input)
    modes = normalize_sequence(mode, input.ndim)

    def make(w, ax):
        return lambda src, out, cv: correlate1d(src, w, ax, out, modes[ax], cv, 0, workers)
    passes = [make([-1, 0, 1], axis)] + [make(smooth, ii) for ii in range(input.ndim)
                                         if ii != axis]
    return _chain(input, fin, passes, cval)


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """SciPy's ``sobel``."""
    return _derivative(input, axis, output, mode, cval, [1, 2, 1], workers)


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """SciPy's ``prewitt``."""
    return _derivative(input, axis, output, mode, cval, [1, 1, 1], workers)


def _generic_laplace(input, derivative2, output, mode, cval, axes):
    """SciPy's ``generic_laplace``: the first derivative written into the
    output, the others added to it."""
    input = np.asarray(input)
    fin = get_output(output, input)
    axes = check_axes(axes, input.ndim)
    if len(axes) == 0:
        writeable(fin)
        return Chain(input, [], fin)
    modes = normalize_sequence(mode, len(axes))
    steps = [("set", "all", derivative2(input, axes[0], OutputArray(fin.dtype), modes[0], cval))]
    for ii in range(1, len(axes)):
        steps.append(("add", "all", derivative2(input, axes[ii], fin.dtype, modes[ii], cval)))
    writeable(fin)
    return Combine(steps, fin)


def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, workers=None):
    """SciPy's ``laplace``: [1, -2, 1] along each axis, summed."""
    def derivative2(x, axis, out, m, cv):
        return correlate1d(x, [1, -2, 1], axis, out, m, cv, 0, workers)
    return _generic_laplace(input, derivative2, output, mode, cval, axes)


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     workers=None, **kwargs):
    """SciPy's ``gaussian_laplace``: second Gaussian derivatives, summed."""
    input = np.asarray(input)
    axes = check_axes(axes, input.ndim)
    n = len(axes)
    sigma = normalize_sequence(sigma, n)
    if n < input.ndim:
        full = [0] * input.ndim
        for s, ax in zip(sigma, axes):
            full[ax] = s
        sigma = full

    def derivative2(x, axis, out, m, cv):
        order = [0] * x.ndim
        order[axis] = 2
        return gaussian_filter(x, sigma, order, out, m, cv, workers=workers, **kwargs)
    return _generic_laplace(input, derivative2, output, mode, cval, axes)


def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, workers=None, **kwargs):
    """SciPy's ``gaussian_gradient_magnitude`` (``generic_gradient_magnitude``):
    the root of the summed squares of first Gaussian derivatives. Like SciPy
    1.17, every derivative smooths along all axes, also those not in ``axes``."""
    input = np.asarray(input)

    def derivative(x, axis, out, m, cv):
        order = [0] * x.ndim
        order[axis] = 1
        return gaussian_filter(x, sigma, order, out, m, cv, workers=workers, **kwargs)
    fin = get_output(output, input)
    axes = check_axes(axes, input.ndim)
    if len(axes) == 0:
        writeable(fin)
        return Chain(input, [], fin)
    modes = normalize_sequence(mode, len(axes))
    steps = [("set", "all", derivative(input, axes[0], OutputArray(fin.dtype), modes[0], cval)),
             ("square", "all", None)]
    for ii in range(1, len(axes)):
        steps.append(("addsq", "all", derivative(input, axes[ii], fin.dtype, modes[ii], cval)))
    steps.append(("sqrt", "all", None))
    writeable(fin)
    return Combine(steps, fin)
