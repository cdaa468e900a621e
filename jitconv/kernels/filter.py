"""Boundary-mode correlations (``scipy.ndimage``'s filters) in SciPy's arithmetic.

Contract. Every kernel here computes, for each output, the sum SciPy's C code
computes (``ni_filters.c``), with the same operations in the same order, in
float64: the results are bitwise SciPy's (rounded once to the output when it
is float32). Inputs are read through index maps of the boundary mode
(``jitconv._extend``): ``-1`` reads the constant ``cval``. Three sums:

- ``nd_*`` (``correlate``/``convolve``, SciPy's ``NI_Correlate``): ``acc =
  0.0``, then ``acc += w * x`` over the kernel's taps in C order, skipping
  the taps the driver dropped (SciPy drops ``|w| <= DBL_EPSILON``);
- ``line_*`` (``correlate1d`` and the separable filters built on it,
  ``NI_Correlate1D``): a symmetric kernel (``sym=1``) sums ``x[c] * w[c]``
  then ``(x[c-k] + x[c+k]) * w[c-k]`` from the outermost pair inwards; an
  antisymmetric one (``sym=-1``) the differences; any other (``sym=0``)
  starts with the last tap and adds the others in order;
- ``uniform_*`` (``uniform_filter1d``, ``NI_UniformFilter1D``): a running
  sum, ``s += x[new] - x[old]``, each output ``s / size``.

What the kernels never do: validate, allocate inside a parallel loop (each
block of tasks has a row of the preallocated ``scratch``), materialise a
padded copy of the input (interior outputs read the input in place; border
outputs read through the maps, or for 1-d lines through a small extended
buffer), reassociate a sum (unrolled loops keep each output's order: ``v =
acc[j]; v += a; v += b``), or use fast-math.

Error bound (SciPy's own): an ``nd``/``line`` output with taps ``w`` over
values ``x`` is a sequential float64 sum: ``|err| <= taps * eps64 *
sum|w x|`` before the final rounding. The running sum accumulates: after
``l`` steps along a line ``|err| <= eps64 * (size + 2 l) * M`` with ``M``
the largest window sum of ``|x|``; integer inputs are exact while window sums
stay below ``2**53``. Work is split into blocks of disjoint outputs: results
are bitwise identical for any thread count.

Layouts: ``x`` and ``out`` are C-contiguous and of one dtype (float32 or
float64); ``nd``/``line_last``/``uniform_last`` see them as ``(rows, n)``
(lines along the last axis), ``line_rows``/``uniform_rows`` as ``(outer,
length, inner)`` (lines along the middle axis, vectorised over ``inner``).
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache


@njit(**SERIAL)
def _span(b, nblk, ntasks):
    """Tasks ``[lo, hi)`` of block ``b`` of ``nblk`` (contiguous, balanced)."""
    return b * ntasks // nblk, (b + 1) * ntasks // nblk


# ------------------------------------------------------------- shared
@njit(**SERIAL)
def _extend(e, xr, emap, start, count, cval):
    """``e[q] = xr[emap[start + q]]`` (``cval`` where the map is -1), ``q < count``."""
    for q in range(count):
        s = emap[start + q]
        e[q] = cval if s < 0 else xr[s]


@njit(**SERIAL)
def _borders(c0, n, ja, jb):
    """Border outputs of chunk ``[c0, c0+n)`` outside the interior ``[ja, jb)``:
    ``(l0, l1, r0, r1)``; everything is border when the interior misses it."""
    ia = max(c0, ja)
    ib = min(c0 + n, jb)
    if ia >= ib:
        return c0, c0 + n, c0 + n, c0 + n
    return c0, ia, ib, c0 + n


# -------------------------------------------------- nd: NI_Correlate
@njit(**SERIAL)
def _at(x, crow, r):
    """Row ``r`` of ``x``, or the constant row where ``r`` is -1."""
    if r < 0:
        return crow
    return x[r]


@njit(**SERIAL)
def _taps_rows(acc, a0, n, x, crow, srcs, s0, tap_kr, tap_b, tap_w, p0, p1):
    """``acc[a0 + j] += w[p] * row(p)[s0 + j + b[p]]`` for taps ``p0 <= p < p1`` in
    order, where ``row(p)`` is the source row of the tap's kernel row (the
    constant row, read from 0, where it is outside): every tap of the kernel
    in one sweep of four, whatever row it sits in."""
    av = acc[a0:a0 + n]
    p = p0
    while p + 4 <= p1:
        r0 = srcs[tap_kr[p]]
        r1 = srcs[tap_kr[p + 1]]
        r2 = srcs[tap_kr[p + 2]]
        r3 = srcs[tap_kr[p + 3]]
        o0 = s0 + tap_b[p] if r0 >= 0 else 0
        o1 = s0 + tap_b[p + 1] if r1 >= 0 else 0
        o2 = s0 + tap_b[p + 2] if r2 >= 0 else 0
        o3 = s0 + tap_b[p + 3] if r3 >= 0 else 0
        v0 = _at(x, crow, r0)[o0:o0 + n]
        v1 = _at(x, crow, r1)[o1:o1 + n]
        v2 = _at(x, crow, r2)[o2:o2 + n]
        v3 = _at(x, crow, r3)[o3:o3 + n]
        w0, w1, w2, w3 = tap_w[p], tap_w[p + 1], tap_w[p + 2], tap_w[p + 3]
        for j in range(n):
            v = av[j]
            v += w0 * v0[j]
            v += w1 * v1[j]
            v += w2 * v2[j]
            v += w3 * v3[j]
            av[j] = v
        p += 4
    while p < p1:
        r0 = srcs[tap_kr[p]]
        o0 = s0 + tap_b[p] if r0 >= 0 else 0
        v0 = _at(x, crow, r0)[o0:o0 + n]
        w0 = tap_w[p]
        for j in range(n):
            av[j] += w0 * v0[j]
        p += 1


@njit(**SERIAL)
def _nd_block(b, nblk, x, out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr, tap_b, tap_w,
              emap, elead, mlast, cval, crow, srcbuf, scratch):
    R, N = x.shape
    nch = (N + chunk - 1) // chunk
    lo, hi = _span(b, nblk, R * nch)
    acc = scratch[b]
    srcs = srcbuf[b]
    D1 = lead.shape[0]
    KR = tap_ptr.shape[0] - 1
    P = tap_ptr[KR]
    ja = elead
    jb = N - mlast + elead + 1
    for t in range(lo, hi):
        r = t // nch
        c0 = (t % nch) * chunk
        n = min(chunk, N - c0)
        for j in range(n):
            acc[j] = 0.0
        # the source row of every kernel row (-1: outside, the constant)
        for kr in range(KR):
            src = 0
            rr = r
            kk = kr
            for d in range(D1 - 1, -1, -1):
                s = maps[d, rr % lead[d], kk % klead[d]]
                rr //= lead[d]
                kk //= klead[d]
                if s < 0 or src < 0:
                    src = -1
                else:
                    src += s * rstride[d]
            srcs[kr] = src
        l0, l1, r0, r1 = _borders(c0, n, ja, jb)
        if l1 < r0:  # interior outputs: every tap reads its row in place
            _taps_rows(acc, l1 - c0, r0 - l1, x, crow, srcs, l1 - elead, tap_kr, tap_b, tap_w,
                       0, P)
        # border outputs (a few per line): each tap read through the maps
        for sa, sb in ((l0, l1), (r0, r1)):
            for j in range(sa, sb):
                v = acc[j - c0]
                for p in range(P):
                    src = srcs[tap_kr[p]]
                    col = emap[j + tap_b[p]]
                    if src < 0 or col < 0:
                        v += tap_w[p] * cval
                    else:
                        v += tap_w[p] * x[src, col]
                acc[j - c0] = v
        o = out[r, c0:c0 + n]
        for j in range(n):
            o[j] = acc[j]


@njit(**PARALLEL)
def nd_parallel(x, out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr, tap_b, tap_w, emap,
                elead, mlast, cval, crow, srcbuf, scratch):
    """N-d correlation (``NI_Correlate``'s sum) of rows ``x`` into ``out``.

    Row ``r`` of ``x`` is the multi-index ``lead`` (C order) of the leading
    axes; ``maps[d, i, a]`` is the source index along leading axis ``d`` for
    output ``i`` and kernel offset ``a`` (-1: constant). The taps, in C
    order, are ``(tap_kr, tap_b, tap_w)``: kernel row (multi-index
    ``klead``), offset along the last axis, weight; kernel row ``kr`` holds
    taps ``tap_ptr[kr]:tap_ptr[kr+1]``. Position ``p`` of the extended last
    axis reads ``emap[p]``; output ``j`` with tap ``b`` reads position ``j +
    b`` (``elead`` positions precede the first output). ``crow`` holds
    ``cval`` (exactly, in ``x``'s dtype); ``srcbuf`` and ``scratch`` one row
    per block.
    """
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _nd_block(b, nblk, x, out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr, tap_b,
                  tap_w, emap, elead, mlast, cval, crow, srcbuf, scratch)


@njit(**SERIAL)
def nd_serial(x, out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr, tap_b, tap_w, emap,
              elead, mlast, cval, crow, srcbuf, scratch):
    """Serial twin of ``nd_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _nd_block(b, nblk, x, out, chunk, lead, klead, rstride, maps, tap_ptr, tap_kr, tap_b,
                  tap_w, emap, elead, mlast, cval, crow, srcbuf, scratch)


# ------------------------------------------- line: NI_Correlate1D, last axis
@njit(**SERIAL)
def _line(acc, a0, n, src, s0, w, sym):
    """``acc[a0 + j]`` = SciPy's 1-d sum for the output whose window starts at
    ``src[s0 + j]`` (``len(w)`` taps)."""
    m = w.shape[0]
    s1 = m // 2
    s2 = m - s1 - 1
    av = acc[a0:a0 + n]
    if sym != 0:
        c = src[s0 + s1:s0 + s1 + n]
        wc = w[s1]
        for j in range(n):
            av[j] = c[j] * wc
        k = 0
        while k < s1:
            # pairs (k, m-1-k) from the outside in; four per sweep over acc
            if k + 4 <= s1:
                a_0 = src[s0 + k:s0 + k + n]
                b_0 = src[s0 + m - 1 - k:s0 + m - 1 - k + n]
                a_1 = src[s0 + k + 1:s0 + k + 1 + n]
                b_1 = src[s0 + m - 2 - k:s0 + m - 2 - k + n]
                a_2 = src[s0 + k + 2:s0 + k + 2 + n]
                b_2 = src[s0 + m - 3 - k:s0 + m - 3 - k + n]
                a_3 = src[s0 + k + 3:s0 + k + 3 + n]
                b_3 = src[s0 + m - 4 - k:s0 + m - 4 - k + n]
                w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
                if sym > 0:
                    for j in range(n):
                        v = av[j]
                        v += (np.float64(a_0[j]) + np.float64(b_0[j])) * w0
                        v += (np.float64(a_1[j]) + np.float64(b_1[j])) * w1
                        v += (np.float64(a_2[j]) + np.float64(b_2[j])) * w2
                        v += (np.float64(a_3[j]) + np.float64(b_3[j])) * w3
                        av[j] = v
                else:
                    for j in range(n):
                        v = av[j]
                        v += (np.float64(a_0[j]) - np.float64(b_0[j])) * w0
                        v += (np.float64(a_1[j]) - np.float64(b_1[j])) * w1
                        v += (np.float64(a_2[j]) - np.float64(b_2[j])) * w2
                        v += (np.float64(a_3[j]) - np.float64(b_3[j])) * w3
                        av[j] = v
                k += 4
            else:
                a_0 = src[s0 + k:s0 + k + n]
                b_0 = src[s0 + m - 1 - k:s0 + m - 1 - k + n]
                w0 = w[k]
                if sym > 0:
                    for j in range(n):
                        av[j] += (np.float64(a_0[j]) + np.float64(b_0[j])) * w0
                else:
                    for j in range(n):
                        av[j] += (np.float64(a_0[j]) - np.float64(b_0[j])) * w0
                k += 1
        return
    last = src[s0 + m - 1:s0 + m - 1 + n]
    wl = w[m - 1]
    for j in range(n):
        av[j] = last[j] * wl
    k = 0
    while k + 4 <= m - 1:
        v0 = src[s0 + k:s0 + k + n]
        v1 = src[s0 + k + 1:s0 + k + 1 + n]
        v2 = src[s0 + k + 2:s0 + k + 2 + n]
        v3 = src[s0 + k + 3:s0 + k + 3 + n]
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        for j in range(n):
            v = av[j]
            v += v0[j] * w0
            v += v1[j] * w1
            v += v2[j] * w2
            v += v3[j] * w3
            av[j] = v
        k += 4
    while k < m - 1:
        v0 = src[s0 + k:s0 + k + n]
        w0 = w[k]
        for j in range(n):
            av[j] += v0[j] * w0
        k += 1


@njit(**SERIAL)
def _line_last_block(b, nblk, x, out, chunk, w, sym, emap, elead, cval, scratch):
    R, N = x.shape
    m = w.shape[0]
    nch = (N + chunk - 1) // chunk
    lo, hi = _span(b, nblk, R * nch)
    acc = scratch[b, :chunk]
    e = scratch[b, chunk:]
    ja = elead
    jb = N - m + elead + 1
    for t in range(lo, hi):
        r = t // nch
        c0 = (t % nch) * chunk
        n = min(chunk, N - c0)
        xr = x[r]
        l0, l1, r0, r1 = _borders(c0, n, ja, jb)
        if l1 < r0:
            _line(acc, l1 - c0, r0 - l1, xr, l1 - elead, w, sym)
        if l0 < l1:
            _extend(e, xr, emap, l0, l1 - l0 + m - 1, cval)
            _line(acc, 0, l1 - l0, e, 0, w, sym)
        if r0 < r1:
            _extend(e, xr, emap, r0, r1 - r0 + m - 1, cval)
            _line(acc, r0 - c0, r1 - r0, e, 0, w, sym)
        o = out[r, c0:c0 + n]
        for j in range(n):
            o[j] = acc[j]


@njit(**PARALLEL)
def line_last_parallel(x, out, chunk, w, sym, emap, elead, cval, scratch):
    """``correlate1d`` along the last axis of rows ``x`` (``NI_Correlate1D``'s sums).

    Output ``j`` reads extended positions ``j .. j + len(w) - 1``; position
    ``p`` is ``x[r, emap[p]]`` (-1: ``cval``); ``elead`` positions precede
    the first output.
    """
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _line_last_block(b, nblk, x, out, chunk, w, sym, emap, elead, cval, scratch)


@njit(**SERIAL)
def line_last_serial(x, out, chunk, w, sym, emap, elead, cval, scratch):
    """Serial twin of ``line_last_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _line_last_block(b, nblk, x, out, chunk, w, sym, emap, elead, cval, scratch)


# ---------------------------------- line: NI_Correlate1D, a leading axis
@njit(**SERIAL)
def _row(x, o, r, i0, n, crow):
    """Row ``r`` of block ``o`` (columns ``i0:i0+n``), or the constant row."""
    if r < 0:
        return crow[:n]
    return x[o, r, i0:i0 + n]


@njit(**SERIAL)
def _line_rows_block(b, nblk, x, out, chunk, w, sym, rmap, crow, scratch):
    O, L, I = x.shape
    m = w.shape[0]
    s1 = m // 2
    nch = (I + chunk - 1) // chunk
    lo, hi = _span(b, nblk, O * L * nch)
    acc = scratch[b, :chunk]
    for t in range(lo, hi):
        c = t % nch
        q = t // nch
        ll = q % L
        o = q // L
        i0 = c * chunk
        n = min(chunk, I - i0)
        if sym != 0:
            cr = _row(x, o, rmap[ll + s1], i0, n, crow)
            wc = w[s1]
            for j in range(n):
                acc[j] = cr[j] * wc
            k = 0
            while k < s1:
                if k + 4 <= s1:
                    a_0 = _row(x, o, rmap[ll + k], i0, n, crow)
                    b_0 = _row(x, o, rmap[ll + m - 1 - k], i0, n, crow)
                    a_1 = _row(x, o, rmap[ll + k + 1], i0, n, crow)
                    b_1 = _row(x, o, rmap[ll + m - 2 - k], i0, n, crow)
                    a_2 = _row(x, o, rmap[ll + k + 2], i0, n, crow)
                    b_2 = _row(x, o, rmap[ll + m - 3 - k], i0, n, crow)
                    a_3 = _row(x, o, rmap[ll + k + 3], i0, n, crow)
                    b_3 = _row(x, o, rmap[ll + m - 4 - k], i0, n, crow)
                    w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
                    if sym > 0:
                        for j in range(n):
                            v = acc[j]
                            v += (np.float64(a_0[j]) + np.float64(b_0[j])) * w0
                            v += (np.float64(a_1[j]) + np.float64(b_1[j])) * w1
                            v += (np.float64(a_2[j]) + np.float64(b_2[j])) * w2
                            v += (np.float64(a_3[j]) + np.float64(b_3[j])) * w3
                            acc[j] = v
                    else:
                        for j in range(n):
                            v = acc[j]
                            v += (np.float64(a_0[j]) - np.float64(b_0[j])) * w0
                            v += (np.float64(a_1[j]) - np.float64(b_1[j])) * w1
                            v += (np.float64(a_2[j]) - np.float64(b_2[j])) * w2
                            v += (np.float64(a_3[j]) - np.float64(b_3[j])) * w3
                            acc[j] = v
                    k += 4
                else:
                    a_0 = _row(x, o, rmap[ll + k], i0, n, crow)
                    b_0 = _row(x, o, rmap[ll + m - 1 - k], i0, n, crow)
                    w0 = w[k]
                    if sym > 0:
                        for j in range(n):
                            acc[j] += (np.float64(a_0[j]) + np.float64(b_0[j])) * w0
                    else:
                        for j in range(n):
                            acc[j] += (np.float64(a_0[j]) - np.float64(b_0[j])) * w0
                    k += 1
        else:
            lr = _row(x, o, rmap[ll + m - 1], i0, n, crow)
            wl = w[m - 1]
            for j in range(n):
                acc[j] = lr[j] * wl
            k = 0
            while k + 4 <= m - 1:
                v0 = _row(x, o, rmap[ll + k], i0, n, crow)
                v1 = _row(x, o, rmap[ll + k + 1], i0, n, crow)
                v2 = _row(x, o, rmap[ll + k + 2], i0, n, crow)
                v3 = _row(x, o, rmap[ll + k + 3], i0, n, crow)
                w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
                for j in range(n):
                    v = acc[j]
                    v += v0[j] * w0
                    v += v1[j] * w1
                    v += v2[j] * w2
                    v += v3[j] * w3
                    acc[j] = v
                k += 4
            while k < m - 1:
                v0 = _row(x, o, rmap[ll + k], i0, n, crow)
                w0 = w[k]
                for j in range(n):
                    acc[j] += v0[j] * w0
                k += 1
        orow = out[o, ll, i0:i0 + n]
        for j in range(n):
            orow[j] = acc[j]


@njit(**PARALLEL)
def line_rows_parallel(x, out, chunk, w, sym, rmap, crow, scratch):
    """``correlate1d`` along the middle axis of ``x`` (``(outer, length, inner)``),
    vectorised over ``inner``: output row ``l`` reads rows ``rmap[l + k]`` for
    taps ``k`` (-1: the constant row ``crow``, which holds ``cval``)."""
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _line_rows_block(b, nblk, x, out, chunk, w, sym, rmap, crow, scratch)


@njit(**SERIAL)
def line_rows_serial(x, out, chunk, w, sym, rmap, crow, scratch):
    """Serial twin of ``line_rows_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _line_rows_block(b, nblk, x, out, chunk, w, sym, rmap, crow, scratch)


# --------------------------------------------- uniform: NI_UniformFilter1D
@njit(**SERIAL)
def _ext_line(e, xr, emap, elead, ne, cval):
    """The whole extended line: borders through the map, the inside copied."""
    N = xr.shape[0]
    a = min(elead, ne)
    _extend(e, xr, emap, 0, a, cval)
    c = min(N, ne - a)
    for q in range(c):
        e[a + q] = xr[q]
    for q in range(a + c, ne):
        s = emap[q]
        e[q] = cval if s < 0 else xr[s]


@njit(**SERIAL)
def _uniform_last_block(b, nblk, x, out, size, emap, elead, cval, scratch):
    R, N = x.shape
    ng = (R + 3) // 4
    lo, hi = _span(b, nblk, ng)
    ne = N + size - 1
    buf = scratch[b]
    e0 = buf[0:ne]
    e1 = buf[ne:2 * ne]
    e2 = buf[2 * ne:3 * ne]
    e3 = buf[3 * ne:4 * ne]
    t0 = buf[4 * ne:4 * ne + N]
    t1 = buf[4 * ne + N:4 * ne + 2 * N]
    t2 = buf[4 * ne + 2 * N:4 * ne + 3 * N]
    t3 = buf[4 * ne + 3 * N:4 * ne + 4 * N]
    for g in range(lo, hi):
        r = 4 * g
        k = min(4, R - r)
        # four lines at once: four independent add chains keep the core busy
        # (one chain waits on its add's latency); missing lines repeat the last
        _ext_line(e0, x[r], emap, elead, ne, cval)
        _ext_line(e1, x[min(r + 1, R - 1)], emap, elead, ne, cval)
        _ext_line(e2, x[min(r + 2, R - 1)], emap, elead, ne, cval)
        _ext_line(e3, x[min(r + 3, R - 1)], emap, elead, ne, cval)
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for q in range(size):
            s0 += e0[q]
            s1 += e1[q]
            s2 += e2[q]
            s3 += e3[q]
        t0[0] = s0
        t1[0] = s1
        t2[0] = s2
        t3[0] = s3
        for j in range(1, N):
            s0 += e0[j + size - 1] - e0[j - 1]
            s1 += e1[j + size - 1] - e1[j - 1]
            s2 += e2[j + size - 1] - e2[j - 1]
            s3 += e3[j + size - 1] - e3[j - 1]
            t0[j] = s0
            t1[j] = s1
            t2[j] = s2
            t3[j] = s3
        # the divisions apart, vectorised (the same quotients)
        o = out[r]
        for j in range(N):
            o[j] = t0[j] / size
        if k > 1:
            o = out[r + 1]
            for j in range(N):
                o[j] = t1[j] / size
        if k > 2:
            o = out[r + 2]
            for j in range(N):
                o[j] = t2[j] / size
        if k > 3:
            o = out[r + 3]
            for j in range(N):
                o[j] = t3[j] / size


@njit(**PARALLEL)
def uniform_last_parallel(x, out, size, emap, elead, cval, scratch):
    """``uniform_filter1d`` along the last axis of rows ``x``: SciPy's running
    sum, four lines per task (``scratch`` rows: four extended lines and four
    lines of sums)."""
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _uniform_last_block(b, nblk, x, out, size, emap, elead, cval, scratch)


@njit(**SERIAL)
def uniform_last_serial(x, out, size, emap, elead, cval, scratch):
    """Serial twin of ``uniform_last_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _uniform_last_block(b, nblk, x, out, size, emap, elead, cval, scratch)


@njit(**SERIAL)
def _uniform_rows_block(b, nblk, x, out, chunk, size, rmap, crow, scratch):
    O, L, I = x.shape
    nch = (I + chunk - 1) // chunk
    lo, hi = _span(b, nblk, O * nch)
    s = scratch[b, :chunk]
    for t in range(lo, hi):
        o = t // nch
        i0 = (t % nch) * chunk
        n = min(chunk, I - i0)
        for j in range(n):
            s[j] = 0.0
        for q in range(size):
            v = _row(x, o, rmap[q], i0, n, crow)
            for j in range(n):
                s[j] += v[j]
        orow = out[o, 0, i0:i0 + n]
        for j in range(n):
            orow[j] = s[j] / size
        for ll in range(1, L):
            new = _row(x, o, rmap[ll + size - 1], i0, n, crow)
            old = _row(x, o, rmap[ll - 1], i0, n, crow)
            orow = out[o, ll, i0:i0 + n]
            for j in range(n):
                s[j] += np.float64(new[j]) - np.float64(old[j])
                orow[j] = s[j] / size


@njit(**PARALLEL)
def uniform_rows_parallel(x, out, chunk, size, rmap, crow, scratch):
    """``uniform_filter1d`` along the middle axis of ``x`` (``(outer, length,
    inner)``), one running sum per inner column, vectorised over ``inner``."""
    nblk = scratch.shape[0]
    for b in prange(nblk):
        _uniform_rows_block(b, nblk, x, out, chunk, size, rmap, crow, scratch)


@njit(**SERIAL)
def uniform_rows_serial(x, out, chunk, size, rmap, crow, scratch):
    """Serial twin of ``uniform_rows_parallel``."""
    nblk = scratch.shape[0]
    for b in range(nblk):
        _uniform_rows_block(b, nblk, x, out, chunk, size, rmap, crow, scratch)


enable_cache(_span, _extend, _borders, _at, _taps_rows, _nd_block, nd_parallel, nd_serial, _line,
             _line_last_block, line_last_parallel, line_last_serial, _row, _line_rows_block,
             line_rows_parallel, line_rows_serial, _ext_line, _uniform_last_block, uniform_last_parallel,
             uniform_last_serial, _uniform_rows_block, uniform_rows_parallel,
             uniform_rows_serial)
