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

Summing (``kernels.tile.tile``). For each ``V*L``-wide column block of the
chunk and each block of ``CB`` output channels of the group, one
micro-kernel call sums all ``T = Cin/groups * KD*KH*KW`` taps in registers,
in the fixed order (channel, kd, kh, kw): a sequential sum with one fused
multiply-add per tap, ``|err| <= T * eps * sum |w x|`` per output, in the
data's dtype (float32 accumulates in float32, like PyTorch and sgemm).
Output channels beyond the group's count are zero weights (computed,
never stored).

Results do not depend on the chunking nor on the thread count: each output
is one micro-kernel sum over the same taps in the same order. Parallel
tasks write disjoint outputs; each allocates its pack and tile buffers
once (no other allocation in the parallel loop); nothing raises.
"""
import numpy as np
from numba import njit, prange

from ._options import PARALLEL, SERIAL, enable_cache
from .tile import CB, tile

# lay: the layout the driver computed (``algorithms.nn_tile.Layout.array``)
# [Cg, KD, NP, PL, Wq, CH, nblk, cog, groups, SD, DD, PD, SH, PH, SW, PW, width, T]


@njit(**SERIAL)
def _pack(x, xb, n, c0, od, k0, lay, php, pwp):
    """The window ``[k0, k0 + PL)`` of every (channel, depth tap, phase) plane of
    the zero-padded, phase-split input into ``xb``."""
    Cg, KD, NP, PL, Wq = lay[0], lay[1], lay[2], lay[3], lay[4]
    SD, DD, PD, SH, PH, SW, PW = lay[9], lay[10], lay[11], lay[12], lay[13], lay[14], lay[15]
    D, H, W = x.shape[2], x.shape[3], x.shape[4]
    r0 = k0 // Wq
    r1 = (k0 + PL - 1) // Wq
    for c in range(Cg):
        for i in range(KD):
            z = od * SD + i * DD - PD
            for p in range(NP):
                plane = xb[((c * KD + i) * NP + p) * PL:((c * KD + i) * NP + p + 1) * PL]
                if z < 0 or z >= D:
                    for f in range(PL):
                        plane[f] = 0
                    continue
                hp, wp = php[p], pwp[p]
                # input columns of grid columns u: u*SW + wp - PW; the valid u range
                off = wp - PW
                ulo = 0 if off >= 0 else (-off + SW - 1) // SW
                uhi = (W - 1 - off) // SW + 1 if W - 1 - off >= 0 else 0
                for r in range(r0, r1 + 1):
                    a = max(k0, r * Wq) - k0            # plane positions of row r
                    e = min(k0 + PL, (r + 1) * Wq) - k0
                    u0 = a + k0 - r * Wq                # grid column of position a
                    seg = plane[a:e]
                    h = r * SH + hp - PH
                    lo = min(max(ulo - u0, 0), e - a)
                    hi = max(min(uhi - u0, e - a), lo)
                    if h < 0 or h >= H:
                        lo = hi = e - a
                    for v in range(lo):
                        seg[v] = 0
                    for v in range(hi, e - a):
                        seg[v] = 0
                    if hi > lo:
                        src = x[n, c0 + c, z, h]
                        if SW == 1:
                            s1 = src[u0 + lo + off:u0 + hi + off]
                            d1 = seg[lo:hi]
                            for v in range(hi - lo):
                                d1[v] = s1[v]
                        else:
                            for v in range(lo, hi):
                                seg[v] = src[(u0 + v) * SW + off]


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
    ob = np.empty(nblk * CB * CH, x.dtype)
    _pack(x, xb, n, g * Cg, od, k0, lay, php, pwp)
    for kt in range(0, m, width):
        for b in range(nblk):
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


enable_cache(_pack, _ntasks, _task, conv_parallel, conv_serial)
