"""Direct (spatial-domain) correlation kernels.

Every direct path of jitconv is reduced by the driver (``jitconv.algorithms.direct``) to one
problem: a correlation of a batch ``x`` with a kernel ``w`` at offsets ``l_d``::

    out[b, i0, i1, i2] = sum_{j0, j1, j2} x[bx, i0+j0+l0, i1+j1+l1, i2+j2+l2] * w[bw, j0, j1, j2]

with ``bx = b`` if ``x`` has a batch, else 0 (same for ``w``), where only the
positions inside ``x`` take part: outside is zero padding, which is never
materialised (no padded copy of the input: its page faults and copy cost
as much as the kernel on a 5x5 filter of 2048^2) and never multiplied
(``0 * inf`` would put NaN where SciPy's direct result has none).
Convolution is a correlation with the flipped kernel; 'full'/'same'/'valid'
windows are offsets (negative: leading padding); boundary extension is done
by the 2-d driver.

Layout and dtypes are normalised by the driver so that few signatures exist:
``x`` is C-contiguous float32/float64/complex64/complex128/int64. Sums:

- float32 (``block > 0``, ``w`` float32): products are summed in float32 over
  ``block`` taps at a time, and those partial sums in float64 (``proto``'s
  dtype). float32 vectors are twice as wide as float64 ones (measured 1.9x
  on 1-d, 31 taps), and the error stays that of ``block`` float32 additions:
  ``<= (block + 1) * eps32 * (|x| * |w|)`` per output, where a float32 sum
  over all taps (SciPy, OpenCV) can lose ``m * eps32``;
- otherwise (``block == 0``) ``w`` holds the accumulator dtype (float64,
  complex128 or int64, wrap-around like SciPy's) and sums are plain.

The work is split over (batch, i0, i1, chunk of i2) tasks, each writing a
disjoint piece of ``out``: results are bitwise identical for any thread count.
The innermost loop runs over contiguous outputs with a scalar tap, which LLVM
vectorises without reassociating sums.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache


@njit(**SERIAL)
def _counted(acc, wide, count, block):
    """Close a float32 block once ``count`` taps reach ``block``: its sums move
    into the float64 ``wide`` accumulator. Returns the new tap count."""
    if count < block:
        return count
    for i in range(acc.shape[0]):
        wide[i] += acc[i]
        acc[i] = 0
    return 0


@njit(**SERIAL)
def _task(x, w, out, t, nchunks, chunk, block, proto, l0, l1, l2):
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
    wide = np.zeros(n if block else 0, proto.dtype)
    count = 0
    N0, N1, N2 = x.shape[1], x.shape[2], x.shape[3]
    # float32 blocks close after every ``block`` taps of the kernel, counted
    # whether or not a tap reaches into x: the grouping of an output's sum is
    # then fixed by the kernel, not by the chunk or the requested window
    # ('same'/'valid' stay bitwise slices of 'full')
    for j0 in range(K0):
        r0 = i0 + j0 + l0
        for j1 in range(K1):
            r1 = i1 + j1 + l1
            if r0 < 0 or r0 >= N0 or r1 < 0 or r1 >= N1:
                if block:
                    count = _counted(acc, wide, count + K2, block)
                continue
            for j2 in range(K2):
                wv = w[bw, j0, j1, j2]
                # outputs whose input position lies inside x
                p = start + j2 + l2
                ia = max(0, -p)
                ib = min(n, N2 - p)
                if ia < ib:
                    # slices, so the inner index is a plain 0..m-1 counter: with
                    # ``x[..., p + i]`` numba's negative-index wraparound check
                    # blocks vectorisation (7x slower, measured)
                    xs = x[bx, r0, r1, p + ia: p + ib]
                    av = acc[ia:ib]
                    for i in range(ib - ia):
                        av[i] += xs[i] * wv
                if block:
                    count = _counted(acc, wide, count + 1, block)
    orow = out[b, i0, i1, start: start + n]
    if block:
        for i in range(n):
            orow[i] = wide[i] + acc[i]
    else:
        for i in range(n):
            orow[i] = acc[i]


@njit(**PARALLEL)
def corr_valid_parallel(x, w, out, chunk, block, proto, l0, l1, l2):
    """Valid correlation of ``x`` with ``w`` into ``out`` (see module docstring)."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in prange(ntasks):
        _task(x, w, out, t, nchunks, chunk, block, proto, l0, l1, l2)


@njit(**SERIAL)
def corr_valid_serial(x, w, out, chunk, block, proto, l0, l1, l2):
    """Serial twin of ``corr_valid_parallel`` for small problems and unsafe contexts."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in range(ntasks):
        _task(x, w, out, t, nchunks, chunk, block, proto, l0, l1, l2)


enable_cache(_counted, _task, corr_valid_parallel, corr_valid_serial)
