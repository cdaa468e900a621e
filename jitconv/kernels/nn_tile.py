"""CNN convolution on register tiles (``kernels.tile``): the direct sum on a
packed, zero-padded, stride-phase-split input.

The problem is the normalised one of ``kernels.nn`` (``x (N, C, D, H, W)``,
``w (Cout, Cin/groups, KD, KH, KW)``). Work is split in tasks: one image,
one group, one output depth ``od`` and a chunk of ``CH`` consecutive
positions of the output *grid*. The grid holds the output rows with the
pitch ``Wq`` of the packed input (``Wq >= OW``; the ``Wq - OW`` extra
columns of each row are computed and dropped), so that every tap of the
kernel is one constant flat offset from an output position.

Packing (``_pack``). For output column ``u`` and kernel column ``l`` the
input column is ``u*SW + l*DW - PW = SW * (u + (l*DW) // SW) + (l*DW) % SW
- PW``: splitting the padded input by the phase ``(l*DW) % SW`` (and the
same along rows) turns every tap into a unit-stride shift. A task copies
the window of the zero-padded, phase-split input its chunk reads into a
task-local buffer: one flat plane per (channel, depth tap, phase pair),
``PL`` long. The zero padding is written there (and multiplied, as
im2col + GEMM and PyTorch do); the input itself is never padded or copied
as a whole.

Summing (``kernels.tile``). For each ``V*L``-wide column block of the
chunk and each block of ``CB`` output channels of the group, one
micro-kernel call sums all ``T = Cin/groups * KD*KH*KW`` taps in registers,
in the fixed order (channel, kd, kh, kw): a sequential sum with one fused
multiply-add per tap, ``|err| <= T * eps * sum |w x|`` per output, in the
data's dtype (float32 accumulates in float32, like PyTorch and sgemm).
Output channels beyond the group's count are zero weights (computed,
never stored). When a grid row holds at least one vector (``Wq >= L``) the
micro-kernel stores its tile straight into ``y`` with masked stores that
drop the extra columns (``tile_grid``); otherwise it goes through a task
buffer.

Results do not depend on the chunking nor on the thread count: each output
is one micro-kernel sum over the same taps in the same order. Parallel
tasks write disjoint outputs; each allocates its pack and tile buffers
once (no other allocation in the parallel loop); nothing raises.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache
from .tile import CB, tile, tile_grid

# lay: the layout the driver computed (``algorithms.nn_tile.Layout.array``)
# [Cg, KD, NP, PL, Wq, CH, nblk, cog, groups, SD, DD, PD, SH, PH, SW, PW, width, direct]


@njit(**SERIAL)
def _urange(off, SW, W):
    """Grid columns ``u`` whose input column ``u*SW + off`` is inside ``[0, W)``."""
    ulo = 0 if off >= 0 else (-off + SW - 1) // SW
    uhi = (W - 1 - off) // SW + 1 if W - 1 - off >= 0 else 0
    return ulo, max(ulo, uhi)


@njit(**SERIAL)
def _pair_edge(src, seg0, seg1, v0, v1, u0, inside, PW):
    """Positions ``v0 .. v1`` of a stride-2 phase pair where one phase may be padding."""
    W = src.shape[0]
    for v in range(v0, v1):
        col = 2 * (u0 + v) - PW
        seg0[v] = src[col] if inside and 0 <= col < W else 0
        seg1[v] = src[col + 1] if inside and 0 <= col + 1 < W else 0


@njit(**SERIAL)
def _pack(x, xb, n, c0, od, k0, lay, php, pwp):
    """The window ``[k0, k0 + PL)`` of every (channel, depth tap, phase) plane of
    the zero-padded, phase-split input into ``xb``. Two planes of one row phase
    and column phases 0 and 1 of stride 2 (the stem) are split from each input
    row in one pass."""
    Cg, KD, NP, PL, Wq = lay[0], lay[1], lay[2], lay[3], lay[4]
    SD, DD, PD, SH, PH, SW, PW = lay[9], lay[10], lay[11], lay[12], lay[13], lay[14], lay[15]
    D, H, W = x.shape[2], x.shape[3], x.shape[4]
    r0 = k0 // Wq
    r1 = (k0 + PL - 1) // Wq
    for c in range(Cg):
        for i in range(KD):
            z = od * SD + i * DD - PD
            p = 0
            while p < NP:
                base = ((c * KD + i) * NP + p) * PL
                plane = xb[base:base + PL]
                pair = (SW == 2 and p + 1 < NP and php[p + 1] == php[p] and pwp[p] == 0
                        and pwp[p + 1] == 1)
                if z < 0 or z >= D:
                    for f in range(PL * (2 if pair else 1)):
                        xb[base + f] = 0
                    p += 2 if pair else 1
                    continue
                hp, wp = php[p], pwp[p]
                ulo, uhi = _urange(wp - PW, SW, W)
                if pair:
                    plane1 = xb[base + PL:base + 2 * PL]
                    vlo, vhi = _urange(1 - PW, SW, W)
                    # both phases inside x: the input pair (2u - PW, 2u + 1 - PW)
                    blo, bhi = max(ulo, vlo), max(max(ulo, vlo), min(uhi, vhi))
                for r in range(r0, r1 + 1):
                    a = max(k0, r * Wq) - k0            # plane positions of row r
                    e = min(k0 + PL, (r + 1) * Wq) - k0
                    u0 = a + k0 - r * Wq                # grid column of position a
                    h = r * SH + hp - PH
                    inside = 0 <= h < H
                    src = x[n, c0 + c, z, h if inside else 0]
                    if pair:
                        seg0 = plane[a:e]
                        seg1 = plane1[a:e]
                        lo = min(max(blo - u0, 0), e - a)
                        hi = max(min(bhi - u0, e - a), lo)
                        if not inside:
                            lo = hi = e - a
                        s2 = src[2 * (u0 + lo) - PW:2 * (u0 + hi) - PW]
                        d0 = seg0[lo:hi]
                        d1 = seg1[lo:hi]
                        for v in range(hi - lo):
                            d0[v] = s2[2 * v]
                            d1[v] = s2[2 * v + 1]
                        # the edges: one phase may be inside x where the other is not
                        _pair_edge(src, seg0, seg1, 0, lo, u0, inside, PW)
                        _pair_edge(src, seg0, seg1, hi, e - a, u0, inside, PW)
                        continue
                    seg = plane[a:e]
                    lo = min(max(ulo - u0, 0), e - a)
                    hi = max(min(uhi - u0, e - a), lo)
                    if not inside:
                        lo = hi = e - a
                    for v in range(lo):
                        seg[v] = 0
                    for v in range(hi, e - a):
                        seg[v] = 0
                    if hi > lo:
                        # zero-based views: indices numba need not wrap around
                        off = wp - PW
                        d1 = seg[lo:hi]
                        s1 = src[(u0 + lo) * SW + off:(u0 + hi - 1) * SW + off + 1]
                        if SW == 1:
                            for v in range(hi - lo):
                                d1[v] = s1[v]
                        elif SW == 2:
                            for v in range(hi - lo):
                                d1[v] = s1[2 * v]
                        else:
                            for v in range(hi - lo):
                                d1[v] = s1[v * SW]
                p += 2 if pair else 1


@njit(**SERIAL)
def _ntasks(y, lay):
    Wq, CH, groups = lay[4], lay[5], lay[8]
    OH, OW = y.shape[3], y.shape[4]
    Q = (OH - 1) * Wq + OW
    return y.shape[0] * groups * y.shape[2] * ((Q + CH - 1) // CH)


@njit(**SERIAL)
def _task(x, wt, offs, y, t, lay, php, pwp):
    Cg, KD, NP, PL, Wq, CH = lay[0], lay[1], lay[2], lay[3], lay[4], lay[5]
    nblk, cog, groups, width = lay[6], lay[7], lay[8], lay[16]
    T = offs.shape[0]
    OD, OH, OW = y.shape[2], y.shape[3], y.shape[4]
    Q = (OH - 1) * Wq + OW
    nch = (Q + CH - 1) // CH
    ch = t % nch
    r = t // nch
    od = r % OD
    r //= OD
    g = r % groups
    n = r // groups
    k0 = ch * CH
    m = min(CH, Q - k0)
    xb = np.empty(Cg * KD * NP * PL, x.dtype)
    _pack(x, xb, n, g * Cg, od, k0, lay, php, pwp)
    if lay[17]:
        # straight into y's rows (masked stores drop the grid's extra columns)
        yf = y.reshape(-1)
        ystride = OD * OH * OW
        for b in range(nblk):          # a block's weights stay in L1 over the chunk
            for kt in range(0, m, width):
                co = g * cog + b * CB
                tile_grid(xb, kt, offs, wt, ((g * nblk + b) * T) * CB, CB, 1, yf,
                          ((n * y.shape[1] + co) * OD + od) * OH * OW, ystride,
                          min(CB, cog - b * CB), k0 + kt, Wq, OW, k0 + m)
        return
    ob = np.empty(nblk * CB * CH, x.dtype)
    for b in range(nblk):
        for kt in range(0, m, width):
            tile(xb, kt, offs, wt, ((g * nblk + b) * T) * CB, CB, 1, ob, b * CB * CH + kt, CH)
    # the grid's valid columns into y
    for row in range(k0 // Wq, (k0 + m - 1) // Wq + 1):
        u0 = max(0, k0 - row * Wq)
        u1 = min(OW, k0 + m - row * Wq)
        if u1 <= u0:
            continue
        for co in range(cog):
            src = ob[co * CH + row * Wq + u0 - k0:co * CH + row * Wq + u1 - k0]
            dst = y[n, g * cog + co, od, row, u0:u1]
            for v in range(u1 - u0):
                dst[v] = src[v]


@njit(**PARALLEL)
def conv_parallel(x, wt, offs, y, lay, php, pwp):
    """``y[n, co, o] = sum_{c, k} w[co, c, k] * x[n, group(co)*Cg + c, o*S + k*DIL - P]``
    (zero outside ``x``), one task per (image, group, output depth, grid chunk)."""
    for t in prange(_ntasks(y, lay)):
        _task(x, wt, offs, y, t, lay, php, pwp)


@njit(**SERIAL)
def conv_serial(x, wt, offs, y, lay, php, pwp):
    for t in range(_ntasks(y, lay)):
        _task(x, wt, offs, y, t, lay, php, pwp)


enable_cache(_urange, _pair_edge, _pack, _ntasks, _task, conv_parallel, conv_serial)
