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
by the drivers.

What these kernels never do: validate, raise, allocate inside the parallel
loop's body beyond one accumulator per task, read outside ``x``, use
fast-math, or reorder a sum; multiply-adds are fused explicitly
(``kernels._fma.madd``: the same rounding in every loop).

Layout and dtypes are normalised by the driver so that few signatures exist:
``x`` is C-contiguous float32/float64/complex64/complex128/int64; ``w`` holds
the dtype products are taken in (float32 for float32 data, else the
accumulator's: float64, complex128 or int64); ``proto`` carries the
accumulator dtype and ``zero`` a zero of ``w``'s dtype.

**Sums.** Each kernel row is cut into blocks of at most ``U`` (8)
consecutive taps. A block's products are summed with fused multiply-adds in
``w``'s dtype, in tap order, starting from zero; block sums are added, in
tap order, to the accumulator. The grouping depends on the kernel only, not
on the output window, the chunk or the thread count, so results are bitwise
identical for any thread count and 'same'/'valid' are bitwise slices of
'full'. Taps outside ``x`` are skipped (as if their product were an exact
zero). The error per output:

- float32: each block is at most ``U`` float32 roundings (the products are
  fused), blocks are summed in float64:
  ``|err| <= (U / 2) * eps32 * (|x| * |w|) + (eps32 / 2) * |out|`` to first
  order (the last term is the final rounding to float32); a plain float32
  sum over all ``m`` taps
  (SciPy's N-d code, OpenCV) allows ``m * eps32``. Measured on random data
  (``perf/accuracy.py``), it is below SciPy's 1-d error (NumPy's dot with
  several partial sums) for kernels of 64 taps and more; for shorter 1-d
  kernels the driver passes float64 weights (exact products, float64 sums);
- float64/complex: ``|err| <= m * eps * (|x| * |w|)`` (in practice much less);
- int64: exact, wrapping on overflow like SciPy's integer code.

**Speed.** A task (batch, i0, i1, a chunk of ``chunk`` outputs of i2) keeps
its accumulator in L1; each pass over it applies a block of up to 8 taps,
so one accumulator load and store serve 8 fused multiply-adds, and the
inner loop (contiguous outputs) vectorises.
"""
import numpy as np
from numba import njit, prange

from ._fma import madd
from ._options import PARALLEL, SERIAL, enable_cache

#: taps per block (see "Sums")
U = 8


@njit(**SERIAL)
def _block(av, xr, p, wr, j, u, zero):
    """``av[k] += sum_{t<u} xr[p + k + t] * wr[j + t]`` (fused, in order, from zero)
    for every ``k``: all taps of the block are inside ``xr``.

    One slice of ``xr`` indexed ``xs[k + t]`` (not one slice per tap): the
    same vector code, and a quarter of the compile time."""
    n = av.shape[0]
    xs = xr[p:p + n + u - 1]
    if u >= 8:
        w0, w1, w2, w3 = wr[j], wr[j + 1], wr[j + 2], wr[j + 3]
        w4, w5, w6, w7 = wr[j + 4], wr[j + 5], wr[j + 6], wr[j + 7]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            s = madd(s, xs[k + 4], w4)
            s = madd(s, xs[k + 5], w5)
            s = madd(s, xs[k + 6], w6)
            s = madd(s, xs[k + 7], w7)
            av[k] += s
    elif u == 7:
        w0, w1, w2, w3 = wr[j], wr[j + 1], wr[j + 2], wr[j + 3]
        w4, w5, w6 = wr[j + 4], wr[j + 5], wr[j + 6]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            s = madd(s, xs[k + 4], w4)
            s = madd(s, xs[k + 5], w5)
            s = madd(s, xs[k + 6], w6)
            av[k] += s
    elif u == 6:
        w0, w1, w2, w3, w4, w5 = (wr[j], wr[j + 1], wr[j + 2], wr[j + 3], wr[j + 4],
                                  wr[j + 5])
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            s = madd(s, xs[k + 4], w4)
            s = madd(s, xs[k + 5], w5)
            av[k] += s
    elif u == 5:
        w0, w1, w2, w3, w4 = wr[j], wr[j + 1], wr[j + 2], wr[j + 3], wr[j + 4]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            s = madd(s, xs[k + 4], w4)
            av[k] += s
    elif u == 4:
        w0, w1, w2, w3 = wr[j], wr[j + 1], wr[j + 2], wr[j + 3]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            av[k] += s
    elif u == 3:
        w0, w1, w2 = wr[j], wr[j + 1], wr[j + 2]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            av[k] += s
    elif u == 2:
        w0, w1 = wr[j], wr[j + 1]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            av[k] += s
    else:
        w0 = wr[j]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            av[k] += s


@njit(**SERIAL)
def _interior(av, xr, p, wr, j0, j1, zero):
    """``_block`` with ``u = 8`` for the blocks ``j0, j0 + 8, ... < j1``, every
    tap inside ``xr`` for every output: the same sums, in one tight loop (few
    outputs and many taps -- a window of lags -- spend their time here)."""
    n = av.shape[0]
    for j in range(j0, j1, 8):
        w0, w1, w2, w3 = wr[j], wr[j + 1], wr[j + 2], wr[j + 3]
        w4, w5, w6, w7 = wr[j + 4], wr[j + 5], wr[j + 6], wr[j + 7]
        xs = xr[p + j:p + j + n + 7]
        for k in range(n):
            s = madd(zero, xs[k], w0)
            s = madd(s, xs[k + 1], w1)
            s = madd(s, xs[k + 2], w2)
            s = madd(s, xs[k + 3], w3)
            s = madd(s, xs[k + 4], w4)
            s = madd(s, xs[k + 5], w5)
            s = madd(s, xs[k + 6], w6)
            s = madd(s, xs[k + 7], w7)
            av[k] += s


@njit(**SERIAL)
def _edge(xr, q, wr, j, u, zero):
    """One output's block sum where some taps fall outside ``xr`` (skipped):
    the same fused multiply-adds, in the same order, as ``_block``."""
    s = zero
    N = xr.shape[0]
    for t in range(u):
        if 0 <= q + t < N:
            s = madd(s, xr[q + t], wr[j + t])
    return s


@njit(**SERIAL)
def _edges(acc, xr, base, wr, jb, u, n, N2, zero):
    """Block ``jb`` (``u`` taps) for outputs ``0 .. n-1``, whose tap ``t``
    reads ``xr[base + k + t]``: ``_block`` where all taps are inside, ``_edge``
    for the outputs where some are not."""
    # outputs whose every tap of the block is inside x, and those with some
    mlo = max(0, -(base + u - 1))
    mhi = min(n, N2 - base)
    klo = min(max(mlo, -base), mhi)
    khi = max(min(mhi, N2 - (base + u - 1)), klo)
    if klo < khi:
        _block(acc[klo:khi], xr, base + klo, wr, jb, u, zero)
    for k in range(mlo, klo):
        acc[k] += _edge(xr, base + k, wr, jb, u, zero)
    for k in range(khi, mhi):
        acc[k] += _edge(xr, base + k, wr, jb, u, zero)


@njit(**SERIAL)
def _task(x, w, out, t, nchunks, chunk, proto, zero1, l0, l1, l2):
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
    acc = np.zeros(n, proto.dtype)
    zero = zero1[0]
    N0, N1, N2 = x.shape[1], x.shape[2], x.shape[3]
    for j0 in range(K0):
        r0 = i0 + j0 + l0
        if r0 < 0 or r0 >= N0:
            continue
        for j1 in range(K1):
            r1 = i1 + j1 + l1
            if r1 < 0 or r1 >= N1:
                continue
            xr = x[bx, r0, r1]
            wr = w[bw, j0, j1]
            # whole blocks inside x for every output of the task run in one
            # tight loop; blocks are still added in tap order (the sums'
            # definition): the edge blocks before them, then them, then after
            s0 = start + l2
            ia = min(-(-max(0, -s0) // U) * U, K2)
            ib = min((K2 // U) * U, ((N2 - s0 - n - U + 1) // U) * U + U)
            if ib < ia:
                ib = ia
            for jb in range(0, ia, U):
                _edges(acc, xr, start + jb + l2, wr, jb, min(U, K2 - jb), n, N2, zero)
            if ia < ib:
                _interior(acc, xr, s0, wr, ia, ib, zero)
            for jb in range(ib, K2, U):
                _edges(acc, xr, start + jb + l2, wr, jb, min(U, K2 - jb), n, N2, zero)
    orow = out[b, i0, i1, start: start + n]
    for i in range(n):
        orow[i] = acc[i]


@njit(**PARALLEL)
def corr_valid_parallel(x, w, out, chunk, proto, zero1, l0, l1, l2):
    """Valid correlation of ``x`` with ``w`` into ``out`` (see module docstring)."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in prange(ntasks):
        _task(x, w, out, t, nchunks, chunk, proto, zero1, l0, l1, l2)


@njit(**SERIAL)
def corr_valid_serial(x, w, out, chunk, proto, zero1, l0, l1, l2):
    """Serial twin of ``corr_valid_parallel`` for small problems and unsafe contexts."""
    L2 = out.shape[3]
    nchunks = (L2 + chunk - 1) // chunk
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * nchunks
    for t in range(ntasks):
        _task(x, w, out, t, nchunks, chunk, proto, zero1, l0, l1, l2)


enable_cache(_block, _interior, _edge, _edges, _task, corr_valid_parallel, corr_valid_serial)
