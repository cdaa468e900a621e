"""``correlate(..., lags=)``: exactly the matching slice of SciPy's 'full'
correlation, with every candidate forced and the path that ran proven."""
import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jitconv
from jitconv import _planner, _trace
from jitconv._validate.signal import signal_call
from jitconv.algorithms import REGISTRY

pytestmark = pytest.mark.usefixtures("estimate_planner")

#: candidates of the direct family: bitwise the same sums as the 'full' result
DIRECT = ("direct-serial", "direct-parallel", "direct-lags", "direct-lags-parallel",
          "direct-batched", "direct-batched-parallel")
FFT = ("fft", "fft-blocked", "oa")
#: the trace names each candidate records
TRACE = {"direct-serial": ("direct-serial",),
         "direct-parallel": ("direct-parallel",),
         "direct-lags": ("direct-lags-serial",),
         "direct-lags-parallel": ("direct-lags-parallel",),
         "direct-batched": ("direct-batched-serial",),
         "direct-batched-parallel": ("direct-batched-parallel",),
         "fft": ("fft-real", "fft-complex", "fft-none"),
         "fft-blocked": ("fft-blocked-real", "fft-blocked-complex"),
         "oa": ("oa", "fft-real", "fft-complex")}


def data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -9
        return rng.integers(lo, 10, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)  # asymmetric: a missing conj shows
    return x.astype(dtype)


def lag_range(spec, n, m):
    return range(-spec, spec + 1) if isinstance(spec, int) else spec


def window_index(lags, s1, s2, axes):
    """Index of the lags in the 'full' correlation (correlation_lags' numbering)."""
    idx = [slice(None)] * len(s1)
    specs = lags if isinstance(lags, tuple) else (lags,) * len(axes)
    for spec, ax in zip(specs, axes):
        r = lag_range(spec, s1[ax], s2[ax])
        m = s2[ax]
        idx[ax] = slice(r.start + m - 1, r.stop + m - 1, r.step) if len(r) else slice(0, 0)
    return tuple(idx)


def scipy_full(x, y, axes):
    """SciPy's full correlation along ``axes`` (a loop over the batch for SciPy,
    which has no ``axes``), computed exactly for ints and bools."""
    def wide(a):
        return a.astype({"b": np.int64, "i": np.int64, "u": np.int64, "f": np.float64,
                         "c": np.complex128}[a.dtype.kind])
    xs, ys = wide(x), wide(y)
    if len(axes) == x.ndim:
        return ss.correlate(xs, ys, "full", method="direct")
    batch = [i for i in range(x.ndim) if i not in axes]
    bshape = [max(x.shape[i], y.shape[i]) for i in batch]
    perm = batch + list(axes)
    xt = np.broadcast_to(x.transpose(perm), tuple(bshape) + tuple(x.shape[a] for a in axes))
    yt = np.broadcast_to(y.transpose(perm), tuple(bshape) + tuple(y.shape[a] for a in axes))
    parts = [ss.correlate(xt[b].astype(xs.dtype), yt[b].astype(ys.dtype), "full",
                          method="direct") for b in np.ndindex(*bshape)]
    out = np.stack(parts).reshape(tuple(bshape) + parts[0].shape)
    inv = np.argsort(perm)
    return out.transpose(inv)


def check_values(res, ref, x, y, axes, idx, fft):
    rt = np.result_type(x, y)
    assert res.dtype == rt
    assert res.shape == ref[idx].shape
    if rt.kind in "biu":
        expect = ref[idx]
        if rt.kind == "b":
            expect = expect != 0
        np.testing.assert_array_equal(res, expect.astype(rt))
        return
    # componentwise bound of the direct sums; normwise for the FFT
    ax = np.abs(x).astype(np.float64)
    ay = np.abs(y).astype(np.float64)
    mag = scipy_full(ax, ay, axes)[idx]
    eps = np.finfo(rt).eps
    taps = np.prod([min(x.shape[a], y.shape[a]) for a in axes])
    if fft:
        tol = 8 * eps * np.log2(max(taps, 2) * 4) * np.linalg.norm(ax) * np.linalg.norm(ay)
    else:
        tol = 4 * eps * max(taps, 16) * mag + 1e-300
    assert np.all(np.abs(res.astype(np.complex128) - ref[idx]) <= tol)


def forced(cid, x, y, lags, axes, method):
    with jitconv.force(cid):
        with _trace.paths() as log:
            res = jitconv.correlate(x, y, method=method, lags=lags, axes=axes)
    return res, log


def admitted(cid, x, y, lags, axes, method):
    call = signal_call("correlate", x, y, "full", method, axes, None, lags)
    return REGISTRY.admits(call.problem, cid)


def run_all(x, y, lags, axes=None):
    """Every candidate that supports the problem, forced; checked against SciPy,
    the direct ones also bitwise against jitconv's own 'full' direct result."""
    ax = list(range(x.ndim)) if axes is None else [a % x.ndim for a in np.atleast_1d(axes)]
    idx = window_index(lags, x.shape, y.shape, ax)
    ref = scipy_full(x, y, ax)
    with jitconv.force("direct-serial"):
        full = jitconv.correlate(x, y, method="direct", axes=axes)
    ran = []
    for cid in DIRECT + FFT:
        method = "direct" if cid in DIRECT else "fft"
        if not admitted(cid, x, y, lags, axes, method):
            continue
        res, log = forced(cid, x, y, lags, axes, method)
        if res.size:  # an empty window runs no kernel
            assert log and log[0] in TRACE[cid], (cid, log)
        check_values(res, ref, x, y, ax, idx, fft=cid in FFT)
        if cid in DIRECT:
            assert np.array_equal(res, full[idx], equal_nan=True), cid
        ran.append(cid)
    return ran


# ------------------------------------------------------------------ 1-d grid
SIZES_1D = [(1, 1), (1, 7), (7, 1), (5, 5), (16, 3), (3, 16), (64, 64), (257, 31), (31, 257)]
LAGS_1D = [0, 1, 3, "one", "asym", "edges", "empty", "step"]


def lags_for(kind, n, m):
    lo, hi = -(m - 1), n - 1
    if isinstance(kind, int):
        return kind
    if kind == "one":
        return range(hi, hi + 1)
    if kind == "asym":
        return range(max(lo, -2), min(hi, 5) + 1)
    if kind == "edges":
        return range(lo, hi + 1)
    if kind == "empty":
        return range(0, 0) if lo <= 0 <= hi + 1 else None
    return range(lo, hi + 1, 3)


@pytest.mark.parametrize("n,m", SIZES_1D)
@pytest.mark.parametrize("kind", LAGS_1D)
def test_1d_float64_every_candidate(n, m, kind, rng):
    lags = lags_for(kind, n, m)
    x, y = data(rng, n, np.float64), data(rng, m, np.float64)
    if isinstance(lags, int) and lags > min(m - 1, n - 1):
        # larger than the full range: an error, not zeros or clipping
        with pytest.raises(ValueError, match="exceed the full correlation's lags"):
            jitconv.correlate(x, y, lags=lags)
        return
    ran = run_all(x, y, lags)
    assert "direct-serial" in ran and "fft" in ran


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_, np.float32,
                                   np.complex64, np.complex128, np.float16])
@pytest.mark.parametrize("n,m,lags", [(40, 40, 5), (100, 17, range(-16, -3)),
                                      (9, 50, range(-49, -40)), (300, 300, range(-7, 0))])
def test_1d_dtypes(dtype, n, m, lags, rng):
    ran = run_all(data(rng, n, dtype), data(rng, m, dtype), lags)
    assert "direct-lags" in ran


def test_long_signals_small_window_runs_in_parallel(rng):
    """W22's shape, smaller: a few lags of two long signals split over the workers."""
    x, y = data(rng, 200_000, np.float64), data(rng, 200_000, np.float64)
    with jitconv.force("direct-lags-parallel"):
        with _trace.paths() as log:
            res = jitconv.correlate(x, y, lags=16, workers=2, method="direct")
    assert log == ["direct-lags-parallel"]
    full = ss.correlate(x, y, "full", method="fft")
    np.testing.assert_allclose(res, full[200_000 - 17: 200_000 + 16], atol=1e-9)
    with jitconv.force("direct-lags"):
        one = jitconv.correlate(x, y, lags=16, workers=1, method="direct")
    assert np.array_equal(res, one)  # the same sums whatever the thread count
    with jitconv.force("fft-blocked"):
        with _trace.paths() as log:
            fb = jitconv.correlate(x, y, lags=16, method="fft")
    assert log == ["fft-blocked-real"]
    np.testing.assert_allclose(fb, res, atol=1e-9)


def test_float32_blocks_match_the_full_direct_sum(rng):
    """float32 sums close their float32 blocks at the same taps as the full
    correlation's, rows skipped at the edges included (bitwise)."""
    for s1, s2, lags in [((700,), (700,), 40), ((37, 41), (29, 33), (range(-20, -5), 9)),
                         ((9, 11, 50), (5, 7, 40), (2, range(-6, 7), range(0, 30)))]:
        x, y = data(rng, s1, np.float32), data(rng, s2, np.float32)
        assert "direct-lags" in run_all(x, y, lags)


# --------------------------------------------------------------- N-d grid
ND = [((6, 7), (3, 4), (1, 2)), ((6, 7), (3, 4), (range(-2, 6), range(-3, 7))),
      ((16, 16), (16, 16), 3), ((5, 40), (5, 33), (range(0, 1), 4)),
      ((8, 9, 10), (3, 4, 5), 1), ((8, 9, 10), (8, 9, 10), (range(-7, 8, 2), 0, range(-9, -3))),
      ((4, 30, 30), (4, 30, 30), (range(-3, 4), range(0, 0), 2))]


@pytest.mark.parametrize("s1,s2,lags", ND)
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.int32])
def test_nd(s1, s2, lags, dtype, rng):
    ran = run_all(data(rng, s1, dtype), data(rng, s2, dtype), lags)
    assert "direct-serial" in ran


@pytest.mark.parametrize("s1,s2,axes,lags", [
    ((12, 50), (12, 20), -1, 5),                        # 12 pairs of signals
    ((1, 50), (6, 20), 1, range(-19, -10)),             # one signal, 6 templates
    ((64, 16, 16), (64, 16, 16), (1, 2), 3),            # image windows (W23's shape)
    ((64, 16, 16), (1, 16, 16), (1, 2), (range(-3, 1), 2)),
    ((5, 3, 40), (5, 1, 30), (0, 2), (1, range(-4, 9))),
    ((3, 40, 2), (3, 30, 2), 1, (6,)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.int16])
def test_batches_with_axes(s1, s2, axes, lags, dtype, rng):
    ran = run_all(data(rng, s1, dtype), data(rng, s2, dtype), lags, axes)
    assert "direct-lags" in ran or "direct-serial" in ran


def test_large_batch_runs_blocked_items_in_parallel(rng):
    """Many small windows: fft-blocked's items run on the worker threads."""
    x, y = data(rng, (512, 32, 32), np.float32), data(rng, (512, 32, 32), np.float32)
    with jitconv.force("fft-blocked"):
        with _trace.paths() as log:
            res = jitconv.correlate(x, y, lags=6, axes=(1, 2), method="fft", workers=2)
    assert log == ["fft-blocked-real"]
    with jitconv.force("fft-blocked"):
        one = jitconv.correlate(x, y, lags=6, axes=(1, 2), method="fft", workers=1)
    # items are cut and summed the same way whatever the thread count
    assert np.array_equal(res, one)
    full = ss.fftconvolve(x.astype(np.float64), y[:, ::-1, ::-1].astype(np.float64),
                          axes=(1, 2))[:, 25:38, 25:38]
    np.testing.assert_allclose(res, full, atol=2e-4)


def test_nan_and_inf_keep_the_direct_pattern(rng):
    x, y = data(rng, 300, np.float64), data(rng, 300, np.float64)
    x[150], y[7] = np.nan, np.inf
    full = jitconv.correlate(x, y, method="direct")
    for cid in DIRECT:
        with jitconv.force(cid):
            res = jitconv.correlate(x, y, lags=range(-100, 40), method="direct")
        assert np.array_equal(res, full[199:339], equal_nan=True), cid
    auto = jitconv.correlate(x, y, lags=range(-100, 40))  # the guard keeps FFT away
    assert np.array_equal(auto, full[199:339], equal_nan=True)


def test_longdouble_goes_through_scipy_then_slices(rng):
    x = data(rng, 30, np.float64).astype(np.longdouble)
    y = data(rng, 12, np.float64)
    res = jitconv.correlate(x, y, lags=range(-5, 9, 2))
    full = ss.correlate(x, y)
    assert res.dtype == full.dtype
    np.testing.assert_array_equal(res, full[6:20:2])


def test_inputs_untouched_and_result_fresh(rng):
    x, y = data(rng, 500, np.float64), data(rng, 400, np.float64)
    x0, y0 = x.copy(), y.copy()
    for cid in DIRECT + FFT:
        method = "direct" if cid in DIRECT else "fft"
        with jitconv.force(cid):
            r = jitconv.correlate(x, y, lags=20, method=method)
        assert r.flags.c_contiguous
        assert not np.shares_memory(r, x) and not np.shares_memory(r, y)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


def test_auto_plans_lag_windows_per_key(rng):
    """The window is part of the key: each lag window is planned for itself."""
    x, y = data(rng, 5000, np.float64), data(rng, 5000, np.float64)
    e1 = jitconv.explain(jitconv.correlate, x, y, lags=4)
    e2 = jitconv.explain(jitconv.correlate, x, y, lags=range(-2000, 2000))
    e3 = jitconv.explain(jitconv.correlate, x, y)
    assert len({e1.key, e2.key, e3.key}) == 3
    assert "direct-lags" in [c.id for c in e1.candidates]
    # 9 lags of 5000 taps: a direct sum (direct-lags or the general direct
    # kernel, which run within 1.3x of each other on such windows)
    assert e1.family == "direct"
    assert "direct-lags" not in [c.id for c in e3.candidates]  # not for the full window
    assert jitconv.explain(x, y, op="correlate", lags=4).key == e1.key
    with pytest.raises(TypeError, match="lags= is a keyword of correlate"):
        jitconv.explain(x, y, op="convolve", lags=4)


# ------------------------------------------------------------------- lags
@pytest.mark.parametrize("n,m,lags", [(10, 3, 2), (10, 3, range(-2, 10)), (10, 3, range(9, 9)),
                                      (10, 3, range(-2, 9, 4)), (5, 8, (range(-7, -3),))])
def test_correlation_lags_labels_the_result(n, m, lags, rng):
    lab = jitconv.correlation_lags(n, m, lags=lags)
    full = jitconv.correlation_lags(n, m)
    res = jitconv.correlate(data(rng, n, float), data(rng, m, float), lags=lags)
    assert lab.shape == res.shape
    assert set(lab) <= set(full)
    r = lags[0] if isinstance(lags, tuple) else lags
    expect = np.arange(-r, r + 1) if isinstance(r, int) else np.arange(r.start, r.stop, r.step)
    np.testing.assert_array_equal(lab, expect)


BAD = [
    (dict(lags=4), (np.ones(3), np.ones(3)), ValueError, "exceed the full correlation's lags -2 .. 2"),
    (dict(lags=range(-3, 1)), (np.ones(3), np.ones(3)), ValueError, "exceed"),
    (dict(lags=range(0, 4)), (np.ones(3), np.ones(3)), ValueError, "exceed"),
    (dict(lags=-1), (np.ones(3), np.ones(3)), ValueError, "must be >= 0"),
    (dict(lags=range(2, 0)), (np.ones(3), np.ones(3)), ValueError, "reversed"),
    (dict(lags=range(2, -2, -1)), (np.ones(3), np.ones(3)), ValueError, "reversed"),
    (dict(lags=range(7, 7)), (np.ones(3), np.ones(3)), ValueError, "start outside"),
    (dict(lags=(1, 1)), (np.ones(3), np.ones(3)), ValueError, "2 entries for 1 correlated axes"),
    (dict(lags=(1,)), (np.ones((3, 3)), np.ones((3, 3))), ValueError, "1 entries for 2"),
    (dict(lags=(1,), axes=(0, 1)), (np.ones((3, 3)), np.ones((3, 3))), ValueError, "1 entries"),
    (dict(lags=(5, 1)), (np.ones((3, 3)), np.ones((3, 3))), ValueError, "along axis 0"),
    (dict(lags=1.0), (np.ones(3), np.ones(3)), TypeError, "lags must be an int"),
    (dict(lags=True), (np.ones(3), np.ones(3)), TypeError, "lags must be an int"),
    (dict(lags="2"), (np.ones(3), np.ones(3)), TypeError, "lags must be an int"),
    (dict(lags=[[1, 2]]), (np.ones(3), np.ones(3)), TypeError, "lags must be an int"),
    (dict(lags=1, mode="same"), (np.ones(3), np.ones(3)), ValueError, "use mode='full'"),
    (dict(lags=1, mode="valid"), (np.ones(3), np.ones(3)), ValueError, "use mode='full'"),
    (dict(lags=1), (np.ones(()), np.ones(())), ValueError, "at least one dimension"),
    (dict(lags=1), (np.ones(0), np.ones(3)), ValueError, "first array argument cannot be empty"),
    (dict(lags=1, mode="nope"), (np.ones(3), np.ones(3)), ValueError, "Acceptable mode flags"),
]


@pytest.mark.parametrize("kw,args,exc,msg", BAD)
def test_bad_lags_raise_before_any_work(kw, args, exc, msg, monkeypatch):
    def no_work(*a, **k):
        raise AssertionError("planned or computed before the argument check")
    monkeypatch.setattr(_planner.PLANNER, "choose", no_work)
    monkeypatch.setattr(_planner.PLANNER, "run", no_work)
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        jitconv.correlate(*args, **kw)


def test_bad_lags_of_correlation_lags():
    with pytest.raises(ValueError, match="exceed"):
        jitconv.correlation_lags(3, 3, lags=3)
    with pytest.raises(ValueError, match="use mode='full'"):
        jitconv.correlation_lags(3, 3, "same", lags=1)
    with pytest.raises(ValueError, match="2 entries"):
        jitconv.correlate(np.ones(3), np.ones(3), lags=(1, 1))


# -------------------------------------------------------------- hypothesis
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_window_is_the_slice_of_full(data_):
    nd = data_.draw(st.integers(1, 2))
    s1 = tuple(data_.draw(st.integers(1, 12)) for _ in range(nd))
    s2 = tuple(data_.draw(st.integers(1, 12)) for _ in range(nd))
    lags = []
    for n, m in zip(s1, s2):
        lo = data_.draw(st.integers(-(m - 1), n - 1))
        hi = data_.draw(st.integers(lo, n - 1))
        step = data_.draw(st.integers(1, 3))
        lags.append(range(lo, hi + 1, step))
    dtype = data_.draw(st.sampled_from([np.float64, np.float32, np.complex128, np.int64]))
    rng = np.random.default_rng(data_.draw(st.integers(0, 2**16)))
    x, y = data(rng, s1, dtype), data(rng, s2, dtype)
    full = jitconv.correlate(x, y, method="direct")
    idx = window_index(tuple(lags), s1, s2, list(range(nd)))
    for cid in DIRECT:
        if admitted(cid, x, y, tuple(lags), None, "direct"):
            res, _ = forced(cid, x, y, tuple(lags), None, "direct")
            assert np.array_equal(res, full[idx]), cid
    res = jitconv.correlate(x, y, lags=tuple(lags))
    assert res.shape == full[idx].shape
