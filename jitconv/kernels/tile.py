"""A register-tile micro-kernel: ``CB x V`` accumulator vectors kept in
registers across every tap of a sum.

numba vectorises the innermost unit-stride loop of a kernel, and keeps its
accumulators in memory: a loop that adds a few taps to a row of outputs
loads and stores the row for every few taps. On the CNN layers (147 to 576
taps per output) such loops reached about 65% of the FMA peak on one core of
the reference machine, while oneDNN reached 80-90%. This module emits the
loop LLVM cannot find by itself, as a numba intrinsic written in LLVM IR::

    tile(x, base, offs, w, wbase, wt, wq, out, obase, ostride)

computes, for ``q < CB`` and ``k < V*L`` (``L`` lanes of a vector register)::

    out[obase + q*ostride + k] = sum_{t < len(offs)} w[wbase + t*wt + q*wq] * x[base + offs[t] + k]

with ``CB*V`` vector accumulators that start at zero and take one fused
multiply-add (``llvm.fma``: one rounding, deterministic) per tap in tap
order; per tap it loads ``V`` vectors of ``x`` (unaligned) and broadcasts
``CB`` weights. The sum of each output is a plain sequential sum over the
taps in their order: its error is ``<= T * eps * sum_t |w_t x_t|`` for
``T`` taps (the FMA rounds each step once), and it does not depend on where
the tile starts, so callers get bitwise identical results for any chunking
and thread count.

The callers (``kernels.nn_tile``) reduce their problems to this form:

- direct convolution: ``x`` is a packed window of the zero-padded input
  (one flat plane per channel and stride phase), a tap is one
  (channel, kernel position) with its flat offset, the ``CB`` rows are
  output channels and the ``V*L`` columns consecutive output positions;
- Winograd: per transform point, ``x`` holds the transformed input tiles
  (channels x tiles), a tap is one input channel, the rows are output
  channels: a GEMM whose packed operands the transforms wrote.

What it never does: bounds checks (callers size ``x`` and ``out`` so that
``base + offs[t] + V*L <= len(x)`` and ``obase + (CB-1)*ostride + V*L <=
len(out)``), allocate, raise or read ``out``. ``x``, ``w`` and ``out`` are
1-d C-contiguous arrays of one dtype, float32 or float64.

Tile shape: with AVX-512 (32 vector registers) ``CB = 8`` rows by ``V = 3``
vectors of 16 float32 or 8 float64 lanes: 24 accumulators, 3 loads and 8
broadcasts per 24 FMAs. Measured on one core of the reference machine
(AMD EPYC Zen 4), the ResNet stem (W11) ran at 96 GFLOP/s, as fast as
oneDNN; 4 x 4 and 8 x 2 tiles ran 2-5% slower. Without AVX-512 (16 vector
registers of 8 float32) the tile is 4 x 3 vectors, so that it still fits in
registers.

numba's on-disk cache keys a kernel on its own module's file: after
changing this one, touch ``kernels/nn_tile.py`` and ``kernels/nn_winograd4.py``
(as for ``_options``), or their cached code keeps the old micro-kernel.
"""
import llvmlite.binding as _llvm
import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

def _avx512():
    """Whether numba compiles for a CPU with AVX-512 (32 vector registers):
    the host's features, or those numba was told to target
    (``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES``, e.g. for a portable cache)."""
    features = numba.config.CPU_FEATURES
    if features:
        return "+avx512f" in features.split(",")
    name = numba.config.CPU_NAME
    if name and name != "host":
        return False      # a named target: the shape that fits 16 registers
    return bool(_llvm.get_host_cpu_features().get("avx512f", False))


_AVX512 = _avx512()
#: float32 lanes of one vector register (float64: half)
LANES32 = 16 if _AVX512 else 8
#: output rows (broadcast weights) and vectors per row of the tile
CB, V = (8, 3) if _AVX512 else (4, 3)


def lanes(itemsize):
    """Lanes of one vector of ``itemsize``-byte floats."""
    return LANES32 * 4 // itemsize


def width(itemsize):
    """Columns of one tile (``V`` vectors)."""
    return V * lanes(itemsize)


def _splat(builder, value, ty, L):
    i32 = ir.IntType(32)
    v = builder.insert_element(ir.Constant(ir.VectorType(ty, L), ir.Undefined), value,
                               ir.Constant(i32, 0))
    return builder.shuffle_vector(v, ir.Constant(ir.VectorType(ty, L), ir.Undefined),
                                  ir.Constant(ir.VectorType(i32, L), [0] * L))


def _accumulate(context, builder, sig, args, cb, nv, single):
    """Emit the tap loop; returns the ``cb * nv`` accumulator vectors, the
    vector type and the lanes. ``args``: x, base, offs, w, wbase, wt, wq, ..."""
    xa = context.make_array(sig.args[0])(context, builder, args[0])
    oa = context.make_array(sig.args[2])(context, builder, args[2])
    wa = context.make_array(sig.args[3])(context, builder, args[3])
    base_, wbase_, wt_, wq_ = args[1], args[4], args[5], args[6]
    fty = ir.FloatType() if single else ir.DoubleType()
    L = LANES32 if single else LANES32 // 2
    i64 = ir.IntType(64)
    vty = ir.VectorType(fty, L)
    vptr = vty.as_pointer()
    name = f"llvm.fma.v{L}{'f32' if single else 'f64'}"
    fma = cgutils.get_or_insert_function(builder.module,
                                         ir.FunctionType(vty, [vty, vty, vty]), name)
    zero = ir.Constant(vty, [0.0] * L)
    T = builder.extract_value(oa.shape, 0)
    fn = builder.function
    pre = builder.block
    head = fn.append_basic_block("tile.head")
    body = fn.append_basic_block("tile.body")
    done = fn.append_basic_block("tile.done")
    builder.branch(head)
    builder.position_at_end(head)
    t = builder.phi(i64)
    t.add_incoming(ir.Constant(i64, 0), pre)
    accs = []
    for _ in range(cb * nv):
        p = builder.phi(vty)
        p.add_incoming(zero, pre)
        accs.append(p)
    builder.cbranch(builder.icmp_signed("<", t, T), body, done)
    # one tap: nv vector loads of x, cb broadcast weights, cb*nv FMAs
    builder.position_at_end(body)
    off = builder.add(builder.load(builder.gep(oa.data, [t])), base_)
    xs = []
    for v in range(nv):
        ptr = builder.gep(xa.data, [builder.add(off, ir.Constant(i64, v * L))])
        ld = builder.load(builder.bitcast(ptr, vptr))
        ld.align = 4 if single else 8
        xs.append(ld)
    wrow = builder.gep(wa.data, [builder.add(wbase_, builder.mul(t, wt_))])
    new = []
    for q in range(cb):
        ws = builder.load(builder.gep(wrow, [builder.mul(ir.Constant(i64, q), wq_)]))
        wv = _splat(builder, ws, fty, L)
        for v in range(nv):
            new.append(builder.call(fma, [xs[v], wv, accs[q * nv + v]]))
    last = builder.block
    t.add_incoming(builder.add(t, ir.Constant(i64, 1)), last)
    for a, n in zip(accs, new):
        a.add_incoming(n, last)
    builder.branch(head)
    builder.position_at_end(done)
    return accs, vty, L


def _arrays_ok(arrays, offs):
    if not all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C"
               for a in arrays + (offs,)):
        return False
    return (len({a.dtype for a in arrays}) == 1 and arrays[0].dtype in (types.float32,
                                                                        types.float64)
            and offs.dtype == types.int64)


def _make_tile(cb, nv):
    @intrinsic
    def tile(typingctx, x, base, offs, w, wbase, wt, wq, out, obase, ostride):
        if not _arrays_ok((x, w, out), offs):
            return None
        i = types.int64
        sig = types.void(x, i, offs, w, i, i, i, out, i, i)
        single = x.dtype == types.float32

        def codegen(context, builder, sig, args):
            accs, vty, L = _accumulate(context, builder, sig, args, cb, nv, single)
            ya = context.make_array(sig.args[7])(context, builder, args[7])
            i64 = ir.IntType(64)
            for q in range(cb):
                row = builder.gep(ya.data, [builder.add(args[8], builder.mul(
                    ir.Constant(i64, q), args[9]))])
                for v in range(nv):
                    ptr = builder.bitcast(builder.gep(row, [ir.Constant(i64, v * L)]),
                                          vty.as_pointer())
                    st = builder.store(accs[q * nv + v], ptr)
                    st.align = 4 if single else 8
            return context.get_dummy_value()
        return sig, codegen
    return tile


def _make_tile_grid(cb, nv):
    @intrinsic
    def tile_grid(typingctx, x, base, offs, w, wbase, wt, wq, y, ybase, ystride, rows, k0,
                  Wq, OW, end):
        if not _arrays_ok((x, w, y), offs):
            return None
        i = types.int64
        sig = types.void(x, i, offs, w, i, i, i, y, i, i, i, i, i, i, i)
        single = x.dtype == types.float32

        def codegen(context, builder, sig, args):
            accs, vty, L = _accumulate(context, builder, sig, args, cb, nv, single)
            ya = context.make_array(sig.args[7])(context, builder, args[7])
            ybase_, ystride_, rows_, k0_, Wq_, OW_, end_ = args[8:15]
            i64, i32, i1 = ir.IntType(64), ir.IntType(32), ir.IntType(1)
            mty = ir.VectorType(i1, L)
            mstore = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(ir.VoidType(), [vty, vty.as_pointer(), i32, mty]),
                f"llvm.masked.store.v{L}{'f32' if single else 'f64'}.p0")
            lane = ir.Constant(ir.VectorType(i64, L), list(range(L)))
            align = ir.Constant(i32, 4 if single else 8)
            r = c = None
            for v in range(nv):
                # the vector's grid positions k .. k + L - 1: row r from column c,
                # then (lanes j >= Wq - c) row r + 1 from column 0; one division
                # per tile, then steps of L <= Wq
                k = builder.add(k0_, ir.Constant(i64, v * L))
                if v == 0:
                    r = builder.sdiv(k, Wq_)
                    c = builder.sub(k, builder.mul(r, Wq_))
                else:
                    c = builder.add(c, ir.Constant(i64, L))
                    wrap = builder.icmp_signed(">=", c, Wq_)
                    c = builder.select(wrap, builder.sub(c, Wq_), c)
                    r = builder.select(wrap, builder.add(r, ir.Constant(i64, 1)), r)
                left = builder.sub(end_, k)                  # lanes before the end
                na = builder.sub(OW_, c)
                na = builder.select(builder.icmp_signed("<", left, na), left, na)
                mask_a = builder.icmp_signed("<", lane, _splat(builder, na, i64, L))
                jb = builder.sub(Wq_, c)
                nb = builder.add(jb, OW_)
                nb = builder.select(builder.icmp_signed("<", left, nb), left, nb)
                mask_b = builder.and_(
                    builder.icmp_signed(">=", lane, _splat(builder, jb, i64, L)),
                    builder.icmp_signed("<", lane, _splat(builder, nb, i64, L)))
                off_a = builder.add(builder.mul(r, OW_), c)
                off_b = builder.sub(builder.add(off_a, OW_), Wq_)
                for q in range(cb):
                    # rows beyond ``rows`` (padding channels) are not stored
                    live = builder.icmp_signed("<", ir.Constant(i64, q), rows_)
                    ma = builder.and_(mask_a, _splat(builder, live, i1, L))
                    mb = builder.and_(mask_b, _splat(builder, live, i1, L))
                    qb = builder.add(ybase_, builder.mul(ir.Constant(i64, q), ystride_))
                    pa = builder.bitcast(builder.gep(ya.data, [builder.add(qb, off_a)]),
                                         vty.as_pointer())
                    pb = builder.bitcast(builder.gep(ya.data, [builder.add(qb, off_b)]),
                                         vty.as_pointer())
                    builder.call(mstore, [accs[q * nv + v], pa, align, ma])
                    builder.call(mstore, [accs[q * nv + v], pb, align, mb])
            return context.get_dummy_value()
        return sig, codegen
    return tile_grid


#: the micro-kernel of this machine's tile shape (``CB`` x ``V`` vectors)
tile = _make_tile(CB, V)
#: the same sums, stored straight into an output plane (see ``tile_grid``'s use
#: in ``kernels.nn_tile``): grid position ``k`` of row ``q`` goes to
#: ``y[ybase + q*ystride + (k // Wq)*OW + k % Wq]`` when ``k % Wq < OW``,
#: ``k < end`` and ``q < rows``; needs ``Wq >= L`` (a vector spans two rows at most)
tile_grid = _make_tile_grid(CB, V)
