"""The direct sum of many small problems, the batch in the vector lanes.

A batch of small problems (4096 pairs of 32x32 windows correlated over 13x13
lags: particle image velocimetry; a filter bank on short signals) runs on
``kernels.direct_batched``: a task takes a group of batch items, packs them
with the batch innermost and computes every output of the group with one
vector operation per tap across the items. The sums are ``kernels.direct``'s,
so the results are bitwise those of ``direct-serial``.

Candidates ``direct-batched`` (one thread) and ``direct-batched-parallel``
(groups spread over the workers), family 'direct': problems with a batch of
at least two items and at most three convolved axes, whose items are small
enough that a task's packed operands stay in the cache.
"""
import math

import numba
import numpy as np

from .. import _launch
from ..kernels import direct_batched as _kb
from . import cost
from .base import Candidate
from .direct import DirectPlan

#: bytes of one value's lanes in a task: 64 float32 items side by side (32
#: float64), four AVX-512 vectors (W23 with 128, 256 and 512 bytes: 13.1,
#: 12.3 and 14.5 ms on 2 threads)
LANE_BYTES = 256
#: elements of one item (data or kernel) at most: a task packs ``lanes`` of
#: each operand, which must stay in the L2 cache (64 float32 lanes of 4096:
#: 1 MiB)
ITEM_MAX = 4096
#: the register tiles are float32 or float64 (complex and integer problems stay
#: with ``direct-serial``/``direct``)
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def lanes(cdtype, batch, workers):
    """Batch items per task: ``LANE_BYTES`` of them, fewer when the batch would
    not give every worker a task; a multiple of a float32 vector's lanes (the
    kernel's register tiles take whole vectors; padding lanes hold zeros)."""
    full = max(1, LANE_BYTES // np.dtype(cdtype).itemsize)
    n = max(1, min(full, -(-batch // max(1, workers))))
    return -(-n // _kb.LANES32) * _kb.LANES32


def _item_sizes(p):
    v1 = math.prod(p.shape1[a] for a in p.axes)
    v2 = math.prod(p.shape2[a] for a in p.axes)
    return v1, v2


def _parallel(*args):
    """``kernels.direct_batched.corr_batched_parallel`` on the threads that
    ``_launch.launch`` set for this call."""
    return _kb.corr_batched_parallel(*args, numba.get_num_threads())


class DirectBatched(Candidate):
    """``kernels.direct_batched`` on one thread."""
    id = "direct-batched"
    parallel = False

    def supports(self, p):
        return (np.dtype(p.cdtype) in FLOATS and 1 <= len(p.axes) <= 3
                and cost.batch(p) >= 2 and max(_item_sizes(p)) <= ITEM_MAX)

    def _workers(self, p):
        return p.workers if self.parallel else 1

    def estimate(self, p):
        """The direct kernel's multiply-adds at the batched rate (every lane
        busy, no scalar edges), plus packing both operands and writing the
        outputs."""
        workers = self._workers(p)
        B = cost.batch(p)
        n = lanes(p.cdtype, B, workers)
        tasks = -(-B // n)
        v1, v2 = _item_sizes(p)
        outputs = B * math.prod(w[1] for w in p.wins)
        # every lane of a task computes, the padding lanes past the batch too
        busy = tasks * n / B
        work = (cost.macs(p) * busy * cost.mac_cost(p) * cost.BATCHED_MAC_FACTOR
                + B * (v1 + v2) * cost.PACK_ELEMENT + outputs * cost.BATCHED_OUTPUT)
        fixed = cost.DIRECT_FIXED + (cost.PARALLEL_FIXED if self.parallel else 0.0)
        return fixed + work / cost.speedup(workers, tasks)

    def prepare(self, p):
        workers = self._workers(p)

        def chunk(out4, w):
            return lanes(p.cdtype, out4[0], w)
        return DirectPlan(p.shape1, p.shape2, p.axes, p.wins, p.cdtype, workers,
                          parallel=self.parallel, chunk=chunk, trace="direct-batched",
                          layout=p.sums_layout,
                          kernels=(_parallel, _kb.corr_batched_serial))

    def run(self, p, a, k):
        return self.prepare(p)(a, k)

    def bind(self, p, k):
        return self.prepare(p).bind(k)


class DirectBatchedParallel(DirectBatched):
    """``kernels.direct_batched`` with its groups of items spread over the workers."""
    id = "direct-batched-parallel"
    parallel = True

    def supports(self, p):
        return super().supports(p) and _launch.parallel_ok(p.workers)
