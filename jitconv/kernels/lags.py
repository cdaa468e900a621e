"""Direct correlation kernels for narrow output windows and long kernels (lag windows).

Contract: the problem of ``kernels.direct`` -- a correlation of a batch ``x``
with a kernel ``w`` at offsets ``l_d``, zero padding implied::

    out[b, i0, i1, i2] = sum_{j0, j1, j2} x[bx, i0+j0+l0, i1+j1+l1, i2+j2+l2] * w[bw, j0, j1, j2]

over the positions inside ``x`` only -- with the *same per-output summation*
as ``kernels.direct``: each output is summed tap by tap in the order
``(j0, j1, j2)``, starting from zero, skipping taps outside ``x``; float32
(``block > 0``) in float32 blocks closed at exactly the same taps, whose
sums are added in float64. Results are therefore bitwise identical to
``kernels.direct`` (so ``correlate(..., lags=)`` is bitwise a slice of the
'full' direct result) and identical for any thread count.

What differs is the work split and the inner loop, for a window of few
outputs along the last axis (``±16`` lags) and many taps (``1e6``), where
``kernels.direct`` runs one task and re-reads its accumulators from memory
for every tap:

- tasks are (batch, i0, i1, group of ``group`` outputs along i2): the driver
  picks ``group`` so that every worker gets a group, even for one row;
- the taps of a row run in three phases: taps where some output of the
  group reads padding (bounds checked), then taps where none does, then
  the checked tail, so each output still adds its taps in increasing order;
- a whole float32 block of 16 taps in that phase is summed per output in
  one expression and added to the float64 accumulator directly;
- in the middle phase eight taps are added per pass over the group,
  ``acc[g] = acc[g] + x[..g]*w0 + x[..g+1]*w1 + ... + x[..g+7]*w7``: the
  same left-to-right sequence of roundings as eight separate passes, with
  one load and store of the accumulator instead of eight. The loop over
  ``g`` is a unit-stride loop that LLVM vectorises without reassociating.

Never: allocation inside ``prange`` beyond the two per-task accumulators,
exceptions, fast-math, or reassociation of any sum (the floor of a sum of
``K`` taps is ``K`` dependent additions: 1e6 taps take ~1 ms whatever the
parallelism; outputs are what run in parallel).

Error bound: that of ``kernels.direct`` (the same arithmetic): float64,
complex and int64 sums are plain (``<= eps * K * (|x| * |w|)``, ints exact
with wrap-around); float32 ``<= (block + 1) * eps32 * (|x| * |w|)``.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache


@njit(**SERIAL)
def _flush(acc, wide):
    """Move a closed float32 block's sums into the float64 accumulators."""
    for i in range(acc.shape[0]):
        wide[i] += acc[i]
        acc[i] = 0


@njit(**SERIAL)
def _checked(xrow, wrow, acc, p, n, j0, j1):
    """Taps ``j0 <= j < j1``, one at a time, outputs clipped to ``x``'s row."""
    N = xrow.shape[0]
    for j in range(j0, j1):
        q = p + j
        ia = max(0, -q)
        ib = min(n, N - q)
        if ia < ib:
            wv = wrow[j]
            xs = xrow[q + ia: q + ib]
            av = acc[ia:ib]
            for i in range(ib - ia):
                av[i] += xs[i] * wv


@njit(**SERIAL)
def _inner(xrow, wrow, acc, p, n, j0, j1):
    """Taps ``j0 <= j < j1``, all of whose reads for outputs ``0 .. n-1`` are in ``x``."""
    j = j0
    while j + 8 <= j1:
        w0 = wrow[j]
        w1 = wrow[j + 1]
        w2 = wrow[j + 2]
        w3 = wrow[j + 3]
        w4 = wrow[j + 4]
        w5 = wrow[j + 5]
        w6 = wrow[j + 6]
        w7 = wrow[j + 7]
        # a zero-based slice: the index below is provably non-negative, so
        # numba adds no wrap-around check and LLVM vectorises over g
        xs = xrow[p + j: p + j + n + 7]
        for g in range(n):
            acc[g] = (acc[g] + xs[g] * w0 + xs[g + 1] * w1 + xs[g + 2] * w2
                      + xs[g + 3] * w3 + xs[g + 4] * w4 + xs[g + 5] * w5
                      + xs[g + 6] * w6 + xs[g + 7] * w7)
        j += 8
    while j < j1:
        wv = wrow[j]
        xs = xrow[p + j: p + j + n]
        for g in range(n):
            acc[g] += xs[g] * wv
        j += 1


@njit(**SERIAL)
def _block16(xrow, wrow, acc, wide, p, n, j):
    """A whole float32 block of 16 taps ``j .. j+15``, all reads inside ``x``,
    starting from a closed block: each output's 16 products are summed in
    float32 from its (zero) accumulator, in tap order, and the sum added to
    its float64 accumulator -- what the general path does through ``acc``
    and ``_flush``, without storing ``acc``."""
    w0 = wrow[j]
    w1 = wrow[j + 1]
    w2 = wrow[j + 2]
    w3 = wrow[j + 3]
    w4 = wrow[j + 4]
    w5 = wrow[j + 5]
    w6 = wrow[j + 6]
    w7 = wrow[j + 7]
    w8 = wrow[j + 8]
    w9 = wrow[j + 9]
    w10 = wrow[j + 10]
    w11 = wrow[j + 11]
    w12 = wrow[j + 12]
    w13 = wrow[j + 13]
    w14 = wrow[j + 14]
    w15 = wrow[j + 15]
    xs = xrow[p + j: p + j + n + 15]
    for g in range(n):
        b = (acc[g] + xs[g] * w0 + xs[g + 1] * w1 + xs[g + 2] * w2 + xs[g + 3] * w3
             + xs[g + 4] * w4 + xs[g + 5] * w5 + xs[g + 6] * w6 + xs[g + 7] * w7
             + xs[g + 8] * w8 + xs[g + 9] * w9 + xs[g + 10] * w10 + xs[g + 11] * w11
             + xs[g + 12] * w12 + xs[g + 13] * w13 + xs[g + 14] * w14 + xs[g + 15] * w15)
        wide[g] += b


@njit(**SERIAL)
def _span(xrow, wrow, acc, p, n, j0, j1):
    """Taps ``j0 <= j < j1`` of one row for outputs ``g`` reading ``x[p + g + j]``."""
    N = xrow.shape[0]
    # every output of the group reads inside x for -p <= j <= N - p - n
    ja = min(max(-p, j0), j1)
    jb = min(max(N - p - n + 1, ja), j1)
    _checked(xrow, wrow, acc, p, n, j0, ja)
    _inner(xrow, wrow, acc, p, n, ja, jb)
    _checked(xrow, wrow, acc, p, n, jb, j1)


@njit(**SERIAL)
def _task(x, w, out, t, ngroups, group, block, proto, l0, l1, l2):
    B, L0, L1, L2 = out.shape
    K0, K1, K2 = w.shape[1], w.shape[2], w.shape[3]
    c = t % ngroups
    r = t // ngroups
    i1 = r % L1
    r = r // L1
    i0 = r % L0
    b = r // L0
    bx = b if x.shape[0] > 1 else 0
    bw = b if w.shape[0] > 1 else 0
    g0 = c * group
    n = min(g0 + group, L2) - g0
    acc = np.zeros(n, w.dtype)
    wide = np.zeros(n if block else 0, proto.dtype)
    count = 0
    N0, N1 = x.shape[1], x.shape[2]
    p = g0 + l2
    for j0 in range(K0):
        r0 = i0 + j0 + l0
        for j1 in range(K1):
            r1 = i1 + j1 + l1
            if r0 < 0 or r0 >= N0 or r1 < 0 or r1 >= N1:
                # as kernels.direct: a skipped row counts its taps, and
                # closes the block once they reach it
                if block:
                    count += K2
                    if count >= block:
                        _flush(acc, wide)
                        count = 0
                continue
            xrow = x[bx, r0, r1]
            wrow = w[bw, j0, j1]
            if not block:
                _span(xrow, wrow, acc, p, n, 0, K2)
                continue
            # every output of the group reads inside x for taps ja <= j < jb
            N2 = xrow.shape[0]
            ja = min(max(-p, 0), K2)
            jb = min(max(N2 - p - n + 1, ja), K2)
            s = 0
            while s < K2:
                e = min(K2, s + block - count)
                if block == 16 and count == 0 and e - s == 16 and ja <= s and e <= jb:
                    _block16(xrow, wrow, acc, wide, p, n, s)
                    s = e
                    continue
                _span(xrow, wrow, acc, p, n, s, e)
                count += e - s
                if count >= block:
                    _flush(acc, wide)
                    count = 0
                s = e
    orow = out[b, i0, i1, g0: g0 + n]
    if block:
        for i in range(n):
            orow[i] = wide[i] + acc[i]
    else:
        for i in range(n):
            orow[i] = acc[i]


@njit(**PARALLEL)
def corr_lags_parallel(x, w, out, group, block, proto, l0, l1, l2):
    """Correlation of ``x`` with ``w`` into ``out`` in groups of ``group``
    outputs along the last axis (see module docstring)."""
    ngroups = (out.shape[3] + group - 1) // group
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * ngroups
    for t in prange(ntasks):
        _task(x, w, out, t, ngroups, group, block, proto, l0, l1, l2)


@njit(**SERIAL)
def corr_lags_serial(x, w, out, group, block, proto, l0, l1, l2):
    """Serial twin of ``corr_lags_parallel``."""
    ngroups = (out.shape[3] + group - 1) // group
    ntasks = out.shape[0] * out.shape[1] * out.shape[2] * ngroups
    for t in range(ntasks):
        _task(x, w, out, t, ngroups, group, block, proto, l0, l1, l2)


enable_cache(_flush, _checked, _inner, _block16, _span, _task, corr_lags_parallel, corr_lags_serial)
