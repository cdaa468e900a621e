"""numba kernels of the CNN ops (``jitconv.nn``).

Every problem is normalised by the drivers (the ``nn_*`` modules of
``jitconv.algorithms``) to three spatial axes: ``x`` is ``(N, C, D, H, W)``,
a weight is ``(Cout, Cin/groups, KD, KH, KW)`` and the geometry is one int64
array ``g`` (``jitconv._problem.Geo.array``)::

    g = [KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW, OD, OH, OW]

(kernel, stride, dilation, leading zero padding, output size). Output
position ``o`` along an axis reads input position ``o*S + k*DIL - P``;
positions outside ``[0, size)`` are zero padding.

Kernels:

- ``im2col``: rows ``(c, kd, kh, kw)`` x columns (output positions) of a
  chunk of images and one group, for a BLAS GEMM;
- ``col2im``: its adjoint (scatter-add), for input gradients and transposed
  convolutions;
- ``direct``: the convolution itself, for small channel counts and depthwise
  layers where a GEMM has nothing to chew on;
- ``winograd_input`` / ``winograd_output``: the F(2x2, 3x3) transforms;
- ``grid_cols`` / ``grid_store``: im2col rows and the output scatter on the
  padded stride-1 grid.

What they never do: read the zero padding (``im2col`` writes zeros in its
place; ``direct`` skips it, so ``0 * inf`` cannot appear there), allocate
inside a parallel loop, raise, validate (the drivers and
``jitconv._validate.nn`` do), or use fast-math.

``direct`` has a parallel and a serial twin; its work is split so that every
task writes its own rows (no atomics): results are bitwise identical for any
thread count. The others are serial: they run between OpenBLAS calls, whose
spinning threads a numba parallel region would fight for the cores.

Sums: ``direct`` accumulates in the data's dtype (float32 in float32, like
PyTorch and sgemm) over ``Cin/groups * KD*KH*KW`` taps in a fixed order:
``|err| <= taps * eps * (|w| . |x|)`` per output. im2col/col2im and the grid
kernels only copy (exact); the Winograd transforms add and subtract up to
16 values per output (a few more roundings: see ``algorithms.nn_winograd``).
Inner loops run over contiguous slices so that LLVM vectorises them (numba's
wraparound checks on computed indices block vectorisation).
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache


@njit(**SERIAL)
def _ow_range(off, S, W, OW):
    """Outputs ``ow`` in [0, OW) with ``0 <= ow*S + off < W``, as ``(lo, hi)``."""
    lo = 0 if off >= 0 else (-off + S - 1) // S
    hi = (W - 1 - off) // S + 1 if W - 1 - off >= 0 else 0
    lo = min(lo, OW)
    hi = max(lo, min(hi, OW))
    return lo, hi


@njit(**SERIAL)
def _im2col_row(x, cols, t, n0, c0, g, p0):
    KD, KH, KW = g[0], g[1], g[2]
    SD, SH, SW = g[3], g[4], g[5]
    DD, DH, DW = g[6], g[7], g[8]
    PD, PH, PW = g[9], g[10], g[11]
    OH, OW = g[13], g[14]
    D, H, W = x.shape[2], x.shape[3], x.shape[4]
    R = cols.shape[1]
    p1 = p0 + cols.shape[2]
    KV = KD * KH * KW
    b = t // R
    r = t % R
    c = r // KV
    q = r % KV
    i = q // (KH * KW)
    j = (q // KW) % KH
    l = q % KW
    row = cols[b, r]
    off = l * DW - PW
    lo, hi = _ow_range(off, SW, W, OW)
    for q in range(p0 // OW, (p1 - 1) // OW + 1):
        od = q // OH
        oh = q % OH
        zd = od * SD + i * DD - PD
        zh = oh * SH + j * DH - PH
        u0 = max(0, p0 - q * OW)
        u1 = min(OW, p1 - q * OW)
        seg = row[q * OW + u0 - p0: q * OW + u1 - p0]   # seg[v] is output ow = u0 + v
        if zd < 0 or zd >= D or zh < 0 or zh >= H:
            for v in range(u1 - u0):
                seg[v] = 0
            continue
        a = min(max(lo, u0), u1)
        e = max(min(hi, u1), a)
        for v in range(a - u0):
            seg[v] = 0
        for v in range(e - u0, u1 - u0):
            seg[v] = 0
        src = x[n0 + b, c0 + c, zd, zh]
        if SW == 1:
            s1 = src[a + off: e + off]
            d1 = seg[a - u0: e - u0]
            for v in range(e - a):
                d1[v] = s1[v]
        else:
            for v in range(a, e):
                seg[v - u0] = src[v * SW + off]


@njit(**SERIAL)
def im2col(x, cols, n0, c0, g, p0):
    """``cols[b, (c,i,j,l), p - p0] = x[n0+b, c0+c, <input position of p and (i,j,l)>]``
    for the flat output positions ``p0 <= p < p0 + cols.shape[2]``."""
    for t in range(cols.shape[0] * cols.shape[1]):
        _im2col_row(x, cols, t, n0, c0, g, p0)


@njit(**SERIAL)
def _col2im_plane(cols, dx, t, n0, c0, g, p0):
    KD, KH, KW = g[0], g[1], g[2]
    SD, SH, SW = g[3], g[4], g[5]
    DD, DH, DW = g[6], g[7], g[8]
    PD, PH, PW = g[9], g[10], g[11]
    OH, OW = g[13], g[14]
    D, H, W = dx.shape[2], dx.shape[3], dx.shape[4]
    p1 = p0 + cols.shape[2]
    Cg = cols.shape[1] // (KD * KH * KW)
    b = t // Cg
    c = t % Cg
    plane = dx[n0 + b, c0 + c]
    for i in range(KD):
        for j in range(KH):
            for l in range(KW):
                row = cols[b, ((c * KD + i) * KH + j) * KW + l]
                off = l * DW - PW
                lo, hi = _ow_range(off, SW, W, OW)
                if lo >= hi:
                    continue
                for q in range(p0 // OW, (p1 - 1) // OW + 1):
                    od = q // OH
                    oh = q % OH
                    zd = od * SD + i * DD - PD
                    zh = oh * SH + j * DH - PH
                    if zd < 0 or zd >= D or zh < 0 or zh >= H:
                        continue
                    u0 = max(0, p0 - q * OW)
                    u1 = min(OW, p1 - q * OW)
                    a = min(max(lo, u0), u1)
                    e = max(min(hi, u1), a)
                    seg = row[q * OW + a - p0: q * OW + e - p0]
                    dst = plane[zd, zh]
                    if SW == 1:
                        d1 = dst[a + off: e + off]
                        for v in range(e - a):
                            d1[v] += seg[v]
                    else:
                        for v in range(e - a):
                            dst[(a + v) * SW + off] += seg[v]


@njit(**SERIAL)
def col2im(cols, dx, n0, c0, g, p0):
    """Adjoint of ``im2col``: ``dx[n0+b, c0+c, ...] += cols[b, (c,i,j,l), p - p0]``."""
    Cg = cols.shape[1] // (g[0] * g[1] * g[2])
    for t in range(cols.shape[0] * Cg):
        _col2im_plane(cols, dx, t, n0, c0, g, p0)


@njit(**SERIAL)
def _direct_task(x, w, y, t, groups, g, chunk):
    KD, KH, KW = g[0], g[1], g[2]
    SD, SH, SW = g[3], g[4], g[5]
    DD, DH, DW = g[6], g[7], g[8]
    PD, PH, PW = g[9], g[10], g[11]
    OD, OH, OW = g[12], g[13], g[14]
    D, H, W = x.shape[2], x.shape[3], x.shape[4]
    Cout, Cg = w.shape[0], w.shape[1]
    cout_g = Cout // groups
    nch = (OW + chunk - 1) // chunk
    ch = t % nch
    r = t // nch
    oh = r % OH
    r //= OH
    od = r % OD
    r //= OD
    co = r % Cout
    n = r // Cout
    c0 = (co // cout_g) * Cg
    a = ch * chunk
    m = min(OW, a + chunk) - a
    acc = np.zeros(m, y.dtype)
    for c in range(Cg):
        for i in range(KD):
            zd = od * SD + i * DD - PD
            if zd < 0 or zd >= D:
                continue
            for j in range(KH):
                zh = oh * SH + j * DH - PH
                if zh < 0 or zh >= H:
                    continue
                src = x[n, c0 + c, zd, zh]
                for l in range(KW):
                    wv = w[co, c, i, j, l]
                    off = l * DW - PW
                    lo, hi = _ow_range(off, SW, W, OW)
                    lo = max(lo, a) - a
                    hi = min(hi, a + m) - a
                    if lo >= hi:
                        continue
                    av = acc[lo:hi]
                    if SW == 1:
                        s1 = src[a + lo + off: a + hi + off]
                        for u in range(hi - lo):
                            av[u] += s1[u] * wv
                    else:
                        for u in range(hi - lo):
                            av[u] += src[(a + lo + u) * SW + off] * wv
    dst = y[n, co, od, oh, a: a + m]
    for u in range(m):
        dst[u] = acc[u]


@njit(**SERIAL)
def _ntasks(y, chunk):
    """Direct tasks: one per (image, channel, output row, ``chunk`` outputs of a row)."""
    return y.shape[0] * y.shape[1] * y.shape[2] * y.shape[3] * ((y.shape[4] + chunk - 1) // chunk)


@njit(**PARALLEL)
def direct_parallel(x, w, y, groups, g, chunk):
    """``y[n, co, o] = sum_{c, k} w[co, c, k] * x[n, group(co)*Cg + c, o*S + k*DIL - P]``,
    in tasks of ``chunk`` outputs of a row (kept in L1 while every tap sweeps them)."""
    for t in prange(_ntasks(y, chunk)):
        _direct_task(x, w, y, t, groups, g, chunk)


@njit(**SERIAL)
def direct_serial(x, w, y, groups, g, chunk):
    for t in range(_ntasks(y, chunk)):
        _direct_task(x, w, y, t, groups, g, chunk)


# ------------------------------------------------------------ Winograd
# F(2x2, 3x3) (Lavin & Gray 2016): each 2x2 output tile is A^T [(G g G^T) * (B^T d B)] A
# with a 4x4 input tile d; B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]],
# A^T = [[1,1,1,0],[0,1,-1,-1]]. The 16 element-wise products, summed over
# channels, are 16 GEMMs done by BLAS; these kernels are the transforms, with
# the tile index innermost, over slices (named, not a list: a list of
# slices does not vectorise).

@njit(**SERIAL)
def _wino_cols(t, v0, v1, v2, v3):
    """Column transform of one row ``t`` of B^T d for every tile of the row."""
    for tx in range(v0.shape[0]):
        v0[tx] = t[2 * tx] - t[2 * tx + 2]
    for tx in range(v0.shape[0]):
        v1[tx] = t[2 * tx + 1] + t[2 * tx + 2]
    for tx in range(v0.shape[0]):
        v2[tx] = t[2 * tx + 2] - t[2 * tx + 1]
    for tx in range(v0.shape[0]):
        v3[tx] = t[2 * tx + 1] - t[2 * tx + 3]


@njit(**SERIAL)
def winograd_input(xp, V):
    """``V[ab, c, (b, ty, tx)] = (B^T d B)[a, b]`` for the 4x4 tiles of the
    zero-padded chunk ``xp (B, Cg, 2TH+2, 2TW+2)``.

    Rows first over whole rows, then columns in four one-store loops each:
    few streams per loop, so LLVM vectorises them (one loop writing all 16
    outputs did not: 3.1 ms per W10 image, this form ~1 ms).
    """
    B, Cg = xp.shape[0], xp.shape[1]
    TH = (xp.shape[2] - 2) // 2
    TW = (xp.shape[3] - 2) // 2
    L = xp.shape[3]
    t = np.empty((4, L), xp.dtype)
    t0, t1, t2, t3 = t[0], t[1], t[2], t[3]
    for b in range(B):
        for c in range(Cg):
            for ty in range(TH):
                base = (b * TH + ty) * TW
                r0 = xp[b, c, 2 * ty]
                r1 = xp[b, c, 2 * ty + 1]
                r2 = xp[b, c, 2 * ty + 2]
                r3 = xp[b, c, 2 * ty + 3]
                for u in range(L):
                    t0[u] = r0[u] - r2[u]
                for u in range(L):
                    t1[u] = r1[u] + r2[u]
                for u in range(L):
                    t2[u] = r2[u] - r1[u]
                for u in range(L):
                    t3[u] = r1[u] - r3[u]
                e = base + TW
                _wino_cols(t0, V[0, c, base:e], V[1, c, base:e], V[2, c, base:e], V[3, c, base:e])
                _wino_cols(t1, V[4, c, base:e], V[5, c, base:e], V[6, c, base:e], V[7, c, base:e])
                _wino_cols(t2, V[8, c, base:e], V[9, c, base:e], V[10, c, base:e],
                           V[11, c, base:e])
                _wino_cols(t3, V[12, c, base:e], V[13, c, base:e], V[14, c, base:e],
                           V[15, c, base:e])


@njit(**SERIAL)
def winograd_output(M, Y):
    """``Y[b, o, 2ty:2ty+2, 2tx:2tx+2] = A^T m A`` for ``M (16, Co, (b, ty, tx))``
    into ``Y (B, Co, 2TH, 2TW)``."""
    B, Co = Y.shape[0], Y.shape[1]
    TH = Y.shape[2] // 2
    TW = Y.shape[3] // 2
    for b in range(B):
        for o in range(Co):
            for ty in range(TH):
                base = (b * TH + ty) * TW
                y0 = Y[b, o, 2 * ty]
                y1 = Y[b, o, 2 * ty + 1]
                m0 = M[0, o, base: base + TW]
                m1 = M[1, o, base: base + TW]
                m2 = M[2, o, base: base + TW]
                m3 = M[3, o, base: base + TW]
                m4 = M[4, o, base: base + TW]
                m5 = M[5, o, base: base + TW]
                m6 = M[6, o, base: base + TW]
                m7 = M[7, o, base: base + TW]
                m8 = M[8, o, base: base + TW]
                m9 = M[9, o, base: base + TW]
                m10 = M[10, o, base: base + TW]
                m11 = M[11, o, base: base + TW]
                m12 = M[12, o, base: base + TW]
                m13 = M[13, o, base: base + TW]
                m14 = M[14, o, base: base + TW]
                m15 = M[15, o, base: base + TW]
                for tx in range(TW):
                    # rows: s_i = (A^T m)[i, :]
                    s00 = m0[tx] + m4[tx] + m8[tx]
                    s01 = m1[tx] + m5[tx] + m9[tx]
                    s02 = m2[tx] + m6[tx] + m10[tx]
                    s03 = m3[tx] + m7[tx] + m11[tx]
                    s10 = m4[tx] - m8[tx] - m12[tx]
                    s11 = m5[tx] - m9[tx] - m13[tx]
                    s12 = m6[tx] - m10[tx] - m14[tx]
                    s13 = m7[tx] - m11[tx] - m15[tx]
                    y0[2 * tx] = s00 + s01 + s02
                    y0[2 * tx + 1] = s01 - s02 - s03
                    y1[2 * tx] = s10 + s11 + s12
                    y1[2 * tx + 1] = s11 - s12 - s13


# ------------------------------------------------- stride-1 padded grid
# For stride 1, output (od, oh, ow) reads xp[od + i*DD, oh + j*DH, ow + l*DW]
# of an input padded to cover every read: in flat coordinates that is
# base(od, oh, ow) + off(i, j, l). Computing outputs on the padded grid
# (ow over the padded width, the extra columns dropped afterwards) turns each
# im2col row into one contiguous copy instead of one segment per output row
# with bounds logic (W10: 1.7 ms -> ~0.3 ms of im2col per image).

@njit(**SERIAL)
def grid_cols(xp, cols, c0, offs, q0):
    """``cols[r, t] = xp[c0 + r // KV, offs[r % KV] + q0 + t]`` (xp flat per channel)."""
    KV = offs.shape[0]
    Pt = cols.shape[1]
    for r in range(cols.shape[0]):
        src = xp[c0 + r // KV, offs[r % KV] + q0: offs[r % KV] + q0 + Pt]
        dst = cols[r]
        for t in range(Pt):
            dst[t] = src[t]


@njit(**SERIAL)
def grid_store(tmp, y, co0, q0, Hp, Wp, OH, OW):
    """``y[co0 + o, od, oh, ow] = tmp[o, q - q0]`` for grid positions ``q`` of the
    chunk with ``oh < OH`` and ``ow < OW`` (``q = (od*Hp + oh)*Wp + ow``)."""
    Pt = tmp.shape[1]
    q1 = q0 + Pt
    for row in range(q0 // Wp, (q1 - 1) // Wp + 1):
        od = row // Hp
        oh = row % Hp
        if oh >= OH:
            continue
        u0 = max(0, q0 - row * Wp)
        u1 = min(OW, q1 - row * Wp)
        if u1 <= u0:
            continue
        for o in range(tmp.shape[0]):
            src = tmp[o, row * Wp + u0 - q0: row * Wp + u1 - q0]
            dst = y[co0 + o, od, oh, u0:u1]
            for t in range(u1 - u0):
                dst[t] = src[t]


enable_cache(_ow_range, _im2col_row, im2col, _col2im_plane, col2im, _ntasks, _direct_task,
             direct_parallel, direct_serial, _wino_cols, winograd_input, winograd_output,
             grid_cols, grid_store)
