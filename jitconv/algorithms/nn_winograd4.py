"""CNN forward convolution by Winograd F(4x4, 3x3) with fused transforms
(``nn-winograd4``): 3x3 kernels of 2-d layers, stride 1, dilation 1.

36 multiplies per 4x4 output tile and channel pair instead of 144: 4x fewer
than the direct sum. One parallel numba kernel (``kernels.nn_winograd4``)
runs, per block of tile rows, the input transform, the 36 products as GEMMs
on register tiles (``kernels.tile``) and the output transform, on buffers
that stay in the core's caches; no BLAS call, no Python between the stages.

Error. With ``u`` the unit roundoff of the data's dtype, ``Cg`` the input
channels per group and ``Z`` the same algorithm run on ``|x|`` and ``|w|``
with the absolute values of its matrices (``|A^T| [sum_c (|G| |w_c| |G^T|)
* (|B^T| |d_c| |B|)] |A|`` per tile), first-order rounding analysis gives
``|err| <= (Cg + 19) u Z``: at most 8 roundings in the two input-transform
passes (4 terms each), 1 in ``U`` (computed in float64, rounded once), ``Cg``
in the sequential fused sum over channels, 10 in the two output passes.
``tests/test_nn.py`` checks ``|err| <= (Cg + ERROR_FACTOR) eps Z`` (``eps =
2u``) on random data and on data with spikes that most outputs' 3x3 windows
miss (a bound in ``sum |w x|`` alone cannot hold: a tile's rounding errors
reach all 16 of its outputs). ``Z`` is larger than ``sum |w x|`` by up to
256 for uniform data; measured on random data (W10), the largest error is
about 20 eps * sum |w x| per output (the direct sum: 0.8), 6e-6 of the
largest output in float32.
"""
import functools

import numpy as np

from .. import _config, _launch
from ..kernels import nn_winograd4 as _k, tile as _tile
from . import cost
from .base import Candidate

#: the tested bound: |err| <= (Cg + ERROR_FACTOR) * eps * Z (see above)
ERROR_FACTOR = 20
#: F(4x4, 3x3) weight transform (interpolation points 0, -1, 1, -2, 2, inf)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
#: bytes of a task's transformed input (36 x input channels x tile positions)
#: and of the products of the output channels it holds at a time: within the
#: core's 1 MiB L2 (W10, one thread: 58.6-59 ms at 640-800 KiB, 60-67 ms at 2 MiB)
TASK_BYTES = 800 << 10
#: tasks per thread at least, when the problem has them
TASKS_PER_THREAD = 4


@functools.lru_cache(maxsize=64)
def layout(p, threads=1):
    """The int64 layout array of problem ``p`` (``kernels.nn_winograd4``):
    ``R`` tile rows per task, chosen to waste the fewest micro-kernel columns
    within the task's buffer budget, with at least ``TASKS_PER_THREAD`` tasks
    per thread when the problem has them."""
    N = p.xshape[0]
    Cout, Cg = p.wshape[:2]
    cog = Cout // p.groups
    nblk = -(-cog // _tile.CB)
    _, OH, OW = p.geo.out
    TH, TW = -(-OH // 4), -(-OW // 4)
    Uq = TW + 1
    item = cost.itemsize(p)
    width = _tile.width(item)
    best = None
    for R in range(1, TH + 1):
        Pq = (R + 1) * Uq                       # a channel's plane of V
        PM = max(Pq, -(-R * Uq // width) * width)   # an output channel's plane of M
        # M holds the products of NB blocks of output channels at a time
        NB = max(1, min(nblk, (TASK_BYTES - 36 * Cg * Pq * item)
                        // (36 * _tile.CB * PM * item)))
        if R > 1 and 36 * (Cg * Pq + NB * _tile.CB * PM) * item > TASK_BYTES:
            break
        tasks = p.groups * N * -(-TH // R)
        if tasks < TASKS_PER_THREAD * threads and best is not None:
            break
        # micro-kernel columns computed, and transform positions
        work = tasks * (-(-R * Uq // width) * width + 0.3 * Pq)
        if best is None or work < best[0]:
            best = (work, R, Pq, PM, NB)
    _, R, Pq, PM, NB = best
    return _launch.readonly(np.array([Cg, cog, nblk, p.groups, p.geo.pad[1], p.geo.pad[2], TH,
                                      TW, Uq, R, Pq, width, PM, NB], np.int64))


def transformed(w, groups, nblk):
    """``U = G w G^T`` in float64, rounded once, as (group, xi, block, Cg, CB), flat."""
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    U = np.einsum("ai,ocij,bj->aboc", _G, w[:, :, 0].astype(np.float64), _G)
    U = U.reshape(36, groups, cog, Cg)
    Up = np.zeros((36, groups, nblk * _tile.CB, Cg))
    Up[:, :, :cog] = U
    Up = Up.reshape(36, groups, nblk, _tile.CB, Cg).transpose(1, 0, 2, 4, 3)
    return np.ascontiguousarray(Up, dtype=w.dtype).reshape(-1)


def conv_winograd4(p, x, w):
    lay = layout(p, cost.threads(p))
    y = np.empty(p.oshape, x.dtype)
    if y.size == 0:
        return y
    U = transformed(w, p.groups, int(lay[2]))
    offs = np.arange(p.wshape[1], dtype=np.int64) * lay[10]   # a channel's plane of V
    args = (_launch.readonly(x[:, :, 0]), _launch.readonly(U), _launch.readonly(offs),
            y[:, :, 0], lay)
    tasks = p.groups * p.xshape[0] * -(-int(lay[6]) // int(lay[9]))
    parallel = tasks > 1 and p.macs >= _config.SERIAL_WORK
    _launch.launch(_k.winograd4_parallel, _k.winograd4_serial, args, p.workers, parallel,
                   "nn-winograd4", dynamic=True)
    return y


class Winograd4(Candidate):
    id = "nn-winograd4"
    kind = "nn-conv"
    family = "winograd"

    def supports(self, p):
        g = p.geo
        return (g.kernel == (1, 3, 3) and g.stride == (1, 1, 1) and g.dilation == (1, 1, 1)
                and p.xshape[2] == 1 and g.out[0] == 1)

    def estimate(self, p):
        lay = layout(p, cost.threads(p))
        item = cost.itemsize(p)
        Cg, cog, nblk, TH, Uq, R, Pq, width = (int(lay[i]) for i in (0, 1, 2, 6, 8, 9, 10, 11))
        tasks = p.groups * p.xshape[0] * -(-TH // R)
        positions = tasks * Pq
        macs = 36 * tasks * -(-R * Uq // width) * width * nblk * _tile.CB * Cg
        scale = item / 4      # float64: the transforms move twice the bytes
        work = (macs / cost.TILE_MACS[item] + tasks * cost.WINO_TASK
                + positions * (Cg * cost.WINO_IN + nblk * _tile.CB * cost.WINO_OUT) * scale)
        return 60e-6 + work / cost.speedup(cost.threads(p), tasks)

    def run(self, p, x, w):
        return conv_winograd4(p, x, w)
