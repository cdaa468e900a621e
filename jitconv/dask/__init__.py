"""``convolve``, ``correlate``, ``fftconvolve`` and ``oaconvolve`` on dask arrays.

(The ``scipy.ndimage`` filters on dask arrays are in ``jitconv.dask.ndimage``.)

The data (``in1``) is a dask array, the kernel (``in2``) an in-memory array.
Each function returns a lazy dask array equal to ``jitconv.signal``'s result
on the whole array: same shape, dtype and errors (raised here, before any
task runs), values equal bitwise on the direct paths and within the FFT
bound otherwise. Every chunk is one call of jitconv's engine, planned like
any other call: direct, separable, FFT or overlap-add per chunk problem.

How one call becomes a graph
----------------------------
Every mode's output is a window of the full convolution (``_shapes``). Along
a convolved axis of length ``n``, kernel length ``m``, input chunk
boundaries ``p_0 = 0 < p_1 < ... < p_B = n`` and the window ``[W0, W1)``,
output chunk ``i`` covers the full positions ``[b_i, b_i+1)`` with

    ``b_0 = W0``, ``b_B = W1``, ``b_i = p_i + (m - 1) // 2`` in between.

It reads the inputs ``[b_i - m + 1, b_i+1)``: its own chunk, ``m // 2``
points of the chunk before and ``(m - 1) // 2`` of the chunk after (an
asymmetric halo; what lies beyond the array is the zero padding, which the
engine implies and never materialises; ``_blocks`` builds the tasks). In
'same' mode the output chunks are the input chunks; 'full' adds the kernel's
overhang to the two end chunks; 'valid' takes it from them. A task computes the window
``[b_i - lo_i, b_i+1 - lo_i)`` of the full convolution of its halo'd block
(which starts at ``lo_i``) with the kernel: an exact piece of the whole
result, whatever the algorithm. With the FFT this is overlap-save: a block
of ``chunk + m - 1`` points transformed at an FFTW-friendly length, its
``chunk`` clean outputs kept; interior chunks of one size share one problem
key, so the planner decides once and FFTW's plan (cached per thread) serves
them all.

Chunks smaller than the halo are merged with their neighbours; an axis that
cannot hold two such chunks (a kernel longer than half the axis, or than the
axis) becomes one chunk, and the answer is still exact.

Planning
--------
Nothing is planned when the graph is built. Each worker process plans the
chunk problems it meets with jitconv's planner, and the processes of one
machine share what they measure through the wisdom file (``JITCONV_WISDOM``;
the default path is shared by every process of a user): a key is measured by
one process of the machine; the others run the cost model's pick until the
decision is stored, then use it. A later run, on a fresh cluster, reads the
decisions and measures nothing. Each task uses one thread (``workers=1``):
dask runs one task per worker thread, so more would oversubscribe the
cores; ``workers=`` sets the threads per task.
"""
import numpy as np

try:
    import dask.array as da
except ImportError as e:  # pragma: no cover - the extra is not installed
    raise ImportError("jitconv.dask needs dask: pip install 'jitconv[dask]'") from e

from .. import signal as _signal
from .._dtypes import fft_float, native
from .._shapes import crop, out_shape
from .._validate import signal as check
from . import _blocks
from ._blocks import TASK_WORKERS
from . import ndimage  # noqa: F401 - jitconv.dask.ndimage: the ndimage filters

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve"]


def convolve(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Convolve a dask array with an in-memory kernel (``jitconv.convolve`` per chunk).

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The data. Anything else is wrapped by ``dask.array.asarray``.
    in2 : array_like
        The kernel, held in memory (a dask array is computed). It is put in
        the graph once.
    mode : {'full', 'valid', 'same'}, optional
        As ``scipy.signal.convolve``.
    method : {'auto', 'direct', 'fft'}, optional
        As ``jitconv.convolve``, for every chunk: 'auto' lets the planner
        pick per chunk problem; 'direct' is the direct sum (bitwise equal to
        the in-memory result).
    axes : int or sequence of int, optional
        Axes to convolve over (default: all); the others are batch axes,
        equal or broadcast (length 1) in the two inputs.
    workers : int, optional
        Threads per task. Default 1 (one task runs per dask worker thread).

    Returns
    -------
    dask.array.Array
        Lazy; dtype ``result_type(in1, in2)``; the shape of
        ``scipy.signal.convolve``'s result.

    Raises
    ------
    ValueError
        SciPy's errors, with SciPy's messages, when the graph is built.
    TypeError
        For dtypes jitconv does not compute (long double, object, ...).

    See Also
    --------
    jitconv.convolve, correlate, fftconvolve

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from jitconv import dask as jd
    >>> x = da.arange(10.0, chunks=4)
    >>> y = jd.convolve(x, [1.0, 1.0, 1.0], "same", method="direct")
    >>> y.chunks
    ((4, 4, 2),)
    >>> y.compute()
    array([ 1.,  3.,  6.,  9., 12., 15., 18., 21., 24., 17.])
    """
    return _signal_call("convolve", in1, in2, mode, method, axes, workers)


def correlate(in1, in2, mode="full", method="auto", *, axes=None, lags=None, workers=None):
    """Cross-correlate a dask array with an in-memory kernel (``jitconv.correlate`` per chunk).

    ``z[k] = sum_l in1[l] * conj(in2[l - k])``, SciPy's definition.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The data.
    in2 : array_like
        The kernel, held in memory; put in the graph once.
    mode : {'full', 'valid', 'same'}, optional
        As ``scipy.signal.correlate``.
    method : {'auto', 'direct', 'fft'}, optional
        As in `convolve`.
    axes : int or sequence of int, optional
        Axes to correlate over (default: all).
    lags : int, range, or tuple of them, optional
        Only these lags of the 'full' correlation, as ``jitconv.correlate``
        takes them (an int ``L``: lags ``-L .. L``; a range; one per axis of
        `axes`). Only the chunks the window reads are computed.
    workers : int, optional
        Threads per task (default 1).

    Returns
    -------
    dask.array.Array
        Lazy; dtype ``result_type(in1, in2)``.

    See Also
    --------
    jitconv.correlate, convolve

    Examples
    --------
    >>> import dask.array as da
    >>> from jitconv import dask as jd
    >>> jd.correlate(da.arange(6, chunks=3), [1, 0, -1], "same").compute()
    array([-1, -2, -2, -2, -2,  4])
    """
    return _signal_call("correlate", in1, in2, mode, method, axes, workers, lags)


def fftconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve a dask array with an in-memory kernel by FFT, per chunk (overlap-save).

    Each chunk, with a halo of ``kernel - 1`` points, is transformed at an
    FFTW-friendly length and its clean outputs kept; interior chunks of one
    size reuse one FFTW plan.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The data.
    in2 : array_like
        The kernel, held in memory; put in the graph once.
    mode : {'full', 'valid', 'same'}, optional
        As ``scipy.signal.fftconvolve``.
    axes : int or array_like of ints, optional
        Axes to convolve over (default: all).
    workers : int, optional
        FFTW threads per task (default 1).

    Returns
    -------
    dask.array.Array
        Lazy; float32/float64/complex as ``jitconv.fftconvolve``.

    See Also
    --------
    jitconv.fftconvolve, oaconvolve, convolve

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from jitconv import dask as jd
    >>> y = jd.fftconvolve(da.ones(8, chunks=3), np.ones(3), "valid")
    >>> y.chunks, np.round(y.compute(), 12)
    (((2, 3, 1),), array([3., 3., 3., 3., 3., 3.]))
    """
    return _signal_call("fftconvolve", in1, in2, mode, None, axes, workers)


def oaconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve a dask array with an in-memory kernel by overlap-add, per chunk.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The data.
    in2 : array_like
        The kernel, held in memory; put in the graph once.
    mode : {'full', 'valid', 'same'}, optional
        As ``scipy.signal.oaconvolve``.
    axes : int or array_like of ints, optional
        Axes to convolve over (default: all).
    workers : int, optional
        FFTW threads per task (default 1).

    Returns
    -------
    dask.array.Array
        Lazy; dtype as ``jitconv.oaconvolve``.

    See Also
    --------
    jitconv.oaconvolve, fftconvolve

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from jitconv import dask as jd
    >>> float(jd.oaconvolve(da.ones(1000, chunks=300), np.ones(10))[500].compute())
    10.0
    """
    return _signal_call("oaconvolve", in1, in2, mode, None, axes, workers)


# ------------------------------------------------------------ the signal calls
def _signal_call(op, in1, in2, mode, method, axes, workers, lags=None):
    x = in1 if isinstance(in1, da.Array) else da.asarray(in1)
    if any(c != c for c in x.shape):
        raise ValueError("jitconv.dask needs the chunk sizes of in1: call "
                         "in1.compute_chunk_sizes() first")
    k = np.asarray(in2)
    if x.size == 0 or k.size == 0:
        # answered from shapes, or SciPy's error: the in-memory function on a
        # stand-in of the data (zero bytes) says which
        stand_in = np.broadcast_to(np.zeros((), x.dtype), x.shape)
        extra = {} if lags is None else {"lags": lags}
        return da.from_array(getattr(_signal, op)(stand_in, k, mode, *(
            (method,) if method is not None else ()), axes=axes, workers=workers, **extra))
    early, ax, kept, workers = check.signal_checks(
        op, x, k, mode, method, axes, TASK_WORKERS if workers is None else workers, lags)
    if early == "0d":
        return x * (np.conj(k) if op == "correlate" and k.dtype.kind == "c" else k)
    if not (native(x.dtype) and native(k.dtype)):
        raise TypeError(f"jitconv.dask: {op} does not compute dtypes {x.dtype} and {k.dtype}"
                        " (jitconv.signal hands them to SciPy, in memory only)")
    take = None
    if lags is None:
        wins = check.windows(mode, x.shape, k.shape, ax)
    else:   # the lags' windows of the full correlation, then every step-th lag
        wins, take = check.lag_call_windows(lags, x.shape, k.shape, ax)
    if op in ("convolve", "correlate"):
        family = method
        if op == "correlate":
            k = check.reverse_conj(k, ax)
        rt = np.result_type(x.dtype, k.dtype).newbyteorder("=")   # as the engine's
    else:
        family = "fft" if op == "fftconvolve" else "oa"
        rt = np.result_type(*(fft_float(t) for t in (x.dtype, k.dtype)))
        if not kept:
            # only length-1 convolved axes: a broadcast product, cropped (as in memory)
            full = tuple(x.shape[i] + k.shape[i] - 1 if i in ax else max(x.shape[i], k.shape[i])
                         for i in range(x.ndim))
            return da.broadcast_to(x * k, full)[crop(x.ndim, ax, wins)]
    if any(length == 0 for _, length in wins):   # an empty window of lags: nothing to read
        empty = np.zeros(out_shape(x.shape, k.shape, ax, wins), rt)
        return da.from_array(empty if take is None else empty[take])
    layout = None
    if lags is not None:
        x, wins, layout = _read_part(x, k, ax, wins)
    out = _blocks.signal_windows(op, family, x, k, ax, wins, rt, workers, layout)
    return out if take is None else out[take]


def _read_part(x, k, axes, wins):
    """``(x[part], wins, layout)``: only the inputs the windows read (a window
    of lags of a long recording reads a few of its chunks), the windows
    shifted to the part, and the whole call's ``sums_layout``, so that the
    part's direct sums are the whole's. When the data serves as the taps
    (it is smaller than the kernel) it stays whole: its extent groups the sums."""
    from ..algorithms.direct import sums_layout
    layout = sums_layout(x.shape, k.shape, axes)
    if layout[1]:
        return x, wins, layout
    part = [slice(None)] * x.ndim
    shifted = []
    for ax, (start, length) in zip(axes, wins):
        # output q of the full convolution reads inputs q - m + 1 .. q
        lo = min(max(0, start - k.shape[ax] + 1), x.shape[ax]) if length else 0
        hi = max(min(x.shape[ax], start + length), lo) if length else x.shape[ax]
        part[ax] = slice(lo, hi)
        shifted.append((start - lo, length))
    return x[tuple(part)], shifted, layout
