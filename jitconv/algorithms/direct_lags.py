"""The direct sum over a narrow window of outputs, split for it.

A lag window of a correlation (``correlate(..., lags=16)`` of two signals of
1e6 samples: 33 outputs, 1e6 taps each) is a direct problem like any other
window, and ``kernels.direct`` computes it with the same sums; but the
general split (tasks of ``CHUNK`` outputs along the last axis) makes one
task of those 33 outputs, so one thread does all the work. Here the window
is split into groups of outputs spread over the workers (``group_size``).
The sums do not depend on the split (``kernels.direct``, "Sums"), so
``correlate(..., lags=)`` is bitwise a slice of the 'full' direct result.

Candidates ``direct-lags`` (one thread) and ``direct-lags-parallel`` (family
'direct'): problems with at most three convolved axes whose output window
along the last one is no longer than the kernel there (lag windows, small
search windows of image registration, 'valid' correlations of equal-size
signals; not 'same'/'full' filtering, where ``direct-parallel``'s split is
the better one).
"""
import math


from .. import _launch
from . import cost
from .base import Candidate
from .direct import DirectPlan

#: outputs per group at most (their accumulators stay in L1)
GROUP_MAX = 1024
#: a group narrower than this wastes the vector width (unless the window is)
GROUP_MIN = 8


def group_size(out_shape, workers):
    """Outputs per task along the last axis of a ``(B, L0, L1, L2)`` output.

    Enough groups that every worker has one when there are few rows (a lag
    window of a 1-d problem is one row), as even as possible.
    """
    rows = math.prod(out_shape[:3])
    L2 = out_shape[3]
    if L2 == 0:
        return 1
    want = -(-workers // max(rows, 1))
    ngroups = max(-(-L2 // GROUP_MAX), min(want, max(1, L2 // GROUP_MIN)))
    return -(-L2 // ngroups)


def _kernel_dims(p):
    """Taps per convolved axis of the operand ``direct_conv`` makes the kernel
    (the smaller one), padded to three axes like the kernel's ``w``."""
    v1 = math.prod(p.shape1[a] for a in p.axes)
    v2 = math.prod(p.shape2[a] for a in p.axes)
    k = p.shape1 if v1 < v2 else p.shape2
    return (1,) * (3 - len(p.axes)) + tuple(k[a] for a in p.axes)


class DirectLags(Candidate):
    """``kernels.direct`` in groups of outputs, on one thread."""
    id = "direct-lags"
    parallel = False

    def supports(self, p):
        return 1 <= len(p.axes) <= 3 and p.wins[-1][1] <= _kernel_dims(p)[-1]

    def _workers(self, p):
        return p.workers if self.parallel else 1

    def estimate(self, p):
        """Per task (a group of ``n`` outputs of one output row), each kernel
        row costs a fixed part, its bounds-checked edge taps, and its taps
        at the larger of the vector throughput for ``n`` outputs and one
        dependent addition (measured with thread CPU time on 1-3 d windows)."""
        rows = cost.batch(p) * math.prod(w[1] for w in p.wins[:-1])
        L2 = p.wins[-1][1]
        workers = self._workers(p)
        group = group_size((rows, 1, 1, L2), workers)
        tasks = rows * -(-L2 // group)
        par = max(1, min(workers, tasks))
        K0, K1, K2 = _kernel_dims(p)
        n = min(group, L2)
        per_tap = max(cost.ADD_LATENCY, n * cost.mac_cost(p) * cost.LAGS_MAC_FACTOR)
        per_row = cost.LAGS_ROW + min(K2, n + 1) * cost.LAGS_EDGE_TAP + K2 * per_tap
        fixed = cost.DIRECT_FIXED + (cost.PARALLEL_FIXED if self.parallel else 0.0)
        return fixed + -(-tasks // par) * K0 * K1 * per_row

    def prepare(self, p):
        return DirectPlan(p.shape1, p.shape2, p.axes, p.wins, p.cdtype, self._workers(p),
                          parallel=self.parallel, chunk=group_size, trace="direct-lags",
                          layout=p.sums_layout)

    def run(self, p, a, k):
        return self.prepare(p)(a, k)

    def bind(self, p, k):
        return self.prepare(p).bind(k)


class DirectLagsParallel(DirectLags):
    """``kernels.direct`` with its groups of outputs spread over the workers
    (a separate candidate, as ``direct-parallel``: on a busy machine waking
    a second thread can cost more than a 1 ms sum saves)."""
    id = "direct-lags-parallel"
    parallel = True

    def supports(self, p):
        return super().supports(p) and _launch.parallel_ok(p.workers)
