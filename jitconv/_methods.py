"""Semantic guards and the cost model's constants.

Guards come first and are never overruled by timing: booleans, integers
beyond float64's exact range and non-finite inputs stay on the direct path.

SciPy's model (PR #11031) compares operation counts with constants fitted for
its single-threaded direct code. jitconv's direct kernels vectorise and use
every worker, and its FFTs are FFTW's at padded lengths, so the constants here
describe these kernels (measured on the 2-core reference machine with
``perf/auto_sweep.py``). They only prune and break ties: the planner times
the candidates they keep.
"""
import math

import numpy as np


#: seconds per multiply-add of the direct kernel, per thread, by compute kind
DIRECT_MAC = {"f4": 0.18e-9, "f8": 0.22e-9, "c8": 0.9e-9, "c16": 0.95e-9, "i8": 0.35e-9}
#: seconds per (element * log2(length)) of one FFTW transform, per thread
FFT_UNIT = {False: 1.3e-9, True: 0.8e-9}
#: fixed costs of a call (validation, planner lookup, driver), measured:
#: ~90 us for a tiny direct call, ~100 us for a tiny FFT call
DIRECT_FIXED = 80e-6
#: an OpenMP launch costs ~0.1 ms when the other core is busy (RELIABILITY.md row 4)
PARALLEL_FIXED = 150e-6
FFT_FIXED = 100e-6
#: largest integer bound for exact float64 FFT results (SciPy's rule)
EXACT_INT = 2 ** np.finfo(np.float64).nmant - 1


def _max_abs(arr):
    """max|arr| as a Python number (exact for integers; floats may be inf)."""
    if arr.dtype.kind == "b":
        return int(arr.any())
    if arr.dtype.kind in "iu":
        return max(abs(int(arr.max())), abs(int(arr.min())))
    with np.errstate(all="ignore"):
        m = float(np.max(np.abs(arr)))
    return int(m) if math.isfinite(m) else 2 ** 1024


def int_bound_exceeded(a, b):
    """SciPy's exactness rule: max|a| * max|b| * min(sizes) > 2**52 - 1.

    SciPy applies it when either operand is an integer; a float operand's
    magnitude bounds the products just the same.
    """
    if a.size == 0 or b.size == 0:
        return False
    return _max_abs(a) * _max_abs(b) * min(a.size, b.size) > EXACT_INT


def all_finite(arr):
    if arr.dtype.kind not in "fc":
        return True
    if arr.size <= 65536:  # cheaper than the sum screen's error-state context
        return bool(np.isfinite(arr).all())
    # sum is a cheap pre-screen: finite sum => finite elements (unless overflow)
    with np.errstate(all="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


def guard(a, b, finite=True):
    """'direct' when FFT would be wrong, else None (``finite=False``: the
    NaN/inf test is left to the caller, see ``signal.Job.resolve_guard``)."""
    if a.dtype.kind == "b" and b.dtype.kind == "b":
        return "direct", "bool"
    if a.dtype.kind in "iu" or b.dtype.kind in "iu":
        if int_bound_exceeded(a, b):
            return "direct", "int-exactness"
    if finite and not (all_finite(a) and all_finite(b)):
        return "direct", "non-finite"
    return None
