"""Semantic guards: when only the direct family is correct.

Guards come first and are never overruled by timing:

- booleans (``bool``): an FFT turns float noise into ``True``;
- integers beyond float64's exact range (``int-exactness``): SciPy's rule,
  ``max|a| * max|b| * min(sizes) > 2**52 - 1``;
- inputs holding NaN or inf (``non-finite``): an FFT spreads one NaN over
  the whole output.

The first two are decided before planning (``eager``); the non-finite scan
costs a pass over both inputs, so the engine runs it only when the planner
picked a candidate outside the direct family (``finite``).

``scipy.ndimage``'s filters (``filter_eager``, ``filter_finite``) restrict to
the ``'exact'`` family (SciPy's own sums, bitwise) for integer or bool data
and for NaN/inf in the input, the weights or a constant ``cval``; the scan
for NaN/inf runs only when the chosen candidate needs it
(``Candidate.nonfinite_guard``: not for sums that carry NaN and inf window
by window as SciPy's do, nor for candidates that notice NaN/inf as they
read the data and raise ``NonFinite``).
"""
import math

import numpy as np

class NonFinite(Exception):
    """Raised by a candidate that met NaN/inf in its operands itself
    (``Candidate.nonfinite_guard == 'self'``) before writing anything the
    caller can see: the engine then restricts the problem to the direct
    family and runs it again, as the non-finite guard would have."""


#: largest integer bound for exact float64 FFT results (SciPy's rule)
EXACT_INT = 2 ** np.finfo(np.float64).nmant - 1


def max_abs(arr):
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
    return max_abs(a) * max_abs(b) * min(a.size, b.size) > EXACT_INT


def all_finite(arr):
    """True when ``arr`` holds no NaN or inf."""
    if arr.dtype.kind not in "fc":
        return True
    if arr.size <= 65536:  # cheaper than the sum screen's error-state context
        return bool(np.isfinite(arr).all())
    # sum is a cheap pre-screen: finite sum => finite elements (unless overflow)
    with np.errstate(all="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


def eager(a, b):
    """The guard that restricts ``a (*) b`` to the direct family before planning, or None."""
    if a.dtype.kind == "b" and b.dtype.kind == "b":
        return "bool"
    if (a.dtype.kind in "iu" or b.dtype.kind in "iu") and int_bound_exceeded(a, b):
        return "int-exactness"
    return None


def finite(a, b):
    """``'non-finite'`` when ``a`` or ``b`` holds NaN/inf, else None."""
    return None if all_finite(a) and all_finite(b) else "non-finite"


def filter_eager(p):
    """The guard that restricts a filter to SciPy's exact sums before planning, or None.

    An integer or bool output truncates SciPy's float64 sum: any other
    rounding can move it across an integer. An integer or bool input has
    SciPy results that are exact whenever its weights are integers.
    """
    if np.dtype(p.out).kind in "biu":
        return "integer-output"
    if np.dtype(p.dtype).kind in "biu":
        return "integer-input"
    return None


def filter_finite(p, x, w, cval):
    """``'non-finite'`` when the input, the weights or a constant ``cval`` hold NaN/inf."""
    if not (all_finite(x) and all_finite(w)):
        return "non-finite"
    if "constant" in p.modes and not math.isfinite(cval):
        return "non-finite"
    return None
