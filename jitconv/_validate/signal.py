"""``scipy.signal``'s checks, with SciPy 1.17's exception types and messages,
in SciPy's order, before any work; then the call: problem, operands, finishing rule."""
import operator

import numpy as np

from .. import _config
from .._dtypes import fft_float, native, native_str
from .._problem import (Answer, BoundaryFinish, BoundaryProblem, Call, Fallback, FreqFinish,
                        SignalFinish, SignalProblem)
from .._shapes import crop, out_shape, window
from . import workers as check_workers

MSG_MODE_DIRECT = "Acceptable mode flags are 'valid', 'same', or 'full'."
MSG_MODE_FFT = "acceptable mode flags are 'valid', 'same', or 'full'"
MSG_METHOD = "Acceptable method flags are 'auto', 'direct', or 'fft'."
MSG_BOUNDARY = ("Acceptable boundary flags are 'fill', 'circular' "
                "(or 'wrap'), and 'symmetric' (or 'symm').")
MSG_VALID = ("For 'valid' mode, one must be at least "
             "as large as the other in every dimension")

_MODE_TABLE = {"valid": 0, "same": 1, "full": 2}
BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
              "symm": "symm", "symmetric": "symm", "reflect": "reflect"}

def mode_direct(mode):
    """Mode check of SciPy's direct path: dict lookup (a list gives TypeError)."""
    try:
        _MODE_TABLE[mode]
    except KeyError:
        raise ValueError(MSG_MODE_DIRECT) from None
    return mode


def mode_auto(mode):
    if not isinstance(mode, str) or mode not in _MODE_TABLE:
        raise ValueError("Acceptable mode flags are 'valid',"
                         f" 'same', or 'full', not mode={mode}")
    return mode


def mode_fft(mode):
    if not isinstance(mode, str) or mode not in _MODE_TABLE:
        raise ValueError(MSG_MODE_FFT)
    return mode


def method_flag(m):
    if not isinstance(m, str) or m not in ("auto", "direct", "fft"):
        raise ValueError(MSG_METHOD)
    return m


def swap_needed(mode, s1, s2, axes=None):
    """SciPy's ``_inputs_swap_needed``: raise if 'valid' shapes are incomparable."""
    if mode != "valid" or not s1:
        return False
    if axes is None:
        axes = range(len(s1))
    ok1 = all(s1[i] >= s2[i] for i in axes)
    ok2 = all(s2[i] >= s1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError(MSG_VALID)
    return not ok1


def fft_axes(a, b, axes):
    """``axes`` of the frequency-domain functions, as SciPy normalises them.

    Returns ``(requested, kept)``: the convolved axes as given (all when
    None), and those where neither input has length 1 (SciPy's 'valid'-mode
    check and the FFTs use only these; along the others the convolution is a
    broadcast product, still cropped to the mode's window). The axes not
    requested must broadcast.
    """
    nd = a.ndim
    if axes is None:
        axs = list(range(nd))
    else:
        if np.isscalar(axes) or isinstance(axes, np.ndarray) and axes.ndim == 0:
            axes = [axes]
        try:
            axs = [operator.index(x) for x in axes]
        except TypeError:
            raise ValueError("axes must be a scalar or iterable of integers") from None
        if not axs:
            raise ValueError("when provided, axes cannot be empty")
        if any(x >= nd or x < -nd for x in axs):
            raise ValueError("axes exceeds dimensionality of input")
        axs = [x % nd for x in axs]
        if len(set(axs)) != len(axs):
            raise ValueError("all axes must be unique")
    s1, s2 = a.shape, b.shape
    kept = [x for x in axs if s1[x] != 1 and s2[x] != 1]
    if not all(s1[x] == s2[x] or s1[x] == 1 or s2[x] == 1
               for x in range(nd) if x not in kept):
        raise ValueError("incompatible shapes for in1 and in2:"
                         f" {s1} and {s2}")
    return axs, kept


def windows(mode, s1, s2, axes):
    """(start, length) of the output along each convolved axis, in full coordinates."""
    return [window(mode, s1[ax], s2[ax]) for ax in axes]


LAGS_TYPE = ("lags must be an int (the largest |lag|), a range of lags, or a tuple with "
             "one int or range per correlated axis")


def _one_lag_range(spec, n, m, axis):
    """``range`` of lags along one axis for ``spec`` (an int L or a range), checked
    against the full correlation's lags ``-(m - 1) .. n - 1``."""
    if isinstance(spec, range):
        r = spec
    elif isinstance(spec, (bool, np.bool_)):
        raise TypeError(LAGS_TYPE + f", not {spec!r}")
    else:
        try:
            big = operator.index(spec)
        except TypeError:
            raise TypeError(LAGS_TYPE + f", not {spec!r}") from None
        if big < 0:
            raise ValueError(f"lags={big}: the largest |lag| must be >= 0")
        r = range(-big, big + 1)
    lo_ok, hi_ok = -(m - 1), n - 1
    where = "" if axis is None else f" along axis {axis}"
    if r.step < 0 or (r.step > 0 and r.stop < r.start):
        raise ValueError(f"lags {r}{where} are reversed: lags must increase, as in "
                         "correlation_lags(..., mode='full')")
    if len(r) == 0:
        if not lo_ok <= r.start <= hi_ok + 1:
            raise ValueError(f"lags {r}{where} start outside the full correlation's lags "
                             f"{lo_ok} .. {hi_ok}")
        return r
    if r[0] < lo_ok or r[-1] > hi_ok:
        raise ValueError(f"lags {r[0]} .. {r[-1]}{where} exceed the full correlation's lags "
                         f"{lo_ok} .. {hi_ok} (lengths {n} and {m})")
    return r


def lag_ranges(lags, s1, s2, axes):
    """The lags ``lags=`` asks for: one ``range`` per correlated axis.

    ``lags`` is an int ``L`` (lags ``-L .. L``) or a range, for every correlated
    axis, or a tuple/list holding one of them per axis in ``axes``. Lags are
    those of ``correlation_lags(n, m, 'full')``: ``-(m - 1) .. n - 1`` along
    an axis where the inputs have lengths ``n`` and ``m``. Raises before any
    work: TypeError for a wrong type, ValueError for a wrong length, a
    decreasing range, or lags outside the full correlation.
    """
    if isinstance(lags, (tuple, list)):
        if len(lags) != len(axes):
            raise ValueError(f"lags has {len(lags)} entries for {len(axes)} correlated "
                             f"axes {list(axes)}: give one int or range per axis")
        specs = list(lags)
        named = True
    else:
        specs = [lags] * len(axes)
        named = len(axes) > 1
    return [_one_lag_range(spec, s1[ax], s2[ax], ax if named else None)
            for spec, ax in zip(specs, axes)]


def lag_windows(ranges, s2, axes):
    """``(wins, take)``: the windows of the full correlation covering ``ranges``
    (in full coordinates: lag ``k`` is index ``k + m - 1``), and the slices
    that pick every ``step``-th lag of them (None when every step is 1)."""
    wins, take = [], []
    for r, ax in zip(ranges, axes):
        m = s2[ax]
        length = (r[-1] - r[0] + 1) if len(r) else 0
        start = (r.start if not len(r) else r[0]) + m - 1
        wins.append((start, length))
        take.append(slice(None, None, r.step) if r.step > 1 and length else slice(None))
    if all(t == slice(None) for t in take):
        return wins, None
    return wins, tuple(take)


def lag_array(n, m, mode, lags):
    """``correlation_lags(n, m, mode, lags=lags)``: the lags ``correlate(lags=)`` computes."""
    if mode != "full":
        raise ValueError(f"lags= picks lags of the 'full' correlation: use mode='full', "
                         f"not mode={mode!r}")
    n, m = operator.index(n), operator.index(m)
    if isinstance(lags, (tuple, list)) and len(lags) == 1:
        lags = lags[0]
    r = _one_lag_range(lags, n, m, None)
    return np.arange(r.start, r.stop, r.step)


def fill_value(fv, dtype):
    """Cast ``fillvalue`` like SciPy's C code: safe for arrays, by value for scalars."""
    arr = None
    try:
        if isinstance(fv, np.ndarray):
            if np.can_cast(fv.dtype, dtype, "safe"):
                arr = fv.astype(dtype)
        else:
            with np.errstate(all="ignore"):
                arr = np.array(fv, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        arr = None
    if arr is None:
        np.array(fv, dtype=np.complex128)  # raises SciPy's error for e.g. strings
        raise ValueError("could not cast `fillvalue` directly to the output "
                         "type (it was first converted to complex).")
    if arr.size != 1:
        if arr.size == 0:
            raise ValueError("`fillvalue` cannot be an empty array.")
        raise ValueError("`fillvalue` must be scalar or an array with "
                         "one element.")
    return arr.reshape(())


# ------------------------------------------------------------ call builders
def reverse_conj(x, axes):
    """``x`` reversed along ``axes`` and conjugated: ``correlate``'s convolution kernel."""
    idx = [slice(None)] * x.ndim
    for ax in axes:
        idx[ax] = slice(None, None, -1)
    x = x[tuple(idx)]
    return np.conj(x) if x.dtype.kind == "c" else x


def _empty_error(a, b, op):
    if a.size == 0 or b.size == 0:
        if op == "convolve":
            raise ValueError("a cannot be empty" if a.size == 0 else "v cannot be empty")
        raise ValueError("first array argument cannot be empty" if a.size == 0
                         else "second array argument cannot be empty")


def _layout(a, k):
    return "C" if a.flags.c_contiguous and k.flags.c_contiguous else "strided"


def signal_problem(op, family, a, k, axes, wins, rt, workers, sums_layout=None):
    """The ``SignalProblem`` of operands ``a``, ``k`` (``k`` the convolution kernel);
    ``sums_layout``: the whole call's when ``a`` is a piece of it."""
    return SignalProblem(op, family, a.shape, k.shape, native_str(a.dtype), native_str(k.dtype),
                         tuple(axes), tuple(tuple(w) for w in wins), native_str(rt),
                         int(workers), _layout(a, k), bool(_config.SETTINGS.deterministic),
                         sums_layout=None if sums_layout is None else
                         (int(sums_layout[0]), bool(sums_layout[1])))


def signal_checks(op, a, k, mode, method, axes, workers, lags=None):
    """SciPy's checks of a ``convolve``, ``correlate``, ``fftconvolve`` or
    ``oaconvolve`` call (``method`` is None for the last two), in SciPy's
    order, on shapes and dtypes only; then ``lags`` (``correlate`` only; see
    ``lag_ranges``).

    ``a`` and ``k`` need only ``ndim``, ``shape``, ``size`` and ``dtype``
    (NumPy arrays, or dask arrays for ``jitconv.dask``). Returns ``(early,
    axes, kept, workers)``: ``early`` is ``'0d'`` (two 0-d operands: a
    product), ``'empty'`` (``fftconvolve``/``oaconvolve`` of an empty input
    with bad axes or mode, which SciPy answers with ``array([])``) or None;
    ``axes``/``kept`` as ``fft_axes``; ``workers`` normalised.
    """
    if op == "convolve":
        if a.ndim == k.ndim == 0:
            return "0d", None, None, None
        if a.ndim != k.ndim:
            raise ValueError("volume and kernel should have the same dimensionality")
        ax, kept = fft_axes(a, k, axes)
        swap_needed(mode, a.shape, k.shape, kept if axes is not None else None)
        method_flag(method)
        {"auto": mode_auto, "direct": mode_direct, "fft": mode_fft}[method](mode)
    elif op == "correlate":
        if a.ndim == k.ndim == 0:
            if lags is not None:
                raise ValueError("lags= needs inputs of at least one dimension")
            return "0d", None, None, None
        if a.ndim != k.ndim:
            raise ValueError("in1 and in2 should have the same dimensionality")
        mode_direct(mode)
        method_flag(method)
        ax, kept = fft_axes(a, k, axes)
        swap_needed(mode, a.shape, k.shape, kept if axes is not None else None)
        if lags is not None and mode != "full":
            raise ValueError("lags= picks lags of the 'full' correlation (as "
                             f"correlation_lags(..., mode='full') numbers them): use mode='full', "
                             f"not mode={mode!r}")
    else:  # fftconvolve, oaconvolve
        if a.ndim == k.ndim == 0:
            return "0d", None, None, None
        if a.ndim != k.ndim:
            raise ValueError("in1 and in2 should have the same dimensionality")
        try:
            ax, kept = fft_axes(a, k, axes)
            swap_needed(mode, a.shape, k.shape, kept)
            mode_fft(mode)
        except ValueError:
            if a.size == 0 or k.size == 0:
                # SciPy answers empty inputs before it checks axes and mode
                return "empty", None, None, None
            raise
    workers = check_workers(workers)
    if op in ("convolve", "correlate"):
        _empty_error(a, k, op)
    if lags is not None:
        lag_ranges(lags, a.shape, k.shape, ax)   # its errors, before any work
    return None, ax, kept, workers


def lag_call_windows(lags, s1, s2, axes):
    """``(wins, take)`` of ``correlate(lags=)`` on shapes ``s1``, ``s2``:
    ``lag_windows`` with ``take`` spread over all ``len(s1)`` axes (None
    when every lag of the windows is kept)."""
    wins, take = lag_windows(lag_ranges(lags, s1, s2, axes), s2, axes)
    if take is not None:
        full_take = [slice(None)] * len(s1)
        for axis, t in zip(axes, take):
            full_take[axis] = t
        take = tuple(full_take)
    return wins, take


def signal_call(op, in1, in2, mode, method, axes, workers, lags=None):
    """A call of ``convolve``, ``correlate``, ``fftconvolve`` or ``oaconvolve``
    (``method`` is None for the last two), checked in SciPy's order (``signal_checks``)."""
    a = np.asarray(in1)
    k = np.asarray(in2)
    early, ax, kept, workers = signal_checks(op, a, k, mode, method, axes, workers, lags)
    if early == "0d":
        return Answer(a * (np.conj(k) if op == "correlate" and k.dtype.kind == "c" else k))
    if early == "empty":
        return Answer(np.array([]))
    wins, take = None, None
    if lags is not None:
        wins, take = lag_call_windows(lags, a.shape, k.shape, ax)
    if not (native(a.dtype) and native(k.dtype)):
        if op in ("convolve", "correlate"):
            if axes is not None:
                raise TypeError(f"axes= is not supported for dtype {np.result_type(a, k)}")
            if wins is not None:  # SciPy's full correlation, cropped to the lags
                return Fallback(op, (a, k), dict(mode=mode, method=method),
                                crop(a.ndim, ax, wins), take)
            return Fallback(op, (a, k), dict(mode=mode, method=method))
        return Fallback(op, (a, k), dict(mode=mode, axes=axes))
    if op in ("convolve", "correlate"):
        if wins is None:
            wins = windows(mode, a.shape, k.shape, ax)
        if op == "correlate":
            k = reverse_conj(k, ax)
        rt = np.result_type(a, k)
        p = signal_problem(op, method, a, k, ax, wins, rt, workers)
        return Call(p, (a, k), SignalFinish(rt, take), pending=method == "auto")
    rt = np.result_type(fft_float(a.dtype), fft_float(k.dtype))
    if swap_needed(mode, a.shape, k.shape, kept):
        a, k = k, a
    wins = windows(mode, a.shape, k.shape, ax)
    shape = out_shape(a.shape, k.shape, ax, wins)
    if a.size == 0 or k.size == 0:
        return Answer(np.zeros(tuple(0 if (a.shape[i] == 0 or k.shape[i] == 0) else n
                                     for i, n in enumerate(shape)), dtype=rt))
    if not kept:
        # only length-1 convolved axes: SciPy multiplies (keeping the input
        # dtype), then crops to the mode's window
        full = tuple(a.shape[i] + k.shape[i] - 1 if i in ax else max(a.shape[i], k.shape[i])
                     for i in range(a.ndim))
        return Answer(np.ascontiguousarray(np.broadcast_to(a * k, full)[crop(a.ndim, ax, wins)]))
    family = "fft" if op == "fftconvolve" else "oa"
    p = signal_problem(op, family, a, k, ax, wins, rt, workers)
    return Call(p, (a, k), FreqFinish(rt, shape))


def window_call(op, family, a, k, axes, wins, rt, workers, sums_layout, take=None):
    """A call computing windows ``wins`` (full-convolution coordinates, one per
    axis of ``axes``) of the convolution of ``a`` with the convolution kernel
    ``k`` (``correlate``'s already reversed and conjugated), in the result
    dtype ``rt`` of the whole call ``op``: a piece of a larger call, already
    checked (``jitconv.dask`` cuts one call into such pieces, one per chunk).

    ``family`` is 'auto', 'direct' or 'fft' (``convolve``/``correlate``), or
    'fft'/'oa' (``fftconvolve``/``oaconvolve``); ``sums_layout`` is how the
    whole call's direct sums are laid out (``algorithms.direct.sums_layout``):
    the piece's are then bitwise the whole's. ``take``: slices applied last
    (``SignalFinish``).
    """
    p = signal_problem(op, family, a, k, axes, wins, rt, workers, sums_layout)
    if op in ("convolve", "correlate"):
        return Call(p, (a, k), SignalFinish(np.dtype(rt), take), pending=family == "auto")
    return Call(p, (a, k), FreqFinish(np.dtype(rt), out_shape(a.shape, k.shape, axes, wins)))


def boundary_call(op, in1, in2, mode, boundary, fillvalue, workers):
    """A call of ``convolve2d``/``correlate2d``, checked in SciPy's order."""
    a = np.asarray(in1)
    b = np.asarray(in2)
    if not a.ndim == b.ndim == 2:
        raise ValueError(f"{op} inputs must both be 2-D arrays")
    swapped = swap_needed(mode, a.shape, b.shape)
    if swapped:
        a, b = b, a
    mode_direct(mode)
    try:
        bnd = BOUNDARIES[boundary]
    except (KeyError, TypeError):
        raise ValueError(MSG_BOUNDARY) from None
    if bnd == "reflect":
        raise ValueError("Incorrect boundary value.")
    rt = np.result_type(a, b)
    if rt.kind == "f" and rt.itemsize > 8 or rt.kind == "c" and rt.itemsize > 16:
        args = (b, a) if swapped else (a, b)
        return Fallback(op, args + (mode, boundary, fillvalue), {})
    fill = fill_value(fillvalue, rt) if bnd == "fill" else np.zeros((), rt)
    if rt.kind in "bOSUVMm" or rt == np.float16:
        raise ValueError("convolve2d not available for this type.")
    workers = check_workers(workers)
    p = BoundaryProblem(op, a.shape, b.shape, native_str(a.dtype), native_str(b.dtype),
                        native_str(rt), mode, bnd, int(workers),
                        bool(_config.SETTINGS.deterministic))
    return Call(p, (a, b, fill), BoundaryFinish(rt, reverse=swapped and op == "correlate2d"))
