"""Direct correlation of many small problems, the batch in the vector lanes.

Contract: the problem and the sums of ``kernels.direct`` -- a correlation of
a batch ``x`` with a kernel ``w`` at offsets ``l_d``::

    out[b, i0, i1, i2] = sum_{j0, j1, j2} x[bx, i0+j0+l0, i1+j1+l1, i2+j2+l2] * w[bw, j0, j1, j2]

over the positions inside ``x`` only, with ``bx = b`` if ``x`` has a batch,
else 0 (the same for ``w``); float32 or float64 (``w``'s dtype; ``x`` is
converted to it exactly, as ``kernels.direct``'s products are), each output
summed exactly as ``kernels.direct`` sums it ("Sums" there): each kernel row
cut into blocks of ``U = 8`` taps from its start, a block's products (of the
taps inside ``x``) fused-multiply-added in ``w``'s dtype from zero, in tap
order, block sums added in tap order to a float64 accumulator. Results are
therefore bitwise those of ``kernels.direct`` (tested), for any thread
count.

What differs is what the vector lanes hold. ``kernels.direct`` vectorises
along the outputs of a row, which is right for images and signals; for many
small problems (4096 pairs of 32x32 windows, 13x13 lags each: rows of 13
outputs whose blocks are half edges) its tasks are tiny and its edge blocks
scalar. Here a task is a group of ``lanes`` batch items: it packs their
data and weights into ``(..., lanes)`` scratch arrays (the batch innermost;
a broadcast operand is repeated; lanes past the batch hold zeros), then
computes up to ``TILE`` outputs of a row at once per vector of lanes
(``lane_tile``, register tiles written in LLVM IR).

Edges without branches: each packed row of ``x`` has ``U - 1`` zero rows
before and after it, and a block whose taps are partly outside ``x`` runs
all its taps. A product with a padding zero is ``+-0`` (the weight finite:
``0 * inf`` is NaN). Before the block's first tap inside ``x`` the chain
stays ``+0``, which is where ``kernels.direct``'s chain starts; after its
last one, adding ``+-0`` leaves a nonzero sum as it is and can only change
the sign of a zero sum, which the accumulator does not see (it starts at
``+0``, and ``+0 + -0`` is ``+0``, so it is never ``-0``). The results'
bits are therefore ``kernels.direct``'s. A task whose packed weights hold
NaN or inf takes ``_row_exact``, which skips the taps outside ``x`` one by
one, as ``kernels.direct`` does.

Never: allocation in the parallel loop beyond each thread's scratch (packed
operands and one row of accumulators, made once per thread), exceptions,
fast-math, reassociation.

Error bound: that of ``kernels.direct`` (the same arithmetic).
"""
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic, register_jitable

from ._fma import madd
from ._options import PARALLEL, SERIAL, enable_cache
from .tile import LANES32

#: taps per block: ``kernels.direct.U``
U = 8
#: zero rows before and after each packed row of ``x``
PAD = U - 1


@register_jitable
def lanes_per_vector(itemsize):
    """Lanes of one vector register of ``itemsize``-byte floats: a task's
    lanes are a multiple of it (the driver rounds them up)."""
    return LANES32 * 4 // itemsize


@njit(**SERIAL)
def _pack(src, b0, n, dst, pad):
    """``dst[i0, i1, pad + i2, l] = src[b0 + l, i0, i1, i2]`` for ``l < n``
    (``src[0]`` for every lane when ``src`` has no batch), zeros in the lanes
    past ``n``; the ``pad`` rows before and after each row are never written
    (``_scratch`` made them zeros). ``src`` and ``dst`` are C-contiguous.
    Returns whether every value copied is finite.

    Rows are copied through 1-d views indexed from zero, so that no index
    needs numba's wrap-around of negative values (with it, the copy took half
    the time of W23)."""
    D0, D1, D2 = src.shape[1], src.shape[2], src.shape[3]
    L, M2 = dst.shape[3], dst.shape[2]
    item = D0 * D1 * D2
    sf = src.reshape(-1)
    df = dst.reshape(-1)
    ok = True
    for lane in range(n):
        s0 = 0 if src.shape[0] == 1 else (b0 + lane) * item
        for r in range(D0 * D1):
            srow = sf[s0 + r * D2:s0 + (r + 1) * D2]
            dcol = df[(r * M2 + pad) * L + lane:(r * M2 + pad + D2) * L:L]
            for c in range(D2):
                v = srow[c]
                ok &= v - v == 0         # False for NaN and inf
                dcol[c] = v
    if n < L:                            # the last group of the batch
        for r in range(D0 * D1):
            for c in range(D2):
                row = df[(r * M2 + pad + c) * L:(r * M2 + pad + c + 1) * L]
                for lane in range(n, L):
                    row[lane] = 0
    return ok


def _make_lane_tile(T):
    """The intrinsic ``lane_tile(x, xb, xs, w, wb, ws, nt, acc, ab, as_)``: one
    block of ``nt`` taps for ``T`` consecutive outputs and one vector of lanes.

    For ``k < T`` and the ``L`` lanes of one vector register (1-d C arrays;
    ``x`` and ``w`` of one float dtype, ``acc`` float64)::

        s_k = 0;  s_k = fma(x[xb + (k+t)*xs :], w[wb + t*ws :], s_k)  for t < nt
        acc[ab + k*as_ :] += s_k

    The ``T`` sums stay in registers over the taps, each tap's weights are
    loaded once for ``T`` fused multiply-adds, and the ``T`` chains are
    independent (enough of them hide the FMA latency). A whole block (``nt ==
    8``) is unrolled and loads the ``T + 7`` rows of ``x`` once; a kernel
    row's shorter last block loops over its taps. Written in LLVM IR:
    numba's loop over the lanes, reading many rows and writing several, needs
    more run-time overlap checks than LLVM allows, and stays scalar."""
    @intrinsic
    def lane_tile(typingctx, x, xb, xs, w, wb, ws, nt, acc, ab, as_):
        if not all(isinstance(t, types.Array) and t.ndim == 1 and t.layout == "C"
                   for t in (x, w, acc)):
            return None
        if x.dtype != w.dtype or x.dtype not in (types.float32, types.float64) \
                or acc.dtype != types.float64:
            return None
        i = types.int64
        sig = types.void(x, i, i, w, i, i, i, acc, i, i)
        single = x.dtype == types.float32

        def codegen(context, builder, sig, args):
            xa, wa, aa = (context.make_array(sig.args[j])(context, builder, args[j])
                          for j in (0, 3, 7))
            xb_, xs_, wb_, ws_, nt_, ab_, as_ = (args[j] for j in (1, 2, 4, 5, 6, 8, 9))
            L = LANES32 if single else LANES32 // 2
            size = 4 if single else 8
            i64 = ir.IntType(64)
            vty = ir.VectorType(ir.FloatType() if single else ir.DoubleType(), L)
            dty = ir.VectorType(ir.DoubleType(), L)
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vty, [vty, vty, vty]),
                f"llvm.fma.v{L}{'f32' if single else 'f64'}")

            def at(data, base, step, m, ty):
                off = builder.add(base, builder.mul(m, step))
                return builder.bitcast(builder.gep(data, [off]), ty.as_pointer())

            def load(ptr, align):
                ld = builder.load(ptr)
                ld.align = align
                return ld
            fn = builder.function
            zero = ir.Constant(vty, [0.0] * L)
            full = fn.append_basic_block("lane_tile.full")
            pre = fn.append_basic_block("lane_tile.pre")
            head = fn.append_basic_block("lane_tile.head")
            body = fn.append_basic_block("lane_tile.body")
            loop_done = fn.append_basic_block("lane_tile.loop_done")
            done = fn.append_basic_block("lane_tile.done")
            builder.cbranch(builder.icmp_signed("==", nt_, ir.Constant(i64, U)), full, pre)
            # a whole block: the T + 7 rows of x loaded once for the 8 T FMAs
            builder.position_at_end(full)
            xr = [load(at(xa.data, xb_, xs_, ir.Constant(i64, m), vty), size)
                  for m in range(T + U - 1)]
            fsums = [zero] * T
            for tap in range(U):
                wv = load(at(wa.data, wb_, ws_, ir.Constant(i64, tap), vty), size)
                fsums = [builder.call(fma, [xr[k + tap], wv, fsums[k]]) for k in range(T)]
            full_end = builder.block
            builder.branch(done)
            # the last, shorter block of a kernel row: a loop over its taps
            builder.position_at_end(pre)
            builder.branch(head)
            builder.position_at_end(head)
            t = builder.phi(i64)
            t.add_incoming(ir.Constant(i64, 0), pre)
            sums = []
            for _ in range(T):
                phi = builder.phi(vty)
                phi.add_incoming(zero, pre)
                sums.append(phi)
            builder.cbranch(builder.icmp_signed("<", t, nt_), body, loop_done)
            builder.position_at_end(body)
            wv = load(at(wa.data, wb_, ws_, t, vty), size)
            new = [builder.call(fma, [load(at(xa.data, xb_, xs_,
                                              builder.add(t, ir.Constant(i64, k)), vty), size),
                                      wv, sums[k]])
                   for k in range(T)]
            t.add_incoming(builder.add(t, ir.Constant(i64, 1)), builder.block)
            for phi, v in zip(sums, new):
                phi.add_incoming(v, builder.block)
            builder.branch(head)
            builder.position_at_end(loop_done)
            builder.branch(done)
            builder.position_at_end(done)
            merged = []
            for k in range(T):
                phi = builder.phi(vty)
                phi.add_incoming(fsums[k], full_end)
                phi.add_incoming(sums[k], loop_done)
                merged.append(phi)
            sums = merged
            for k in range(T):
                ptr = at(aa.data, ab_, as_, ir.Constant(i64, k), dty)
                add = builder.fpext(sums[k], dty) if single else sums[k]
                builder.store(builder.fadd(load(ptr, 8), add), ptr).align = 8
            return context.get_dummy_value()
        return sig, codegen
    return lane_tile


#: outputs per register tile: ``TILE`` sums, a vector of weights and the rows
#: of ``x`` fit AVX-512's 32 vector registers for 8, AVX2's 16 for 4
TILE = 8 if LANES32 == 16 else 4
_t1, _t2, _t3, _t4, _t5, _t6, _t7, _t8 = (_make_lane_tile(T) for T in range(1, 9))


@njit(**SERIAL)
def _chain(acc, s, xr, wr, q, a, e, n, zero):
    """``acc[l] += s[l]``, ``s`` the fused chain over the taps ``a <= j < e``
    of one block (all inside ``x``) from zero: ``kernels.direct``'s block sum,
    one tap per pass over the lanes (the exact path only)."""
    for lane in range(n):
        s[lane] = madd(zero, xr[q + a, lane], wr[a, lane])
    for j in range(a + 1, e):
        for lane in range(n):
            s[lane] = madd(s[lane], xr[q + j, lane], wr[j, lane])
    for lane in range(n):
        acc[lane] += s[lane]


@njit(**SERIAL)
def _row_exact(n, xr, wr, accs, s, zero, l2, N2, K2):
    """One kernel row (``wr``) on one row of ``x`` (``xr``) for every output
    of ``accs``, the taps outside ``x`` skipped one by one (weights with NaN
    or inf: see the module docstring)."""
    for i in range(accs.shape[0]):
        q = i + l2
        lo = max(0, -q)       # taps inside x: lo <= j < hi
        hi = min(K2, N2 - q)
        for jb in range(0, K2, U):
            a = max(jb, lo)
            e = min(jb + U, hi)
            if a >= e:
                continue
            _chain(accs[i], s, xr, wr, PAD + q, a, e, n, zero)


@njit(**SERIAL)
def _task(x, w, out, t, lanes, xp, wp, accs, s, zero, l0, l1, l2):
    B, L0, L1, L2 = out.shape
    K0, K1, K2 = w.shape[1], w.shape[2], w.shape[3]
    N0, N1, N2 = x.shape[1], x.shape[2], x.shape[3]
    M2 = N2 + 2 * PAD
    b0 = t * lanes
    n = min(lanes, B - b0)
    _pack(x, b0, n, xp, PAD)
    exact = not _pack(w, b0, n, wp, 0)
    xf = xp.reshape(-1)
    wf = wp.reshape(-1)
    af = accs.reshape(-1)
    V = lanes_per_vector(xp.itemsize)
    for i0 in range(L0):
        for i1 in range(L1):
            for k in range(af.shape[0]):   # (``accs[:] = 0``: 15 us here)
                af[k] = 0
            for j0 in range(K0):
                r0 = i0 + j0 + l0
                if r0 < 0 or r0 >= N0:
                    continue
                for j1 in range(K1):
                    r1 = i1 + j1 + l1
                    if r1 < 0 or r1 >= N1:
                        continue
                    if exact:
                        _row_exact(n, xp[r0, r1], wp[j0, j1], accs, s, zero, l2, N2, K2)
                        continue
                    xrow = ((r0 * N1 + r1) * M2 + PAD + l2) * lanes
                    wrow = (j0 * K1 + j1) * K2 * lanes
                    # blocks in tap order for every output; the outputs
                    # whose block meets x (q + jb + nt > 0, q + jb < N2)
                    # go up to TILE at a time
                    for jb in range(0, K2, U):
                        nt = min(U, K2 - jb)
                        f0 = min(max(0, 1 - nt - jb - l2), L2)
                        f1 = max(f0, min(L2, N2 - jb - l2))
                        i2 = f0
                        wb = wrow + jb * lanes
                        while i2 < f1:
                            # written out here, not called: a call passing
                            # arrays costs ~0.1 us (their reference counts)
                            T = min(TILE, f1 - i2)
                            xb = xrow + (i2 + jb) * lanes
                            ab = i2 * lanes
                            for v in range(0, n, V):
                                if T == 8:
                                    _t8(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 7:
                                    _t7(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 6:
                                    _t6(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 5:
                                    _t5(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 4:
                                    _t4(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 3:
                                    _t3(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                elif T == 2:
                                    _t2(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                                else:
                                    _t1(xf, xb + v, lanes, wf, wb + v, lanes, nt, af, ab + v, lanes)
                            i2 += T
            for i2 in range(L2):
                acc = accs[i2]
                for lane in range(n):
                    out[b0 + lane, i0, i1, i2] = acc[lane]


@njit(**SERIAL)
def _scratch(x, w, out, lanes, proto, zero1):
    xp = np.zeros(x.shape[1:3] + (x.shape[3] + 2 * PAD, lanes), w.dtype)
    wp = np.zeros(w.shape[1:] + (lanes,), w.dtype)
    accs = np.empty((out.shape[3], lanes), proto.dtype)
    s = np.empty(lanes, zero1.dtype)
    return xp, wp, accs, s


@njit(**PARALLEL)
def corr_batched_parallel(x, w, out, lanes, proto, zero1, l0, l1, l2, threads):
    """Correlation of ``x`` with ``w`` into ``out``, ``lanes`` batch items per
    task (see module docstring), on ``threads`` threads (numba's count at the
    call: read by the caller, since ``numba.get_num_threads`` inside a kernel
    keeps numba from caching it)."""
    ntasks = (out.shape[0] + lanes - 1) // lanes
    # one scratch per thread, not per task (a task's own allocation and its
    # first touch cost a third of its time); tasks dealt out in turn
    groups = max(1, min(ntasks, threads))
    for g in prange(groups):
        xp, wp, accs, s = _scratch(x, w, out, lanes, proto, zero1)
        for t in range(g, ntasks, groups):
            _task(x, w, out, t, lanes, xp, wp, accs, s, zero1[0], l0, l1, l2)


@njit(**SERIAL)
def corr_batched_serial(x, w, out, lanes, proto, zero1, l0, l1, l2):
    """Serial twin of ``corr_batched_parallel``."""
    ntasks = (out.shape[0] + lanes - 1) // lanes
    xp, wp, accs, s = _scratch(x, w, out, lanes, proto, zero1)
    for t in range(ntasks):
        _task(x, w, out, t, lanes, xp, wp, accs, s, zero1[0], l0, l1, l2)


enable_cache(_pack, _chain, _row_exact, _task, _scratch, corr_batched_parallel,
             corr_batched_serial)
