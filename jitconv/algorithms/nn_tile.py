"""CNN forward convolution on register tiles (``nn-tile``): the direct sum, at
the FMA rate of the machine, for every geometry (stride, dilation, padding,
groups, 1-3 spatial axes).

Each task packs the window of the zero-padded, stride-phase-split input that
its chunk of outputs reads, then sums all ``Cin/groups * KD*KH*KW`` taps of
``CB`` output channels times ``V`` vectors of output positions in vector
registers (``kernels.tile``, ``kernels.nn_tile``). No im2col matrix, no
BLAS: on one core of the reference machine it ran the ResNet stem (W11) at
the rate of oneDNN (96 GFLOP/s) and a 64-channel 3x3 layer at 106 GFLOP/s.

Error: a sequential sum in the data's dtype with one fused multiply-add per
tap: ``|err| <= T * eps * sum |w x|`` per output for ``T`` taps (float32
accumulates in float32, like PyTorch).
"""
import functools
import math
from dataclasses import dataclass

import numpy as np

from .. import _config, _launch
from ..kernels import nn_tile as _k, tile as _tile
from . import cost
from .base import Candidate

#: bytes of a task's buffers (packed input window, and output tile rows when
#: they cannot be stored straight into the output): they stay in the
#: per-core L2 (1 MiB) while the task sums
TASK_BYTES = 256 << 10
#: tasks per thread at least (a busy core shares its tasks)
TASKS_PER_THREAD = 4


@dataclass(frozen=True)
class Layout:
    """How ``nn-tile`` lays out one problem (see ``kernels.nn_tile``)."""
    Cg: int
    KD: int
    phases: tuple      # (row phase, column phase) pairs the taps read
    PL: int            # length of one packed plane
    Wq: int            # grid pitch
    CH: int            # grid positions per task
    nblk: int          # blocks of CB output channels per group
    cog: int
    groups: int
    Q: int             # grid positions of one output plane
    width: int         # columns of one micro-kernel tile
    direct: bool       # tiles stored straight into the output (a grid row holds a vector)

    def array(self, geo):
        SD, SH, SW = geo.stride
        DD = geo.dilation[0]
        PD, PH, PW = geo.pad
        return np.array([self.Cg, self.KD, len(self.phases), self.PL, self.Wq, self.CH,
                         self.nblk, self.cog, self.groups, SD, DD, PD, SH, PH, SW, PW,
                         self.width, int(self.direct)], dtype=np.int64)


def layout(p, threads=1):
    """The layout of problem ``p`` (shapes only)."""
    g = p.geo
    KD, KH, KW = g.kernel
    _, SH, SW = g.stride
    _, DH, DW = g.dilation
    _, OH, OW = g.out
    N = p.xshape[0]
    Cout, Cg = p.wshape[:2]
    cog = Cout // p.groups
    item = cost.itemsize(p)
    width = _tile.width(item)
    hph = sorted({(j * DH) % SH for j in range(KH)})
    wph = sorted({(l * DW) % SW for l in range(KW)})
    phases = tuple((a, b) for a in hph for b in wph)
    Wq = OW + ((KW - 1) * DW) // SW
    maxoff = ((KH - 1) * DH // SH) * Wq + ((KW - 1) * DW) // SW
    Q = (OH - 1) * Wq + OW
    nblk = -(-cog // _tile.CB)
    direct = Wq >= _tile.lanes(item)
    per_pos = (Cg * KD * len(phases) + (0 if direct else nblk * _tile.CB)) * item
    CH = max(width, TASK_BYTES // per_pos // width * width)
    planes = N * p.groups * g.out[0]
    want = TASKS_PER_THREAD * threads
    if planes * -(-Q // CH) < want:   # small problems: smaller chunks, every thread busy
        target = -(-Q * planes // want)
        CH = max(width, -(-target // width) * width)
    CH = min(CH, -(-Q // width) * width)
    return Layout(Cg, KD, phases, CH + maxoff, Wq, CH, nblk, cog, p.groups, Q, width, direct)


def offsets(lay, geo):
    """Flat offset in a task's pack of every tap (channel, kd, kh, kw), in that order."""
    KD, KH, KW = geo.kernel
    _, SH, SW = geo.stride
    _, DH, DW = geo.dilation
    index = {ph: i for i, ph in enumerate(lay.phases)}
    NP = len(lay.phases)
    # per (kh, kw): phase plane and shift; per (channel, kd): the planes' block
    hw = np.array([index[((j * DH) % SH, (l * DW) % SW)] * lay.PL
                   + ((j * DH) // SH) * lay.Wq + (l * DW) // SW
                   for j in range(KH) for l in range(KW)], np.int64)
    blocks = np.arange(lay.Cg * KD, dtype=np.int64) * NP * lay.PL
    return (blocks[:, None] + hw[None, :]).reshape(-1)


@functools.lru_cache(maxsize=64)
def plan(p, threads):
    """What depends on the shapes only: the layout, its array, the tap offsets
    and the phases (cached: a training loop repeats its shapes)."""
    lay = layout(p, threads)
    php = np.array([a for a, _ in lay.phases], np.int64)
    pwp = np.array([b for _, b in lay.phases], np.int64)
    arrays = tuple(_launch.readonly(a) for a in (lay.array(p.geo), offsets(lay, p.geo), php,
                                                 pwp))
    return lay, arrays


def weights(w, lay):
    """``w`` as (group, channel block, tap, CB), zero rows beyond the group's
    output channels, flat."""
    Cout = w.shape[0]
    T = math.prod(w.shape[1:])
    wg = np.zeros((lay.groups, lay.nblk * _tile.CB, T), w.dtype)
    wg[:, :lay.cog] = w.reshape(lay.groups, Cout // lay.groups, T)
    wt = wg.reshape(lay.groups, lay.nblk, _tile.CB, T).transpose(0, 1, 3, 2)
    return np.ascontiguousarray(wt).reshape(-1)


def conv_tile(p, x, w):
    y = np.empty(p.oshape, x.dtype)
    if y.size == 0:
        return y
    lay, (arr, offs, php, pwp) = plan(p, cost.threads(p))
    args = (_launch.readonly(x), _launch.readonly(weights(w, lay)), offs, y, arr, php, pwp)
    tasks = p.xshape[0] * p.groups * p.geo.out[0] * -(-lay.Q // lay.CH)
    parallel = tasks > 1 and p.macs >= _config.SERIAL_WORK
    _launch.launch(_k.conv_parallel, _k.conv_serial, args, p.workers, parallel, "nn-tile",
                   dynamic=True)
    return y


def tile_estimate(p):
    lay = plan(p, cost.threads(p))[0]
    item = cost.itemsize(p)
    planes = p.xshape[0] * p.groups * p.geo.out[0]
    chunks = -(-lay.Q // lay.CH)
    T = math.prod(p.wshape[1:])
    # computed: whole tiles of CB channels x width grid positions
    macs = planes * chunks * -(-lay.CH // lay.width) * lay.width * lay.nblk * _tile.CB * T
    if chunks * lay.CH > lay.Q:   # the last chunk computes its valid part only
        macs = macs * lay.Q / (chunks * lay.CH)
    packed = planes * chunks * lay.Cg * lay.KD * len(lay.phases) * lay.PL
    work = macs / cost.TILE_MACS[item] + (packed + math.prod(p.oshape)) * cost.TILE_COPY
    return 25e-6 + work / cost.speedup(cost.threads(p), planes * chunks)


class Tile(Candidate):
    id = "nn-tile"
    kind = "nn-conv"
    family = "direct"

    def estimate(self, p):
        return tile_estimate(p)

    def run(self, p, x, w):
        return conv_tile(p, x, w)
