"""``scipy.ndimage``'s convolution filters on dask arrays.

The same names and SciPy 1.17 signatures as ``jitconv.ndimage``:
``convolve``, ``correlate``, ``convolve1d``, ``correlate1d``,
``gaussian_filter``, ``gaussian_filter1d``, ``uniform_filter``,
``uniform_filter1d``, ``sobel``, ``prewitt``, ``laplace``,
``gaussian_laplace`` and ``gaussian_gradient_magnitude``. Each returns a lazy
dask array with the input's shape and chunks and the dtype
``jitconv.ndimage`` gives; its errors (SciPy's types and messages) are raised
when the call returns, before any task runs.

How one call becomes a graph
----------------------------
The call is checked by ``jitconv._validate.ndimage`` on a stand-in of the
data (its shape and dtype, no bytes): that raises SciPy's errors and gives
the call's tree of filter passes (``_problem.Call``, ``Chain``,
``Combine``). The tree says how far an output reads along each axis: a pass
of ``m`` taps with SciPy's origin ``o`` (the correlation's, after
``convolve`` flipped its weights) reads ``m // 2 + o`` points before and
``(m - 1) // 2 - o`` after; passes in turn (a ``Chain``: separable filters,
``sobel``) add up; filters combined from others (a ``Combine``:
``laplace``, ``gaussian_gradient_magnitude``, complex parts) take the
largest. Each task then runs the whole ``jitconv.ndimage`` function on its
chunk with that halo (``_blocks.map_filter``) and keeps its chunk: the
points it keeps are at least a halo away from every block edge that is not
an array edge, so every pass read true values there. At the array's true
edges the function's own boundary mode extends the block that holds the
edge; with 'wrap' an edge block's halo is the other end of the array. An
axis that one call extends by 'wrap' and by another mode (possible with a
sequence of modes in ``gaussian_gradient_magnitude``) is taken whole.

Exactness: the ``'exact'`` sums (integer or bool data and outputs, NaN/inf,
and whenever the planner picks the direct candidates for float data) give
each output from the same taps in the same order as on the whole array: the
results are bitwise ``jitconv.ndimage``'s. The planner decides per chunk
problem, so float data may take the FFT or rank-1 candidates on a chunk
where the whole array took another (within their stated bounds). The
uniform filters' running sums start at each block instead of each line:
integer data exact, float data within the running sum's bound (smaller than
the whole line's); a NaN or inf spreads along the line only within its block
(in memory, SciPy's running sum carries it to the end of the line).
"""
import functools

import numpy as np

try:
    import dask.array as da
    from dask.delayed import delayed
except ImportError as e:  # pragma: no cover - the extra is not installed
    raise ImportError("jitconv.dask needs dask: pip install 'jitconv[dask]'") from e

from .. import ndimage as _ndi
from .._problem import Call, Chain, Combine
from .._validate import ndimage as check
from . import _blocks
from ._blocks import TASK_WORKERS

__all__ = ["convolve", "correlate", "convolve1d", "correlate1d", "gaussian_filter",
           "gaussian_filter1d", "uniform_filter", "uniform_filter1d", "sobel", "prewitt",
           "laplace", "gaussian_laplace", "gaussian_gradient_magnitude"]

_SEE = """
    The dask face of ``jitconv.ndimage.{name}``: the same parameters, SciPy
    1.17's signature.

    Parameters
    ----------
    input : dask.array.Array or array_like
        The data (anything else is wrapped by ``dask.array.asarray``); its
        chunk sizes must be known.{weights}
    output : dtype, optional
        The result's dtype (default: ``jitconv.ndimage``'s). An ndarray
        raises ``TypeError``: the result is a new lazy array (write it
        with ``dask.array.store``).
    workers : int, optional
        Keyword-only: threads per task. Default 1 (dask runs one task per
        worker thread; more would oversubscribe the cores).
    **params
        The others, as ``jitconv.ndimage.{name}`` takes them.

    Returns
    -------
    dask.array.Array
        Lazy, with the input's shape and chunks and ``jitconv.ndimage``'s
        dtype; bitwise ``jitconv.ndimage.{name}`` on the whole array where
        the exact sums run (module docstring).

    Raises
    ------
    RuntimeError, ValueError, TypeError
        SciPy's, with SciPy's messages, when the call returns (before any
        task runs).
"""
_WEIGHTS = """
    weights : array_like
        Held in memory (a dask array is computed) and put in the graph
        once: one key that every task refers to."""


def _doc(name, weights=False):
    """Complete a face's docstring: the shared parameters, returns and
    raises, before its examples."""
    def deco(f):
        head, sep, examples = f.__doc__.partition("\n    Examples\n")
        f.__doc__ = (head.rstrip() + "\n" + _SEE.format(name=name,
                                                        weights=_WEIGHTS if weights else "")
                     + (sep + examples if sep else ""))
        return f
    return deco


# ------------------------------------------------------------------ the faces
@_doc("correlate", weights=True)
def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
              workers=None):
    """Multidimensional correlation of a dask array (``scipy.ndimage.correlate``).

    Examples
    --------
    >>> import dask.array as da
    >>> from jitconv.dask import ndimage
    >>> y = ndimage.correlate(da.arange(10.0, chunks=4), [1.0, 2.0, 0.0], mode="wrap")
    >>> y.chunks, y.compute()
    (((4, 4, 2),), array([ 9.,  2.,  5.,  8., 11., 14., 17., 20., 23., 26.]))
    """
    return _filter("correlate", input, weights,
                   dict(output=output, mode=mode, cval=cval, origin=origin, axes=axes), workers,
                   lambda x, w, out, wk: check.correlate(x, w, out, mode, cval, origin, False,
                                                         axes, wk))


@_doc("convolve", weights=True)
def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
             workers=None):
    """Multidimensional convolution of a dask array (``scipy.ndimage.convolve``).

    Examples
    --------
    >>> import dask.array as da
    >>> from jitconv.dask import ndimage
    >>> ndimage.convolve(da.arange(5.0, chunks=2), [1.0, 2.0, 0.0], mode="constant").compute()
    array([ 1.,  4.,  7., 10.,  8.])
    """
    return _filter("convolve", input, weights,
                   dict(output=output, mode=mode, cval=cval, origin=origin, axes=axes), workers,
                   lambda x, w, out, wk: check.correlate(x, w, out, mode, cval, origin, True,
                                                         axes, wk))


@_doc("correlate1d", weights=True)
def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                workers=None):
    """1-d correlation of a dask array along an axis (``scipy.ndimage.correlate1d``)."""
    return _filter("correlate1d", input, weights,
                   dict(axis=axis, output=output, mode=mode, cval=cval, origin=origin), workers,
                   lambda x, w, out, wk: check.correlate1d(x, w, axis, out, mode, cval, origin,
                                                           wk))


@_doc("convolve1d", weights=True)
def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
               workers=None):
    """1-d convolution of a dask array along an axis (``scipy.ndimage.convolve1d``)."""
    return _filter("convolve1d", input, weights,
                   dict(axis=axis, output=output, mode=mode, cval=cval, origin=origin), workers,
                   lambda x, w, out, wk: check.convolve1d(x, w, axis, out, mode, cval, origin,
                                                          wk))


@_doc("gaussian_filter1d")
def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, workers=None):
    """1-d Gaussian filter of a dask array (``scipy.ndimage.gaussian_filter1d``)."""
    return _filter("gaussian_filter1d", input, None,
                   dict(sigma=sigma, axis=axis, order=order, output=output, mode=mode, cval=cval,
                        truncate=truncate, radius=radius), workers,
                   lambda x, w, out, wk: check.gaussian_filter1d(
                       x, sigma, axis, order, out, mode, cval, truncate, radius=radius,
                       workers=wk))


@_doc("gaussian_filter")
def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, workers=None):
    """Multidimensional Gaussian filter of a dask array (``scipy.ndimage.gaussian_filter``).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from jitconv import ndimage as nd
    >>> from jitconv.dask import ndimage
    >>> a = np.arange(64, dtype=np.uint8).reshape(8, 8)
    >>> y = ndimage.gaussian_filter(da.from_array(a, chunks=3), 1.0, mode="mirror")
    >>> y.dtype, y.chunks == ((3, 3, 2), (3, 3, 2))
    (dtype('uint8'), True)
    >>> bool((y.compute() == nd.gaussian_filter(a, 1.0, mode="mirror")).all())
    True
    """
    return _filter("gaussian_filter", input, None,
                   dict(sigma=sigma, order=order, output=output, mode=mode, cval=cval,
                        truncate=truncate, radius=radius, axes=axes), workers,
                   lambda x, w, out, wk: check.gaussian_filter(
                       x, sigma, order, out, mode, cval, truncate, radius=radius, axes=axes,
                       workers=wk))


@_doc("uniform_filter1d")
def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     workers=None):
    """1-d uniform filter of a dask array (``scipy.ndimage.uniform_filter1d``).

    The running sum restarts at each block: float results are within the
    running sum's bound of the in-memory ones (integers exact).
    """
    return _filter("uniform_filter1d", input, None,
                   dict(size=size, axis=axis, output=output, mode=mode, cval=cval,
                        origin=origin), workers,
                   lambda x, w, out, wk: check.uniform_filter1d(x, size, axis, out, mode, cval,
                                                                origin, workers=wk))


@_doc("uniform_filter")
def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
                   workers=None):
    """Multidimensional uniform filter of a dask array (``scipy.ndimage.uniform_filter``).

    The running sums restart at each block: float results are within the
    running sum's bound of the in-memory ones (integers exact).
    """
    return _filter("uniform_filter", input, None,
                   dict(size=size, output=output, mode=mode, cval=cval, origin=origin,
                        axes=axes), workers,
                   lambda x, w, out, wk: check.uniform_filter(x, size, out, mode, cval, origin,
                                                              axes=axes, workers=wk))


@_doc("sobel")
def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Sobel filter of a dask array (``scipy.ndimage.sobel``)."""
    return _filter("sobel", input, None, dict(axis=axis, output=output, mode=mode, cval=cval),
                   workers,
                   lambda x, w, out, wk: check.sobel(x, axis, out, mode, cval, workers=wk))


@_doc("prewitt")
def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Prewitt filter of a dask array (``scipy.ndimage.prewitt``)."""
    return _filter("prewitt", input, None, dict(axis=axis, output=output, mode=mode, cval=cval),
                   workers,
                   lambda x, w, out, wk: check.prewitt(x, axis, out, mode, cval, workers=wk))


@_doc("laplace")
def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, workers=None):
    """Laplace filter of a dask array from second differences (``scipy.ndimage.laplace``)."""
    return _filter("laplace", input, None, dict(output=output, mode=mode, cval=cval, axes=axes),
                   workers,
                   lambda x, w, out, wk: check.laplace(x, out, mode, cval, axes=axes,
                                                       workers=wk))


@_doc("gaussian_laplace")
def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     workers=None, **kwargs):
    """Laplace filter of a dask array from second Gaussian derivatives
    (``scipy.ndimage.gaussian_laplace``; ``**kwargs``: ``truncate``, ``radius``)."""
    return _filter("gaussian_laplace", input, None,
                   dict(sigma=sigma, output=output, mode=mode, cval=cval, axes=axes, **kwargs),
                   workers,
                   lambda x, w, out, wk: check.gaussian_laplace(x, sigma, out, mode, cval,
                                                                axes=axes, workers=wk, **kwargs))


@_doc("gaussian_gradient_magnitude")
def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, workers=None, **kwargs):
    """Gradient magnitude of a dask array from first Gaussian derivatives
    (``scipy.ndimage.gaussian_gradient_magnitude``; ``**kwargs``: ``truncate``,
    ``radius``)."""
    return _filter("gaussian_gradient_magnitude", input, None,
                   dict(sigma=sigma, output=output, mode=mode, cval=cval, axes=axes, **kwargs),
                   workers,
                   lambda x, w, out, wk: check.gaussian_gradient_magnitude(
                       x, sigma, out, mode, cval, axes=axes, workers=wk, **kwargs))


# ------------------------------------------------------------------ the calls
def _filter(name, input, weights, kw, workers, validate):
    """The lazy result of ``jitconv.ndimage.<name>(input, [weights,] **kw)``.

    ``validate(stand_in, weights, output, workers)`` checks the call as
    ``jitconv.ndimage`` does (raising SciPy's errors) and returns its tree of
    passes, from which the halo and the dtype are read.
    """
    x = input if isinstance(input, da.Array) else da.asarray(input)
    if any(c != c for c in x.shape):
        raise ValueError("jitconv.dask needs the chunk sizes of input: call "
                         "input.compute_chunk_sizes() first")
    output = kw["output"]
    if output is not None and not isinstance(output, (type, np.dtype, str)):
        raise TypeError("jitconv.dask.ndimage: output must be None or a dtype (the result is a "
                        f"new dask array; store it with dask.array.store), not "
                        f"{type(output).__name__}")
    wk = TASK_WORKERS if workers is None else workers
    w = None if weights is None else np.asarray(weights)
    # the data's shape and dtype, no bytes: the checks never read the data
    stand_in = np.broadcast_to(np.zeros((), x.dtype), x.shape)
    node = validate(stand_in, w, output, wk)
    dtype = node.finish.dtype
    # each task gets the resolved dtype (a promotion is warned about once, here)
    kw = dict(kw, output=None if output is None else dtype, workers=wk)
    args = () if w is None else (delayed(w, pure=True),)
    fn = functools.partial(_block, name, kw)
    if x.size == 0 or x.ndim == 0:
        # nothing to cut: one task per chunk (SciPy's zeros, or one element)
        return _blocks.map_filter(fn, x, {}, {}, dtype, args, name)
    depth, modes, whole = _halo(node, x.ndim)
    chunks = x.chunks
    if whole:
        x = x.rechunk({ax: -1 for ax in whole})
    out = _blocks.map_filter(fn, x, depth, modes, dtype, args, name)
    return out if out.chunks == chunks else out.rechunk(chunks)


def _block(name, kw, block, *weights):
    """One task's filter: ``jitconv.ndimage``'s on the block."""
    return getattr(_ndi, name)(block, *weights, **kw)


def _add(out, ax, before, after, modes):
    """Add one pass's reach along ``ax`` to ``out`` (passes in turn add up)."""
    b0, a0, ms0 = out.get(ax, (0, 0, set()))
    out[ax] = (b0 + before, a0 + after, ms0 | modes)


def _reach(node):
    """``{axis: (before, after, modes)}``: how far the outputs of a filter
    node read along each axis, and the boundary modes that extend it."""
    if isinstance(node, Call):
        p = node.problem
        if p.rule == "nd":
            passes = zip(range(len(p.wshape)), p.wshape, p.origins, p.modes)
        elif p.rule == "box":   # uniform_filter's passes in one problem: one per axis
            passes = zip(p.order, p.wshape, p.origins, p.modes)
        else:
            passes = [(p.axis, p.wshape[0], p.origins[0], p.modes[0])]
        out = {}
        for ax, m, o, mode in passes:   # passes along one axis add up
            if m > 1:
                _add(out, ax, m // 2 + o, (m - 1) // 2 - o, {mode})
        return out
    out = {}
    if isinstance(node, Chain):     # passes in turn: their reaches add up
        for c in node.calls:
            for ax, (b, a, ms) in _reach(c).items():
                _add(out, ax, b, a, ms)
    elif isinstance(node, Combine):  # results combined point by point: the largest
        for _, _, sub in node.steps:
            if sub is None:
                continue
            for ax, (b, a, ms) in _reach(sub).items():
                b0, a0, ms0 = out.get(ax, (0, 0, set()))
                out[ax] = (max(b0, b), max(a0, a), ms0 | ms)
    else:  # pragma: no cover - the checks return only these nodes
        raise TypeError(f"unknown filter node {node!r}")
    return out


def _halo(node, ndim):
    """``(depth, modes, whole)`` for ``_blocks.map_filter``: the axes to cut,
    with their halos and modes, and the axes taken whole (extended by
    'wrap' and another mode in one call)."""
    depth, modes, whole = {}, {}, []
    for ax, (b, a, ms) in sorted(_reach(node).items()):
        if "wrap" in ms and len(ms) > 1:
            whole.append(ax)
            continue
        depth[ax] = (b, a)
        # 'mirror' reads one point further than its depth at an edge
        modes[ax] = "wrap" if "wrap" in ms else "mirror" if "mirror" in ms else ms.pop()
    return depth, modes, whole
