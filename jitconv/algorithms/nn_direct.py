"""CNN forward convolution by numba loops (``nn-direct``): depthwise layers and
few channels, where a GEMM has nothing to chew on.

Error: plain sums in the problem's dtype over ``Cin/groups * KV`` taps.
"""
import math

import numpy as np

from .. import _launch
from ..kernels import nn as _k
from . import cost
from .base import Candidate
from .nn_im2col import enough_work

#: output positions per direct task (a row chunk kept in L1 while all taps sweep it)
CHUNK = 1024


def conv_direct(x, w, groups, geo, workers):
    N = x.shape[0]
    Cout = w.shape[0]
    y = np.empty((N, Cout) + geo.out, x.dtype)
    if y.size:
        _launch.launch(_k.direct_parallel, _k.direct_serial,
                       (_launch.readonly(x), _launch.readonly(w), y, groups, geo.array(), CHUNK),
                       workers, enough_work(y.size, w[0].size, 1), "nn-direct")
    return y


class Direct(Candidate):
    id = "nn-direct"
    kind = "nn-conv"
    family = "direct"

    def estimate(self, p):
        # float32 accumulates in float32 here: twice the float64 rate of the signal kernels
        mac = cost.DIRECT_MAC["f8"] / (2 if cost.itemsize(p) == 4 else 1)
        if p.geo.stride[2] > 1:
            mac *= 2   # strided rows do not vectorise
        # each (output row chunk, tap) pair costs ~25 ns of loop set-up: short
        # rows (W10: 56 outputs) are dominated by it (measured)
        OD, OH, OW = p.geo.out
        rows = p.xshape[0] * p.wshape[0] * OD * OH * -(-OW // CHUNK)
        return 20e-6 + (p.macs * mac + rows * math.prod(p.wshape[1:]) * 25e-9) / cost.speedup(cost.threads(p))

    def run(self, p, x, w):
        return conv_direct(x, w, p.groups, p.geo, p.workers)
