"""'auto': semantic guards first, then a cost model of *our* kernels.

SciPy's model (PR #11031) compares operation counts with constants fitted for
its single-threaded direct code. jitconv's direct kernels vectorise and use
every worker, and its FFTs are FFTW's at padded lengths, so the constants here
describe these kernels (fitted by ``perf/fit_cost_model.py`` on the 2-core
reference machine). The measuring planner replaces the model's guesses with
timings; the guards below are never overruled.
"""
import math

import numpy as np

from ._shapes import fft_length_for_window, next_fast_len

#: seconds per multiply-add of the direct kernel, per thread, by compute kind
DIRECT_MAC = {"f4": 0.18e-9, "f8": 0.22e-9, "c8": 0.9e-9, "c16": 0.95e-9, "i8": 0.35e-9}
#: seconds per (element * log2(length)) of one FFTW transform, per thread
FFT_UNIT = {False: 1.3e-9, True: 0.8e-9}
#: fixed costs: Python driver + plan lookup
DIRECT_FIXED = 12e-6
FFT_FIXED = 60e-6
#: largest integer bound for exact float64 FFT results (SciPy's rule)
EXACT_INT = 2 ** np.finfo(np.float64).nmant - 1


def _max_abs(arr):
    if arr.dtype.kind == "b":
        return int(arr.any())
    return max(abs(int(arr.max())), abs(int(arr.min())))


def int_bound_exceeded(a, b):
    """SciPy's exactness rule: max|a| * max|b| * min(sizes) > 2**52 - 1."""
    if a.size == 0 or b.size == 0:
        return False
    # SciPy applies the rule when either operand is an integer; a float
    # operand's magnitude bounds the products just the same
    return _max_abs_any(a) * _max_abs_any(b) * min(a.size, b.size) > EXACT_INT


def _max_abs_any(arr):
    if arr.dtype.kind in "biu":
        return _max_abs(arr)
    with np.errstate(all="ignore"):
        m = float(np.max(np.abs(arr)))
    return int(m) if math.isfinite(m) else 2 ** 1024


def all_finite(arr):
    if arr.dtype.kind not in "fc":
        return True
    # sum is a cheap pre-screen: finite sum => finite elements (unless overflow)
    with np.errstate(all="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


def guard(a, b):
    """'direct' when FFT would be wrong, else None."""
    if a.dtype.kind == "b" and b.dtype.kind == "b":
        return "direct", "bool"
    if a.dtype.kind in "iu" or b.dtype.kind in "iu":
        if int_bound_exceeded(a, b):
            return "direct", "int-exactness"
    if not (all_finite(a) and all_finite(b)):
        return "direct", "non-finite"
    return None


def costs(s1, s2, axes, wins, cdtype, single, workers):
    """Estimated seconds of (direct, fft) for a problem, from shapes only."""
    batch = 1
    for i in range(len(s1)):
        if i not in axes:
            batch *= max(s1[i], s2[i])
    out_conv = math.prod(w[1] for w in wins)
    kvol = min(math.prod(s1[a] for a in axes), math.prod(s2[a] for a in axes))
    macs = batch * out_conv * kvol
    kind = {"f": "f", "c": "c", "i": "i"}[np.dtype(cdtype).kind]
    key = {"f": "f4" if np.dtype(cdtype).itemsize == 4 else "f8",
           "c": "c8" if np.dtype(cdtype).itemsize == 8 else "c16", "i": "i8"}[kind]
    par = min(workers, max(1, batch * (out_conv // 2048 + 1)))
    t_direct = DIRECT_FIXED + macs * DIRECT_MAC[key] / par
    P = [next_fast_len(fft_length_for_window(s1[a], s2[a], s, l)) for a, (s, l) in zip(axes, wins)]
    vol = math.prod(P)
    logp = sum(math.log2(max(p, 2)) for p in P)
    cplx = kind == "c"
    per = (1.0 if cplx else 0.5) * FFT_UNIT[single] * vol * logp
    # two forward transforms (over each operand's batch) and one inverse
    b1 = math.prod(s1[i] for i in range(len(s1)) if i not in axes)
    b2 = math.prod(s2[i] for i in range(len(s2)) if i not in axes)
    t_fft = FFT_FIXED + per * (b1 + b2 + batch) / min(workers, 2) + 2e-10 * vol * batch
    return t_direct, t_fft
