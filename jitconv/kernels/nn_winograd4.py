"""Winograd F(4x4, 3x3) with fused transforms, for 3x3 stride-1 2-d layers.

Each 4x4 output tile is ``A^T [(G g G^T) * (B^T d B)] A`` for the 6x6 input
tile ``d`` at ``(4ty - PH, 4tx - PW)`` (Lavin & Gray 2016, interpolation
points 0, -1, 1, -2, 2, inf): 36 multiplies per tile and channel pair
instead of 144 (4x fewer). ``U = G g G^T`` is computed by the driver
(``algorithms.nn_winograd4``) in float64 and rounded once.

A task takes one group, one image and a block of ``R`` tile rows; its tile
positions are ``j = ty*Uq + tx`` with the pitch ``Uq = TW + 1`` (the extra
column is computed and dropped: the last tile of a row reads 2 columns
beyond it). Three stages run on buffers of the task's own:

1. per block of ``CX`` input channels: the zero-padded input rows the tiles
   read, split by row phase ``h % 4`` (whole-row copies), then ``B^T d B``
   in two passes, each one flat loop over (channel, tile row, column): the
   rows pass over unit-stride rows, the columns pass with stride-4 loads
   (LLVM's interleaved groups): ``V[xi, c, j]``, one plane of ``Pq =
   (R + 1)*Uq`` positions per channel;
2. per transform point ``xi``: ``M[xi] = U[xi] @ V[xi]``, a GEMM on register
   tiles (``kernels.tile``): channels are the taps, the tiles the columns;
   ``NB`` blocks of ``CB`` output channels at a time, so that ``V`` and
   ``M`` stay in the core's L2;
3. per output channel of those blocks: ``A^T M A`` in two passes, one flat
   loop over (channel, position), stored into ``y`` (interleaved stride-4
   stores; tiles beyond the output cropped).

Constants (2, 4, 5, 8) come in an array of the data's dtype: an integer
literal would make numba compute the transforms in float64 (and twice as
slowly). Error: see ``algorithms.nn_winograd4`` (the bound, and what the
tests check); on W10 in float32 at most about 20 eps * sum |w x| per output,
the direct sum 0.8. Results do not depend on the blocking nor on the thread
count. No allocation in the parallel loop beyond the task's buffers;
nothing raises; the input is only read.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL_FMA as PARALLEL, SERIAL_FMA as SERIAL, enable_cache
from .tile import CB, tile

# lay: [Cg, cog, nblk, groups, PH, PW, TH, TW, Uq, R, Pq, width, PM, NB]


@njit(**SERIAL)
def _bt(i0, i1, i2, i3, i4, i5, o0, o1, o2, o3, o4, o5, n, k):
    """``o = B^T i`` for the 6-point input transform, over ``n`` tiles; ``k``
    holds the constants 2, 4, 5, 8 in the data's dtype (an integer literal
    would make numba compute in float64)."""
    k2, k4, k5 = k[0], k[1], k[2]
    for j in range(n):
        o0[j] = k4 * i0[j] - k5 * i2[j] + i4[j]
    for j in range(n):
        o1[j] = (i3[j] + i4[j]) - k4 * (i1[j] + i2[j])
    for j in range(n):
        o2[j] = (i4[j] - i3[j]) + k4 * (i1[j] - i2[j])
    for j in range(n):
        o3[j] = (i4[j] - i2[j]) + k2 * (i3[j] - i1[j])
    for j in range(n):
        o4[j] = (i4[j] - i2[j]) - k2 * (i3[j] - i1[j])
    for j in range(n):
        o5[j] = k4 * i1[j] - k5 * i3[j] + i5[j]


@njit(**SERIAL)
def _at(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3, n, k):
    """``o = A^T m`` for the output transform, over ``n`` tiles (``k``: see ``_bt``)."""
    k2, k4, k8 = k[0], k[1], k[3]
    for j in range(n):
        o0[j] = m0[j] + (m1[j] + m2[j]) + (m3[j] + m4[j])
    for j in range(n):
        o1[j] = (m1[j] - m2[j]) + k2 * (m3[j] - m4[j])
    for j in range(n):
        o2[j] = (m1[j] + m2[j]) + k4 * (m3[j] + m4[j])
    for j in range(n):
        o3[j] = (m1[j] - m2[j]) + k8 * (m3[j] - m4[j]) + m5[j]


#: input channels transformed together (one flat loop over them)
CX = 8


@njit(**SERIAL)
def _bt_cols(t, o0, o1, o2, o3, o4, o5, n, k):
    """``o = B^T`` along tile columns: ``o_k[j]`` from ``t[4j + b]``, ``b < 6``
    (strided loads: LLVM vectorises them as interleaved groups; ``k``: see ``_bt``)."""
    k2, k4, k5 = k[0], k[1], k[2]
    for j in range(n):
        t0, t1, t2 = t[4 * j], t[4 * j + 1], t[4 * j + 2]
        t3, t4, t5 = t[4 * j + 3], t[4 * j + 4], t[4 * j + 5]
        o0[j] = k4 * t0 - k5 * t2 + t4
        o1[j] = (t3 + t4) - k4 * (t1 + t2)
        o2[j] = (t4 - t3) + k4 * (t1 - t2)
        o3[j] = (t4 - t2) + k2 * (t3 - t1)
        o4[j] = (t4 - t2) - k2 * (t3 - t1)
        o5[j] = k4 * t1 - k5 * t3 + t5


@njit(**SERIAL)
def _rows(x, xr, n, c0, nc, ty0, R, lay):
    """The zero-padded input rows that tile rows ``ty0 ..`` read (``R + 1`` of
    them, ``xr``'s extent: rows beyond the image are zeros), split by row
    phase, for channels ``c0 .. c0 + nc``:
    ``xr[pa, c, ry, col] = x[n, c0 + c, 4(ty0 + ry) + pa - PH, col - PW]`` (zero
    outside ``x``)."""
    PH, PW = lay[4], lay[5]
    H, W = x.shape[2], x.shape[3]
    Wp = xr.shape[3]
    lo = min(max(PW, 0), Wp)            # columns inside x (PW < 0: a crop)
    hi = max(min(W + PW, Wp), lo)
    for c in range(nc):
        for pa in range(4):
            for ry in range(xr.shape[2]):
                h = 4 * (ty0 + ry) + pa - PH
                if h < 0 or h >= H:
                    for v in range(Wp):
                        xr[pa, c, ry, v] = 0
                    continue
                for v in range(lo):
                    xr[pa, c, ry, v] = 0
                for v in range(hi - lo):
                    xr[pa, c, ry, lo + v] = x[n, c0 + c, h, lo - PW + v]
                for v in range(hi, Wp):
                    xr[pa, c, ry, v] = 0


@njit(**SERIAL)
def _input(x, xr, tmp, V, n, c0, Cg, ty0, R, lay, k):
    """``V[xi, c, j] = (B^T d B)[xi]`` for the task's tiles ``j = ty*Uq + tx``,
    every channel of the group, ``CX`` channels at a time: each pass is one
    flat loop over (channel, tile row, column)."""
    Uq = lay[8]
    Wp = 4 * Uq
    Pq = lay[10]              # (R + 1) * Uq: a channel's plane of tile positions
    xf = xr.reshape(4, -1)    # (row phase, channel * row * column)
    tf = tmp.reshape(6, -1)
    Vf = V.reshape(36, -1)
    for cb in range(0, Cg, CX):
        nc = min(CX, Cg - cb)
        _rows(x, xr, n, c0 + cb, nc, ty0, R, lay)
        # rows: tmp[a2, (c, ty, col)] = sum_a BT[a2, a] xr[a % 4, (c, ty + a // 4, col)]
        F = nc * 4 * Pq - Wp
        _bt(xf[0, 0:F], xf[1, 0:F], xf[2, 0:F], xf[3, 0:F], xf[0, Wp:Wp + F],
            xf[1, Wp:Wp + F], tf[0], tf[1], tf[2], tf[3], tf[4], tf[5], F, k)
        for a2 in range(6):    # the last row of the block: no tile reads its result
            for v in range(F, nc * 4 * Pq):
                tf[a2, v] = 0
        # columns: V[a2*6 + b2, (c, j)] = sum_b BT[b2, b] tmp[a2, 4 (c, j) + b]
        G = nc * Pq - 2
        o = cb * Pq
        for a2 in range(6):
            r = a2 * 6
            _bt_cols(tf[a2], Vf[r, o:o + G], Vf[r + 1, o:o + G], Vf[r + 2, o:o + G],
                     Vf[r + 3, o:o + G], Vf[r + 4, o:o + G], Vf[r + 5, o:o + G], G, k)
            for b2 in range(6):    # the block's last two positions (never a tile's)
                Vf[r + b2, o + G] = 0
                Vf[r + b2, o + G + 1] = 0


@njit(**SERIAL)
def _output(M, s, yb, y, n, co0, cog, b, mb, ty0, R, lay, k):
    """``y`` tiles of the task for the output channels of block ``b``, whose
    products are block ``mb`` of ``M``: ``A^T M A`` over the block's rows of
    ``M`` as one flat index, then cropped."""
    TW, Uq = lay[7], lay[8]
    OH, OW = y.shape[2], y.shape[3]
    PM = M.shape[2]
    K = CB * PM
    Mf = M.reshape(36, -1)
    k0 = mb * K
    for bb in range(6):
        _at(Mf[bb, k0:k0 + K], Mf[6 + bb, k0:k0 + K], Mf[12 + bb, k0:k0 + K],
            Mf[18 + bb, k0:k0 + K], Mf[24 + bb, k0:k0 + K], Mf[30 + bb, k0:k0 + K],
            s[bb], s[6 + bb], s[12 + bb], s[18 + bb], K, k)
    for a2 in range(4):
        t = a2 * 6
        _at(s[t], s[t + 1], s[t + 2], s[t + 3], s[t + 4], s[t + 5],
            yb[a2 * 4], yb[a2 * 4 + 1], yb[a2 * 4 + 2], yb[a2 * 4 + 3], K, k)
    full = min(TW, OW // 4)        # tiles whose 4 columns are inside y
    for q in range(min(CB, cog - b * CB)):
        for ty in range(R):
            for a2 in range(4):
                oh = 4 * (ty0 + ty) + a2
                if oh >= OH:
                    break
                dst = y[n, co0 + b * CB + q, oh]
                p0 = q * PM + ty * Uq
                e0 = yb[a2 * 4, p0:p0 + TW]
                e1 = yb[a2 * 4 + 1, p0:p0 + TW]
                e2 = yb[a2 * 4 + 2, p0:p0 + TW]
                e3 = yb[a2 * 4 + 3, p0:p0 + TW]
                for v in range(full):
                    dst[4 * v] = e0[v]
                    dst[4 * v + 1] = e1[v]
                    dst[4 * v + 2] = e2[v]
                    dst[4 * v + 3] = e3[v]
                for v in range(full, TW):
                    u = 4 * v
                    if u < OW:
                        dst[u] = e0[v]
                    if u + 1 < OW:
                        dst[u + 1] = e1[v]
                    if u + 2 < OW:
                        dst[u + 2] = e2[v]
                    if u + 3 < OW:
                        dst[u + 3] = e3[v]


@njit(**SERIAL)
def _ntasks(lay, N):
    TH, R = lay[6], lay[9]
    return lay[3] * N * ((TH + R - 1) // R)


@njit(**SERIAL)
def _task(x, U, offs, y, t, lay):
    Cg, cog, nblk, TH, Uq, R0, Pq, width, PM = (lay[0], lay[1], lay[2], lay[6], lay[8],
                                                lay[9], lay[10], lay[11], lay[12])
    nr = (TH + R0 - 1) // R0
    ty0 = (t % nr) * R0
    r = t // nr
    n = r % x.shape[0]
    g = r // x.shape[0]
    R = min(R0, TH - ty0)
    J = R * Uq
    # V: per channel a plane of Pq tile positions (the micro-kernel reads up
    # to ``width`` beyond the last plane: slack); M: planes of PM >= the
    # columns the micro-kernel writes
    xr = np.empty((4, CX, R0 + 1, 4 * Uq), x.dtype)
    tmp = np.empty((6, CX * Pq * 4), x.dtype)
    Vb = np.empty(36 * Cg * Pq + width, x.dtype)
    for v in range(36 * Cg * Pq, Vb.shape[0]):
        Vb[v] = 0
    V = Vb[:36 * Cg * Pq].reshape(36, Cg, Pq)
    NB = lay[13]                  # blocks of output channels whose products M holds
    M = np.empty((36, NB * CB, PM), x.dtype)
    k = np.empty(4, x.dtype)      # 2, 4, 5, 8 in the data's dtype
    k[0], k[1], k[2], k[3] = 2, 4, 5, 8
    _input(x, xr, tmp, V, n, g * Cg, Cg, ty0, R, lay, k)
    Mf = M.reshape(-1)
    s = np.empty((24, CB * PM), x.dtype)
    yb = np.empty((16, CB * PM), x.dtype)
    for b0 in range(0, nblk, NB):
        nb = min(NB, nblk - b0)
        for xi in range(36):
            for jt in range(0, J, width):
                for mb in range(nb):
                    tile(Vb, xi * Cg * Pq + jt, offs, U,
                         ((g * 36 + xi) * nblk + b0 + mb) * Cg * CB, CB, 1, Mf,
                         (xi * NB * CB + mb * CB) * PM + jt, PM)
        for mb in range(nb):
            _output(M, s, yb, y, n, g * cog, cog, b0 + mb, mb, ty0, R, lay, k)


@njit(**PARALLEL)
def winograd4_parallel(x, U, offs, y, lay):
    """F(4x4, 3x3) correlation of ``x (N, C, H, W)`` into ``y (N, Cout, OH, OW)``
    with ``U (groups, 36, nblk, Cg, CB)`` flat; one task per (group, image,
    block of ``R`` tile rows)."""
    for t in prange(_ntasks(lay, x.shape[0])):
        _task(x, U, offs, y, t, lay)


@njit(**SERIAL)
def winograd4_serial(x, U, offs, y, lay):
    for t in range(_ntasks(lay, x.shape[0])):
        _task(x, U, offs, y, t, lay)


enable_cache(_bt, _at, _bt_cols, _rows, _input, _output, _ntasks, _task, winograd4_parallel,
             winograd4_serial)
