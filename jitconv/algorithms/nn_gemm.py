"""CNN forward convolution as BLAS GEMMs: ``nn-gemm`` (im2col in chunks) and
``nn-grid`` (stride 1, on the padded output grid).

Error: that of BLAS's dot products in the problem's dtype (float32 sums in
float32, like PyTorch), ``<~ Cin*KV * eps * (|w| . |x|)`` per output.
"""
import math
import threading

import numpy as np

from .. import _launch, _trace
from ..kernels import nn as _k
from . import cost
from .base import Candidate
from .nn_im2col import COLS_BYTES, buffer, chunks, region


def conv_gemm(x, w, groups, geo, workers):
    """im2col + GEMM per chunk (``nn_im2col.chunks``) and group; the chunks run
    on the call's threads (``_launch.spread``), each with its own buffer."""
    N = x.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.kernel)
    P = math.prod(geo.out)
    y = np.empty((N, Cout, P), x.dtype)
    wm = w.reshape(groups, cog, R)
    g_arr, xr = geo.array(), _launch.readonly(x)
    items = [(n0, B, p0, Pt, g) for n0, B, p0, Pt in chunks(N, R, P, x.itemsize)
             for g in range(groups)]
    local = threading.local()

    def one(i):
        n0, B, p0, Pt, g = items[i]
        local.buf, cols = buffer(getattr(local, "buf", None), (B, R, Pt), x.dtype)
        _launch.call(_k.im2col, xr, cols, n0, g * Cg, g_arr, p0)
        np.matmul(wm[g], cols, out=y[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt])
    _trace.record("nn-gemm")
    _launch.spread(one, len(items), workers)
    return y.reshape((N, Cout) + geo.out)


def conv_grid(x, w, groups, geo, workers):
    """Stride-1 convolution as GEMMs on the padded output grid (see
    ``kernels.nn.grid_cols``): one contiguous copy per im2col row."""
    N = x.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    KD, KH, KW = geo.kernel
    DD, DH, DW = geo.dilation
    OD, OH, OW = geo.out
    R = Cg * KD * KH * KW
    y = np.empty((N, Cout) + geo.out, x.dtype)
    wm = w.reshape(groups, cog, R)
    _trace.record("nn-grid")
    # grid dims (padded) and each tap's flat offset
    Dp, Hp, Wp = geo.padded_grid()
    offs = np.array([(i * DD * Hp + j * DH) * Wp + l * DW
                     for i in range(KD) for j in range(KH) for l in range(KW)], np.int64)
    slack = (KH - 1) * DH * Wp + (KW - 1) * DW + Wp
    Q = OD * Hp * Wp                               # grid positions
    Pt = min(Q, max(256, COLS_BYTES // (R * x.itemsize)))
    # one image's input region, the reads of stride-1 outputs: per axis
    # [-P, -P + O + (K-1)*DIL), flattened per channel, ``slack`` zeros after
    # it for the reads of the dropped grid columns
    starts = [-p for p in geo.pad]
    local = threading.local()

    def image(n):
        if getattr(local, "cbuf", None) is None:
            local.cbuf = np.empty(R * Pt, x.dtype)
            local.tbuf = np.empty(cog * Pt, x.dtype)
        cbuf, tbuf = local.cbuf, local.tbuf
        flat = np.zeros((x.shape[1], Dp * Hp * Wp + slack), x.dtype)
        region(x[n], starts, flat[:, :Dp * Hp * Wp].reshape(x.shape[1], Dp, Hp, Wp))
        xp = _launch.readonly(flat)
        for g in range(groups):
            for q0 in range(0, Q, Pt):
                pt = min(Pt, Q - q0)
                c, t = cbuf[:R * pt].reshape(R, pt), tbuf[:cog * pt].reshape(cog, pt)
                _launch.call(_k.grid_cols, xp, c, g * Cg, offs, q0)
                np.matmul(wm[g], c, out=t)
                _launch.call(_k.grid_store, _launch.readonly(t), y[n], g * cog, q0, Hp, Wp,
                             OH, OW)
    _launch.spread(image, N, workers)   # images on the call's threads
    return y


def gemm_estimate(p):
    """im2col + GEMM cost of problem ``p`` (also the base of the gradients')."""
    item = cost.itemsize(p)
    cog = p.wshape[0] // p.groups
    # BLAS is far from its peak with few output channels per group (a
    # depthwise layer is a matrix-vector product per group)
    rate = (cost.GEMM_MACS[item] * cost.speedup(cost.threads(p), serial=cost.SERIAL_GEMM)
            * min(1.0, cog / 32))
    R, P = math.prod(p.wshape[1:]), math.prod(p.geo.out)
    calls = sum(1 for _ in chunks(p.xshape[0], R, P, item)) * p.groups
    return 30e-6 + 40e-6 * calls + p.macs / rate + p.xshape[0] * R * P * item / cost.COPY_BYTES


class Gemm(Candidate):
    id = "nn-gemm"
    kind = "nn-conv"
    family = "gemm"
    uses_blas = True

    def estimate(self, p):
        return gemm_estimate(p)

    def run(self, p, x, w):
        return conv_gemm(x, w, p.groups, p.geo, p.workers)


class Grid(Candidate):
    """im2col + GEMM for stride 1 on the padded output grid."""
    id = "nn-grid"
    kind = "nn-conv"
    family = "gemm"
    uses_blas = True

    def supports(self, p):
        return p.geo.stride == (1, 1, 1)

    def estimate(self, p):
        _, Hp, Wp = p.geo.padded_grid()
        _, OH, OW = p.geo.out
        waste = Hp * Wp / max(1, OH * OW)
        # the copies are contiguous: a third of im2col's cost (measured on W10)
        return (gemm_estimate(p) - 30e-6) * waste * 0.85 + 30e-6

    def run(self, p, x, w):
        return conv_grid(x, w, p.groups, p.geo, p.workers)
