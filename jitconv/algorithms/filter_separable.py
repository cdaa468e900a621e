"""Rank-1 N-d weights under ``'auto'``: one 1-d pass per axis.

``correlate``/``convolve`` with weights ``w = u0 (x) u1 (x) ...`` (a Gaussian,
a box, Sobel's kernels) is a sequence of 1-d correlations, ``sum(m_i)``
multiply-adds per output instead of ``prod(m_i)``. The boundary modes
extend each axis independently, so every pass applies its axis's mode; in
``'constant'`` mode the constant seen by a later pass is ``cval`` times the
sums of the factors applied before (the earlier passes of a constant row).

Candidate ``filter-separable`` (family ``'separable'``): float outputs of
float inputs only, never under the ``'exact'`` restriction. Intermediate
passes are kept in float64. The factorisation (``algorithms.separable``,
relative tolerance 1e-13 in float64) and the passes' own sums make it differ
from SciPy's N-d sum by ``<= (sum(m_i) + 4) * eps64 * sum|w x|`` plus the
factorisation's residual times ``sum|x|``, before the final rounding.
"""
import numpy as np

from .. import _trace
from . import cost
from .base import Candidate
from .filter_direct import run_line
from .separable import MAX_SIZE, factors


def rank1(p, w):
    """Whether N-d weights ``w`` of problem ``p`` are worth and pass the rank-1 test."""
    long_axes = [m for m in w.shape if m > 1]
    if len(long_axes) < 2 or w.size > MAX_SIZE or p.size * p.taps < 1 << 16:
        return False
    return factors(w, list(range(w.ndim)), np.float64) is not None


class FilterSeparable(Candidate):
    id = "filter-separable"
    kind = "filter"
    family = "separable"

    def supports(self, p):
        return p.rule == "nd" and p.rank1 and p.family == "auto"

    def estimate(self, p):
        return cost.filter_separable(p)

    def run(self, p, x, w, cval, out=None):
        fs = factors(w, list(range(w.ndim)), np.float64)
        _trace.record("filter-separable")
        cur, cv = x, float(cval)
        for i, (ax, u) in enumerate(fs):
            cd = p.cdtype if i == len(fs) - 1 else np.float64
            u = np.ascontiguousarray(u, dtype=np.float64)
            cur = run_line(cur, u, ax, p.modes[ax], p.origins[ax], cv, 0, cd, p.workers)
            cv = cv * float(u.sum())
        return cur
