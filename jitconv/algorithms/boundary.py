"""Boundary rules: convolution of an image extended beyond its edges.

``convolve2d``/``correlate2d`` extend the image by ``fill`` (a constant),
``wrap`` (periodic) or ``symm`` (mirrored with the edge repeated,
``d c b a | a b c d``) as far as the kernel reaches, for any kernel size
(the extension repeats), then take SciPy's window of the valid correlation
(``_firfilter.c``'s indexing). The sum is the direct one: exact for
integers, bitwise reproducible.
"""
import numpy as np

from . import cost
from .base import Candidate
from .direct import valid_corr


def _ext_index(lo, X, n, bnd):
    """Source index for positions ``lo .. lo+X-1`` of an extended axis of length ``n``."""
    j = np.arange(lo, lo + X)
    if bnd == "wrap":
        return j % n
    # symmetric with edge repeat, any distance (SciPy's reflect_symm_index)
    k = np.where(j >= 0, j, -j - 1) % (2 * n)
    return np.where(k >= n, 2 * n - k - 1, k)


def extend_and_correlate(a, b, mode, bnd, fill, convolve, cd, workers):
    """``convolve2d``/``correlate2d``: extend the image by the boundary rule, then
    a valid correlation (SciPy's indexing in ``_firfilter.c``)."""
    N, M = a.shape, b.shape
    if mode == "full":
        Os = [n + m - 1 for n, m in zip(N, M)]
        lo = [-(m - 1) for m in M]
    elif mode == "same":
        Os = list(N)
        lo = [((m - 1) >> 1) - (m - 1) if convolve else -((m - 1) >> 1) for m in M]
    else:
        Os = [n - m + 1 for n, m in zip(N, M)]
        lo = [0, 0]
    if 0 in Os and min(Os) == 0:   # an empty result (SciPy's (0, 0) * (0, 0) 'same')
        return np.zeros(Os, cd)
    X = [o + m - 1 for o, m in zip(Os, M)]
    if bnd == "fill" or a.size == 0:
        ext = np.full(X, fill if fill is not None else 0, dtype=cd)
        src, dst = [], []
        for l, x, n in zip(lo, X, N):
            s0, s1 = max(l, 0), min(l + x, n)
            src.append(slice(s0, max(s0, s1)))
            dst.append(slice(s0 - l, max(s0, s1) - l))
        ext[tuple(dst)] = a[tuple(src)]
    else:
        i0 = _ext_index(lo[0], X[0], N[0], bnd)
        i1 = _ext_index(lo[1], X[1], N[1], bnd)
        ext = a[np.ix_(i0, i1)]
    w = b[::-1, ::-1] if convolve else (np.conj(b) if b.dtype.kind == "c" else b)
    return valid_corr(ext, w, cd, workers)


class BoundaryDirect(Candidate):
    """Extended copy of the image, then the direct kernel (serial or parallel
    by the amount of work)."""
    id = "direct-boundary"
    kind = "boundary"

    def estimate(self, p):
        out = 1
        for n, m in zip(p.shape1, p.shape2):
            out *= {"full": n + m - 1, "same": n, "valid": n - m + 1}[p.mode]
        return cost.DIRECT_FIXED + out * int(np.prod(p.shape2)) * cost.mac_cost(p)

    def run(self, p, a, b, fill):
        return extend_and_correlate(a, b, p.mode, p.boundary, fill, p.op == "convolve2d",
                                    p.cdtype, p.workers)
