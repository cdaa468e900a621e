"""Running sums for ``uniform_filter1d`` (and every pass of ``uniform_filter``).

SciPy's ``NI_UniformFilter1D`` keeps one running sum per line, ``s += x[new]
- x[old]`` in float64, and writes ``s / size``: O(1) work per output for any
size. Candidates ``filter-running`` (parallel) and ``filter-running-serial`` do
exactly that (``kernels.filter``), lines along the last axis one per task,
lines along a leading axis vectorised across the inner columns, and for
``uniform_filter`` (rule ``'box'``) one pass per axis in SciPy's order,
each rounded to the output dtype; their results are SciPy's, bit for bit.

Error bound (the running sum's, SciPy's own): after ``l`` steps along a
line, ``|s_l - sum| <= eps64 * (size + 2 l) * M`` with ``M`` the largest
window sum of ``|x|``; a window far from a large value can carry that error
(relative to its own sum it may be large). Integer inputs are exact: every
partial sum is an integer below ``2**53`` (for window sums below it), so the
division is correctly rounded and a truncating integer output matches
SciPy's. A NaN or inf entering a line makes every later output of the line
NaN (``inf - inf``), as in SciPy.
"""
import numpy as np

from .. import _launch
from . import cost
from .base import Candidate
from .filter_direct import run_uniform

F4 = np.dtype(np.float32)


def run_box_passes(p, x, cval, workers, parallel):
    """``uniform_filter`` (rule ``'box'``) as SciPy runs it: one running-sum
    pass per axis in ``p.order``, each rounded to the (float) output dtype;
    a pass along the last axis overwrites the previous pass's result."""
    out = np.dtype(p.out)
    cur = x
    for i, (ax, size, mode, origin) in enumerate(zip(p.order, p.wshape, p.modes, p.origins)):
        cd = F4 if cur.dtype == F4 and out == F4 else np.dtype(np.float64)
        raw = run_uniform(cur, size, ax, mode, origin, cval, cd, workers, parallel,
                          cur if i else None)
        cur = raw if raw.dtype == out else raw.astype(out)
    return cur


class FilterRunning(Candidate):
    id = "filter-running"
    kind = "filter"
    family = "direct"
    parallel = True

    def supports(self, p):
        return p.rule in ("uniform", "box") and (not self.parallel
                                                 or _launch.parallel_ok(p.workers))

    def estimate(self, p):
        return cost.filter_running(p, self.parallel)

    def run(self, p, x, w, cval, out=None):
        if p.rule == "box":
            return run_box_passes(p, x, cval, p.workers, self.parallel)
        return run_uniform(x, p.wshape[0], p.axis, p.modes[0], p.origins[0], cval, p.cdtype,
                           p.workers, self.parallel, out)


class FilterRunningSerial(FilterRunning):
    """``filter-running`` on one thread (the same bits)."""
    id = "filter-running-serial"
    parallel = False
