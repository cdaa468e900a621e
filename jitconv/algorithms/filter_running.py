"""Running sums for ``uniform_filter1d`` (and every pass of ``uniform_filter``).

SciPy's ``NI_UniformFilter1D`` keeps one running sum per line, ``s += x[new]
- x[old]`` in float64, and writes ``s / size``: O(1) work per output for any
size. Candidates ``filter-running`` (parallel) and ``filter-running-serial`` do
exactly that (``kernels.filter``), lines along the last axis one per task,
lines along a leading axis vectorised across the inner columns; their
results are SciPy's, bit for bit.

Error bound (the running sum's, SciPy's own): after ``l`` steps along a
line, ``|s_l - sum| <= eps64 * (size + 2 l) * M`` with ``M`` the largest
window sum of ``|x|``; a window far from a large value can carry that error
(relative to its own sum it may be large). Integer inputs are exact: every
partial sum is an integer below ``2**53`` (for window sums below it), so the
division is correctly rounded and a truncating integer output matches
SciPy's. A NaN or inf entering a line makes every later output of the line
NaN (``inf - inf``), as in SciPy.
"""
from .. import _launch
from . import cost
from .base import Candidate
from .filter_direct import run_uniform


class FilterRunning(Candidate):
    id = "filter-running"
    kind = "filter"
    family = "direct"
    parallel = True

    def supports(self, p):
        return p.rule == "uniform" and (not self.parallel or _launch.parallel_ok(p.workers))

    def estimate(self, p):
        return cost.filter_running(p, self.parallel)

    def run(self, p, x, w, cval, out=None):
        return run_uniform(x, p.wshape[0], p.axis, p.modes[0], p.origins[0], cval, p.cdtype,
                           p.workers, self.parallel, out)


class FilterRunningSerial(FilterRunning):
    """``filter-running`` on one thread (the same bits)."""
    id = "filter-running-serial"
    parallel = False
