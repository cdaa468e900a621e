"""Float kernels of ``scipy.ndimage``'s filters, outside SciPy's arithmetic:
float32 line passes, the fused box of ``uniform_filter``, the FFT's blocks.

Contract.

- ``line32_*`` correlate float32 lines with float32 weights: for each
  output, ``acc = 0`` then ``acc = fma(x[p + t], w[t], acc)`` for the taps
  ``t = 0 .. m-1`` in order, in float32 (``contract`` fuses each
  multiply-add, see ``_options``). The input is read through the boundary
  mode's index map (``jitconv._extend``; ``-1`` reads ``cval``). Every
  output's sum is that one sequence whatever the thread count, the chunk or
  the group of rows it falls in: results are bitwise identical for any
  thread count.
- ``box_*`` compute the mean over ``sr x sc`` windows of images through the
  maps of both axes: float64 column sums over ``sr`` rows, started afresh at
  every band of ``band`` output rows and then updated by one row in and one
  row out (``s + (new - old)``), extended along the row by the column map,
  a running sum of ``sc`` of them along the row (started at every row),
  times ``inv``. The bands are fixed: bitwise identical for any thread count.
  They report whether a NaN or inf was read (``bad``).
- ``gather_block`` copies one overlap-save block of the extended input into
  an FFT buffer (exact: a copy).

What these kernels never do: validate, allocate inside a parallel loop
(each block of tasks has its rows of the preallocated ``scratch``),
materialise a padded copy of an input (a pass along a leading axis reads
whole rows through the map; a pass along the last axis copies one line at a
time into a scratch line, extended at its ends only; the box extends its
rows of sums, not the input), or use any fast-math flag but ``contract``.

Error bounds. ``line32``, float32 data and weights rounded to float32 by the
driver, ``u = 2**-24``: ``|out - sum_t w[t] x[p + t]| <= (m + 1) * u *
sum_t |w[t] x[p + t]|`` to first order (``m`` roundings of the fused sum, one
of each weight), against SciPy's float64 sum rounded once to float32 (its
own error is ``u |out|`` plus ``m eps64 sum|w x|``). ``box``: with ``M`` the
largest ``|value|`` of the extended input, ``|out - mean| <= (sr + sc + 2
band + 2 C + 2) * eps64 * M`` (``C`` columns; the running sums' error
grows by ``2 eps`` of their window per step), plus the final rounding of a
float32 output.

Speed. Along a leading axis (``line32_rows_*``, ``x`` seen as ``(outer,
length, inner)``), four output rows are computed together over a chunk of
``inner`` columns: a block of 8 taps loads 11 input rows once for the 32
fused multiply-adds of the four accumulators (~110 GFLOP/s per core in
float32 with the rows in L1, measured, against ~65 for one row at a time).
Along the last axis (``line32_last_*``), each line is copied into an
extended scratch line and every block of 8 taps (the last one up to 12) is
one pass over an accumulator reading one slice at 8 offsets (the signal
direct kernel's ``_block``); the first block starts the sums and the last
one writes the outputs, with no pass of their own. The copy makes the
last-axis pass safe in place (``out`` may be ``x``): the engine's separable
chains write their second pass over the first pass's result, as SciPy
does. The box reads the image once and writes its output once; four rows'
running sums along the row are independent add chains (one chain waits on
its add's latency).
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL_FMA as PARALLEL, SERIAL_FMA as SERIAL, enable_cache

#: taps per block
U = 8
#: output rows computed together along a leading axis
G = 4


@njit(**SERIAL)
def _span(b, nblk, ntasks):
    """Tasks ``[lo, hi)`` of block ``b`` of ``nblk`` (contiguous, balanced)."""
    return b * ntasks // nblk, (b + 1) * ntasks // nblk


# ------------------------------------------------ along a leading axis
@njit(**SERIAL)
def _rows4(d0, d1, d2, d3, s0, s1, s2, s3, first, last, n, src, ridx, q, i0, w, k, u):
    """Taps ``k .. k+u-1`` of the four output rows whose windows start at
    extended positions ``q .. q+3``: ``d_g[j] = s_g[j] + sum_t row(q+g+t)[j] *
    w[k+t]`` fused in tap order (``first``: no ``s_g``, the block starts the
    sum; not ``last``: ``d_g`` is ``s_g``, updated in place), position ``p``
    reading ``src[ridx[p], i0:i0+n]`` (plain row slices: the loop vectorises
    without a branch per row)."""
    if u == 8:
        x0 = src[ridx[q], i0:i0 + n]
        x1 = src[ridx[q + 1], i0:i0 + n]
        x2 = src[ridx[q + 2], i0:i0 + n]
        x3 = src[ridx[q + 3], i0:i0 + n]
        x4 = src[ridx[q + 4], i0:i0 + n]
        x5 = src[ridx[q + 5], i0:i0 + n]
        x6 = src[ridx[q + 6], i0:i0 + n]
        x7 = src[ridx[q + 7], i0:i0 + n]
        x8 = src[ridx[q + 8], i0:i0 + n]
        x9 = src[ridx[q + 9], i0:i0 + n]
        x10 = src[ridx[q + 10], i0:i0 + n]
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        w4, w5, w6, w7 = w[k + 4], w[k + 5], w[k + 6], w[k + 7]
        if first:
            for j in range(n):
                v0, v1, v2, v3, v4 = x0[j], x1[j], x2[j], x3[j], x4[j]
                v5, v6, v7, v8, v9, v10 = x5[j], x6[j], x7[j], x8[j], x9[j], x10[j]
                d0[j] = (v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3 + v4 * w4 + v5 * w5 + v6 * w6
                         + v7 * w7)
                d1[j] = (v1 * w0 + v2 * w1 + v3 * w2 + v4 * w3 + v5 * w4 + v6 * w5 + v7 * w6
                         + v8 * w7)
                d2[j] = (v2 * w0 + v3 * w1 + v4 * w2 + v5 * w3 + v6 * w4 + v7 * w5 + v8 * w6
                         + v9 * w7)
                d3[j] = (v3 * w0 + v4 * w1 + v5 * w2 + v6 * w3 + v7 * w4 + v8 * w5 + v9 * w6
                         + v10 * w7)
            return
        if not last:  # in place: ``d_g`` is ``s_g`` (one array, so no alias check fails)
            for j in range(n):
                v0, v1, v2, v3, v4 = x0[j], x1[j], x2[j], x3[j], x4[j]
                v5, v6, v7, v8, v9, v10 = x5[j], x6[j], x7[j], x8[j], x9[j], x10[j]
                d0[j] = (d0[j] + v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3 + v4 * w4 + v5 * w5
                         + v6 * w6 + v7 * w7)
                d1[j] = (d1[j] + v1 * w0 + v2 * w1 + v3 * w2 + v4 * w3 + v5 * w4 + v6 * w5
                         + v7 * w6 + v8 * w7)
                d2[j] = (d2[j] + v2 * w0 + v3 * w1 + v4 * w2 + v5 * w3 + v6 * w4 + v7 * w5
                         + v8 * w6 + v9 * w7)
                d3[j] = (d3[j] + v3 * w0 + v4 * w1 + v5 * w2 + v6 * w3 + v7 * w4 + v8 * w5
                         + v9 * w6 + v10 * w7)
            return
        for j in range(n):
            v0, v1, v2, v3, v4 = x0[j], x1[j], x2[j], x3[j], x4[j]
            v5, v6, v7, v8, v9, v10 = x5[j], x6[j], x7[j], x8[j], x9[j], x10[j]
            d0[j] = (s0[j] + v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3 + v4 * w4 + v5 * w5
                     + v6 * w6 + v7 * w7)
            d1[j] = (s1[j] + v1 * w0 + v2 * w1 + v3 * w2 + v4 * w3 + v5 * w4 + v6 * w5
                     + v7 * w6 + v8 * w7)
            d2[j] = (s2[j] + v2 * w0 + v3 * w1 + v4 * w2 + v5 * w3 + v6 * w4 + v7 * w5
                     + v8 * w6 + v9 * w7)
            d3[j] = (s3[j] + v3 * w0 + v4 * w1 + v5 * w2 + v6 * w3 + v7 * w4 + v8 * w5
                     + v9 * w6 + v10 * w7)
        return
    for t in range(u):
        wt = w[k + t]
        r0 = src[ridx[q + t], i0:i0 + n]
        r1 = src[ridx[q + t + 1], i0:i0 + n]
        r2 = src[ridx[q + t + 2], i0:i0 + n]
        r3 = src[ridx[q + t + 3], i0:i0 + n]
        if t == 0 and first:
            for j in range(n):
                d0[j] = r0[j] * wt
                d1[j] = r1[j] * wt
                d2[j] = r2[j] * wt
                d3[j] = r3[j] * wt
        elif t == 0 and last:
            for j in range(n):
                d0[j] = s0[j] + r0[j] * wt
                d1[j] = s1[j] + r1[j] * wt
                d2[j] = s2[j] + r2[j] * wt
                d3[j] = s3[j] + r3[j] * wt
        else:
            for j in range(n):
                d0[j] = d0[j] + r0[j] * wt
                d1[j] = d1[j] + r1[j] * wt
                d2[j] = d2[j] + r2[j] * wt
                d3[j] = d3[j] + r3[j] * wt


@njit(**SERIAL)
def _rows1(d0, s0, first, last, n, src, ridx, q, i0, w, k, u):
    """``_rows4`` for one output row (the same fused sums, in the same order)."""
    if u == 8:
        x0 = src[ridx[q], i0:i0 + n]
        x1 = src[ridx[q + 1], i0:i0 + n]
        x2 = src[ridx[q + 2], i0:i0 + n]
        x3 = src[ridx[q + 3], i0:i0 + n]
        x4 = src[ridx[q + 4], i0:i0 + n]
        x5 = src[ridx[q + 5], i0:i0 + n]
        x6 = src[ridx[q + 6], i0:i0 + n]
        x7 = src[ridx[q + 7], i0:i0 + n]
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        w4, w5, w6, w7 = w[k + 4], w[k + 5], w[k + 6], w[k + 7]
        if first:
            for j in range(n):
                d0[j] = (x0[j] * w0 + x1[j] * w1 + x2[j] * w2 + x3[j] * w3 + x4[j] * w4
                         + x5[j] * w5 + x6[j] * w6 + x7[j] * w7)
            return
        if not last:
            for j in range(n):
                d0[j] = (d0[j] + x0[j] * w0 + x1[j] * w1 + x2[j] * w2 + x3[j] * w3
                         + x4[j] * w4 + x5[j] * w5 + x6[j] * w6 + x7[j] * w7)
            return
        for j in range(n):
            d0[j] = (s0[j] + x0[j] * w0 + x1[j] * w1 + x2[j] * w2 + x3[j] * w3 + x4[j] * w4
                     + x5[j] * w5 + x6[j] * w6 + x7[j] * w7)
        return
    for t in range(u):
        wt = w[k + t]
        r0 = src[ridx[q + t], i0:i0 + n]
        if t == 0 and first:
            for j in range(n):
                d0[j] = r0[j] * wt
        elif t == 0 and last:
            for j in range(n):
                d0[j] = s0[j] + r0[j] * wt
        else:
            for j in range(n):
                d0[j] = d0[j] + r0[j] * wt


@njit(**SERIAL)
def _group(acc, n, src, ridx, q, i0, w, rows, out, o, l0, c0):
    """Output rows ``l0 .. l0+rows-1`` (columns ``c0:c0+n``) whose windows start
    at position ``q`` of ``ridx``; ``rows <= 4``; ``acc`` holds four
    accumulators of ``len(acc) // 4``. The first block of taps starts the
    sums, the last one writes them into ``out``."""
    m = w.shape[0]
    st = acc.shape[0] // G
    a0 = acc[0:n]
    a1 = acc[st:st + n]
    a2 = acc[2 * st:2 * st + n]
    a3 = acc[3 * st:3 * st + n]
    if rows == G:
        o0 = out[o, l0, c0:c0 + n]
        o1 = out[o, l0 + 1, c0:c0 + n]
        o2 = out[o, l0 + 2, c0:c0 + n]
        o3 = out[o, l0 + 3, c0:c0 + n]
        k = 0
        while k < m:
            u = min(U, m - k)
            if k + u < m:
                _rows4(a0, a1, a2, a3, a0, a1, a2, a3, k == 0, False, n, src, ridx, q + k, i0, w, k, u)
            else:
                _rows4(o0, o1, o2, o3, a0, a1, a2, a3, k == 0, True, n, src, ridx, q + k, i0, w, k, u)
            k += u
        return
    for g in range(rows):
        og = out[o, l0 + g, c0:c0 + n]
        k = 0
        while k < m:
            u = min(U, m - k)
            if k + u < m:
                _rows1(a0, a0, k == 0, False, n, src, ridx, q + g + k, i0, w, k, u)
            else:
                _rows1(og, a0, k == 0, True, n, src, ridx, q + g + k, i0, w, k, u)
            k += u


@njit(**SERIAL)
def _rows_block(b, nblk, x, out, chunk, band, w, rmap, cval, iden, scratch, edge):
    O, L, I = x.shape
    m = w.shape[0]
    nch = (I + chunk - 1) // chunk
    nbd = (L + band - 1) // band
    lo, hi = _span(b, nblk, O * nch * nbd)
    acc = scratch[b]
    blk = edge[b]
    for t in range(lo, hi):
        # a task walks down a band of rows of one chunk of columns
        d = t % nbd
        c = (t // nbd) % nch
        o = t // (nbd * nch)
        i0 = c * chunk
        n = min(chunk, I - i0)
        lend = min(L, (d + 1) * band)
        l0 = d * band
        xo = x[o]
        while l0 < lend:
            rows = min(G, lend - l0)
            npos = rows + m - 1
            inside = True
            for p in range(l0, l0 + npos):
                if rmap[p] < 0:
                    inside = False
                    break
            if inside:
                _group(acc, n, xo, rmap, l0, i0, w, rows, out, o, l0, i0)
            else:
                # constant rows near the edges: the group's rows copied (cval where
                # the map reads the constant), then the same sums
                for p in range(npos):
                    s = rmap[l0 + p]
                    bp = blk[p]
                    if s < 0:
                        for j in range(n):
                            bp[j] = cval
                    else:
                        xp = xo[s, i0:i0 + n]
                        for j in range(n):
                            bp[j] = xp[j]
                _group(acc, n, blk, iden, 0, 0, w, rows, out, o, l0, i0)
            l0 += rows


@njit(**PARALLEL)
def line32_rows_parallel(x, out, chunk, band, w, rmap, cval, iden, scratch, edge):
    """Float32 correlation along the middle axis of ``x`` (``(outer, length,
    inner)``), vectorised over ``inner``: output row ``l`` reads rows
    ``rmap[l + t]`` for taps ``t`` (-1: ``cval``). Tasks are bands of ``band``
    rows of chunks of ``chunk`` columns; per block, ``scratch`` holds four
    accumulators of at least ``chunk`` float32 and ``edge`` ``(m + 3,
    chunk)`` (the rows near a constant edge); ``iden`` is ``arange(m + 3)``."""
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _rows_block(b, nblk, x, out, chunk, band, w, rmap, cval, iden, scratch, edge)


@njit(**SERIAL)
def line32_rows_serial(x, out, chunk, band, w, rmap, cval, iden, scratch, edge):
    """Serial twin of ``line32_rows_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _rows_block(b, nblk, x, out, chunk, band, w, rmap, cval, iden, scratch, edge)


# --------------------------------------------------- along the last axis
@njit(**SERIAL)
def _hblock(d, s, e, p, n, w, k, u, first, last):
    """Taps ``k .. k+u-1``: ``d[j] = s[j] + sum_t e[p + j + t] * w[k+t]`` fused in
    tap order (``first``: no ``s``; not ``last``: ``d`` is ``s``, in place).
    One slice of ``e`` indexed ``xs[j + t]``."""
    xs = e[p:p + n + u - 1]
    if u == 8:
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        w4, w5, w6, w7 = w[k + 4], w[k + 5], w[k + 6], w[k + 7]
        if first:
            for j in range(n):
                d[j] = (xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                        + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7)
        elif not last:
            for j in range(n):
                d[j] = (d[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                        + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7)
        else:
            for j in range(n):
                d[j] = (s[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                        + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7)
        return
    for t in range(u):
        wt = w[k + t]
        if t == 0 and first:
            for j in range(n):
                d[j] = xs[j] * wt
        elif t == 0 and last:
            for j in range(n):
                d[j] = s[j] + xs[j] * wt
        else:
            for j in range(n):
                d[j] = d[j] + xs[j + t] * wt


@njit(**SERIAL)
def _hlast(d, s, e, p, n, w, k, u):
    """The last block of a line's taps when it holds ``8 < u <= 12`` of them
    (``k > 0``): ``d[j] = s[j] + sum_{t<u} e[p + j + t] * w[k+t]``, fused in
    tap order, in one pass (a separate pass for the last few taps cost 4.4
    of 28.8 ms on W15's 4096^2 pass: 33 taps are 8 + 8 + 8 + 9)."""
    xs = e[p:p + n + u - 1]
    w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
    w4, w5, w6, w7, w8 = w[k + 4], w[k + 5], w[k + 6], w[k + 7], w[k + 8]
    if u == 9:
        for j in range(n):
            d[j] = (s[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                    + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7
                    + xs[j + 8] * w8)
        return
    w9 = w[k + 9]
    if u == 10:
        for j in range(n):
            d[j] = (s[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                    + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7
                    + xs[j + 8] * w8 + xs[j + 9] * w9)
        return
    w10 = w[k + 10]
    if u == 11:
        for j in range(n):
            d[j] = (s[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                    + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7
                    + xs[j + 8] * w8 + xs[j + 9] * w9 + xs[j + 10] * w10)
        return
    w11 = w[k + 11]
    for j in range(n):
        d[j] = (s[j] + xs[j] * w0 + xs[j + 1] * w1 + xs[j + 2] * w2 + xs[j + 3] * w3
                + xs[j + 4] * w4 + xs[j + 5] * w5 + xs[j + 6] * w6 + xs[j + 7] * w7
                + xs[j + 8] * w8 + xs[j + 9] * w9 + xs[j + 10] * w10 + xs[j + 11] * w11)


@njit(**SERIAL)
def _last_block(b, nblk, x, out, chunk, w, emap, elead, cval, ext, scratch):
    R, N = x.shape
    m = w.shape[0]
    ne = N + m - 1
    lo, hi = _span(b, nblk, R)
    e = ext[b, :ne]
    acc = scratch[b, :chunk]
    tail = min(elead, ne)
    for r in range(lo, hi):
        xr = x[r]
        # the extended line: the map at both ends, the inside copied
        for q in range(tail):
            s = emap[q]
            e[q] = cval if s < 0 else xr[s]
        inner = min(N, ne - tail)
        ei = e[tail:tail + inner]
        for q in range(inner):
            ei[q] = xr[q]
        for q in range(tail + inner, ne):
            s = emap[q]
            e[q] = cval if s < 0 else xr[s]
        orow = out[r]
        for c0 in range(0, N, chunk):
            n = min(chunk, N - c0)
            av = acc[:n]
            ov = orow[c0:c0 + n]
            k = 0
            while k < m:
                # the first block starts the sums, the last one writes the outputs
                # (with up to 4 taps more than the others: no pass of its own
                # for the last few taps)
                u = min(U, m - k)
                if k > 0 and U < m - k <= U + 4:
                    _hlast(ov, av, e, c0 + k, n, w, k, m - k)
                    break
                if k + u < m:
                    _hblock(av, av, e, c0 + k, n, w, k, u, k == 0, False)
                else:
                    _hblock(ov, av, e, c0 + k, n, w, k, u, k == 0, True)
                k += u


@njit(**PARALLEL)
def line32_last_parallel(x, out, chunk, w, emap, elead, cval, ext, scratch):
    """Float32 correlation along the last axis of rows ``x`` into ``out`` (which
    may be ``x`` itself): output ``j`` reads extended positions ``j .. j + m -
    1``, position ``q`` being ``x[r, emap[q]]`` (-1: ``cval``). Per block,
    ``ext`` holds the extended line (``N + m - 1`` float32) and ``scratch``
    the accumulator (``chunk``)."""
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _last_block(b, nblk, x, out, chunk, w, emap, elead, cval, ext, scratch)


@njit(**SERIAL)
def line32_last_serial(x, out, chunk, w, emap, elead, cval, ext, scratch):
    """Serial twin of ``line32_last_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _last_block(b, nblk, x, out, chunk, w, emap, elead, cval, ext, scratch)


enable_cache(_span, _rows4, _rows1, _group, _rows_block, line32_rows_parallel, line32_rows_serial,
             _hblock, _hlast, _last_block, line32_last_parallel, line32_last_serial)


# ------------------------------------------- uniform_filter: the fused box
@njit(**SERIAL)
def _brow(x, b, r, crow):
    """Row ``r`` of image ``b``, or the constant row where ``r`` is -1."""
    if r < 0:
        return crow
    return x[b, r]


@njit(**SERIAL)
def _bborders(e, clead, C, cmap, cfill):
    """The extended positions of a row of column sums outside the image:
    the map's column (its sum is at ``clead + column``), or ``cfill``."""
    for q in range(clead):
        s = cmap[q]
        e[q] = cfill if s < 0 else e[clead + s]
    for q in range(clead + C, cmap.shape[0]):
        s = cmap[q]
        e[q] = cfill if s < 0 else e[clead + s]


@njit(**SERIAL)
def _bstep(dst, src, clead, C, new, old):
    """``dst = src + (new - old)`` on the image's columns: the vertical running sum."""
    d = dst[clead:clead + C]
    s = src[clead:clead + C]
    for c in range(C):
        d[c] = s[c] + (np.float64(new[c]) - np.float64(old[c]))


@njit(**SERIAL)
def _bhorizontal(o0, o1, o2, o3, e0, e1, e2, e3, rows, C, sc, inv):
    """``o_g[j] = inv * sum(e_g[j:j + sc])`` by running sums along the row,
    ``rows`` (1 to 4) rows at once: independent add chains keep the core busy."""
    h0 = 0.0
    h1 = 0.0
    h2 = 0.0
    h3 = 0.0
    for q in range(sc):
        h0 += e0[q]
        h1 += e1[q]
        h2 += e2[q]
        h3 += e3[q]
    o0[0] = h0 * inv
    if rows == 4:
        o1[0] = h1 * inv
        o2[0] = h2 * inv
        o3[0] = h3 * inv
        for j in range(1, C):
            h0 += e0[j + sc - 1] - e0[j - 1]
            h1 += e1[j + sc - 1] - e1[j - 1]
            h2 += e2[j + sc - 1] - e2[j - 1]
            h3 += e3[j + sc - 1] - e3[j - 1]
            o0[j] = h0 * inv
            o1[j] = h1 * inv
            o2[j] = h2 * inv
            o3[j] = h3 * inv
        return
    for j in range(1, C):
        h0 += e0[j + sc - 1] - e0[j - 1]
        o0[j] = h0 * inv


@njit(**SERIAL)
def _box_block(b, nblk, x, out, sr, sc, rmap, cmap, clead, cval, inv, band, crow, ebuf, bad):
    B, R, C = x.shape
    nbd = (R + band - 1) // band
    lo, hi = _span(b, nblk, B * nbd)
    ne = C + sc - 1
    e0 = ebuf[b, 0, :ne]
    e1 = ebuf[b, 1, :ne]
    e2 = ebuf[b, 2, :ne]
    e3 = ebuf[b, 3, :ne]
    cfill = cval * sr
    for t in range(lo, hi):
        im = t // nbd
        l0 = (t % nbd) * band
        l1 = min(R, l0 + band)
        # the band's first row of column sums, summed afresh (sums restart
        # at every band: the bands are fixed, so are the results)
        d = e3[clead:clead + C]
        for c in range(C):
            d[c] = 0.0
        for q in range(sr):
            v = _brow(x, im, rmap[l0 + q], crow)
            for c in range(C):
                d[c] += v[c]
        first = True
        lastg = 3
        l = l0
        while l < l1:
            rows = min(4, l1 - l)
            lastg = rows - 1
            # e0..e3: the column sums of output rows l .. l+3 (from e3, the last)
            for g in range(rows):
                dst = ebuf[b, g, :ne]
                if first:
                    if g != 3:
                        dv = dst[clead:clead + C]
                        sv = e3[clead:clead + C]
                        for c in range(C):
                            dv[c] = sv[c]
                    first = False
                else:
                    src = ebuf[b, (g + 3) % 4, :ne]
                    ll = l + g
                    _bstep(dst, src, clead, C, _brow(x, im, rmap[ll + sr - 1], crow),
                           _brow(x, im, rmap[ll - 1], crow))
                _bborders(dst, clead, C, cmap, cfill)
            if rows == 4:
                _bhorizontal(out[im, l], out[im, l + 1], out[im, l + 2], out[im, l + 3],
                             e0, e1, e2, e3, 4, C, sc, inv)
            else:
                for g in range(rows):
                    eg = ebuf[b, g, :ne]
                    og = out[im, l + g]
                    _bhorizontal(og, og, og, og, eg, eg, eg, eg, 1, C, sc, inv)
            # the next group continues from the last row's sums, kept in e3
            if rows < 4:
                break
            l += 4
        # a NaN or inf read anywhere in the band stays in its column sums
        # (inf - inf is NaN): the last row's sums tell
        el = ebuf[b, lastg, clead:clead + C]
        for c in range(C):
            v = el[c]
            if not v - v == 0.0:
                bad[b] = 1


@njit(**PARALLEL)
def box_parallel(x, out, sr, sc, rmap, cmap, clead, cval, inv, band, crow, ebuf, bad):
    """The mean over ``sr x sc`` windows of images ``x`` (``(batch, rows,
    cols)``) extended by the maps ``rmap``/``cmap`` (-1: ``cval``), times
    ``inv`` (``1 / (sr sc)``): running column sums down bands of ``band``
    rows, running row sums of them (see ``jitconv.algorithms.filter_box``).
    ``crow`` holds ``cval`` (a row of ``x``'s dtype); ``ebuf`` four extended
    rows of sums per block (at least ``cols + sc - 1`` float64 each);
    ``bad[b]`` is set to 1 when block ``b`` read a NaN or an inf."""
    nblk = ebuf.shape[0]
    for b in prange(nblk):
        _box_block(b, nblk, x, out, sr, sc, rmap, cmap, clead, cval, inv, band, crow, ebuf, bad)


@njit(**SERIAL)
def box_serial(x, out, sr, sc, rmap, cmap, clead, cval, inv, band, crow, ebuf, bad):
    """Serial twin of ``box_parallel``."""
    nblk = ebuf.shape[0]
    for b in range(nblk):
        _box_block(b, nblk, x, out, sr, sc, rmap, cmap, clead, cval, inv, band, crow, ebuf, bad)


enable_cache(_brow, _bborders, _bstep, _bhorizontal, _box_block, box_parallel, box_serial)


# ------------------------------------------------- blocks of the FFT filter
@njit(**SERIAL)
def _fill(row, xr, s2, k0, k1, cval):
    """``row[k]`` for ``k0 <= k < k1`` through the map ``s2`` (-1: ``cval``, -2: zero)."""
    for k in range(k0, k1):
        s = s2[k]
        if s >= 0:
            row[k] = xr[s]
        elif s == -1:
            row[k] = cval
        else:
            row[k] = 0.0


@njit(**SERIAL)
def gather_block(dst, x, s0, s1, s2, ra, rb, rs, cval):
    """``dst[b, i, j, k]`` = the extended input at source indices ``(s0[i],
    s1[j], s2[k])`` of ``x[b]``: ``cval`` where an index is -1, zero where one
    is -2 (beyond the input's last block: the FFT's zero padding). Positions
    ``ra <= k < rb`` read ``x[b, ., ., rs + k - ra]`` (the inside: one slice
    copy per row); the rest go through ``s2``."""
    Bt, F0, F1, F2 = dst.shape
    for b in range(Bt):
        for i in range(F0):
            a = s0[i]
            for j in range(F1):
                c = s1[j]
                row = dst[b, i, j]
                if a == -2 or c == -2:
                    for k in range(F2):
                        row[k] = 0.0
                elif a == -1 or c == -1:
                    for k in range(F2):
                        row[k] = 0.0 if s2[k] == -2 else cval
                else:
                    xr = x[b, a, c]
                    _fill(row, xr, s2, 0, ra, cval)
                    rv = row[ra:rb]
                    xv = xr[rs:rs + rb - ra]
                    for k in range(rb - ra):
                        rv[k] = xv[k]
                    _fill(row, xr, s2, rb, F2, cval)


enable_cache(_fill, gather_block)
