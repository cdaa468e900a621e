"""Rank-1 (separable) kernels: one N-d convolution becomes N 1-d passes.

A kernel ``k`` is separable when ``k = u0 (x) u1 (x) ... (x) ud`` (an outer
product). The test is a numerical rank check by pivoting: with ``p`` the
position of the largest ``|k|``, ``k`` must equal the outer product of its
lines through ``p`` (scaled by ``k[p]``) within ``tol * max|k|``. That costs
O(size) and is exact for kernels built as outer products (Gaussian, box,
Sobel's factors...). The passes then cost ``sum(m_i)`` instead of
``prod(m_i)`` multiply-adds per output.

The factorisation is approximate (within ``TOL``), so this is its own family:
``method='direct'`` never runs it.
"""
import math

import numpy as np

from .. import _trace
from . import cost
from .base import Candidate
from .direct import direct_conv

#: relative reconstruction error accepted, by the result's precision
TOL = {4: 1e-6, 8: 1e-13}

#: kernels larger than this are not tested for separability (the test reads
#: the whole kernel on every call; large kernels are FFT territory anyway)
MAX_SIZE = 1 << 16
#: below this many multiply-adds the test costs more than two passes could save
MIN_WORK = 1 << 18


def worth_testing(a, k):
    """Whether a problem of these operands is worth the rank test."""
    return k.size <= MAX_SIZE and k.size < a.size and a.size * k.size >= MIN_WORK
def factors(k, axes, rt):
    """1-d factors of ``k`` along ``axes``, or None if ``k`` is not (usefully) separable.

    Only float/complex results qualify (integer and boolean results must
    stay exact), only kernels without batch (length 1 off ``axes``) and with
    at least two convolved axes longer than 1.
    """
    rt = np.dtype(rt)
    if rt.kind not in "fc" or k.size == 0:
        return None
    if any(k.shape[i] != 1 for i in range(k.ndim) if i not in axes):
        return None
    long_axes = [ax for ax in axes if k.shape[ax] > 1]
    if len(long_axes) < 2:
        return None
    tol = TOL[8 if rt.itemsize >= (16 if rt.kind == "c" else 8) else 4]
    kk = np.asarray(k, dtype=np.complex128 if k.dtype.kind == "c" else np.float64)
    kk = kk.reshape([k.shape[ax] for ax in long_axes])
    if not np.isfinite(kk).all():
        return None
    scale = float(np.max(np.abs(kk)))
    if scale == 0.0:
        return None
    out = []
    rest = kk
    for i in range(len(long_axes) - 1):
        m = rest.reshape(rest.shape[0], -1)
        piv = np.unravel_index(int(np.argmax(np.abs(m))), m.shape)
        u = m[:, piv[1]].copy()
        v = m[piv[0], :] / m[piv]
        if np.max(np.abs(m - np.outer(u, v))) > tol * scale:
            return None
        out.append(u)
        rest = v.reshape(rest.shape[1:])
    out.append(rest.reshape(-1))
    # the product of the factors must give back k (errors can compound)
    recon = out[0]
    for f in out[1:]:
        recon = np.multiply.outer(recon, f)
    if np.max(np.abs(recon - kk)) > tol * scale:
        return None
    return list(zip(long_axes, out))


class Separable(Candidate):
    """Rank-1 kernel: one direct 1-d pass per convolved axis (float/complex only).

    Intermediate results are rounded to the compute dtype (float32 for
    float32 data: half the memory traffic of float64, and the second pass
    runs on float32 vectors); the result differs from the full direct sum by
    that rounding and the pass sums' rounding only.
    """
    id = "separable"
    family = "separable"

    def supports(self, p):
        return p.separable

    def _passes(self, p):
        """Multiply-adds of the passes (each pass shrinks/grows one axis to its window)."""
        dims = [max(a, b) if i not in p.axes else a for i, (a, b) in
                enumerate(zip(p.shape1, p.shape2))]
        work = 0
        for ax, (s, l) in zip(p.axes, p.wins):
            m = p.shape2[ax]
            if m > 1:
                dims[ax] = l
                work += math.prod(dims) * m
        return work

    def estimate(self, p):
        par = cost.speedup(p.workers)
        return cost.DIRECT_FIXED * 3 + 20e-6 + self._passes(p) * cost.mac_cost(p) * 1.3 / par

    def run(self, p, a, k):
        # k's length-1 convolved axes need nothing: their value is in the
        # factors, and their window is the whole axis in every mode
        fs = factors(k, list(p.axes), np.dtype(p.rt))
        _trace.record("separable")
        cd = p.cdtype
        axes = list(p.axes)
        # every pass convolves over all of ``axes`` with a kernel that is 1 long
        # except along its own axis: no transposition, the vertical pass runs
        # over contiguous rows (one per tap) like the horizontal one.
        # Windows: a pass's own axis gets its final window; axes done before
        # are already cut to theirs, axes still to do keep their full length
        wins = {ax: (0, a.shape[ax]) for ax in axes}
        x = a
        for ax, f in fs:
            shape = [1] * a.ndim
            shape[ax] = f.size
            wins[ax] = p.wins[axes.index(ax)]
            # the passes keep the data's precision (float32 products for
            # float32): the factorisation is approximate anyway
            x = direct_conv(x, f.reshape(shape), axes, [wins[a_] for a_ in axes],
                            cd, p.workers, wdtype=cd if cd == np.float32 else None)
            wins[ax] = (0, x.shape[ax])
        return x
