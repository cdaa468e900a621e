"""The engine's cache of repeated calls: a call signature seen before skips the
checks and the planner, and gives the same result as the whole path; the
checks that depend on data (NaN/inf, integer magnitudes) still run."""
import numpy as np
import pytest

import jitconv
from jitconv import _engine, _planner, _trace
from jitconv._validate import signal as check_signal


def whole_path(fn, *args):
    """``fn(*args)`` through the whole path (the cache emptied for the call)."""
    saved = dict(_engine._REPEAT)
    _engine._REPEAT.clear()
    try:
        return fn(*args)
    finally:
        _engine._REPEAT.clear()
        _engine._REPEAT.update(saved)


@pytest.fixture
def counted(monkeypatch):
    """Counts the whole path's validations (a cache hit makes none)."""
    n = {"calls": 0}
    real = check_signal.signal_call

    def count(*a, **k):
        n["calls"] += 1
        return real(*a, **k)
    monkeypatch.setattr(check_signal, "signal_call", count)
    monkeypatch.setattr(_engine, "_REPEAT", {})
    return n


CASES = [("convolve", (300,), (7,), "full"), ("correlate", (40, 33), (5, 4), "same"),
         ("fftconvolve", (9,), (50,), "valid"), ("oaconvolve", (5000,), (31,), "full"),
         ("correlate", (64,), (64,), "valid"), ("convolve", (20, 30), (1, 9), "same")]


@pytest.mark.parametrize("op,s1,s2,mode", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int64])
def test_repeated_calls_equal_the_whole_path(op, s1, s2, mode, dtype, counted):
    rng = np.random.default_rng(0)

    def operand(shape):
        x = rng.standard_normal(shape) * 10
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return x.astype(dtype)
    fn = getattr(jitconv, op)
    a, k = operand(s1), operand(s2)
    first = fn(a, k, mode)
    fn(a, k, mode)           # a key the model was unsure about is measured when it recurs
    settled = counted["calls"]
    assert settled <= 2
    for _ in range(3):
        a2, k2 = operand(s1), operand(s2)
        out = fn(a2, k2, mode)
        whole = whole_path(fn, a2, k2, mode)
        assert out.dtype == whole.dtype and out.shape == whole.shape
        assert np.array_equal(out, whole)   # the same candidate, the same bits
    assert counted["calls"] == settled + 3   # the bypass validates; the repeats did not
    assert first.dtype == out.dtype


def test_data_checks_still_run_on_repeated_calls(counted, monkeypatch):
    """A decision outside the direct family keeps its NaN/inf and integer checks."""
    pl = _planner.Planner()
    monkeypatch.setattr(_planner, "PLANNER", pl)
    rng = np.random.default_rng(1)
    a, k = rng.standard_normal(20_000), rng.standard_normal(5_000)
    with _trace.paths() as ran:
        jitconv.convolve(a, k)
        jitconv.convolve(a, k)
    assert ran[-1].startswith(("fft", "oa")), ran
    bad = a.copy()
    bad[100] = np.nan
    with _trace.paths() as ran:
        out = jitconv.convolve(bad, k)
    assert ran[0].startswith("direct"), ran
    assert np.isnan(out).sum() == k.size     # the direct sum's pattern, not FFT's smear
    ints = rng.integers(-3, 4, 20_000)
    kint = rng.integers(-3, 4, 5_000)
    with _trace.paths() as ran:
        jitconv.convolve(ints, kint)
        jitconv.convolve(ints, kint)
    big = ints * 2**26
    with _trace.paths() as ran:
        out = jitconv.convolve(big, kint * 2**26)
    assert ran[0].startswith("direct"), ran
    assert np.array_equal(out, np.convolve(big.astype(object), (kint * 2**26).astype(object))
                          .astype(np.int64))


def test_force_and_new_decisions_bypass_the_cache(counted):
    rng = np.random.default_rng(2)
    a, k = rng.standard_normal(3000), rng.standard_normal(40)
    for _ in range(3):
        jitconv.convolve(a, k)
    settled = counted["calls"]
    jitconv.convolve(a, k)
    assert counted["calls"] == settled
    with jitconv.force("fft"), _trace.paths() as ran:
        jitconv.convolve(a, k)
    assert ran == ["fft-real"] and counted["calls"] == settled + 1
    _planner.PLANNER.forget()          # decisions changed: the cache is stale
    jitconv.convolve(a, k)
    assert counted["calls"] == settled + 2


def test_explain_is_never_answered_from_the_cache(counted):
    rng = np.random.default_rng(3)
    a, k = rng.standard_normal(500), rng.standard_normal(9)
    jitconv.convolve(a, k)
    e = jitconv.explain(jitconv.convolve, a, k)
    assert e.chosen is not None and counted["calls"] == 2


def test_a_rank_tested_kernel_repeats_while_its_values_do(counted):
    """'auto' tests a 2-D kernel for rank 1 (a fact of its values, not of the
    key): a repeated call with the same values skips the whole path, another
    kernel of the same shape (or the same array changed in place) takes it,
    and each result is the one of its own kernel."""
    import scipy.signal as ss
    rng = np.random.default_rng(3)
    a = rng.standard_normal((48, 55))
    g = np.exp(-np.linspace(-2, 2, 15) ** 2)
    gauss, rand = np.outer(g, g[:13]), rng.standard_normal((15, 13))
    for k in (gauss, rand):
        jitconv.convolve(a, k, "same")
        jitconv.convolve(a, k, "same")
        settled = counted["calls"]
        out = jitconv.convolve(a, k, "same")
        assert counted["calls"] == settled
        np.testing.assert_allclose(out, ss.convolve(a, k, "same", method="direct"),
                                   rtol=0, atol=1e-12 * np.abs(a).sum() * np.abs(k).max())
    k = rand.copy()
    jitconv.convolve(a, k, "same")
    settled = counted["calls"]
    k[7, 6] += 1.0                                # the same array, other values
    out = jitconv.convolve(a, k, "same")
    assert counted["calls"] == settled + 1
    np.testing.assert_allclose(out, ss.convolve(a, k, "same", method="direct"),
                               rtol=0, atol=1e-12 * np.abs(a).sum() * np.abs(k).max())
