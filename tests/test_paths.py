"""Every algorithm forced, with proof (jitconv._trace) that it is the one that ran."""
import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv import _launch, _trace
from jitconv.algorithms import separable as _separable


def crand(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def ran(fn, *args, **kw):
    with _trace.paths() as log:
        out = fn(*args, **kw)
    return out, log


def test_direct_serial_for_small_problems(rng):
    a, k = rng.standard_normal(50), rng.standard_normal(5)
    out, log = ran(jitconv.convolve, a, k, method="direct")
    assert log == ["direct-serial"]  # the model's pick, no timing for tiny work
    np.testing.assert_allclose(out, np.convolve(a, k), rtol=1e-13)


def test_direct_parallel_forced(rng):
    a, k = rng.standard_normal(200_000), rng.standard_normal(33)
    with jitconv.force("direct-parallel"):
        out, log = ran(jitconv.convolve, a, k, method="direct", workers=2)
    assert log == ["direct-parallel"]
    np.testing.assert_allclose(out, np.convolve(a, k), rtol=1e-10, atol=1e-10)


def test_workers_one_runs_serial(rng):
    a, k = rng.standard_normal(200_000), rng.standard_normal(33)
    with jitconv.force("direct-parallel"):  # not a candidate with one worker
        out, log = ran(jitconv.convolve, a, k, method="direct", workers=1)
    assert log == ["direct-serial"]
    with jitconv.force("direct-parallel"):
        out2 = jitconv.convolve(a, k, method="direct", workers=2)
    # output-parallel kernel: bitwise identical whatever the thread count
    assert np.array_equal(out, out2)


def test_forked_after_omp_flag_forces_serial(rng, monkeypatch):
    monkeypatch.setattr(_launch, "FORKED_AFTER_OMP", True)
    a, k = rng.standard_normal(200_000), rng.standard_normal(33)
    with jitconv.force("direct-parallel"):
        _, log = ran(jitconv.convolve, a, k, method="direct", workers=2)
    assert log == ["direct-serial"]


def test_fft_real_path(rng):
    a, k = rng.standard_normal(1000), rng.standard_normal(100)
    with jitconv.force("fft"):
        out, log = ran(jitconv.convolve, a, k, method="fft")
    assert log == ["fft-real"]
    np.testing.assert_allclose(out, ss.convolve(a, k, method="direct"), atol=1e-11)


def test_fft_complex_path(rng):
    a, k = crand(rng, 300), crand(rng, 40)
    with jitconv.force("fft"):
        out, log = ran(jitconv.correlate, a, k, method="fft")
    assert log == ["fft-complex"]
    np.testing.assert_allclose(out, ss.correlate(a, k, method="direct"), atol=1e-11)


def test_fftconvolve_runs_frequency_domain_only(rng):
    _, log = ran(jitconv.fftconvolve, rng.standard_normal((20, 30)),
                 rng.standard_normal((3, 4)), "same")
    assert log in (["fft-real"], ["oa", "fft-real"])
    with jitconv.force("direct-serial"):  # not in fftconvolve's family: ignored
        _, log = ran(jitconv.fftconvolve, rng.standard_normal(300), rng.standard_normal(5))
    assert log[-1] == "fft-real"


def test_oaconvolve_runs_overlap_add(rng):
    a, k = rng.standard_normal(10_000), rng.standard_normal(65)
    out, log = ran(jitconv.oaconvolve, a, k)
    assert log == ["oa", "fft-real"]
    np.testing.assert_allclose(out, ss.convolve(a, k, method="direct"), atol=1e-10)


def test_oaconvolve_falls_back_when_one_block(rng):
    _, log = ran(jitconv.oaconvolve, rng.standard_normal(50), rng.standard_normal(40))
    assert log == ["fft-real"]


def test_broadcast_only_axes_multiply(rng):
    a, k = rng.standard_normal((4, 1)), rng.standard_normal((1, 1))
    out, log = ran(jitconv.fftconvolve, a, k, axes=1)
    assert log == []  # SciPy's rule: length-1 axes are a plain product
    np.testing.assert_array_equal(out, a * k)


@pytest.mark.parametrize("cid", ["direct-serial", "direct-parallel", "fft", "oa"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_every_candidate_forced_matches_scipy(cid, mode, rng):
    a, k = crand(rng, 3000), crand(rng, 50)
    expect = {"direct-serial": ["direct-serial"], "direct-parallel": ["direct-parallel"],
              "fft": ["fft-complex"], "oa": ["oa", "fft-complex"]}[cid]
    for fn in (jitconv.convolve, jitconv.correlate):
        with jitconv.force(cid):
            out, log = ran(fn, a, k, mode, workers=2)
        assert log == expect
        ref = getattr(ss, fn.__name__)(a, k, mode, method="direct")
        np.testing.assert_allclose(out, ref, atol=1e-9 * np.abs(ref).max())


def test_convolve2d_runs_direct_kernel(rng):
    _, log = ran(jitconv.convolve2d, rng.standard_normal((30, 30)),
                 rng.standard_normal((3, 3)), "same", "symm")
    assert log == ["direct-serial"]


@pytest.mark.parametrize("case,reason", [
    ("nan", "non-finite"), ("inf", "non-finite"), ("bool", "bool"), ("bigint", "int"),
])
def test_auto_guards_keep_fft_away(case, reason, rng):
    n = 20_000
    if case == "bool":
        a, k = rng.random(n) > 0.5, rng.random(n) > 0.5
    elif case == "bigint":
        a = np.full(n, 2**24, dtype=np.int64)
        k = np.full(n, 2**24, dtype=np.int64)
    else:
        a, k = rng.standard_normal(n), rng.standard_normal(n)
        a[123] = np.nan if case == "nan" else np.inf
    # a large equal-size problem: the cost model alone would pick FFT
    assert jitconv.choose_conv_method(np.ones(n), np.ones(n)) == "fft"
    assert jitconv.choose_conv_method(a, k) == "direct"
    with _trace.paths() as log:
        out = jitconv.convolve(a[:3000], k[:3000])
    assert log[0].startswith("direct"), log
    ref = ss.convolve(a[:3000], k[:3000], method="direct")
    assert out.dtype == ref.dtype
    if case in ("nan", "inf"):
        assert np.array_equal(np.isfinite(out), np.isfinite(ref))
    else:
        assert np.array_equal(out, ref)


def test_auto_picks_fft_for_large_kernels(rng):
    a, k = rng.standard_normal(50_000), rng.standard_normal(5_000)
    _, log = ran(jitconv.convolve, a, k)
    # the FFT family: one transform, or overlap-add blocks of real transforms
    assert log in (["fft-real"], ["oa", "fft-real"]), log


def test_auto_picks_direct_for_short_kernels(rng):
    a, k = rng.standard_normal(50_000), rng.standard_normal(3)
    _, log = ran(jitconv.convolve, a, k)
    assert log[0].startswith("direct")


def test_forced_fft_on_nan_warns_like_scipy(rng):
    a = rng.standard_normal(100)
    a[50] = np.nan
    with pytest.warns(RuntimeWarning, match="Use of fft convolution on input with NAN"):
        jitconv.convolve(a, rng.standard_normal(10), method="fft")


def test_fallback_to_scipy_for_longdouble(rng):
    a = rng.standard_normal(10).astype(np.longdouble)
    with _trace.paths() as log:
        out = jitconv.convolve(a, a)
    assert log == [] and out.dtype == np.longdouble
    np.testing.assert_allclose(out.astype(float), np.convolve(a.astype(float), a.astype(float)))


def test_more_than_three_convolved_axes(rng):
    a = rng.standard_normal((3, 4, 5, 6))
    k = rng.standard_normal((2, 3, 2, 3))
    for mode in ("full", "same", "valid"):
        out, log = ran(jitconv.convolve, a, k, mode, method="direct")
        assert set(log) == {"direct-serial"}
        np.testing.assert_allclose(out, ss.convolve(a, k, mode, method="direct"), atol=1e-12)
        np.testing.assert_allclose(jitconv.convolve(a, k, mode, method="fft"),
                                   ss.convolve(a, k, mode, method="direct"), atol=1e-12)


def gauss(n, s):
    x = np.arange(n) - (n - 1) / 2
    return np.exp(-0.5 * (x / s) ** 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_separable_kernel_two_passes(dtype, mode, rng):
    a = rng.standard_normal((120, 130)).astype(dtype)
    k = np.outer(gauss(9, 2.0), gauss(13, 3.0)[::-1] * np.linspace(1, 2, 13)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        k = k * (1 - 2j)
    for fn in (jitconv.convolve, jitconv.correlate):
        with jitconv.force("separable"):
            out, log = ran(fn, a, k, mode)
        assert log[0] == "separable" and len(log) == 3  # two 1-d passes
        ref = getattr(ss, fn.__name__)(a, k, mode, method="direct")
        assert out.dtype == ref.dtype and out.shape == ref.shape
        tol = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(out, ref, atol=tol * np.abs(ref).max())


def test_separable_only_for_rank_one_float_kernels(rng):
    g = gauss(7, 1.5)
    assert _separable.factors(np.outer(g, g), [0, 1], np.dtype(float)) is not None
    noisy = np.outer(g, g) + 1e-6 * rng.standard_normal((7, 7))
    assert _separable.factors(noisy, [0, 1], np.dtype(float)) is None
    assert _separable.factors(np.outer(g, g), [0, 1], np.dtype(np.int64)) is None
    assert _separable.factors(g[None, :], [0, 1], np.dtype(float)) is None  # one long axis
    k3 = np.multiply.outer(np.outer(g, g[:3]), g[:5])
    f = _separable.factors(k3, [0, 1, 2], np.dtype(float))
    assert [ax for ax, _ in f] == [0, 1, 2]
    with jitconv.force("separable"):  # not separable: the force does not apply
        _, log = ran(jitconv.convolve, rng.standard_normal((40, 40)), noisy)
    assert log[0].startswith("direct")


def test_method_direct_never_runs_the_factorisation(rng, monkeypatch):
    """method='direct' is the direct sum, even where the separable passes are
    faster and forced: they are another family, which only 'auto' admits."""
    a = rng.standard_normal((600, 600)).astype(np.float32)
    g = gauss(31, 5.0).astype(np.float32)
    k = np.outer(g, g)
    with jitconv.force("separable"):
        _, log = ran(jitconv.convolve, a, k, "same")
    assert log[0] == "separable"   # 'auto' admits it
    with jitconv.force("separable"):
        out, log = ran(jitconv.convolve, a, k, "same", method="direct")
    assert "separable" not in log and log[0].startswith("direct")
    e = jitconv.explain(a, k, "same", method="direct")
    assert e.family == "direct" and all(c.family == "direct" for c in e.candidates)
    # the direct sum: bitwise the same for every thread count
    for w in (1, 2):
        assert np.array_equal(jitconv.convolve(a, k, "same", method="direct", workers=w), out)


@pytest.mark.slow
def test_method_direct_is_bitwise_identical_across_processes(run_python, tmp_path):
    """The same direct result in fresh processes with measuring planners and
    1 or 2 threads (the planner may pick direct-serial or direct-parallel)."""
    code = r"""
import hashlib, json, numpy as np, jitconv
rng = np.random.default_rng(3)
a = rng.standard_normal((700, 650)).astype(np.float32)
g = np.exp(-0.5 * ((np.arange(25) - 12) / 4.0) ** 2).astype(np.float32)
k = np.outer(g, g)
jitconv.set_planner(min_measure=0.0)
out = [hashlib.sha256(jitconv.convolve(a, k, "same", method="direct", workers=w).tobytes()).hexdigest()
       for w in (1, 2)]
print(json.dumps(out))
"""
    runs = [run_python(code, JITCONV_WISDOM=str(tmp_path / f"w{i}.json")) for i in range(2)]
    assert len({h for r in runs for h in r}) == 1


def test_auto_picks_separable_for_a_large_gaussian(rng, monkeypatch):
    """The cost model picks the separable passes for a 31x31 Gaussian on
    1024^2 (62 instead of 961 multiply-adds per output); a measuring planner
    times them and keeps the fastest by its margin rule."""
    from jitconv import _planner
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    g = gauss(31, 5.0).astype(np.float32)
    monkeypatch.setattr(_planner, "PLANNER", _planner.Planner())
    prev = jitconv.set_planner(effort="estimate")
    try:
        e = jitconv.explain(a, np.outer(g, g), "same")
    finally:
        jitconv.set_planner(**prev)
    assert e.chosen == "separable" and e.source == "estimate"
    monkeypatch.setattr(_planner, "PLANNER", _planner.Planner())
    jitconv.explain(a, np.outer(g, g), "same")        # a new key: the model's pick
    e = jitconv.explain(a, np.outer(g, g), "same")    # it recurs: measured
    t = {c.id: c.measured for c in e.candidates if c.measured is not None}
    assert e.source == "measured" and "separable" in t
    margin = jitconv.get_planner()["margin"]
    assert t[e.chosen] <= margin * min(t.values())
