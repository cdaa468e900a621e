"""Gradients of the CNN convolution: input gradient (= transposed
convolution) and weight gradient.

- ``nn-col2im``: GEMM of the weights with ``grad_out``, then the adjoint
  scatter of im2col (any stride);
- ``nn-as-conv``: for stride 1 the input gradient is a forward convolution
  of ``grad_out`` with the flipped, channel-swapped kernel (where the flip of
  the mathematics reappears): a reduction to a forward problem, whose own
  candidates the planner chooses;
- ``nn-wgrad-gemm``: the weight gradient, im2col of the input and a GEMM
  with ``grad_out``, summed over the batch.

Error: that of BLAS's dot products in the problem's dtype, as ``nn-gemm``.
"""
import math
import threading
from dataclasses import replace

import numpy as np

from .. import _launch, _trace
from .._problem import Geo
from ..kernels import nn as _k
from .base import Candidate, Reduction
from .nn_gemm import gemm_estimate
from .nn_im2col import buffer, chunks


#: weight-gradient pieces at most (their partial sums are kept until added)
PIECES = 64
#: bytes of those partial sums at most
PARTS_BYTES = 256 << 20


def input_grad_col2im(dy, w, groups, geo, xshape, workers):
    N = dy.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.kernel)
    P = math.prod(geo.out)
    dx = np.zeros(xshape, dy.dtype)
    wt = np.ascontiguousarray(w.reshape(groups, cog, R).transpose(0, 2, 1))  # (G, R, cog)
    dyr = dy.reshape(N, Cout, P)
    g_arr = geo.array()
    _trace.record("nn-col2im")
    # one piece per block of images (its chunks scatter into the same images)
    pieces = {}
    for n0, B, p0, Pt in chunks(N, R, P, dy.itemsize):
        pieces.setdefault(n0, []).append((B, p0, Pt))
    order = list(pieces)
    local = threading.local()

    def piece(i):
        n0 = order[i]
        for B, p0, Pt in pieces[n0]:
            local.buf, cols = buffer(getattr(local, "buf", None), (B, R, Pt), dy.dtype)
            for g in range(groups):
                np.matmul(wt[g], dyr[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt], out=cols)
                _launch.call(_k.col2im, _launch.readonly(cols), dx, n0, g * Cg, g_arr, p0)
    _launch.spread(piece, len(order), workers)
    return dx


def transpose_weight(w, groups):
    """``(Cout, Cg, *k)`` -> ``(groups*Cg, Cout/groups, *k)`` flipped: the
    kernel that turns a forward convolution into its input gradient."""
    Cout, Cg = w.shape[:2]
    k = w.shape[2:]
    wt = w.reshape((groups, Cout // groups, Cg) + k).swapaxes(1, 2)
    wt = wt.reshape((groups * Cg, Cout // groups) + k)
    return np.ascontiguousarray(wt[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k)])


def input_grad_geo(geo, xshape):
    """Geometry of the stride-1 input gradient as a forward convolution."""
    pad = tuple((k - 1) * d - p for k, d, p in zip(geo.kernel, geo.dilation, geo.pad))
    return Geo(geo.kernel, (1, 1, 1), geo.dilation, pad, tuple(xshape[2:]))


def weight_grad_gemm(x, dy, wshape, groups, geo, workers):
    N = x.shape[0]
    Cout, Cg = wshape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.kernel)
    P = math.prod(geo.out)
    dyr = dy.reshape(N, Cout, P)
    g_arr, xr = geo.array(), _launch.readonly(x)
    _trace.record("nn-wgrad-gemm")
    items = list(chunks(N, R, P, x.itemsize))
    # pieces: runs of consecutive chunks, as many as the budget of partial sums
    # allows (fixed by the shapes: the sum's order, so its bits, do not depend
    # on the thread count); their partial sums are added in order
    S = max(1, min(len(items), PIECES, PARTS_BYTES // max(1, groups * cog * R * x.itemsize)))
    bounds = [len(items) * k // S for k in range(S + 1)]
    parts = [None] * S
    local = threading.local()

    def piece(k):
        part = np.zeros((groups, cog, R), x.dtype)
        for n0, B, p0, Pt in items[bounds[k]:bounds[k + 1]]:
            local.buf, cols = buffer(getattr(local, "buf", None), (B, R, Pt), x.dtype)
            for g in range(groups):
                _launch.call(_k.im2col, xr, cols, n0, g * Cg, g_arr, p0)
                prod = np.matmul(dyr[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt],
                                 cols.transpose(0, 2, 1))
                part[g] += prod.sum(axis=0) if B > 1 else prod[0]
        parts[k] = part
    _launch.spread(piece, S, workers)
    dw = parts[0]
    for part in parts[1:]:
        dw += part
    return dw.reshape(wshape)


class Col2im(Candidate):
    id = "nn-col2im"
    kind = "nn-input_grad"
    family = "gemm"
    uses_blas = True

    def estimate(self, p):
        return gemm_estimate(p) * 1.2

    def run(self, p, dy, w):
        return input_grad_col2im(dy, w, p.groups, p.geo, p.xshape, p.workers)


class AsConv(Reduction):
    """Stride-1 input gradient as a (planned) forward convolution."""
    id = "nn-as-conv"
    kind = "nn-input_grad"
    family = "gemm"

    def supports(self, p):
        return p.geo.stride == (1, 1, 1)

    def reduce(self, p):
        Cout, Cg = p.wshape[:2]
        wt = (p.groups * Cg, Cout // p.groups) + p.wshape[2:]
        return replace(p, op="conv", xshape=p.oshape, wshape=wt,
                       geo=input_grad_geo(p.geo, p.xshape))

    def operands(self, p, dy, w):
        _trace.record("nn-as-conv")
        return dy, transpose_weight(w, p.groups)


class WeightGemm(Candidate):
    id = "nn-wgrad-gemm"
    kind = "nn-weight_grad"
    family = "gemm"
    uses_blas = True

    def estimate(self, p):
        return gemm_estimate(p)

    def run(self, p, x, dy):
        return weight_grad_gemm(x, dy, p.wshape, p.groups, p.geo, p.workers)
