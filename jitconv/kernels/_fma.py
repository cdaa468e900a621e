"""Explicit fused multiply-adds for the kernels: ``madd(s, x, w) = s + x * w``.

For floats it is one ``llvm.fma`` (a single rounding), emitted explicitly:
not left to LLVM's ``contract`` fast-math flag, which fuses only when the
multiply and the add land in the same basic block, so that the same sum
written in two loops (a vector loop and its scalar edges, or one inlined
where the other is not) could round differently. Explicit, every sum has
one definition, the same in every loop, thread count and window. LLVM
vectorises ``llvm.fma`` like any other operation.

Operands of different float widths are converted to the widest first
(float32 data with float64 weights: exact products, float64 sums). Complex
and integer operands get ``s + x * w`` (integers are exact; complex
products keep numba's own arithmetic, without fast-math).
"""
from numba import types
from numba.extending import intrinsic, overload


@intrinsic
def fma(typingctx, x, w, s):
    """``x * w + s`` rounded once, in the widest of the three float types."""
    if not all(isinstance(t, types.Float) for t in (x, w, s)):
        return None
    res = max((x, w, s), key=lambda t: t.bitwidth)

    def codegen(context, builder, sig, args):
        vals = [context.cast(builder, v, t, res) for v, t in zip(args, sig.args)]
        return builder.fma(*vals)
    return res(x, w, s), codegen


def madd(s, x, w):
    """``s + x * w``: fused for floats (see the module docstring)."""
    return s + x * w


@overload(madd)
def _madd(s, x, w):
    if all(isinstance(t, types.Float) for t in (s, x, w)):
        return lambda s, x, w: fma(x, w, s)
    return lambda s, x, w: s + x * w
