"""dtype rules, said once: which dtypes jitconv's kernels hold, what they
compute in, and what SciPy's FFT functions compute in.

Pure functions of dtypes (no arrays, no state).
"""
import numpy as np

#: dtypes computed by jitconv's own kernels (bool, ints, float16-64, complex64/128,
#: in either byte order); long double, object, str and datetime go to SciPy
_NATIVE = {np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
    np.uint32, np.uint64, np.float16, np.float32, np.float64, np.complex64,
    np.complex128)}

_INT64 = np.dtype(np.int64)


def native(dtype):
    """True when jitconv's kernels compute this dtype (native byte order or not)."""
    return np.dtype(dtype).newbyteorder("=") in _NATIVE


def native_str(dtype):
    """The dtype's string in native byte order (keys never depend on byte order)."""
    dtype = np.dtype(dtype)
    return dtype.str if dtype.isnative else dtype.newbyteorder("=").str


def compute_dtype(rt):
    """dtype the direct kernels compute in for result dtype ``rt``: int64 for
    bool and integers (exact, wrap-around on the final cast), float32 for
    float16, else ``rt`` in native byte order."""
    rt = np.dtype(rt)
    if rt.kind in "biu":
        return _INT64
    if rt == np.float16:
        return np.dtype(np.float32)
    return rt.newbyteorder("=")


def fft_float(dtype):
    """The float dtype SciPy's FFT functions compute ``dtype`` in."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype.newbyteorder("=")


def fft_single(dtype1, dtype2):
    """True when an FFT of these two operands runs in single precision."""
    single = (np.dtype(np.float32), np.dtype(np.complex64))
    return fft_float(dtype1) in single and fft_float(dtype2) in single
