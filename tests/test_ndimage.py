"""jitconv.ndimage against scipy.ndimage (the oracle), every candidate forced.

The exact candidates (``filter-direct``, ``filter-running``) must give
SciPy's bits: dtype and shape first, then ``array_equal`` (bool outputs
compared by their bytes, as SciPy's C code writes them). The FFT, rank-1
and float candidates (``filter-fft``, ``filter-separable``,
``filter-line32``, ``filter-box``) must stay within their stated error
bounds. Every forced run
proves the path it took through ``jitconv._trace``.
"""
import itertools
import warnings

import numpy as np
import pytest
import scipy.ndimage as nd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jitconv
from jitconv import _trace
from jitconv import ndimage as jd

MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant",
         "grid-wrap"]
SHAPES = {1: (7,), 2: (6, 9), 3: (5, 4, 6)}
#: (input dtype, output): a dtype, None (the input's) or 'array' (an output= array)
DTYPES = [(np.float64, None), (np.float32, None), (np.uint8, np.int8), (np.int16, np.uint16),
          (np.float64, np.uint16), (np.int32, "array"), (np.bool_, None),
          (np.float32, np.float64), (np.uint64, np.float32), (np.float64, np.bool_)]


def data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 60, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return (10 * rng.standard_normal(shape)).astype(dtype)


def weights(shape, seed=1):
    """Asymmetric weights with zeros (SciPy skips zero taps) and halves."""
    w = np.random.default_rng(seed).integers(-4, 5, size=shape) / 2.0
    w.flat[0] = 1.5
    return w


def bits(a):
    return a.view(np.uint8) if a.dtype.kind == "b" else a


def assert_same(got, want):
    assert type(got) is type(want)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    assert np.array_equal(bits(got), bits(want), equal_nan=got.dtype.kind in "fc")


def both(name, args, kwargs, cid=None):
    """``(jitconv's result, SciPy's result, jitconv's trace)``; output= arrays
    are copied for each, and the result must be that very array."""
    def call(f):
        kw = dict(kwargs)
        out = kw.get("output")
        if isinstance(out, np.ndarray):
            kw["output"] = out.copy()
        res = f(*args, **kw)
        if isinstance(out, np.ndarray):
            assert res is kw["output"]
        return res
    want = call(getattr(nd, name))
    with _trace.paths() as log:
        if cid is None:
            got = call(getattr(jd, name))
        else:
            with jitconv.force(cid):
                got = call(getattr(jd, name))
    return got, want, log


def _output(spec, shape, in_dtype):
    if spec == "array":
        return np.full(shape, 7, dtype=np.int16)
    return spec


def _cases(ndim, parity):
    """Every function of the face with kernels of ``parity`` along each axis,
    at the extreme origins and 0: ``(name, args-maker, kwargs, rule)``."""
    m = 4 if parity == "even" else 3
    wshape = tuple(m + (i % 2) * 2 for i in range(ndim))  # e.g. (3, 5, 3) or (4, 6, 4)
    cases = []
    for pick in ("min", "zero", "max"):
        org = [{"min": -(k // 2), "zero": 0, "max": (k - 1) // 2}[pick] for k in wshape]
        for name in ("correlate", "convolve"):
            cases.append((name, lambda x, w=wshape: (x, weights(w)), {"origin": org}, "nd"))
        for ax in range(ndim):
            k = wshape[ax]
            o = org[ax]
            for name in ("correlate1d", "convolve1d"):
                cases.append((name, lambda x, k=k: (x, weights((k,))[::-1].copy()),
                              {"axis": ax, "origin": o}, "line"))
            cases.append(("uniform_filter1d", lambda x, k=k: (x, k), {"axis": ax, "origin": o},
                          "uniform"))
        cases.append(("uniform_filter", lambda x, w=wshape: (x, list(w)), {"origin": org},
                      "uniform"))
    if parity == "odd":
        # symmetric (order 0, 2) and antisymmetric (order 1) weights
        for order in (0, 1, 2):
            cases.append(("gaussian_filter", lambda x: (x, 0.8), {"order": order}, "line"))
            cases.append(("gaussian_filter1d", lambda x: (x, 1.3),
                          {"order": order, "axis": 0}, "line"))
    return cases


@pytest.mark.parametrize("parity", ["odd", "even"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_exact_candidates_are_scipy_bit_for_bit(ndim, mode, parity):
    shape = SHAPES[ndim]
    for (name, make, kw, rule), (idt, ospec) in itertools.product(_cases(ndim, parity), DTYPES):
        x = data(shape, idt)
        kwargs = dict(kw, mode=mode, cval=2.5, output=_output(ospec, shape, idt))
        # the parallel candidates on some 2-d cases (a launch costs more than
        # these tiny filters), their serial twins elsewhere: the same bits
        cid = "filter-running" if rule == "uniform" else "filter-direct"
        if ndim != 2 or mode not in ("reflect", "wrap", "grid-constant"):
            cid += "-serial"
        got, want, log = both(name, make(x), kwargs, cid)
        assert_same(got, want)
        assert log and all(p.startswith(f"filter-{rule}-") for p in log), (name, log)


def test_modes_reach_beyond_the_input():
    """Kernels longer than the input: every mode's extension repeats (SciPy's rule)."""
    for mode, n, m in itertools.product(MODES, (1, 2, 3), (5, 8)):
        x = data((n,), np.float64)
        w = weights((m,))
        for name, args in (("correlate", (x, w)), ("correlate1d", (x, w)),
                           ("uniform_filter1d", (x, m))):
            got, want, _ = both(name, args, {"mode": mode, "cval": -1.0})
            assert_same(got, want)
        x2 = data((n, 2), np.float32)
        got, want, _ = both("correlate", (x2, weights((m, 3))), {"mode": mode})
        assert_same(got, want)
        got, want, _ = both("correlate1d", (x2, w), {"mode": mode, "axis": 0})
        assert_same(got, want)
        got, want, _ = both("uniform_filter1d", (x2, m), {"mode": mode, "axis": 0})
        assert_same(got, want)


def test_constant_cval_that_float32_cannot_hold():
    """float32 data, 'constant' mode, a cval float32 rounds (0.3): SciPy reads
    it as a double; the exact kernels too (NumPy 2 compares ``float32(0.3) ==
    0.3`` in float32, which once made them round it)."""
    x = data((30, 6, 5), np.float32)
    for cid in ("filter-running-serial", "filter-direct-serial"):
        for ax in range(3):
            kw = {"axis": ax, "mode": "constant", "cval": 0.3, "origin": -1}
            name, args = (("uniform_filter1d", (x, 4)) if cid.startswith("filter-running")
                          else ("correlate1d", (x, [0.5, 1.0, -2.0, 0.25])))
            got, want, _ = both(name, args, kw, cid)
            assert_same(got, want)
    got, want, _ = both("correlate", (x, weights((3, 2, 3))), {"mode": "constant", "cval": 0.3},
                        "filter-direct-serial")
    assert_same(got, want)


@pytest.mark.parametrize("cdt", [np.complex64, np.complex128])
def test_complex_inputs_weights_outputs(cdt):
    """SciPy's real-component arithmetic: correlate conjugates the weights."""
    x2 = data((5, 7), cdt)
    r2 = data((5, 7), np.float32)
    wc = (weights((3, 2)) + 1j * weights((3, 2), seed=5)).astype(cdt)
    w1 = wc[:, 0].copy()
    for name, x, w in itertools.product(("correlate", "convolve"), (x2, r2), (wc, wc.real)):
        if x.dtype.kind != "c" and w.dtype.kind != "c":
            continue
        for out in (None, np.complex64, np.zeros(x.shape, np.complex128)):
            got, want, _ = both(name, (x, w), {"mode": "constant", "cval": 1.5, "output": out})
            assert_same(got, want)
    for name, x, w in itertools.product(("correlate1d", "convolve1d"), (x2, r2), (w1, w1.real)):
        if x.dtype.kind != "c" and w.dtype.kind != "c":
            continue
        got, want, _ = both(name, (x, w), {"axis": 0, "mode": "wrap"})
        assert_same(got, want)
    for name, args in (("uniform_filter1d", (x2, 3)), ("uniform_filter", (x2, 4)),
                       ("gaussian_filter", (x2, 1.0)), ("gaussian_filter1d", (x2, 1.0))):
        got, want, _ = both(name, args, {"mode": "constant", "cval": 1 - 2j})
        assert_same(got, want)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        res = jd.correlate(x2, wc, output=np.float32)
    assert res.dtype == np.complex64


@pytest.mark.parametrize("name", ["sobel", "prewitt", "laplace", "gaussian_laplace",
                                  "gaussian_gradient_magnitude"])
def test_derivative_filters(name):
    args = {"gaussian_laplace": (1.1,), "gaussian_gradient_magnitude": (0.9,)}.get(name, ())
    for dt, out, mode in itertools.product((np.uint8, np.int32, np.float32, np.complex128),
                                           (None, np.float64), ("reflect", ["wrap", "nearest"])):
        x = data((6, 7), dt)
        kw = {"mode": mode, "output": out}
        if isinstance(mode, list) and name in ("sobel", "prewitt"):
            kw["axis"] = 0
        if out is not None and dt == np.complex128:
            continue
        got, want, _ = both(name, (x,) + args, kw)
        assert_same(got, want)
    # SciPy 1.17's gaussian_gradient_magnitude smooths every axis, also those not in axes
    if name not in ("sobel", "prewitt"):
        x = data((4, 5, 6), np.float64)
        got, want, _ = both(name, (x,) + args, {"axes": (0, 2)})
        assert_same(got, want)


def test_output_arrays():
    x = data((9, 11), np.float64)
    w = weights((3, 4))
    for out in (np.zeros((9, 11), np.float32), np.zeros((9, 22), np.int16)[:, ::2],
                np.zeros((9, 11), ">f8"), np.zeros((11, 9), np.uint8).T):
        for name, args in (("correlate", (x, w)), ("gaussian_filter", (x, 1.0)),
                           ("uniform_filter", (x, 3)), ("correlate1d", (x, w[0]))):
            got, want, _ = both(name, args, {"output": out})
            assert_same(got, want)
    # output aliasing the input: SciPy's 1-d filters and correlate give the filtered input
    for name, args in (("correlate1d", (None, [1, 2, -1])), ("correlate", (None, w)),
                       ("gaussian_filter", (None, 1.0)), ("uniform_filter", (None, 4))):
        a, b = x.copy(), x.copy()
        getattr(nd, name)(a, *args[1:], output=a)
        res = getattr(jd, name)(b, *args[1:], output=b)
        assert res is b
        assert_same(b, a)


def test_output_aliasing_the_input_of_derivative_filters():
    """A deviation (README): SciPy's laplace-type filters read an input that
    output= is overwriting; jitconv gives the result of separate arrays."""
    x = data((6, 7), np.float64)
    for name, args in (("laplace", ()), ("gaussian_laplace", (1.0,)),
                       ("gaussian_gradient_magnitude", (1.0,)), ("sobel", ())):
        b = x.copy()
        res = getattr(jd, name)(b, *args, output=b)
        assert res is b
        assert_same(b, getattr(nd, name)(x, *args))


def test_inputs_are_never_modified():
    x = data((8, 9), np.float32)
    w = weights((3, 3))
    x0, w0 = x.copy(), w.copy()
    for cid in ("filter-direct", "filter-direct-serial", "filter-fft", "filter-separable"):
        with jitconv.force(cid):
            jd.correlate(x, w, mode="constant")
            jd.convolve(x, np.outer(w[0], w[1]))
            jd.correlate1d(x, w[0], axis=0)
    jd.uniform_filter(x, 3)
    assert np.array_equal(x, x0) and np.array_equal(w, w0)
    y = data((300, 257), np.float32)
    y0 = y.copy()
    for cid, name, args in (("filter-line32", "gaussian_filter", (y, 2.0)),
                            ("filter-line32", "correlate1d", (y, w[0])),
                            ("filter-box", "uniform_filter", (y, 7)),
                            ("filter-running", "uniform_filter", (y, 7))):
        with jitconv.force(cid):
            getattr(jd, name)(*args)
    assert np.array_equal(y, y0)


def test_zero_d_and_empty():
    for name, args in (("correlate", (np.array(3.0), np.array(2.0))),
                       ("convolve", (np.array(3), np.array(2.5))),
                       ("gaussian_filter", (np.array(3.0), 1.0)),
                       ("uniform_filter", (np.array(3.0), 3)),
                       ("correlate", (np.zeros((0, 3)), np.ones((2, 2)))),
                       ("correlate1d", (np.zeros((0, 3)), [1, 2])),
                       ("uniform_filter", (np.zeros((4, 0)), 3)),
                       ("correlate", (np.zeros(0, np.float16), [1, 2]))):
        got, want, _ = both(name, args, {})
        assert_same(got, want)


# ------------------------------------------------------- approximate candidates
NP_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
          "constant": "constant"}


def _fft_bound(x, w, mode, cval, origins, eps):
    """The FFT's documented bound: ``eps * log2(N) * ||x_ext||_2 * ||w||_2``
    (``x_ext``: the input extended by the mode as far as ``w`` reaches)."""
    w = np.asarray(w, dtype=np.float64)
    pads = [(m // 2 + o, m - 1 - m // 2 - o) for m, o in zip(w.shape, origins)]
    kw = {"constant_values": cval} if mode == "constant" else {}
    xe = np.pad(np.asarray(x, np.float64), pads, mode=NP_PAD[mode], **kw)
    return eps * np.log2(max(xe.size, 2)) * np.linalg.norm(xe) * np.linalg.norm(w)


def _bound_scale(name, x, w, kw):
    """max over outputs of SciPy's sum of |w x| (the scale of the error bounds)."""
    kw = dict(kw)
    kw["cval"] = abs(kw.get("cval", 0.0))
    return float(np.abs(getattr(nd, name)(np.abs(x).astype(np.float64), np.abs(w), **kw)).max())


@pytest.mark.parametrize("mode", ["reflect", "constant", "nearest", "mirror", "wrap"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_fft_candidate_within_its_bound(ndim, mode):
    shape = {1: (40,), 2: (23, 18), 3: (9, 8, 10)}[ndim]
    for dt, parity, pick in itertools.product((np.float32, np.float64), (3, 4), ("min", "max")):
        x = data(shape, dt)
        wshape = tuple(parity + i for i in range(ndim))
        w = np.random.default_rng(2).standard_normal(wshape)
        org = [-(k // 2) if pick == "min" else (k - 1) // 2 for k in wshape]
        for name, args, kw in (("correlate", (x, w), {"origin": org}),
                               ("convolve", (x, w), {"origin": org}),
                               ("correlate1d", (x, w.ravel()[:parity + 2]),
                                {"axis": ndim - 1})):
            kw = dict(kw, mode=mode, cval=1.5)
            got, want, log = both(name, args, kw, "filter-fft")
            assert "filter-fft" in log
            assert got.dtype == want.dtype and got.shape == want.shape
            wk = np.asarray(args[1])
            if name == "correlate1d":
                wk = wk.reshape((1,) * (ndim - 1) + (-1,))
                org = [0] * ndim
            else:
                org = kw["origin"] if name == "correlate" else [
                    -o - (1 - m % 2) for o, m in zip(kw["origin"], wk.shape)]
                wk = wk if name == "correlate" else wk[(slice(None, None, -1),) * ndim]
            bound = 4 * _fft_bound(x, wk, mode, 1.5, org, np.finfo(dt).eps)
            # float32 outputs round SciPy's float64 sum too: half an ulp of it
            bound += np.finfo(dt).eps * np.abs(want).max()
            assert np.abs(got.astype(np.float64) - want).max() <= bound


@pytest.mark.parametrize("mode", ["reflect", "constant", "mirror", "wrap"])
def test_separable_candidate_within_its_bound(mode):
    rng = np.random.default_rng(3)
    for shape, factors in (((64, 70), (5, 4)), ((20, 24, 30), (3, 4, 5))):
        x = data(shape, np.float64)
        w = np.ones(factors)
        for i, m in enumerate(factors):
            sh = [1] * len(factors)
            sh[i] = m
            w = w * rng.standard_normal(m).reshape(sh)
        for name in ("correlate", "convolve"):
            kw = {"mode": mode, "cval": 2.0, "origin": 1}
            got, want, log = both(name, (x, w), kw, "filter-separable")
            assert "filter-separable" in log
            assert got.dtype == want.dtype
            bound = (sum(factors) + 4) * np.finfo(np.float64).eps * _bound_scale(name, x, w, kw)
            assert np.abs(got - want).max() <= bound


#: shapes just above the float candidates' minimum work (``MIN_WORK``: smaller
#: calls keep SciPy's bits), one per dimensionality, odd and even lengths
FLOAT_SHAPES = {1: (17001,), 2: (131, 130), 3: (26, 27, 25)}
F32_U = 2.0 ** -24


@pytest.mark.parametrize("parity", [5, 4, 17, 20])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_line32_candidates_within_their_bound(ndim, parity):
    """float32 passes in float32 arithmetic: within ``(m + 3) u sum|w x|`` of
    SciPy's result per output, for every mode, both extreme origins and 0,
    every axis, both candidates (the path proven)."""
    shape = FLOAT_SHAPES[ndim]
    x = data(shape, np.float32)
    w = np.random.default_rng(5).standard_normal(parity)
    picks = (-(parity // 2), 0, (parity - 1) // 2)
    for mode, ax, org in itertools.product(MODES, range(ndim), picks):
        cid = "filter-line32" + ("-serial" if (ax + org) % 2 else "")
        for name in ("correlate1d", "convolve1d"):
            kw = {"axis": ax, "origin": org, "mode": mode, "cval": 0.1}
            got, want, log = both(name, (x, w), kw, cid)
            assert log == [cid.replace("line32-serial", "line32") + (
                "-serial" if cid.endswith("serial") else "-parallel")] or log == [
                "filter-line32-serial"], log
            assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
            scale = _bound_scale(name, x, w, kw)
            err = np.abs(got.astype(np.float64) - want)
            assert err.max() <= (parity + 3) * F32_U * scale, (mode, ax, org, name)


def test_line32_in_separable_chains():
    """gaussian_filter and the derivative filters of float32 data run their
    passes as line32 passes (the last-axis pass over the first pass's result),
    within the bound of each pass, and never touch the input or an output=
    array other than by the final copy."""
    x = data((160, 150), np.float32)
    x0 = x.copy()
    for name, args in (("gaussian_filter", (2.5,)), ("gaussian_filter", (1.5, 1)),
                       ("sobel", ()), ("gaussian_laplace", (2.0,))):
        got, want, log = both(name, (x,) + args, {"mode": "mirror"}, "filter-line32")
        assert log and all(p.startswith("filter-line32-") for p in log), (name, log)
        assert got.dtype == want.dtype and got.shape == want.shape
        # each pass: (m + 3) u of its sum of |w x|; the passes compound
        tol = 60 * F32_U * float(np.abs(want).max() + nd.gaussian_filter(np.abs(x), 1.0).max())
        assert np.abs(got.astype(np.float64) - want).max() <= tol, name
    assert np.array_equal(x, x0)
    out = np.full(x.shape, 7.0, np.float32)
    with jitconv.force("filter-line32"):
        res = jd.gaussian_filter(x, 2.0, output=out)
    assert res is out and np.array_equal(x, x0)
    assert np.abs(out - nd.gaussian_filter(x, 2.0)).max() <= 40 * F32_U * np.abs(x).max()
    with jitconv.force("filter-line32"):  # output= the input: SciPy allows it
        y = x.copy()
        res = jd.gaussian_filter(y, 2.0, output=y)
    assert res is y and np.abs(y - nd.gaussian_filter(x, 2.0)).max() <= 40 * F32_U * np.abs(
        x).max()


def test_line32_carries_nan_and_inf_as_scipy():
    """No non-finite guard for filter-line32: NaN and inf reach exactly the
    outputs SciPy's sums send them to (symmetric, antisymmetric and general
    weights, zero weights too); the other outputs stay within the bound."""
    x = data((300, 257), np.float32)
    x[7, 9] = np.nan
    x[100, 3] = -np.inf
    x[150, 200] = np.inf
    x[153, 200] = np.inf
    x[200, 50] = np.inf
    x[200, 53] = -np.inf
    sym = np.array([1.0, 0.0, 2.0, 0.0, 1.0])
    for w in (sym, np.array([1.0, -2.0, 0.0, 2.0, -1.0]), np.array([0.5, 1.0, 0.0, -3.0, 1.5]),
              np.array([1.0, 2.0, 0.0, 1.0])):
        for ax, mode in ((0, "reflect"), (1, "wrap"), (0, "constant")):
            kw = {"axis": ax, "mode": mode}
            got, want, log = both("correlate1d", (x, w), kw, "filter-line32")
            assert log and log[0].startswith("filter-line32"), log
            assert np.array_equal(np.isnan(got), np.isnan(want)), (w, ax)
            assert np.array_equal(np.isposinf(got), np.isposinf(want)), (w, ax)
            assert np.array_equal(np.isneginf(got), np.isneginf(want)), (w, ax)
            fin = np.isfinite(want)
            scale = _bound_scale("correlate1d", np.where(np.isfinite(x), x, 0), w, kw)
            assert np.abs(got[fin].astype(np.float64) - want[fin]).max() <= (
                len(w) + 3) * F32_U * scale


def _box_bound(x, sizes, cval, out_dtype):
    """filter-box's documented distance from SciPy's result (``BAND`` rows per band)."""
    from jitconv.algorithms.filter_box import BAND
    R, C = x.shape[-2:]
    sr, sc = sizes[-2:]
    big = max(float(np.abs(x).max()), abs(cval))
    eps = np.finfo(np.float64).eps
    bound = (2 * sr + 2 * sc + 2 * BAND + 2 * R + 4 * C + 4) * eps * big
    if np.dtype(out_dtype) == np.float32:
        bound += 2 * F32_U * big
    return bound


@pytest.mark.parametrize("dt,out", [(np.float64, None), (np.float32, None),
                                    (np.float32, np.float64)])
def test_box_candidates_within_their_bound(dt, out):
    """The fused uniform_filter: every mode (one per axis too), the extreme
    origins, odd and even sizes, 2-d images and a stack, both axis orders."""
    img = data((260, 257), dt)
    stack = data((2, 200, 170), dt)
    cases = []
    for mode in MODES[:5] + [["wrap", "constant"], ["nearest", "mirror"]]:
        for sizes, org in (((7, 10), (3, -5)), ((6, 5), (-3, 2)), ((31, 31), (0, 0))):
            cases.append((img, sizes, {"origin": list(org), "mode": mode}))
        m3 = mode if isinstance(mode, str) else ["reflect"] + mode
        cases.append((stack, (1, 9, 4), {"mode": m3, "origin": [0, -4, 1]}))
    cases.append((img, (5, 8), {"axes": (1, 0), "origin": [2, -1]}))
    for i, (x, sizes, kw) in enumerate(cases):
        cid = "filter-box" + ("-serial" if i % 2 else "")
        kw = dict(kw, cval=-1.5, output=out)
        got, want, log = both("uniform_filter", (x, list(sizes)), kw, cid)
        assert log == [cid + ("" if cid.endswith("serial") else "-parallel")] or log == [
            "filter-box-serial"], log
        assert got.dtype == want.dtype and got.shape == want.shape
        sz = sizes if "axes" not in kw else (sizes[1], sizes[0])
        assert np.abs(got.astype(np.float64) - want).max() <= _box_bound(
            x, sz, -1.5, want.dtype), (sizes, kw)


def test_uniform_filter_is_one_problem_of_exact_passes():
    """A real uniform_filter into a float output is one planned problem (rule
    'box'); its exact candidates give SciPy's bits, pass after pass; integer
    outputs and complex inputs stay chains of 1-d passes."""
    x = data((40, 30, 6), np.float32)
    e = jitconv.explain(jd.uniform_filter, x, (3, 4, 5))
    assert e.key[1] == "box"
    for cid in ("filter-running", "filter-running-serial"):
        for out in (None, np.float64):
            got, want, log = both("uniform_filter", (x, (3, 4, 5)),
                                  {"mode": ["wrap", "constant", "mirror"], "cval": 0.3,
                                   "origin": [1, -2, 0], "output": out}, cid)
            assert_same(got, want)
            assert len(log) == 3 and all(p.startswith("filter-uniform-") for p in log)
    assert jitconv.explain(jd.uniform_filter, x, 3, output=np.int16).key[1] == "uniform"
    assert jitconv.explain(jd.uniform_filter, x.astype(np.complex64), 3).key[1] == "uniform"
    # too small for the fused box: SciPy's bits under 'auto'
    got, want, _ = both("uniform_filter", (data((30, 20), np.float64), 5), {})
    assert_same(got, want)


def test_guards_keep_exact_sums():
    """Integer data, integer outputs and NaN/inf never leave SciPy's own sums,
    even when an approximate candidate is forced."""
    w = weights((4, 3))
    cases = [(data((30, 30), np.int16), None), (data((30, 30), np.float64), np.int32)]
    x = data((30, 30), np.float64)
    x[3, 4] = np.nan
    x[20, 1] = np.inf
    cases.append((x, None))
    for (x, out), cid in itertools.product(cases, ("filter-fft", "filter-separable")):
        got, want, log = both("correlate", (x, w), {"output": out}, cid)
        assert_same(got, want)
        assert all(p.startswith("filter-nd-") for p in log), log
    # the float candidates: an integer output, integer data; NaN/inf data for
    # the box (its running sums would spread a NaN differently)
    xf = data((300, 257), np.float32)
    xf[7, 9] = np.nan
    xf[100, 3] = -np.inf
    for xx, out in ((data((300, 257), np.float32), np.int32), (data((300, 257), np.int16), None)):
        for cid, name, args in (("filter-line32", "gaussian_filter", (xx, 2.0)),
                                ("filter-line32", "correlate1d", (xx, w[0])),
                                ("filter-box", "uniform_filter", (xx, 5))):
            got, want, log = both(name, args, {"output": out}, cid)
            assert_same(got, want)
            assert not any("line32" in p or "box" in p for p in log), log
    # the box notices NaN/inf itself (in its column sums), wherever they are,
    # and SciPy's sums run instead
    for pos in ((7, 9), (0, 0), (299, 256), (127, 128), (128, 5), (255, 100)):
        for bad in (np.nan, np.inf, -np.inf):
            xb = data((300, 257), np.float64)
            xb[pos] = bad
            for mode in ("reflect", "constant", "wrap"):
                got, want, log = both("uniform_filter", (xb, (5, 4)), {"mode": mode},
                                      "filter-box")
                assert_same(got, want)
                assert log[0].startswith("filter-box-") and log[1:] and all(
                    p.startswith("filter-uniform-") for p in log[1:]), log
    got, want, log = both("uniform_filter", (data((300, 257), np.float64), 5),
                          {"mode": "constant", "cval": np.nan}, "filter-box")
    assert_same(got, want)
    assert all(p.startswith("filter-uniform-") for p in log), log
    # a NaN weight: SciPy drops it from the sum
    wn = w.copy()
    wn[1, 1] = np.nan
    got, want, log = both("correlate", (data((9, 9), np.float64), wn), {}, "filter-fft")
    assert_same(got, want)
    # a non-finite cval in constant mode
    got, want, log = both("correlate1d", (data((50,), np.float64), [1.0, 2.0]),
                          {"mode": "constant", "cval": np.inf}, "filter-fft")
    assert_same(got, want)
    assert log == ["filter-line-serial"]


# ------------------------------------------------------------------ planner
def test_planner_key_holds_the_mode_and_explain_works():
    x = data((40, 40), np.float64)
    w = weights((3, 3))
    keys = set()
    for mode in ("reflect", "wrap", "constant", "grid-constant"):
        e = jitconv.explain(jd.correlate, x, w, mode=mode)
        assert e.chosen in ("filter-direct", "filter-direct-serial", "filter-fft")
        keys.add(e.key)
    assert len(keys) == 3  # grid-constant is constant
    e = jitconv.explain(jd.gaussian_filter, x, 2.0)
    assert e.chosen.startswith("filter-direct") and e.key[1] == "line"
    e = jitconv.explain(jd.uniform_filter, x.astype(np.uint8), 5)
    assert e.chosen.startswith("filter-running") and e.reason == "integer-output"


def test_threads_give_the_same_bits():
    x = data((300, 257), np.float32)
    w = weights((5, 4))
    for cid, name, args in (("filter-direct", "correlate", (x, w)),
                            ("filter-direct", "correlate1d", (x, w[0])),
                            ("filter-direct", "gaussian_filter", (x, 2.0)),
                            ("filter-running", "uniform_filter", (x, 9)),
                            ("filter-line32", "correlate1d", (x, w[0])),
                            ("filter-line32", "gaussian_filter", (x, 2.0)),
                            ("filter-box", "uniform_filter", (x, 9)),
                            ("filter-box", "uniform_filter", (x.astype(np.float64), (4, 7)))):
        # one thread: the serial twin (a parallel candidate needs two workers)
        with jitconv.force(cid + "-serial"):
            one = getattr(jd, name)(*args, workers=1)
        with jitconv.force(cid):
            with _trace.paths() as log:
                two = getattr(jd, name)(*args, workers=2)
        assert_same(two, one)
        if jitconv._config.CPUS > 1:
            assert any(p.endswith("-parallel") for p in log), log
    # the FFT's blocks, shared among threads, give the same bits as one thread
    y = data((700, 650), np.float64)
    k = np.random.default_rng(4).standard_normal((40, 33))
    with jitconv.force("filter-fft"):
        one = jd.convolve(y, k, mode="wrap", workers=1)
        two = jd.convolve(y, k, mode="wrap", workers=2)
    assert_same(two, one)


# ------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(1, 12), min_size=1, max_size=3),
       data_=st.data())
def test_property_exact_equals_scipy(shape, data_):
    nd_ = len(shape)
    wshape = data_.draw(st.tuples(*[st.integers(1, 7)] * nd_))
    mode = data_.draw(st.sampled_from(MODES))
    origin = [data_.draw(st.integers(-(k // 2), (k - 1) // 2)) for k in wshape]
    dt = data_.draw(st.sampled_from([np.float64, np.float32, np.int64, np.uint8]))
    seed = data_.draw(st.integers(0, 2 ** 16))
    x = data(tuple(shape), dt, seed)
    w = weights(wshape, seed + 1)
    axis = data_.draw(st.integers(0, nd_ - 1))
    par = data_.draw(st.sampled_from(["", "-serial"]))
    for name, args, kw, cid in (
            ("correlate", (x, w), {"origin": origin}, "filter-direct"),
            ("convolve", (x, w), {"origin": origin}, "filter-direct"),
            ("correlate1d", (x, w.ravel()), {"axis": axis}, "filter-direct"),
            ("uniform_filter", (x, list(wshape)), {"origin": origin}, "filter-running")):
        got, want, _ = both(name, args, dict(kw, mode=mode, cval=0.5), cid + par)
        assert_same(got, want)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), m=st.integers(1, 15), seed=st.integers(0, 1000),
       mode=st.sampled_from(MODES[:5]))
def test_property_fft_matches_direct(n, m, seed, mode):
    """Whatever the sizes, the FFT's result is the direct sum's within its bound."""
    x = data((n, 3), np.float64, seed)
    w = np.random.default_rng(seed).standard_normal(m)
    with jitconv.force("filter-fft"):
        f = jd.correlate1d(x, w, axis=0, mode=mode)
    d = nd.correlate1d(x, w, axis=0, mode=mode)
    bound = _fft_bound(x, w.reshape(-1, 1), mode, 0.0, [0, 0], np.finfo(float).eps)
    assert np.abs(f - d).max() <= 4 * bound


# -------------------------------------------------------------------- errors
def _error(f, *args, **kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return type(e), str(e)
    return None


X = np.arange(12.0).reshape(3, 4)
ERROR_CASES = [
    ("correlate", (X, [[1, 2]]), {"mode": "foo"}),
    ("correlate", (X, [[1, 2]]), {"mode": ["reflect", "wrap"]}),
    ("correlate", (X, [1, 2]), {}),
    ("correlate", (X, np.ones((3, 0))), {}),
    ("correlate", (X, [[1, 2, 3]]), {"origin": 2}),
    ("convolve", (X, [[1, 2]]), {"origin": [0, -2]}),
    ("correlate", (X, [[1, 2]]), {"origin": [0, 0, 0]}),
    ("correlate", (X, [[1, 2, 1]]), {"origin": 0.5}),
    ("correlate", (X, [[1, 2, 1]]), {"origin": True}),
    ("correlate", (X, [[1, 2, 1]]), {"cval": "a"}),
    ("correlate", (X, [[1, 2, 1]]), {"cval": 1j}),
    ("correlate", (X, [[1, 2, 1]]), {"cval": None}),
    ("correlate", (X, [[1, 2, 1]]), {"output": np.zeros((3, 3))}),
    ("correlate", (X, [[1, 2, 1]]), {"output": "U3"}),
    ("correlate", (X, [[1, 2, 1]]), {"output": np.float16}),
    ("correlate", (X, [[1, 2, 1]]), {"output": object}),
    ("correlate", (X, [[1, 2, 1]]), {"output": np.complex128}),
    ("correlate", (X.astype(np.float16), [[1, 2, 1]]), {}),
    ("correlate", (X.astype(object), [[1, 2, 1]]), {}),
    ("correlate", (X, [[1, 2, 1]]), {"axes": (0, 0)}),
    ("correlate", (X, [[1, 2, 1]]), {"axes": (2,)}),
    ("correlate", (X, [1, 2, 1]), {"axes": 1.5}),
    ("correlate", (X, [1, 2, 1]), {"axes": object()}),
    ("correlate", (X, [[1, 2, 1]]), {"axes": (0,)}),
    ("correlate", (X, [["a"]]), {}),
    ("correlate", (X + 1j, [[1j, 2]]), {"output": np.zeros((3, 4))}),
    ("correlate", (X, [[1j, 2]]), {"cval": 1 + 1j, "mode": "constant"}),
    ("correlate1d", (X, [1, 2, 1]), {"axis": 2}),
    ("correlate1d", (X, [1, 2, 1]), {"axis": 0.5}),
    ("correlate1d", (X, []), {}),
    ("correlate1d", (X, [[1, 2]]), {}),
    ("correlate1d", (X, [1, 1, 2, 0]), {"origin": 2}),
    ("correlate1d", (X, [1, 2]), {"origin": 1.0}),
    ("correlate1d", (X, [1, 2]), {"mode": "foo"}),
    ("correlate1d", (X, [1, 2]), {"mode": ["reflect"]}),
    ("correlate1d", (X, [1, 2]), {"output": np.float16}),
    ("correlate1d", (X.astype(np.float16), [1, 2]), {}),
    ("correlate1d", (np.array(3.0), [1, 2]), {}),
    ("convolve1d", (X, np.array(2.0)), {}),
    ("convolve1d", (np.arange(10), np.ones(3)), {"origin": -2}),
    ("gaussian_filter1d", (X, -1.0), {}),
    ("gaussian_filter1d", (X, 1.0), {"radius": 1.5}),
    ("gaussian_filter1d", (X, 1.0), {"order": -1}),
    ("gaussian_filter1d", (X, "a"), {}),
    ("gaussian_filter1d", (X, 0), {}),
    ("gaussian_filter1d", (X, float("inf")), {}),
    ("gaussian_filter", (X, [1.0, 1.0, 1.0]), {}),
    ("gaussian_filter", (X, 1.0), {"mode": ["reflect"]}),
    ("gaussian_filter", (X, 1.0), {"order": -1}),
    ("gaussian_filter", (X.astype(np.float16), 1.0), {}),
    ("gaussian_filter", (np.zeros(0, np.float16), 1.0), {}),
    ("gaussian_filter", (X, 1.0), {"axes": (0, 0)}),
    ("gaussian_filter", (X + 1j, 1.0), {"output": np.float64}),
    ("uniform_filter1d", (X, 0), {}),
    ("uniform_filter1d", (X, 2.5), {}),
    ("uniform_filter1d", (X, 3), {"origin": 2}),
    ("uniform_filter1d", (X, 3), {"cval": 1j}),
    ("uniform_filter1d", (X, 3), {"axis": 5}),
    ("uniform_filter", (X, [3, 3, 3]), {}),
    ("uniform_filter", (X, 3), {"origin": [0, 2]}),
    ("uniform_filter", (X, 3), {"mode": "foo"}),
    ("uniform_filter", (X, 3), {"output": np.complex64}),
    ("sobel", (X,), {"axis": 3}),
    ("laplace", (X,), {"mode": ["reflect"]}),
]


@pytest.mark.parametrize("name,args,kwargs", ERROR_CASES)
def test_errors_are_scipys(name, args, kwargs):
    want = _error(getattr(nd, name), *args, **kwargs)
    assert want is not None, "SciPy accepted this case"
    got = _error(getattr(jd, name), *args, **kwargs)
    assert got == want


def test_errors_come_before_any_work(monkeypatch):
    from jitconv import _engine

    def boom(*a, **k):
        raise AssertionError("computation started")
    monkeypatch.setattr(_engine, "run_node", boom)
    for name, args, kwargs in ERROR_CASES:
        want = _error(getattr(nd, name), *args, **kwargs)
        got = _error(getattr(jd, name), *args, **kwargs)
        assert got == want, (name, kwargs)


def test_read_only_output():
    out = np.zeros((3, 4))
    out.flags.writeable = False
    for name, args in (("correlate", (X, [[1, 2]])), ("correlate1d", (X, [1, 2])),
                       ("gaussian_filter", (X, 1.0))):
        assert _error(getattr(jd, name), *args, output=out) == \
            _error(getattr(nd, name), *args, output=out)
