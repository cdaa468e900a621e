"""Argument checks, with SciPy 1.17's exception types and messages, before any work."""
import operator

import numpy as np

from ._shapes import window

MODES = ("valid", "same", "full")

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

#: dtype kinds computed by jitconv's own kernels (b, i, u, f, c minus long double)
_NATIVE = {np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
    np.uint32, np.uint64, np.float16, np.float32, np.float64, np.complex64,
    np.complex128)}


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


def method(m):
    if not isinstance(m, str) or m not in ("auto", "direct", "fft"):
        raise ValueError(MSG_METHOD)
    return m


def native(dtype):
    """True when jitconv's kernels compute this dtype (native byte order or not)."""
    return dtype.newbyteorder("=") in _NATIVE


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


def out_shape(s1, s2, axes, wins):
    shape = [b if a == 1 else a for a, b in zip(s1, s2)]  # batch axes broadcast
    for ax, (_, length) in zip(axes, wins):
        shape[ax] = length
    return tuple(shape)


def fillvalue(fv, dtype):
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
