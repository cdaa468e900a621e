"""Direct (spatial-domain) correlation kernels.

Every direct path of jitconv is reduced by the driver (``jitconv._direct``) to one
problem: a *valid* correlation of a padded batch ``x`` with a kernel ``w``::

    out[b, i0, i1, i2] = sum_{j0, j1, j2} x[bx, i0+j0, i1+j1, i2+j2] * w[bw, j0, j1, j2]

with ``bx = b`` if ``x`` has a batch, else 0 (same for ``w``), where only the
positions of ``x`` inside its data range ``[lo_d, hi_d)`` per axis take part.
Convolution is a correlation with the flipped kernel; 'full'/'same' windows
and boundary extension are produced by padding ``x`` in the driver. The
zero padding is never multiplied: ``0 * inf`` would put NaN where SciPy's
direct result has none.

Layout and dtypes are normalised by the driver so that few signatures exist:
``x`` is C-contiguous float32/float64/complex64/complex128/int64; ``w`` holds the
accumulator dtype (float64, complex128 or int64), so float32 data is multiplied
and summed in float64 and integers in int64 (wrap-around like SciPy's).

The work is split over (batch, i0, i1, chunk of i2) tasks, each writing a
disjoint piece of ``out``: results are bitwise identical for any thread count.
The innermost loop runs over contiguous outputs with a scalar tap, which LLVM
vectorises without reassociating sums.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache


@njit(**SERIAL)
def _task(x, w, out, t, nchunks, chunk, lo0, hi0, lo1, hi1, lo2, hi2):
    B, L0, L1, L2 = out.shape
    K0, K1, K2 = w.shape[1], w.shape[2], w.shape[3]
    c = t % nchunks
    r = t // nchunks
    i1 = r % L1
    r = r // L1
    i0 = r % L0
    b = r // L0
    bx = b if x.shape[0] > 1 else 0
    bw = b if w.shape[0] > 1 else 0
    start = c * chunk
    n = min(start + chunk, L2) - start
    acc = np.zeros(n, w.dtype)
    for j0 in range(K0):
        r0 = i0 + j0
        if r0 < lo0 or r0 >= hi0:
            continue
        for j1 in range(K1):
            r1 = i1 + j1
            if r1 < lo1 or r1 >= hi1:
                continue
            for j2 in range(K2):
                wv = w[bw, j0, j1, j2]
                # outputs whose input position lies in the data range
                ia = max(0, lo2 - start - j2)
                ib = min(n, hi2 - start - j2)
                if ia >= ib:
                    continue
                # slices, so the inner index is a plain 0..m-1 counter: with
                # ``x[..., start + j2 + i]`` numba's negative-index wraparound
                # check blocks vectorisation (7x slower, measured)
                xs = x[bx, r0, r1, start + j2 + ia: start + j2 + ib]
                av = acc[ia:ib]
                for i in range(ib - ia):
                    av[i] += xs[i] * wv
    orow = out[b, i0, i1, start: start + n]
    for i in range(n):
        orow[i] = acc[i]


@njit(**PARALLEL)
def corr_valid_parallel(x, w, out, chunk, lo0, hi0, lo1, hi1, lo2, hi2):
    """Valid correlation of ``x`` with ``w`` into ``out`` (see module docstring)."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in prange(ntasks):
        _task(x, w, out, t, nchunks, chunk, lo0, hi0, lo1, hi1, lo2, hi2)


@njit(**SERIAL)
def corr_valid_serial(x, w, out, chunk, lo0, hi0, lo1, hi1, lo2, hi2):
    """Serial twin of ``corr_valid_parallel`` for small problems and unsafe contexts."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in range(ntasks):
        _task(x, w, out, t, nchunks, chunk, lo0, hi0, lo1, hi1, lo2, hi2)


enable_cache(_task, corr_valid_parallel, corr_valid_serial)
