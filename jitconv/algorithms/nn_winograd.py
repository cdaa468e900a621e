"""CNN forward convolution by Winograd F(2x2, 3x3) (``nn-winograd``).

Each 2x2 output tile is ``A^T [(G g G^T) * (B^T d B)] A`` (Lavin & Gray 2016):
16 multiplies per tile and channel pair instead of 36 (2.25x fewer), done as
16 BLAS GEMMs per chunk of images; the transforms are numba loops
(``kernels.nn``). For 3x3 kernels of 2-d layers, stride 1, dilation 1.

Error: the transforms add a few roundings per output: about 4x the error of
the direct sum in float32 (measured against float64 in ``tests/test_nn.py``).
"""
import threading

import numpy as np

from .. import _launch, _trace
from ..kernels import nn as _k
from . import cost
from .base import Candidate
from .nn_im2col import region

#: Winograd F(2x2, 3x3) transforms of the kernel: U = G g G^T
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: bytes of one chunk of transformed input (16 x channels x tiles)
WINO_BYTES = 4 << 20


def conv_winograd(x, w, groups, geo, workers):
    """F(2x2, 3x3) Winograd: 16 multiplies per 2x2 outputs and channel pair
    instead of 36 (2.25x fewer), as 16 BLAS GEMMs per chunk of images."""
    N, C = x.shape[:2]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    OH, OW = geo.out[1], geo.out[2]
    PH, PW = geo.pad[1], geo.pad[2]
    TH, TW = -(-OH // 2), -(-OW // 2)
    dt = x.dtype
    # U[ab, co, c], per group: (16, cog, Cg), computed in float64 then rounded
    U = np.einsum("ai,ocij,bj->aboc", _G, w[:, :, 0].astype(np.float64), _G)
    U = np.ascontiguousarray(U.reshape(16, groups, cog, Cg).transpose(1, 0, 2, 3), dtype=dt)
    y = np.empty((N, Cout, 1, OH, OW), dt)
    per_image = 16 * max(Cg, cog) * TH * TW * x.itemsize
    B = max(1, min(N, WINO_BYTES // max(per_image, 1)))
    _trace.record("nn-winograd")
    blocks = list(range(0, N, B))
    local = threading.local()

    def block(i):   # a block of images, on one of the call's threads
        n0 = blocks[i]
        b = min(B, N - n0)
        if getattr(local, "b", None) != b:
            local.b = b
            local.V = np.empty((16, Cg, b * TH * TW), dt)
            local.M = np.empty((16, cog, b * TH * TW), dt)
            local.Yb = np.empty((b, cog, 2 * TH, 2 * TW), dt)
        # the input region the tiles read: rows -PH .. 2TH+1-PH (zero outside x)
        xp = region(x[n0:n0 + b, :, 0], (-PH, -PW), np.zeros((b, C, 2 * TH + 2, 2 * TW + 2), dt))
        for g in range(groups):
            _launch.call(_k.winograd_input, _launch.readonly(xp[:, g * Cg:(g + 1) * Cg]),
                         local.V)
            np.matmul(U[g], local.V, out=local.M)
            _launch.call(_k.winograd_output, _launch.readonly(local.M), local.Yb)
            y[n0:n0 + b, g * cog:(g + 1) * cog, 0] = local.Yb[:, :, :OH, :OW]
    _launch.spread(block, len(blocks), workers)
    return y


class Winograd(Candidate):
    id = "nn-winograd"
    kind = "nn-conv"
    family = "winograd"
    uses_blas = True

    def supports(self, p):
        g = p.geo
        # 2-d layers only: the transforms read one depth slice (x[:, :, 0]); a
        # 1x3x3 kernel of a 3-d layer has depth > 1 and is not this problem
        return (g.kernel == (1, 3, 3) and g.stride == (1, 1, 1) and g.dilation == (1, 1, 1)
                and p.xshape[2] == 1 and g.out[0] == 1)

    def estimate(self, p):
        item = cost.itemsize(p)
        cog = p.wshape[0] // p.groups
        rate = (cost.GEMM_MACS[item] * cost.speedup(cost.threads(p), serial=cost.SERIAL_GEMM)
            * min(1.0, cog / 32))
        N, C = p.xshape[:2]
        _, OH, OW = p.geo.out
        tiles = N * -(-OH // 2) * -(-OW // 2)
        macs = 16 * tiles * p.wshape[0] * p.wshape[1]
        # transforms: ~16 values written and read per tile and channel, twice
        moved = 2 * 16 * tiles * (C + p.wshape[0]) * item
        return 50e-6 + macs / rate + moved / cost.COPY_BYTES

    def run(self, p, x, w):
        return conv_winograd(x, w, p.groups, p.geo, p.workers)
