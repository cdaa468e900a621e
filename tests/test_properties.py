"""Algebraic properties of jitconv's convolutions, found by hypothesis.

Error bounds are normwise, with ``eps`` the float64 machine epsilon, ``N`` the
number of elements of the full result and ``k = min(a.size, b.size)`` the
largest number of products summed into one output:

* FFT path:    ||r - a*b||_2 <= C * eps * log2(N) * ||a||_2 * ||b||_2,  C = 8
  (rounding in the transforms grows like log2 N);
* direct path: ||r - a*b||_2 <= (k + 2) * eps * min(||a||_1 ||b||_2, ||a||_2 ||b||_1)
  (recursive float64 summation: |r_i - (a*b)_i| <= gamma_k (|a|*|b|)_i, and
  Young's inequality; the error grows linearly in k, e.g. for constant
  arrays, so the FFT bound does not hold for it - SciPy's direct path has
  the very same errors).

The exact ``a*b`` is approximated by an extended-precision (long double)
reference computed here. When two computed results are compared with each
other their bounds add. The direct path is also held to exact (bitwise, up to
the sign of zero) identities where the same products are summed in the same
order.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jitconv as jc

EPS = np.finfo(np.float64).eps
C = 8
METHODS = ("direct", "fft")
MODES = ("full", "same", "valid")

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

FINITE = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
SCALAR = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


pytestmark = pytest.mark.usefixtures("estimate_planner")


# ----------------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------------

def shapes(ndim):
    return hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=12)


@st.composite
def real_or_complex(draw, shape, kind=None):
    """float64 or complex128 array of ``shape`` with parts in [-100, 100]."""
    if kind is None:
        kind = draw(st.sampled_from(["f", "c"]))
    re = draw(hnp.arrays(np.float64, shape, elements=FINITE))
    if kind == "f":
        return re
    im = draw(hnp.arrays(np.float64, shape, elements=FINITE))
    return re + 1j * im


@st.composite
def operands(draw, count, kind=None, same_shape=()):
    """``count`` arrays of one random ndim (1..3); indices in ``same_shape``
    share the shape of operand ``same_shape[0]``."""
    ndim = draw(st.integers(1, 3))
    out = []
    for i in range(count):
        if i in same_shape[1:]:
            shape = out[same_shape[0]].shape
        else:
            shape = draw(shapes(ndim))
        out.append(draw(real_or_complex(shape, kind)))
    return out


# ----------------------------------------------------------------------------
# references and bounds
# ----------------------------------------------------------------------------

def full_shape(s1, s2):
    return tuple(n + m - 1 for n, m in zip(s1, s2))


def ref_full(a, b):
    """Full convolution in extended precision (long double) or exactly (object)."""
    if a.dtype == object or b.dtype == object:
        wide = object
    elif a.dtype.kind == "c" or b.dtype.kind == "c":
        wide = np.clongdouble
    else:
        wide = np.longdouble
    a, b = a.astype(wide), b.astype(wide)
    if b.size > a.size:
        a, b = b, a
    out = np.zeros(full_shape(a.shape, b.shape), dtype=wide)
    for idx in np.ndindex(b.shape):
        out[tuple(slice(i, i + n) for i, n in zip(idx, a.shape))] += a * b[idx]
    return out


def window(mode, s1, s2):
    """The documented slice of 'full' for each mode."""
    sl = []
    for n, m in zip(s1, s2):
        if mode == "full":
            sl.append(slice(0, n + m - 1))
        elif mode == "same":
            start = (m - 1) // 2
            sl.append(slice(start, start + n))
        else:
            start = min(n, m) - 1
            sl.append(slice(start, start + abs(n - m) + 1))
    return tuple(sl)


def comparable(s1, s2):
    return all(x >= y for x, y in zip(s1, s2)) or all(y >= x for x, y in zip(s1, s2))


def norm(x):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        x = x.astype(np.clongdouble)
        return float(np.sqrt(np.sum(x.real ** 2 + x.imag ** 2)))
    return float(np.sqrt(np.sum(x.astype(np.longdouble) ** 2)))


def norm1(x):
    return float(np.sum(np.abs(np.asarray(x).astype(np.clongdouble))))


def log2n(s1, s2):
    return math.log2(max(math.prod(full_shape(s1, s2)), 2))


def tol(a, b, method):
    """Normwise error bound of one computed convolution of ``a`` and ``b``."""
    if method == "fft":
        return C * EPS * log2n(a.shape, b.shape) * norm(a) * norm(b)
    k = min(a.size, b.size)
    return (k + 2) * EPS * min(norm1(a) * norm(b), norm(a) * norm1(b))


def err(x, y):
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == y.shape, (x.shape, y.shape)
    return norm(x.astype(np.clongdouble) - y.astype(np.clongdouble))


def assert_within(x, y, bound):
    e = err(x, y)
    # relative bounds ignore underflow: roundings in the subnormal range add
    # absolute errors below the smallest normal number (hypothesis found
    # 2.2e-313 inputs through the FFT: 9 subnormal ulps)
    floor = np.asarray(x).size * np.finfo(np.float64).tiny
    assert e <= bound + floor, f"normwise error {e:.3g} exceeds bound {bound:.3g}"


def assert_exact(x, y):
    """Bitwise equality up to the sign of zero (x + 0.0 turns -0.0 into +0.0)."""
    x, y = np.asarray(x), np.asarray(y)
    assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, x.shape, y.dtype, y.shape)
    xb = np.ascontiguousarray(x + 0.0).view(np.uint8)
    yb = np.ascontiguousarray(y + 0.0).view(np.uint8)
    assert np.array_equal(xb, yb), f"max difference {np.max(np.abs(x - y))}"


def conv(a, b, mode="full", method="direct"):
    return jc.convolve(a, b, mode, method)


# ----------------------------------------------------------------------------
# properties of convolve / correlate
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(2))
def test_commutative(method, ops):
    a, b = ops
    ab, ba = conv(a, b, method=method), conv(b, a, method=method)
    assert ab.shape == ba.shape == full_shape(a.shape, b.shape)
    assert_within(ab, ba, 2 * tol(a, b, method))


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(3))
def test_associative(method, ops):
    a, b, c = ops
    ab, bc = conv(a, b, method=method), conv(b, c, method=method)
    left, right = conv(ab, c, method=method), conv(a, bc, method=method)
    # the error of the inner product propagates through the outer one
    # (||e * c||_2 <= ||e||_2 ||c||_1), then the outer one adds its own
    b_left = tol(a, b, method) * norm1(c) + tol(ab, c, method)
    b_right = tol(b, c, method) * norm1(a) + tol(a, bc, method)
    assert_within(left, right, b_left + b_right)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(3, same_shape=(1, 2)), x=SCALAR, y=SCALAR)
def test_linear(method, ops, x, y):
    a, b, c = ops
    u = x * b + y * c
    lhs = conv(a, u, method=method)
    ab, ac = conv(a, b, method=method), conv(a, c, method=method)
    rhs = x * ab + y * ac
    # rounding of x*b + y*c (2 eps per element) propagated through a,
    # the convolutions' own errors, and the rounding of x*ab + y*ac
    scaled = abs(x) * norm(b) + abs(y) * norm(c)
    bound = (2 * EPS * norm1(a) * scaled + tol(a, u, method)
             + abs(x) * tol(a, b, method) + abs(y) * tol(a, c, method)
             + 2 * EPS * (abs(x) * norm(ab) + abs(y) * norm(ac)))
    assert_within(lhs, rhs, bound)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(2), data=st.data())
def test_shift_equivariant(method, ops, data):
    a, b = ops
    shift = tuple(data.draw(st.integers(0, 3)) for _ in range(a.ndim))
    assume(any(shift))
    a_shifted = np.pad(a, [(s, 0) for s in shift])
    full = conv(a, b, method=method)
    moved = conv(a_shifted, b, method=method)
    assert moved.shape == tuple(f + s for f, s in zip(full.shape, shift))
    body = tuple(slice(s, None) for s in shift)
    t_moved = tol(a_shifted, b, method)
    assert_within(moved[body], full, tol(a, b, method) + t_moved)
    head = np.ones(moved.shape, dtype=bool)
    head[body] = False                       # outputs before the shifted signal
    if method == "direct":
        assert np.all(moved[head] == 0)       # only products with zeros
    else:
        assert norm(moved[head]) <= t_moved


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(2, kind="c"), mode=st.sampled_from(MODES))
def test_correlate_is_convolve_with_reversed_conjugate(method, ops, mode):
    a, v = ops
    if mode == "valid":
        assume(comparable(a.shape, v.shape))
    corr = jc.correlate(a, v, mode, method)
    via_conv = jc.convolve(a, np.conj(np.flip(v)), mode, method)
    assert corr.dtype == via_conv.dtype == np.complex128
    assert_within(corr, via_conv, 2 * tol(a, v, method))
    # and both equal the window of the exact correlation
    ref = ref_full(a, np.conj(np.flip(v)))[window(mode, a.shape, v.shape)]
    assert_within(corr, ref, tol(a, v, method))


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(2))
def test_same_and_valid_are_slices_of_full(method, ops):
    a, b = ops
    full = conv(a, b, "full", method)
    modes = ["same"] + (["valid"] if comparable(a.shape, b.shape) else [])
    for mode in modes:
        part = conv(a, b, mode, method)
        sliced = full[window(mode, a.shape, b.shape)]
        if method == "direct":
            assert_exact(part, sliced)
        else:
            assert part.shape == sliced.shape
            assert_within(part, sliced, 2 * tol(a, b, method))
    for op in (jc.correlate,):
        fullc = op(a, b, "full", method)
        partc = op(a, b, "same", method)
        # correlate's 'same' is centred the same way on the full correlation
        slc = fullc[window("same", a.shape, b.shape)]
        if method == "direct":
            assert_exact(partc, slc)
        else:
            assert_within(partc, slc, 2 * tol(a, b, method))


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(ops=operands(2), mode=st.sampled_from(MODES))
def test_method_invariance(method, ops, mode):
    """convolve(method) ~ exact, and ~ fftconvolve ~ oaconvolve."""
    a, b = ops
    if mode == "valid":
        assume(comparable(a.shape, b.shape))
    ref = ref_full(a, b)[window(mode, a.shape, b.shape)]
    t = tol(a, b, method)
    res = conv(a, b, mode, method)
    assert res.shape == ref.shape
    assert_within(res, ref, t)
    other_method = "fft" if method == "direct" else "direct"
    t_fft = tol(a, b, "fft")
    for other, t_other in ((jc.fftconvolve(a, b, mode), t_fft),
                           (jc.oaconvolve(a, b, mode), t_fft),
                           (conv(a, b, mode, other_method), tol(a, b, other_method))):
        assert other.shape == res.shape and other.dtype == res.dtype
        assert_within(other, ref, t_other)
        assert_within(other, res, t + t_other)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=st.data())
def test_impulse_identity(method, data):
    ndim = data.draw(st.integers(1, 3))
    a = data.draw(real_or_complex(data.draw(shapes(ndim))))
    dshape = data.draw(shapes(ndim))
    delta = np.zeros(dshape)
    delta[(0,) * ndim] = 1.0
    full = conv(a, delta, "full", method)
    head = tuple(slice(0, n) for n in a.shape)
    rest = np.ones(full.shape, dtype=bool)
    rest[head] = False
    # centred impulse: 'same' returns the input
    centred = np.zeros(dshape)
    centred[tuple((m - 1) // 2 for m in dshape)] = 1.0
    same = conv(a, centred, "same", method)
    if method == "direct":
        assert_exact(full[head], a)
        assert np.all(full[rest] == 0)
        assert_exact(same, a)
    else:
        t = tol(a, delta, method)
        assert_within(full[head], a, t)
        assert norm(full[rest]) <= t
        assert_within(same, a, t)


INT_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64]


def _wrap(exact, dtype):
    """Python ints reduced modulo 2**bits into ``dtype`` (two's complement)."""
    info = np.iinfo(dtype)
    bits = 8 * np.dtype(dtype).itemsize
    mod = [(int(v) % 2 ** bits) for v in exact.ravel()]
    if info.min < 0:
        mod = [v - 2 ** bits if v >= 2 ** (bits - 1) else v for v in mod]
    return np.array(mod, dtype=dtype).reshape(exact.shape)


@st.composite
def int_operands(draw, small):
    ndim = draw(st.integers(1, 3))
    dtype = np.dtype(draw(st.sampled_from([np.int32, np.int64] if small else INT_DTYPES)))
    info = np.iinfo(dtype)
    lo, hi = (-1000, 1000) if small else (int(info.min), int(info.max))
    elems = st.integers(lo, hi)
    a = draw(hnp.arrays(dtype, shapes(ndim), elements=elems))
    b = draw(hnp.arrays(dtype, shapes(ndim), elements=elems))
    return a, b


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=st.data(), mode=st.sampled_from(MODES))
def test_integers_exact(method, data, mode):
    """Direct: the exact Python-int result wrapped to the dtype, for any values.
    FFT: exact too while max|a|*max|b|*n stays far below 2**52."""
    a, b = data.draw(int_operands(small=(method == "fft")))
    if mode == "valid":
        assume(comparable(a.shape, b.shape))
    exact = ref_full(a.astype(object), b.astype(object))[window(mode, a.shape, b.shape)]
    res = jc.convolve(a, b, mode, method)
    assert res.dtype == a.dtype and res.shape == exact.shape
    np.testing.assert_array_equal(res, _wrap(exact, a.dtype), strict=True)
    # correlation: exact as well (integers are their own conjugate)
    exact_c = ref_full(a.astype(object), np.flip(b).astype(object))
    res_c = jc.correlate(a, b, mode, method)
    np.testing.assert_array_equal(
        res_c, _wrap(exact_c[window(mode, a.shape, b.shape)], a.dtype), strict=True)


@pytest.mark.parametrize("n,m", [(5000, 4500), ((300, 40), (37, 290)), (7, 3000)])
def test_float32_direct_windows_are_bitwise_slices_of_full(n, m):
    """float32 sums run in blocks of up to 8 taps along a kernel row. The
    blocks are fixed by the kernel (and the operands' shapes), whatever the
    window, so 'same' and 'valid' stay bitwise slices of 'full'. Kernels
    longer than a 2048-output chunk exercise taps that miss a whole chunk;
    a short last axis (300, 40) exercises the choice of the vector axis."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    full = conv(a, b, "full")
    for mode in ["same"] + (["valid"] if comparable(a.shape, b.shape) else []):
        assert_exact(conv(a, b, mode), full[window(mode, a.shape, b.shape)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("chunk", [1, 17, 2048])
def test_direct_sums_do_not_depend_on_the_task_split(dtype, chunk, monkeypatch):
    """The direct kernel's sums are defined by the kernel's taps alone: a task
    of 1, 17 or 2048 outputs (which moves the boundary between the tight
    interior loop and the edge code) gives the same bits, and any window is a
    slice of 'full'."""
    from jitconv.algorithms import direct as D
    rng = np.random.default_rng(7)
    for n, m, start, length in [(40, 40, 34, 11), (300, 300, 283, 33), (500, 37, 0, 536),
                                (77, 150, 70, 100)]:
        a = (rng.standard_normal(n) * 5).astype(dtype)
        k = (rng.standard_normal(m) * 5).astype(dtype)
        if np.dtype(dtype).kind == "c":
            a, k = a + 1j * rng.standard_normal(n), k - 2j * rng.standard_normal(m)
        cd = np.dtype(dtype)
        full = D.DirectPlan(a.shape, k.shape, [0], [(0, n + m - 1)], cd, 1, parallel=False)(a, k)
        monkeypatch.setattr(D, "CHUNK", chunk)
        win = D.DirectPlan(a.shape, k.shape, [0], [(start, length)], cd, 1, parallel=False)(a, k)
        monkeypatch.setattr(D, "CHUNK", 2048)
        assert np.array_equal(win, full[start:start + length]), (n, m, start, length)
