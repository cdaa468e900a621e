"""SciPy 1.17 is the oracle: jitconv's drop-ins must reproduce ``scipy.signal``.

Every comparison checks dtype and shape first, then values: integers and
booleans exactly, floats normwise (max abs error relative to the max abs value
of the expected result) with a tolerance set by the result precision.

Deliberate deviations of jitconv that are tested as such (not against SciPy):

* N-d ``convolve``/``correlate`` of bool and float16 results, which SciPy's
  N-d direct path refuses: compared with a float64 SciPy computation cast to
  the result dtype (bool as ``!= 0``);
* ``fftconvolve``/``oaconvolve`` in 'same' mode when ``in1`` broadcasts a
  length-1 *batch* axis (scipy#21876): jitconv keeps the broadcast size.
"""
import itertools
import zlib

import numpy as np
import pytest
# SciPy's implementations from their defining module: the SciPy-suite plugin
# substitutes jitconv into the ``scipy.signal`` namespace, never here
from scipy.signal import _signaltools as ss

import jitconv as jc
from jitconv import _trace

DTYPES = [np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
    np.int64, np.uint64, np.float16, np.float32, np.float64, np.complex64,
    np.complex128)]
INT_DTYPES = [d for d in DTYPES if d.kind in "iu"]
SIZES = (1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17)
MODES = ("full", "same", "valid")
METHODS = ("direct", "fft", "auto")
RTOL = {"f8": 1e-10, "c16": 1e-10, "f4": 1e-5, "c8": 1e-5, "f2": 1e-2}

CONV_FUNCS = {"convolve": (jc.convolve, ss.convolve),
              "correlate": (jc.correlate, ss.correlate)}
FREQ_FUNCS = {"fftconvolve": (jc.fftconvolve, ss.fftconvolve),
              "oaconvolve": (jc.oaconvolve, ss.oaconvolve)}
FUNCS_2D = {"convolve2d": (jc.convolve2d, ss.convolve2d),
            "correlate2d": (jc.correlate2d, ss.correlate2d)}

assert all(j is not o for j, o in [*CONV_FUNCS.values(), *FREQ_FUNCS.values(),
                                   *FUNCS_2D.values()]), "the oracle must be SciPy"


pytestmark = pytest.mark.usefixtures("estimate_planner")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def rng_for(*key):
    """A generator seeded deterministically from the test's parameters."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def rand(rng, shape, dtype, extreme=False):
    """Random array; complex values have independent (asymmetric) parts.

    ``extreme`` draws integers within 4 of either limit of the dtype, so that
    products and sums wrap around.
    """
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        if extreme:
            info = np.iinfo(dtype)
            lo = rng.integers(info.min, info.min + 4, size=shape, dtype=dtype)
            hi = rng.integers(info.max - 3, info.max, size=shape, dtype=dtype,
                              endpoint=True)
            return np.where(rng.random(shape) < 0.5, lo, hi).astype(dtype)
        low = -9 if dtype.kind == "i" else 0
        return rng.integers(low, 10, size=shape).astype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _max_abs(x):
    x = np.asarray(x)
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x.astype(np.complex128 if x.dtype.kind == "c"
                                         else np.float64))))


def assert_match(res, exp, a=None, b=None):
    """dtype and shape first, then exact (ints/bools) or normwise values."""
    res = np.asarray(res)
    exp = np.asarray(exp)
    assert res.dtype == exp.dtype and res.shape == exp.shape, (
        f"got {res.dtype}{res.shape}, expected {exp.dtype}{exp.shape}")
    if exp.dtype.kind in "biu":
        np.testing.assert_array_equal(res, exp, strict=True)
        return
    if exp.size == 0:
        return
    wide = np.complex128 if exp.dtype.kind == "c" else np.float64
    r, e = res.astype(wide), exp.astype(wide)
    scale = _max_abs(e)
    if scale == 0:
        # a window of exact cancellations: fall back to the input scale
        scale = _max_abs(a) * _max_abs(b) if a is not None else 1.0
    err = float(np.max(np.abs(r - e)))
    rtol = RTOL[exp.dtype.str[1:]]
    assert err <= rtol * scale, f"max error {err:.3g} > {rtol:g} * {scale:.3g}"


def _np_path(a, b, mode):
    """True when SciPy's direct method uses numpy's 1-D convolve/correlate."""
    return a.ndim == b.ndim == 1 and (mode != "same" or a.size >= b.size)


def direct_ref(name, a, b, mode):
    """SciPy's direct result; for bool/float16 results that SciPy's N-d direct
    path refuses, a float64 SciPy computation cast to the result dtype."""
    fn = getattr(ss, name)
    rt = np.result_type(a, b)
    if rt in (np.dtype(np.bool_), np.dtype(np.float16)) and not _np_path(a, b, mode):
        e = fn(a.astype(np.float64), b.astype(np.float64), mode, method="direct")
        return e != 0 if rt == np.bool_ else e.astype(rt)
    return fn(a, b, mode, method="direct")


def _case_id(s1, s2, axes, mode=None):
    sid = "x".join(str(n) for n in s1) + "_" + "x".join(str(n) for n in s2) + f"_axes{axes}"
    return sid.replace(" ", "") + (f"-{mode}" if mode else "")


def comparable(s1, s2):
    return all(x >= y for x, y in zip(s1, s2)) or all(y >= x for x, y in zip(s1, s2))


def shape_pairs(ndim, mode, count, seed, max_work=None):
    """Shape pairs with sides from SIZES: hand-picked edge cases (size 1,
    kernel larger in every axis, per-axis mixed) plus random draws. For
    'valid' only comparable pairs are kept."""
    rng = np.random.default_rng(seed)
    fixed = [((1,) * ndim, (1,) * ndim),
             ((5,) * ndim, (1,) * ndim),
             ((1,) * ndim, (4,) * ndim),
             ((3,) * ndim, (8,) * ndim),            # kernel larger everywhere
             ((8,) * ndim, (3,) * ndim),
             ((4,) * ndim, (4,) * ndim)]
    if ndim >= 2:                                   # per-axis mixed
        fixed += [((2,) + (7,) * (ndim - 1), (5,) + (3,) * (ndim - 1)),
                  ((11,) + (2,) * (ndim - 1), (4,) + (5,) * (ndim - 1))]
    out = []
    for s1, s2 in fixed:
        if mode != "valid" or comparable(s1, s2):
            out.append((s1, s2))
    tries = 0
    while len(out) < count and tries < 10000:
        tries += 1
        s1 = tuple(int(x) for x in rng.choice(SIZES, ndim))
        s2 = tuple(int(x) for x in rng.choice(SIZES, ndim))
        if mode == "valid" and not comparable(s1, s2):
            continue
        if max_work is not None and np.prod(s1) * np.prod(s2) > max_work:
            continue
        out.append((s1, s2))
    return out


# ----------------------------------------------------------------------------
# convolve / correlate: shape grid with asymmetric complex data
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(CONV_FUNCS))
def test_conv_1d_all_size_pairs(name, method, mode):
    jfn, sfn = CONV_FUNCS[name]
    rng = rng_for("1d", name, method, mode)
    for n, m in itertools.product(SIZES, SIZES):
        a = rand(rng, (n,), np.complex128)
        b = rand(rng, (m,), np.complex128)
        res = jfn(a, b, mode, method)
        assert_match(res, sfn(a, b, mode, method="direct"), a, b)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(CONV_FUNCS))
@pytest.mark.parametrize("ndim", [2, 3])
def test_conv_nd_shape_grid(ndim, name, method, mode):
    jfn, sfn = CONV_FUNCS[name]
    count = 40 if ndim == 2 else 20
    pairs = shape_pairs(ndim, mode, count, seed=ndim * 7 + len(mode),
                        max_work=None if ndim == 2 else 30000)
    rng = rng_for("nd", ndim, name, method, mode)
    for s1, s2 in pairs:
        a = rand(rng, s1, np.complex128)
        b = rand(rng, s2, np.complex128)
        res = jfn(a, b, mode, method)
        assert_match(res, sfn(a, b, mode, method="direct"), a, b)


@pytest.mark.parametrize("method", METHODS)
def test_real_input_complex_kernel(method):
    """Mixed real/complex operands, both orders (the flip and the conjugate
    must act on the right operand)."""
    rng = rng_for("mixed-complex", method)
    for s1, s2 in [((7,), (4,)), ((4,), (7,)), ((5, 6), (3, 2)), ((3, 4, 5), (2, 5, 2))]:
        for da, db in [(np.float64, np.complex128), (np.complex128, np.float64)]:
            a, b = rand(rng, s1, da), rand(rng, s2, db)
            for name, (jfn, sfn) in CONV_FUNCS.items():
                for mode in MODES:
                    if mode == "valid" and not comparable(s1, s2):
                        continue
                    assert_match(jfn(a, b, mode, method),
                                 sfn(a, b, mode, method="direct"), a, b)


INCOMPARABLE = [((3, 5), (5, 3)), ((1, 4), (2, 2)), ((4, 4, 1), (2, 2, 3)),
                ((7, 2, 5), (3, 3, 3))]


@pytest.mark.parametrize("s1,s2", INCOMPARABLE,
                         ids=[_case_id(a, b, None) for a, b in INCOMPARABLE])
def test_valid_incomparable_shapes_raise(s1, s2):
    rng = rng_for("incomparable", s1, s2)
    a, b = rand(rng, s1, np.float64), rand(rng, s2, np.float64)
    for name, (jfn, sfn) in CONV_FUNCS.items():
        for method in METHODS:
            with pytest.raises(ValueError) as exc_s:
                sfn(a, b, "valid", method)
            with pytest.raises(ValueError) as exc_j:
                jfn(a, b, "valid", method)
            assert str(exc_j.value) == str(exc_s.value)
    for name, (jfn, sfn) in FREQ_FUNCS.items():
        # SciPy's FFT functions drop length-1 axes (they broadcast), so
        # (1, 4) vs (2, 2) is accepted there: jitconv must agree either way
        res, exp = _same_outcome(lambda: jfn(a, b, "valid"), lambda: sfn(a, b, "valid"))
        if exp is not None:
            assert_match(res, exp, a, b)
    if len(s1) == 2:
        for name, (jfn, sfn) in FUNCS_2D.items():
            with pytest.raises(ValueError):
                sfn(a, b, "valid")
            with pytest.raises(ValueError):
                jfn(a, b, "valid")


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------

SHAPES_1D = [((1,), (1,)), ((1,), (5,)), ((4,), (3,)), ((2,), (8,)), ((13,), (4,))]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("d1,d2", list(itertools.product(DTYPES, DTYPES)),
                         ids=lambda d: d.name)
def test_dtype_pairs_1d(d1, d2, method):
    rng = rng_for("dtype1d", d1.name, d2.name, method)
    for s1, s2 in SHAPES_1D:
        a, b = rand(rng, s1, d1), rand(rng, s2, d2)
        for name, (jfn, _) in CONV_FUNCS.items():
            for mode in MODES:
                assert_match(jfn(a, b, mode, method), direct_ref(name, a, b, mode), a, b)


DTYPE_SUBSET = [(np.bool_, np.bool_), (np.int8, np.int8), (np.uint8, np.int16),
                (np.int32, np.int32), (np.uint32, np.int8), (np.int64, np.int64),
                (np.uint64, np.uint64), (np.uint64, np.int64), (np.float16, np.float16),
                (np.float16, np.int8), (np.bool_, np.float16), (np.float32, np.float32),
                (np.float32, np.complex64), (np.float64, np.int64),
                (np.complex64, np.complex64), (np.complex128, np.float32),
                (np.bool_, np.int32), (np.uint16, np.float64)]
SHAPES_ND = {2: [((1, 1), (1, 1)), ((5, 4), (3, 2)), ((3, 2), (4, 7)), ((2, 7), (5, 3))],
             3: [((1, 1, 1), (1, 1, 1)), ((4, 3, 5), (2, 3, 2)), ((2, 2, 3), (3, 4, 5)),
                 ((5, 1, 4), (2, 3, 3))]}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("d1,d2", DTYPE_SUBSET, ids=lambda d: np.dtype(d).name)
def test_dtype_pairs_nd(d1, d2, ndim, method):
    rng = rng_for("dtypend", np.dtype(d1).name, np.dtype(d2).name, ndim, method)
    for s1, s2 in SHAPES_ND[ndim]:
        a, b = rand(rng, s1, d1), rand(rng, s2, d2)
        for name, (jfn, _) in CONV_FUNCS.items():
            for mode in MODES:
                if mode == "valid" and not comparable(s1, s2):
                    continue
                assert_match(jfn(a, b, mode, method), direct_ref(name, a, b, mode), a, b)


WRAP_PAIRS = [(d, d) for d in INT_DTYPES] + [
    (np.dtype(np.int8), np.dtype(np.uint8)), (np.dtype(np.int16), np.dtype(np.int64)),
    (np.dtype(np.int32), np.dtype(np.uint32)), (np.dtype(np.uint16), np.dtype(np.int8))]


@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("d1,d2", WRAP_PAIRS, ids=lambda d: d.name)
def test_integer_wraparound_direct(d1, d2, ndim):
    """Values near the dtype limits: jitconv's exact direct path wraps like
    SciPy's direct path."""
    rng = rng_for("wrap", d1.name, d2.name, ndim)
    shapes = ([((7,), (4,)), ((3,), (9,)), ((16,), (16,))] if ndim == 1 else
              [((5, 4), (3, 3)), ((2, 3), (4, 5))])
    for s1, s2 in shapes:
        a, b = rand(rng, s1, d1, extreme=True), rand(rng, s2, d2, extreme=True)
        for name, (jfn, sfn) in CONV_FUNCS.items():
            for mode in MODES:
                if mode == "valid" and not comparable(s1, s2):
                    continue
                exp = sfn(a, b, mode, method="direct")
                assert_match(jfn(a, b, mode, "direct"), exp)


@pytest.mark.parametrize("dt", [np.int64, np.uint64])
def test_auto_uses_exact_path_for_huge_integers(dt):
    """max|a|*max|b|*n > 2**52: 'auto' must give the exact (wrapped) direct
    result, even for sizes where FFT would be faster."""
    rng = rng_for("huge", dt)
    a = rand(rng, (400,), dt, extreme=True)
    b = rand(rng, (300,), dt, extreme=True)
    for name, (jfn, sfn) in CONV_FUNCS.items():
        for mode in MODES:
            assert_match(jfn(a, b, mode, "auto"), sfn(a, b, mode, method="direct"))


# ----------------------------------------------------------------------------
# fftconvolve / oaconvolve
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FREQ_FUNCS))
def test_freq_1d_all_size_pairs(name, mode):
    jfn, sfn = FREQ_FUNCS[name]
    rng = rng_for("freq1d", name, mode)
    for n, m in itertools.product(SIZES, SIZES):
        a = rand(rng, (n,), np.complex128)
        b = rand(rng, (m,), np.float64)
        assert_match(jfn(a, b, mode), sfn(a, b, mode), a, b)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FREQ_FUNCS))
@pytest.mark.parametrize("ndim", [2, 3])
def test_freq_nd_shape_grid(ndim, name, mode):
    jfn, sfn = FREQ_FUNCS[name]
    pairs = shape_pairs(ndim, mode, 30 if ndim == 2 else 15, seed=100 + ndim + len(mode))
    rng = rng_for("freqnd", ndim, name, mode)
    for s1, s2 in pairs:
        a = rand(rng, s1, np.complex128)
        b = rand(rng, s2, np.complex128)
        assert_match(jfn(a, b, mode), sfn(a, b, mode), a, b)


@pytest.mark.parametrize("dt", [np.bool_, np.int8, np.int64, np.uint64, np.float16,
                                np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(FREQ_FUNCS))
def test_freq_dtypes(name, dt):
    """Result dtype (float64 for ints/bools, float32 for float16/32) and values."""
    jfn, sfn = FREQ_FUNCS[name]
    rng = rng_for("freqdt", name, dt)
    for s1, s2 in [((9,), (4,)), ((40,), (7,)), ((6, 5), (3, 4))]:
        a, b = rand(rng, s1, dt), rand(rng, s2, dt)
        for mode in MODES:
            assert_match(jfn(a, b, mode), sfn(a, b, mode), a, b)


# (shape1, shape2, axes): convolved axes given as None/int/negative/tuple;
# the other axes are equal or length 1 in one operand (broadcast)
AXES_CASES = [
    ((5, 6, 7), (3, 4, 2), None),
    ((5, 6, 7), (3, 6, 2), (0, 2)),
    ((5, 6, 7), (5, 6, 3), 2),
    ((5, 6, 7), (5, 6, 3), -1),
    ((5, 6, 7), (2, 6, 7), 0),
    ((5, 6, 7), (3, 6, 4), (-1, 0)),
    ((5, 6, 7), (3, 1, 4), (0, 2)),        # in2 broadcasts the batch axis
    ((5, 1, 7), (3, 4, 4), (0, 2)),        # in1 broadcasts the batch axis
    ((1, 9), (4, 3), 1),
    ((4, 9), (1, 3), -1),
    ((8, 3), (1, 3), 0),
    ((2, 5, 6, 3), (2, 1, 4, 3), (1, 2)),
    # in1 of length 1 along a *convolved* axis: 'same' keeps in1's length 1
    # there (this is not the batch-axis broadcast of scipy#21876)
    ((5, 1), (5, 4), 1),
    ((5, 1, 7), (5, 4, 3), (1, 2)),
]


def _in1_broadcasts(s1, s2, axes):
    """True when in1 has length 1 on a non-convolved axis where in2 does not."""
    nd = len(s1)
    if axes is None:
        return False
    ax = {a % nd for a in np.atleast_1d(axes)}
    return any(s1[i] == 1 and s2[i] != 1 for i in range(nd) if i not in ax)


# 'same' with in1 broadcasting a batch axis is scipy#21876, where jitconv
# deliberately differs: see test_freq_same_broadcast_batch_axis
FREQ_AXES_PARAMS = [(s1, s2, axes, mode) for (s1, s2, axes) in AXES_CASES for mode in MODES
                    if not (mode == "same" and _in1_broadcasts(s1, s2, axes))]


@pytest.mark.parametrize("s1,s2,axes,mode", FREQ_AXES_PARAMS,
                         ids=[_case_id(*p) for p in FREQ_AXES_PARAMS])
@pytest.mark.parametrize("name", sorted(FREQ_FUNCS))
def test_freq_axes(name, s1, s2, axes, mode):
    jfn, sfn = FREQ_FUNCS[name]
    rng = rng_for("axes", name, s1, s2, axes, mode)
    a, b = rand(rng, s1, np.float64), rand(rng, s2, np.complex128)
    exp = sfn(a, b, mode, axes)
    assert_match(jfn(a, b, mode, axes), exp, a, b)
    assert_match(jfn(a, b, mode=mode, axes=axes), exp, a, b)
    # real-only inputs too (r2c paths)
    bre = b.real.copy()
    assert_match(jfn(a, bre, mode, axes), sfn(a, bre, mode, axes), a, bre)


@pytest.mark.parametrize("s1,s2,axes", [c for c in AXES_CASES if _in1_broadcasts(*c)],
                         ids=[_case_id(*c) for c in AXES_CASES if _in1_broadcasts(*c)])
@pytest.mark.parametrize("name", sorted(FREQ_FUNCS))
def test_freq_same_broadcast_batch_axis(name, s1, s2, axes):
    """Deliberate deviation (scipy#21876): in 'same' mode jitconv keeps the
    broadcast size of the batch axes and centre-crops only the convolved axes
    of SciPy's 'full' result."""
    jfn, sfn = FREQ_FUNCS[name]
    rng = rng_for("same-bcast", name, s1, s2, axes)
    a, b = rand(rng, s1, np.float64), rand(rng, s2, np.complex128)
    res = jfn(a, b, "same", axes)
    full = sfn(a, b, "full", axes)
    nd = len(s1)
    ax = {x % nd for x in np.atleast_1d(axes)}
    bshape = tuple(s1[i] if i in ax else max(s1[i], s2[i]) for i in range(nd))
    crop = tuple(slice((s2[i] - 1) // 2, (s2[i] - 1) // 2 + s1[i]) if i in ax
                 else slice(None) for i in range(nd))
    exp = full[crop]
    assert exp.shape == bshape
    assert_match(res, exp, a, b)


def test_freq_axes_errors_match_scipy():
    a, b = np.ones((4, 5, 6)), np.ones((4, 3, 6))
    for bad in [(0, 0), 3, -4, (), [1.5]]:
        for jfn, sfn in FREQ_FUNCS.values():
            with pytest.raises(ValueError) as es:
                sfn(a, b, "full", bad)
            with pytest.raises(ValueError) as ej:
                jfn(a, b, "full", bad)
            assert str(ej.value) == str(es.value)
    # non-convolved axis 1 is neither equal nor 1
    for jfn, sfn in FREQ_FUNCS.values():
        with pytest.raises(ValueError):
            sfn(a, b, "full", (0, 2))
        with pytest.raises(ValueError):
            jfn(a, b, "full", (0, 2))


@pytest.mark.parametrize("mode", MODES)
def test_oaconvolve_long_signal_short_kernel(mode):
    rng = rng_for("oa-long", mode)
    cases = [
        (rand(rng, (5000,), np.float64), rand(rng, (31,), np.float64), None),
        (rand(rng, (31,), np.complex128), rand(rng, (5000,), np.float64), None),
        (rand(rng, (4001,), np.float32), rand(rng, (16,), np.float32), None),
        (rand(rng, (300, 300), np.float64), rand(rng, (7, 9), np.float64), None),
        (rand(rng, (300, 300), np.complex128), rand(rng, (7, 9), np.complex128), None),
        (rand(rng, (3, 2000), np.float64), rand(rng, (1, 25), np.float64), 1),
    ]
    for a, b, axes in cases:
        if mode == "valid" and not comparable(a.shape, b.shape):
            continue
        with _trace.paths() as ran:
            res = jc.oaconvolve(a, b, mode, axes)
        assert "oa" in ran, f"overlap-add was not used for {a.shape} * {b.shape}: {ran}"
        assert_match(res, ss.oaconvolve(a, b, mode, axes), a, b)
        # and against SciPy's plain FFT convolution
        assert_match(res, ss.fftconvolve(a, b, mode, axes), a, b)


# ----------------------------------------------------------------------------
# convolve2d / correlate2d
# ----------------------------------------------------------------------------

IMAGES = [(6, 7), (5, 5), (1, 4), (4, 1)]
KERNELS_2D = [(3, 3), (2, 4), (4, 2), (1, 1), (8, 3), (3, 9), (9, 10)]


def _same_outcome(jcall, scall):
    """Run SciPy; if it raises, jitconv must raise the same type. Else return both."""
    try:
        exp = scall()
    except (ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            jcall()
        return None, None
    return jcall(), exp


# SciPy warns when it casts a non-integral fillvalue through complex to an int
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("dt", [np.int32, np.int64, np.uint8, np.int16, np.float32,
                                np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("name", sorted(FUNCS_2D))
def test_2d(name, boundary, dt):
    jfn, sfn = FUNCS_2D[name]
    rng = rng_for("2d", name, boundary, dt)
    fills = (0, 2.5, -1) if boundary == "fill" else (0,)
    checked = 0
    for si, sk in itertools.product(IMAGES, KERNELS_2D):
        a, b = rand(rng, si, dt), rand(rng, sk, dt)
        for mode in MODES:
            for fv in fills:
                if mode == "valid" and not comparable(si, sk):
                    with pytest.raises(ValueError):
                        sfn(a, b, mode, boundary, fv)
                    with pytest.raises(ValueError):
                        jfn(a, b, mode, boundary, fv)
                    continue
                res, exp = _same_outcome(lambda: jfn(a, b, mode, boundary, fv),
                                         lambda: sfn(a, b, mode, boundary, fv))
                if exp is None:
                    continue
                assert_match(res, exp, a, b)
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "circular", "symmetric"])
def test_2d_mixed_dtypes(boundary):
    rng = rng_for("2dmixed", boundary)
    for da, db in [(np.int8, np.float64), (np.float32, np.complex128),
                   (np.uint16, np.int32), (np.complex64, np.float64)]:
        for si, sk in [((6, 5), (3, 2)), ((3, 4), (5, 6))]:
            a, b = rand(rng, si, da), rand(rng, sk, db)
            for name, (jfn, sfn) in FUNCS_2D.items():
                for mode in ("full", "same"):
                    assert_match(jfn(a, b, mode, boundary, 1.5 if boundary == "fill" else 0),
                                 sfn(a, b, mode, boundary, 1.5 if boundary == "fill" else 0),
                                 a, b)


# ----------------------------------------------------------------------------
# correlation_lags, choose_conv_method, 0-d inputs
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_correlation_lags(mode):
    for n, m in itertools.product(range(1, 26), range(1, 26)):
        exp = ss.correlation_lags(n, m, mode)
        res = jc.correlation_lags(n, m, mode)
        np.testing.assert_array_equal(res, exp, strict=True)
    # and they label the correlation output
    a, b = np.arange(7.0), np.arange(4.0)
    assert jc.correlation_lags(7, 4, mode).shape == jc.correlate(a, b, mode).shape


def test_choose_conv_method_values():
    """The answer is what ``convolve(a, b, mode)`` (auto) runs, proven by the trace."""
    rng = rng_for("choose")
    for dt in (np.int16, np.float32, np.float64, np.complex128):
        for s1, s2 in [((10,), (3,)), ((2000,), (1500,)), ((30, 30), (20, 20)),
                       ((4, 5, 6), (2, 2, 2))]:
            a, b = rand(rng, s1, dt), rand(rng, s2, dt)
            for mode in MODES:
                method = jc.choose_conv_method(a, b, mode)
                with _trace.paths() as ran:
                    jc.convolve(a, b, mode)
                assert method == ("fft" if ran[0].startswith(("fft", "oa")) else "direct"), \
                    (dt, s1, s2, mode, method, ran)
                if s1 == (10,):   # a few multiply-adds: never worth an FFT
                    assert method == "direct"


def test_choose_conv_method_guards():
    rng = rng_for("guards")
    big_a, big_b = rng.standard_normal(50000), rng.standard_normal(20000)
    # control: a clean problem of this size goes to FFT, so the guards below matter
    assert jc.choose_conv_method(big_a, big_b) == "fft"
    assert jc.choose_conv_method(big_a > 0, big_b > 0) == "direct"
    ia = np.full(50000, 2 ** 30, dtype=np.int64)
    ib = np.full(20000, 2 ** 30, dtype=np.int64)
    assert jc.choose_conv_method(ia, ib) == "direct"
    for bad in (np.nan, np.inf, -np.inf):
        a = big_a.copy()
        a[1234] = bad
        assert jc.choose_conv_method(a, big_b) == "direct"
        assert jc.choose_conv_method(big_b, a) == "direct"
    c = big_a.astype(np.complex128)
    c[7] = complex(0, np.nan)
    assert jc.choose_conv_method(c, big_b) == "direct"


ZERO_D_PAIRS = [(np.int8, np.int8), (np.bool_, np.bool_), (np.float32, np.complex64),
                (np.complex128, np.complex128), (np.int64, np.float16), (np.uint8, np.int8)]


@pytest.mark.parametrize("d1,d2", ZERO_D_PAIRS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve", "oaconvolve"])
def test_zero_dim(name, d1, d2):
    rng = rng_for("0d", name, d1, d2)
    a = rand(rng, (), d1)
    b = rand(rng, (), d2)
    if np.dtype(d2).kind == "c":
        b = np.asarray(np.complex128(1.5 - 2.25j)).astype(d2)   # conj must show
    res = getattr(jc, name)(a, b)
    exp = getattr(ss, name)(a, b)
    assert type(res) is type(exp)
    assert_match(res, exp)
    if name == "correlate" and np.dtype(d2).kind == "c":
        assert np.asarray(res) == a * np.conj(b)


# ----------------------------------------------------------------------------
# jitconv extra: axes= on convolve / correlate
# ----------------------------------------------------------------------------

CONV_AXES_CASES = [
    ((4, 10), (4, 3), 1),
    ((4, 10), (1, 3), -1),        # in2 broadcasts over the batch axis
    ((1, 9), (3, 4), 1),          # in1 broadcasts over the batch axis
    ((10, 3), (4, 3), 0),
    ((3, 5), (3, 8), 1),          # kernel longer than the signal
    ((4, 1), (4, 3), 1),          # length-1 signal along the convolved axis
    ((4, 10), (4, 1), 1),         # length-1 kernel along the convolved axis
    ((3, 8, 2), (3, 5, 2), 1),
    ((3, 8, 2), (1, 5, 2), (1,)),
]


def _loop_1d_reference(sfn, a, b, axis, mode):
    nd = a.ndim
    axis = axis % nd
    bshape = tuple(max(x, y) for i, (x, y) in enumerate(zip(a.shape, b.shape)) if i != axis)
    am = np.moveaxis(a, axis, -1)
    bm = np.moveaxis(b, axis, -1)
    am = np.broadcast_to(am, bshape + am.shape[-1:])
    bm = np.broadcast_to(bm, bshape + bm.shape[-1:])
    rows = [sfn(am[idx], bm[idx], mode, method="direct") for idx in np.ndindex(bshape)]
    out = np.stack(rows).reshape(bshape + rows[0].shape)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("s1,s2,axes", CONV_AXES_CASES,
                         ids=[_case_id(*c) for c in CONV_AXES_CASES])
@pytest.mark.parametrize("name", sorted(CONV_FUNCS))
def test_conv_axes_extra(name, s1, s2, axes, method):
    jfn, sfn = CONV_FUNCS[name]
    rng = rng_for("convaxes", name, s1, s2, axes, method)
    a, b = rand(rng, s1, np.complex128), rand(rng, s2, np.complex128)
    axis = axes[0] if isinstance(axes, tuple) else axes
    for mode in MODES:
        exp = _loop_1d_reference(sfn, a, b, axis, mode)
        assert_match(jfn(a, b, mode, method, axes=axes), exp, a, b)
    # integers: exact
    ai, bi = rand(rng, s1, np.int32), rand(rng, s2, np.int32)
    for mode in MODES:
        exp = _loop_1d_reference(sfn, ai, bi, axis, mode)
        assert_match(jfn(ai, bi, mode, method, axes=axes), exp)
