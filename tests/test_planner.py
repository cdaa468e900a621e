"""The measuring planner: decisions once per key, timing rules, guards, effort
levels, persistence. Time is injected (fake timer and clock): no sleeps."""
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv import _config, _fftw, _planner, _store, _trace
from jitconv._planner import Planner
from jitconv._validate import signal as check
from jitconv.algorithms import REGISTRY, Candidate, Registry


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Fake(Candidate):
    family = "direct"
    kind = "signal"

    def __init__(self, cid, est, cost, warm=0.0, fail=False, family="direct"):
        self.id, self.est, self.cost, self.warm, self.fail = cid, est, cost, warm, fail
        self.family = family
        self.calls = 0
        self.clock = None

    def supports(self, p):
        return True

    def estimate(self, p):
        return self.est

    def run(self, p, a, k):
        self.calls += 1
        if self.fail:
            raise RuntimeError("boom")
        self.clock.now += self.warm if self.calls == 1 else self.cost


def problem(n=1000, m=31, op="convolve", family="auto", workers=2):
    a, k = np.zeros(n), np.zeros(m)
    wins = [(0, n + m - 1)]
    return check.signal_problem(op, family, a, k, [0], wins, np.dtype(float), workers)


class AllOf(Registry):
    """A registry whose every candidate supports every problem."""

    def supporting(self, p):
        return list(self.candidates)


@pytest.fixture
def fake(monkeypatch):
    t = FakeTime()

    def install(*cs):
        for c in cs:
            c.clock = t
        pl = Planner(AllOf(cs))
        pl.timer = t
        return pl
    monkeypatch.setattr(_config.SETTINGS, "effort", "measure")
    monkeypatch.setattr(_config.SETTINGS, "min_measure", 0.0)
    # these tests are about measuring: on a key's first call (the default
    # measures when it recurs; tests below cover that)
    monkeypatch.setattr(_config.SETTINGS, "measure_on", 1)
    return install


def test_decision_made_once_per_key_and_reused(fake):
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)
    pl = fake(a, b)
    p = problem()
    d, hit = pl.choose(p)
    assert not hit and d.source == "measured" and d.chosen == "b"
    calls = a.calls + b.calls
    for _ in range(1000):
        d2, hit = pl.choose(p)
        assert hit and d2 is d
    assert a.calls + b.calls == calls  # nothing re-run or re-measured
    assert pl.stats["planned"] == 1 and pl.stats["hits"] == 1000
    assert pl.stats["measured"] == 2


def test_warm_up_is_not_counted(fake):
    # 'a' has a 100 s first call (compile/plan) but is fastest afterwards
    a, b = Fake("a", 1e-3, 1e-4, warm=100.0), Fake("b", 1e-3, 1e-3)
    pl = fake(a, b)
    d, _ = pl.choose(problem())
    assert d.chosen == "a"
    assert d.timings["a"] == pytest.approx(1e-4)
    assert d.timings["b"] == pytest.approx(1e-3)


def test_margin_keeps_model_pick_within_noise(fake):
    # the model prefers 'a'; 'b' is measured only 5% faster: within the 1.1 margin
    a, b = Fake("a", 1e-3, 1.05e-3), Fake("b", 2e-3, 1.0e-3)
    assert fake(a, b).choose(problem())[0].chosen == "a"


def test_measurement_overrules_model_beyond_margin(fake):
    a, b = Fake("a", 1e-3, 3e-3), Fake("b", 2e-3, 1.0e-3)
    assert fake(a, b).choose(problem())[0].chosen == "b"


def test_failing_candidate_is_infinitely_slow(fake):
    a, b = Fake("a", 1e-3, 1e-4, fail=True), Fake("b", 2e-3, 1e-3)
    d, _ = fake(a, b).choose(problem())
    assert d.chosen == "b" and math.isinf(d.timings["a"]) and "boom" in d.errors["a"]


def test_pruned_candidates_are_not_timed(fake):
    a, b = Fake("a", 1e-3, 1e-3), Fake("far", 1.0, 1e-6)  # estimate 1000x worse
    d, _ = fake(a, b).choose(problem())
    assert b.calls == 0 and d.chosen == "a"


def test_exhaustive_times_everything(fake, monkeypatch):
    monkeypatch.setattr(_config.SETTINGS, "effort", "exhaustive")
    a, b = Fake("a", 1e-3, 1e-3), Fake("far", 1.0, 1e-6)
    d, _ = fake(a, b).choose(problem())
    assert b.calls > 0 and d.chosen == "far"


@pytest.mark.parametrize("effort", ["estimate", "wisdom_only"])
def test_estimate_and_wisdom_only_never_time(fake, monkeypatch, effort):
    monkeypatch.setattr(_config.SETTINGS, "effort", effort)
    a, b = Fake("a", 1e-3, 1.0), Fake("b", 2e-3, 1e-6)
    pl = fake(a, b)
    d, _ = pl.choose(problem())
    assert d.source == "estimate" and d.chosen == "a" and a.calls == b.calls == 0
    assert pl.stats["measured"] == 0


def test_small_problems_decided_by_model(fake, monkeypatch):
    monkeypatch.setattr(_config.SETTINGS, "min_measure", 1e-2)
    a, b = Fake("a", 1e-3, 1.0), Fake("b", 2e-3, 1e-6)
    d, _ = fake(a, b).choose(problem())
    assert d.source == "estimate" and a.calls == 0


def test_budget_stops_timing(fake, monkeypatch):
    monkeypatch.setattr(_config.SETTINGS, "budget", 1.0)
    # each call of 'a' takes 2 s: after it the budget is gone, 'b' is skipped
    a, b = Fake("a", 1e-3, 2.0, warm=2.0), Fake("b", 1.1e-3, 1e-3)
    d, _ = fake(a, b).choose(problem())
    assert b.calls == 0 and d.chosen == "a"


def test_timing_uses_min_of_repeats(fake):
    seq = iter([5e-3, 1e-3, 9e-3, 3e-3] * 100)

    class Jittery(Fake):
        def run(self, p, a, k):
            self.calls += 1
            self.clock.now += next(seq)
    j = Jittery("j", 1e-3, 0)
    other = Fake("o", 2e-3, 2e-3)
    d, _ = fake(j, other).choose(problem())
    assert d.timings["j"] <= 5e-3


def test_jitter_within_margin_never_flips(fake):
    """Two candidates 3% apart with 2% noise: the model's pick survives every time."""
    rng = np.random.default_rng(0)
    picks = set()
    for trial in range(20):
        class Noisy(Fake):
            def run(self, p, a, k):
                self.calls += 1
                self.clock.now += self.cost * (1 + 0.02 * rng.standard_normal())
        a, b = Noisy("a", 1e-3, 1.03e-3), Noisy("b", 1.5e-3, 1.0e-3)
        picks.add(fake(a, b).choose(problem(n=1000 + trial))[0].chosen)
    assert picks == {"a"}


# ------------------------------------------------------------- real kernels

def test_guards_override_timing_with_real_kernels():
    rng = np.random.default_rng(1)
    a, k = rng.standard_normal(50_000), rng.standard_normal(20_000)
    assert jitconv.explain(a, k)["family"] == "fft"
    a[7] = np.nan
    e = jitconv.explain(a, k)
    assert e["source"] == "guard" and e["reason"] == "non-finite" and e["family"] == "direct"
    ints = np.full(50_000, 2**26, dtype=np.int64)
    e = jitconv.explain(ints, ints[:20_000])
    assert e["source"] == "guard" and e["reason"] == "int-exactness"


def test_memory_budget_removes_fft(monkeypatch):
    rng = np.random.default_rng(2)
    a, k = rng.standard_normal(40_000), rng.standard_normal(20_000)
    monkeypatch.setattr(_config.SETTINGS, "memory_budget", 1000)
    monkeypatch.setattr(_planner.PLANNER, "memory", {})
    e = jitconv.explain(a, k)
    assert e["family"] == "direct"
    assert {c["id"] for c in e["candidates"]} <= {"direct-serial", "direct-parallel"}


def test_explain_sources():
    rng = np.random.default_rng(3)
    a, k = rng.standard_normal(300_001), rng.standard_normal(257)
    e1 = jitconv.explain(a, k, "same")      # a new key: the model's pick
    assert e1["source"] == "provisional"
    assert not any(c["measured"] for c in e1["candidates"])
    e2 = jitconv.explain(a, k, "same")      # it recurs: measured
    assert e2["source"] == "measured" and any(c["measured"] for c in e2["candidates"])
    e3 = jitconv.explain(a, k, "same")
    assert e3["source"] == "memory" and e3["chosen"] == e2["chosen"]
    with jitconv.force("oa"):
        assert jitconv.explain(a, k, "same")["source"] == "forced"
    e3 = jitconv.explain(a, k, "same", method="direct")
    assert e3["family"] == "direct" and e3["reason"] == "method='direct'"
    assert jitconv.explain(a, k, op="oaconvolve")["chosen"] == "oa"


def test_choose_conv_method_measure_comes_from_planner():
    rng = np.random.default_rng(4)
    a, k = rng.standard_normal(20_000), rng.standard_normal(300)
    before = jitconv.planner_stats()["measured"]
    method, times = jitconv.choose_conv_method(a, k, measure=True)
    assert set(times) == {"direct", "fft"} and all(t > 0 for t in times.values())
    assert method in ("direct", "fft")
    assert jitconv.planner_stats()["measured"] > before
    # the stored decision is what auto runs now
    assert jitconv.choose_conv_method(a, k) == method


def test_set_planner_validates_and_restores():
    prev = jitconv.set_planner(effort="estimate", budget=0.5)
    try:
        assert jitconv.get_planner()["effort"] == "estimate"
        with pytest.raises(ValueError):
            jitconv.set_planner(effort="patient")
    finally:
        jitconv.set_planner(**prev)
    assert jitconv.get_planner() == prev


# ------------------------------------------------------------- persistence

def _fresh_planner(monkeypatch, path):
    monkeypatch.setenv("JITCONV_WISDOM", str(path))
    pl = Planner()
    monkeypatch.setattr(_planner, "PLANNER", pl)
    return pl


def _plan_some(pl):
    rng = np.random.default_rng(5)
    keys = []
    for n, m in [(200_000, 64), (100_000, 2000), (300, 250)]:
        a, k = rng.standard_normal(n), rng.standard_normal(m)
        call = check.signal_call("convolve", a, k, "full", "auto", None, None)
        pl.choose(call.problem)            # the first call: the model's pick
        d, _ = pl.choose(call.problem)     # the key recurs: measured (or stored)
        keys.append((call.problem, d.chosen, d.source))
    return keys


def test_second_planner_with_stored_wisdom_measures_nothing(tmp_path, monkeypatch):
    path = tmp_path / "w.json"
    pl1 = _fresh_planner(monkeypatch, path)
    first = _plan_some(pl1)
    assert any(src == "measured" for _, _, src in first)
    assert path.exists()
    pl2 = _fresh_planner(monkeypatch, path)
    second = _plan_some(pl2)
    assert pl2.stats["measured"] == 0
    for (p1, c1, s1), (p2, c2, s2) in zip(first, second):
        assert c1 == c2
        if s1 == "measured":
            assert s2 == "disk"


CORRUPTIONS = ["garbage", "truncated", "flipped-fftw-flag", "flipped-checksum", "wrong-version",
               "empty", "directory", "unreadable", "not-json-object"]


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_bad_wisdom_file_warns_once_and_remeasures(tmp_path, monkeypatch, how):
    path = tmp_path / "w.json"
    pl = _fresh_planner(monkeypatch, path)
    _plan_some(pl)
    raw = path.read_bytes()
    doc = json.loads(raw)
    if how == "garbage":
        path.write_bytes(os.urandom(300))
    elif how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "flipped-fftw-flag":
        # flip one hex digit in an FFTW flags field inside the payload (checksum must catch it)
        payload = json.loads(doc["payload"])
        w = bytes.fromhex(payload["fftw"][0])
        i = w.index(b" #x", w.index(b"\n")) + 3
        w = w[:i] + (b"f" if w[i:i + 1] != b"f" else b"e") + w[i + 1:]
        payload["fftw"][0] = w.hex()
        doc["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        path.write_text(json.dumps(doc))
    elif how == "flipped-checksum":
        doc["sha256"] = ("0" if doc["sha256"][0] != "0" else "1") + doc["sha256"][1:]
        path.write_text(json.dumps(doc))
    elif how == "wrong-version":
        doc["fingerprint"] = dict(doc["fingerprint"], fftw="2.1.5")
        path.write_text(json.dumps(doc))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "directory":
        # JITCONV_WISDOM naming a directory means <dir>/wisdom.json: make that a directory
        path.unlink()
        (path / "wisdom.json").mkdir(parents=True)
    elif how == "unreadable":
        if os.geteuid() == 0:
            # root reads anything: simulate the permission error
            monkeypatch.setattr(_store, "open", _raise(PermissionError(13, "Permission denied")),
                                raising=False)
        else:
            path.chmod(0)
    elif how == "not-json-object":
        path.write_text("[1, 2, 3]")
    _store._warned.clear()
    pl2 = _fresh_planner(monkeypatch, path)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        second = _plan_some(pl2)
    msgs = [str(w.message) for w in rec if "jitconv wisdom" in str(w.message)]
    assert len(msgs) == 1, msgs
    assert pl2.stats["measured"] > 0  # re-measured
    assert all(src in ("measured", "estimate") for _, _, src in second)
    rng = np.random.default_rng(6)
    a, k = rng.standard_normal(100_000), rng.standard_normal(2000)
    np.testing.assert_allclose(jitconv.convolve(a, k), np.convolve(a, k), atol=1e-9)


def _raise(exc):
    def f(*a, **k):
        raise exc
    return f


def test_write_failure_warns_and_keeps_working(tmp_path, monkeypatch):
    path = tmp_path / "w.json"
    pl = _fresh_planner(monkeypatch, path)
    monkeypatch.setattr(_store.os, "fsync", _raise(OSError(28, "No space left on device")))
    _store._warned.clear()
    with pytest.warns(RuntimeWarning, match="cannot write"):
        _plan_some(pl)
    assert not path.exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]  # temp file removed


def test_read_only_directory(tmp_path, monkeypatch):
    d = tmp_path / "ro"
    d.mkdir()
    pl = _fresh_planner(monkeypatch, d / "w.json")
    monkeypatch.setattr(_store.tempfile, "mkstemp", _raise(OSError(30, "Read-only file system")))
    _store._warned.clear()
    with pytest.warns(RuntimeWarning, match="Read-only"):
        _plan_some(pl)


def test_wisdom_off(monkeypatch, tmp_path):
    monkeypatch.setenv("JITCONV_WISDOM", "off")
    assert jitconv.wisdom_path() is None
    monkeypatch.delenv("JITCONV_WISDOM")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jitconv.wisdom_path() == str(tmp_path / "jitconv" / "wisdom.json")


def test_export_import_roundtrip(tmp_path, monkeypatch):
    pl = _fresh_planner(monkeypatch, tmp_path / "a.json")
    _plan_some(pl)
    out = tmp_path / "export.json"
    assert jitconv.export_wisdom(str(out))
    jitconv.forget_wisdom()
    assert jitconv.import_wisdom(str(out))
    _store._warned.clear()
    with pytest.warns(RuntimeWarning, match="no such file"):
        assert jitconv.import_wisdom(str(tmp_path / "a.json.missing")) is False
    out.write_text("{}")
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert jitconv.import_wisdom(str(out)) is False


def test_fftw_wisdom_validator_rejects_wide_flags():
    ok = (b"(fftw-3.3.5 fftw_wisdom #x3c273403 #x192df114 #x4d08727c #xe98e9b9d\n"
          b"  (fftw_codelet_n1fv_20_avx 0 #x11bdd #x11bdd #x0 #x7c927fb6 #xbf83b122 #x0cc3dc43 #x06982324)\n)\n")
    assert _fftw.valid_wisdom(ok)
    bad = ok.replace(b"#x11bdd #x11bdd", b"#x911bdd #x11bdd")
    assert not _fftw.valid_wisdom(bad)
    assert not _fftw.valid_wisdom(ok.replace(b"(fftw_codelet", b"(fftw codelet"))
    assert not _fftw.valid_wisdom(b"")
    with pytest.raises(ValueError):
        _fftw.import_wisdom((bad, ok, ok))


@pytest.mark.slow
def test_second_process_measures_nothing(tmp_path, run_python):
    """The acceptance check, across real processes."""
    code = r"""
import json, sys, numpy as np, jitconv
rng = np.random.default_rng(0)
picks = []
for n, m in [(200_000, 64), (100_000, 2000), (50_000, 5000), (2048, 2048)]:
    a, k = rng.standard_normal(n), rng.standard_normal(m)
    jitconv.convolve(a, k)             # the first call: the model's pick
    jitconv.convolve(a, k)             # the key recurs: measured once, stored
    picks.append(jitconv.explain(a, k)["chosen"])
print(json.dumps({"picks": picks, "stats": jitconv.planner_stats()}))
"""
    runs = [run_python(code, JITCONV_WISDOM=str(tmp_path / "w.json")) for _ in range(2)]
    assert runs[0]["stats"]["measured"] > 0
    assert runs[1]["stats"]["measured"] == 0
    assert runs[1]["picks"] == runs[0]["picks"]


# ------------------------------------------------------------- plans

@pytest.mark.parametrize("op,mode,dtype", [
    ("convolve", "same", np.float64), ("correlate", "full", np.complex128),
    ("fftconvolve", "valid", np.float32), ("oaconvolve", "full", np.float64),
    ("convolve", "full", np.int64), ("fftconvolve", "valid", np.float64)])
@pytest.mark.parametrize("cid", [None, "fft", "direct-serial"])
def test_plan_matches_calls(op, mode, dtype, cid):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(5000) * 10).astype(dtype)
    h = (rng.standard_normal(101) * 10).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(5000)
        h = h + 1j * rng.standard_normal(101)
    swapped = op == "fftconvolve" and mode == "valid" and dtype == np.float64
    args = (h, x) if swapped else (x, h)  # in2 larger: the operands swap
    import contextlib
    ctx = jitconv.force(cid) if cid else contextlib.nullcontext()
    with ctx:
        pl = jitconv.plan(*args, mode, op=op)
        for scale in (1, -2):
            x = args[0] * scale
            y = pl(x)
            ours = getattr(jitconv, op)(x, args[1], mode)
            assert y.dtype == ours.dtype and y.shape == ours.shape
            # an independent reference: SciPy's direct sum in double precision
            wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
            sop = "correlate" if op == "correlate" else "convolve"
            ref = getattr(ss, sop)(x.astype(wide), args[1].astype(wide), mode, method="direct")
            if y.dtype.kind in "iu":
                np.testing.assert_array_equal(y, ref)
            else:
                # the FFT family's normwise bound (direct sums are far inside it)
                eps = np.finfo(y.dtype).eps
                bound = eps * np.log2(ref.size) * np.linalg.norm(x) * np.linalg.norm(args[1])
                assert np.abs(y - ref).max() <= bound
            out = np.empty_like(ours)
            assert pl(x, out=out) is out
            np.testing.assert_array_equal(out, y)
    assert "Plan" in repr(pl)


def test_plan_caches_kernel_spectrum(monkeypatch):
    rng = np.random.default_rng(8)
    x, h = rng.standard_normal(50_000), rng.standard_normal(4000)
    with jitconv.force("fft"):
        pl = jitconv.plan(x, h, "same")
    assert pl.chosen == "fft"
    from jitconv import _trace

    def no_spectrum(*a, **k):
        raise AssertionError("the kernel's spectrum is computed again")
    monkeypatch.setattr(_fftw, "spectrum", no_spectrum)
    with _trace.paths() as log:
        y = pl(x)
    assert log == ["fft-real"]
    np.testing.assert_allclose(y, np.convolve(x, h, "same"), atol=1e-9 * np.abs(y).max())


@pytest.mark.parametrize("cid", ["direct-lags", "direct-serial", "fft", "fft-blocked", None])
@pytest.mark.parametrize("lags", [16, range(-300, 301, 25), (range(-3, 4, 2), 2)])
def test_plan_with_lags_matches_the_call(cid, lags):
    """``plan(..., op='correlate', lags=)``: every candidate forced, the result
    the call's (bitwise on the direct path; FFT plans may differ in their
    last bits), out= of the lags' shape."""
    import contextlib
    rng = np.random.default_rng(9)
    shape = (40, 37) if isinstance(lags, tuple) else (3000,)
    x, h = rng.standard_normal(shape), rng.standard_normal(tuple(s // 2 + 3 for s in shape))
    ctx = jitconv.force(cid) if cid else contextlib.nullcontext()
    with ctx, _trace.paths() as log:
        pl = jitconv.plan(x, h, op="correlate", lags=lags)
        y = pl(2 * x)
        want = jitconv.correlate(2 * x, h, lags=lags)
    assert y.shape == want.shape == pl.out_shape
    if pl.chosen.startswith("direct"):
        assert np.array_equal(y, want)
    else:
        bound = 1e-13 * np.linalg.norm(x) * np.linalg.norm(h)
        assert np.abs(y - want).max() <= bound
    if cid:
        assert all(name.startswith(cid) for name in log), log
    out = np.empty(pl.out_shape)
    assert pl(2 * x, out=out) is out and np.array_equal(out, y)
    with pytest.raises(ValueError, match="op='correlate'"):
        jitconv.plan(x, h, op="convolve", lags=lags)


def test_plan_rejects_other_shapes():
    pl = jitconv.plan(np.zeros(100), np.ones(5))
    with pytest.raises(ValueError, match="plan made for"):
        pl(np.zeros(101))
    with pytest.raises(ValueError, match="out must"):
        pl(np.zeros(100), out=np.empty(3))


def test_decisions_with_failed_candidates_are_not_stored(tmp_path, monkeypatch):
    """A failure can be transient (memory pressure, a broken build): storing it
    would make every later process avoid a healthy candidate."""
    path = tmp_path / "w.json"
    pl = _fresh_planner(monkeypatch, path)
    monkeypatch.setattr(_config.SETTINGS, "min_measure", 0.0)
    def broken(p, a, k):
        raise MemoryError("transient")
    monkeypatch.setattr(REGISTRY.get("direct-parallel"), "run", broken)
    rng = np.random.default_rng(14)
    a, k = rng.standard_normal(100_000), rng.standard_normal(31)
    call = check.signal_call("convolve", a, k, "full", "auto", None, 2)
    pl.choose(call.problem)
    d, _ = pl.choose(call.problem)   # measured when the key recurs
    assert math.isinf(d.timings["direct-parallel"]) and d.chosen != "direct-parallel"
    assert not path.exists() or call.problem.keystr() not in json.loads(
        json.loads(path.read_text())["payload"])["decisions"]


def test_fingerprint_covers_the_code():
    fp = _store.fingerprint()
    assert len(fp["code"]) == 16 and fp["jitconv"] == jitconv.__version__


@pytest.mark.slow
def test_two_processes_writing_wisdom_at_once(tmp_path, child_env):
    """Racing writers lose nothing: every decision either process measured is in
    the file (merged under the lock), the file is valid, and a later process
    works from it. tests/test_sharing.py races 8 processes."""
    path = tmp_path / "w.json"
    code = r"""
import json, sys, numpy as np, jitconv
from jitconv import _planner
seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
for i in range(6):
    n = 30_000 + 1000 * i + 100 * seed
    a, k = rng.standard_normal(n), rng.standard_normal(300 + seed)
    jitconv.convolve(a, k)
    jitconv.convolve(a, k)   # the key recurs: measured
print(json.dumps([repr(k) for k, d in _planner.PLANNER.memory.items() if d.source == "measured"]))
"""
    env = child_env(JITCONV_WISDOM=str(path))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(s)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (1, 2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    measured = [k for out, _ in outs for k in json.loads(out.strip().splitlines()[-1])]
    decisions, fftw = _store.load(str(path))
    assert decisions is not None and fftw is not None
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert measured and set(measured) <= set(decisions)
    # a third process re-running one workload works from the file
    third = subprocess.run([sys.executable, "-c", code + "\n", "1"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr[-2000:]
    assert json.loads(third.stdout.strip().splitlines()[-1]) == []  # it measured nothing
    assert _store.load(str(path))[0] is not None  # and leaves a valid file


def test_slow_candidates_far_behind_are_not_timed(fake):
    """Once a candidate measured 10 ms, one predicted at 1 s is not timed."""
    a, slow = Fake("a", 5e-3, 1e-2), Fake("slow", 1.0, 1.0)
    pl = fake(a, slow)
    d, _ = pl.choose(problem())
    assert slow.calls == 0 and d.chosen == "a"


@pytest.mark.slow
def test_fftw_wisdom_of_single_candidate_keys_reaches_the_next_process(tmp_path, run_python):
    """fftconvolve of two equal lengths has one candidate: its key is decided
    without timing, but FFTW still measures its plans. The next process must
    import that wisdom and measure nothing, FFTW included."""
    code = r"""
import json, numpy as np, jitconv
from jitconv import _fftw
rng = np.random.default_rng(0)
for n in (3000, 4096, 5000):
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    for _ in range(2):   # the key recurs: FFTW plans it at MEASURE effort
        jitconv.fftconvolve(a, b)
        jitconv.fftconvolve(a.astype(np.float32), b.astype(np.float32), "same")
print(json.dumps({"fftw": dict(_fftw.STATS), "planner": jitconv.planner_stats()}))
"""
    path = str(tmp_path / "w.json")
    # a time limit FFTW_MEASURE never reaches on these sizes: the wisdom is
    # complete, so the second process's plans come from wisdom alone (a
    # timed-out plan's wisdom is reused too, but is not "complete" for FFTW)
    env = dict(JITCONV_WISDOM=path, JITCONV_PLANNING_BUDGET="200")
    first = run_python(code, **env)
    assert first["fftw"].get("planned", 0) > 0
    second = run_python(code, **env)
    assert second["fftw"].get("planned", 0) == 0, second
    assert second["fftw"]["from_wisdom"] == first["fftw"]["planned"] + first["fftw"].get(
        "from_wisdom", 0)
    assert second["planner"]["measured"] == 0


def test_strided_keys_are_timed_on_strided_operands():
    """A key of strided operands is measured on that layout, not on C arrays."""
    rng = np.random.default_rng(9)
    wide = rng.standard_normal((50, 400))
    a, k = wide[:, ::2], rng.standard_normal((3, 3))
    call = check.signal_call("convolve", a, k, "same", "auto", None, 2)
    assert call.problem.layout == "strided"
    ops = call.problem.operands(np.random.default_rng(0))
    assert [o.shape for o in ops] == [a.shape, k.shape]
    assert not any(o.flags.c_contiguous for o in ops)
    c = check.signal_call("convolve", np.ascontiguousarray(a), k, "same", "auto", None, 2)
    assert c.problem.layout == "C"
    assert all(o.flags.c_contiguous for o in c.problem.operands(np.random.default_rng(0)))


def test_explain_returns_an_object_with_a_table():
    rng = np.random.default_rng(21)
    e = jitconv.explain(rng.standard_normal(5000), rng.standard_normal(31), "same")
    assert isinstance(e, jitconv.Explanation)
    for name in ("chosen", "source", "decided_by", "candidates", "key", "family", "reason"):
        assert e[name] is getattr(e, name) or e[name] == getattr(e, name)
    assert e.chosen in [c.id for c in e.candidates]
    assert [c.chosen for c in e.candidates].count(True) == 1
    assert all(c.estimate > 0 for c in e.candidates)
    text = repr(e)
    head = [line for line in text.splitlines() if "candidate" in line][0]
    assert all(w in head for w in ("estimate", "measured"))
    assert all(c.id in text for c in e.candidates) and "<- chosen" in text
    assert e.chosen in [line.split()[0] for line in text.splitlines() if "<- chosen" in line]


def _explain_then_run(fn, *args, **kw):
    """explain() computes nothing; the call then runs what it named."""
    with pytest.MonkeyPatch.context() as mp:
        def no_run(*a, **k):
            raise AssertionError("explain computed the result")
        mp.setattr(_planner.Planner, "run", no_run)
        e = jitconv.explain(fn, *args, **kw)
    from jitconv import _trace
    with _trace.paths() as ran:
        fn(*args, **kw)
    return e, ran


def test_explain_covers_every_face():
    from jitconv import nn
    rng = np.random.default_rng(22)
    img, k = rng.standard_normal((40, 30)), rng.standard_normal((5, 4))
    for fn in (jitconv.convolve2d, jitconv.correlate2d):
        e, ran = _explain_then_run(fn, img, k, "same", "symm")
        assert e.chosen == "direct-boundary" and ran and ran[0].startswith("direct")
    x = rng.standard_normal((2, 4, 12, 12)).astype(np.float32)
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    calls = [(nn.conv2d, (x, w), dict(padding=1)),
             (nn.conv1d, (x[:, :, 0], w[..., 0]), dict(stride=2)),
             (nn.conv3d, (x[:, :, None], w[:, :, None]), {}),
             (nn.conv_transpose2d, (x[:, :4, :6, :6], w.transpose(1, 0, 2, 3)[:4]), dict(stride=2)),
             (nn.conv2d_input_grad, (np.ones((2, 6, 10, 10), np.float32), w, x.shape), {}),
             (nn.conv2d_weight_grad, (x, np.ones((2, 6, 10, 10), np.float32), w.shape), {})]
    for fn, args, kw in calls:
        e, ran = _explain_then_run(fn, *args, **kw)
        assert e.key[0].startswith("nn-") and e.chosen in [c.id for c in e.candidates]
        assert ran[0].startswith(e.chosen), (fn.__name__, e.chosen, ran)  # nn-direct-serial...
    with pytest.raises(ValueError, match="not a jitconv function"):
        jitconv.explain(np.sum, x)


# ------------------------------------------------- the planner pays for itself

def test_first_call_runs_the_models_pick_and_the_key_is_measured_when_it_recurs(fake, monkeypatch):
    monkeypatch.setattr(_config.SETTINGS, "measure_on", 2)
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)
    pl = fake(a, b)
    p = problem()
    d1, _ = pl.choose(p)
    assert d1.source == "provisional" and d1.chosen == "a" and a.calls == b.calls == 0
    assert pl.stats["measured"] == 0
    d2, hit = pl.choose(p)                      # the key recurs: measured now
    assert not hit and d2.source == "measured" and d2.chosen == "b"
    calls = a.calls + b.calls
    d3, hit = pl.choose(p)
    assert hit and d3 is d2 and a.calls + b.calls == calls and pl.stats["measured_keys"] == 1


def test_a_sure_model_decides_alone(fake, monkeypatch):
    """One candidate left after pruning (and not an FFT): never measured."""
    monkeypatch.setattr(_config.SETTINGS, "measure_on", 2)
    a, far = Fake("a", 1e-3, 1e-3), Fake("far", 1.0, 1e-6)
    pl = fake(a, far)
    for _ in range(3):
        d, _ = pl.choose(problem())
        assert d.source == "estimate" and d.chosen == "a"
    assert a.calls == far.calls == 0


def test_fftw_plans_nothing_in_a_first_call_and_measures_when_the_key_recurs(monkeypatch):
    """A key with one FFT candidate: its first call plans nothing (its new
    transforms run on NumPy's pocketfft: no FFTW search, no measuring); when
    it recurs FFTW plans at MEASURE and its plans replace the NumPy ones."""
    from jitconv import _fftw
    monkeypatch.setattr(_planner, "PLANNER", Planner())
    monkeypatch.setattr(_config.SETTINGS, "min_measure", 0.0)
    rng = np.random.default_rng(31)
    a, b = rng.standard_normal(6001), rng.standard_normal(6001)   # new transform sizes
    s0 = dict(_fftw.STATS)
    first = jitconv.fftconvolve(a, b)
    s1 = dict(_fftw.STATS)
    assert s1.get("planned", 0) == s0.get("planned", 0)
    assert s1.get("estimated", 0) == s0.get("estimated", 0)
    assert s1.get("numpy", 0) == s0.get("numpy", 0) + 3
    np.testing.assert_allclose(first, jitconv.fftconvolve(a, b), rtol=0, atol=1e-11)
    jitconv.fftconvolve(a, b)
    s2 = dict(_fftw.STATS)
    assert s2.get("planned", 0) > s1.get("planned", 0) or s2.get("from_wisdom", 0) > s1.get(
        "from_wisdom", 0)
    e = jitconv.explain(jitconv.fftconvolve, a, b)
    assert e.decided_by == "measured" and e.chosen == "fft"
    jitconv.fftconvolve(a, b)
    assert dict(_fftw.STATS) == s2   # planned once: the cache holds the MEASURE plans


@pytest.mark.parametrize("kind", ["r2c", "c2r", "c2c", "c2c-inv"])
@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("shape,axes", [((37,), (0,)), ((6, 20), (1,)), ((9, 10, 4), (0, 2)),
                                        ((5, 7, 8), (0, 1, 2))])
def test_a_first_use_on_numpy_computes_what_the_fftw_plan_computes(kind, single, shape, axes):
    """``_Numpy`` keeps FFTW's conventions (half spectrum on the last axis,
    unscaled inverse, batches on the other axes) for every transform kind."""
    from jitconv import _fftw
    rng = np.random.default_rng(5)
    real, cplx = _fftw.REAL[single], _fftw.CPLX[single]
    half = list(shape)
    half[axes[-1]] = shape[axes[-1]] // 2 + 1
    ins, outs, idt, odt = {"r2c": (shape, half, real, cplx), "c2r": (half, shape, cplx, real),
                           "c2c": (shape, shape, cplx, cplx),
                           "c2c-inv": (shape, shape, cplx, cplx)}[kind]
    ins, outs = tuple(ins), tuple(outs)
    x = rng.standard_normal(ins) + (1j * rng.standard_normal(ins) if idt.kind == "c" else 0)
    if kind == "c2r":   # a Hermitian spectrum: the transform of real data
        x = np.fft.rfftn(rng.standard_normal(shape), axes=axes)
    inp, out = np.empty(ins, idt), np.empty(outs, odt)
    got = _fftw._Numpy(kind, inp, out, axes)
    inp[...] = x
    got.execute()
    ref = _fftw.pyfftw.FFTW(inp.copy(), np.empty(outs, odt), axes=axes,
                            direction="FFTW_BACKWARD" if kind in ("c2r", "c2c-inv")
                            else "FFTW_FORWARD", flags=("FFTW_ESTIMATE",))
    ref.input_array[...] = x
    ref.execute()   # (calling it would scale an inverse: FFTW's own is unscaled)
    want = ref.output_array
    scale = np.abs(want).max()
    tol = (1e-5 if single else 1e-12) * scale
    np.testing.assert_allclose(out, want, rtol=0, atol=tol)


def test_a_first_use_runs_on_numpy_only_outside_measuring_and_determinism(monkeypatch):
    """A transform's first use in a key's first call runs on NumPy, its next
    use is an FFTW plan; other calls (``jitconv.plan``'s, later calls of a
    key), the planner's measuring and ``JITCONV_DETERMINISTIC`` use FFTW
    (timings of FFTW plans; bitwise repeatable ESTIMATE plans), and so do
    transforms larger than ``NUMPY_FIRST_MAX``."""
    from jitconv import _fftw
    shape, spec = (3, 70), (3, 36)

    def new_process():
        """This transform unseen and uncached, as in a fresh process."""
        _fftw.evict({k for k in _fftw._cache() if k[6] == ("t", 0)})
        monkeypatch.setattr(_fftw, "_SEEN", set())

    def plan(first=True):
        with _fftw.first_use(first):
            return _fftw._get_plan("r2c", shape, spec, False, (1,), 1, ("t", 0)).fftw

    new_process()
    assert type(plan()) is _fftw._Numpy
    assert type(plan()) is not _fftw._Numpy
    new_process()
    assert type(plan(first=False)) is not _fftw._Numpy   # outside a key's first call: FFTW
    new_process()
    with _fftw.planning("measure", 0.05):
        assert type(plan()) is not _fftw._Numpy
    new_process()
    monkeypatch.setattr(_fftw, "NUMPY_FIRST_MAX", 100)
    assert type(plan()) is not _fftw._Numpy
    new_process()
    monkeypatch.setattr(_fftw, "NUMPY_FIRST_MAX", 1 << 17)
    monkeypatch.setattr(_config.SETTINGS, "deterministic", True)
    assert type(plan()) is not _fftw._Numpy
    new_process()


def test_the_kernel_transform_runs_on_threads_of_its_own_size():
    """Overlap-add transforms a batch of input blocks and one kernel block:
    the kernel's transform is planned on one thread (its size), the batch's
    on the workers (an FFTW search for a threaded plan of one small
    transform cost 3.5 ms of a 4 ms first call)."""
    from jitconv import _fftw
    g = _fftw._Geometry((11, 11000), (1, 11000), (1,), (11000,), False, 2)
    assert g.threads == 2 and g.threads_k == 1


def test_the_losers_fftw_plans_are_evicted_after_measuring(monkeypatch):
    """Measuring plans every timed FFT candidate on scratch-sized buffers; the
    plans of those that lost leave the cache (a dask worker kept ~190 MiB of
    them), the winner's stay and serve the next calls without planning."""
    from jitconv import _fftw
    monkeypatch.setattr(_planner, "PLANNER", Planner())
    monkeypatch.setattr(_config.SETTINGS, "min_measure", 0.0)
    monkeypatch.setattr(_config.SETTINGS, "measure_on", 1)
    monkeypatch.setattr(_config.SETTINGS, "prune", 1e9)
    rng = np.random.default_rng(32)
    a, b = rng.standard_normal(20011), rng.standard_normal(307)
    before = set(_fftw._cache())
    jitconv.convolve(a, b, method="fft", workers=1)
    e = jitconv.explain(jitconv.convolve, a, b, method="fft", workers=1)
    timed = [r.id for r in e.candidates if r.measured is not None]
    assert e.decided_by == "measured" and len(timed) >= 2, e
    cached = set(_fftw._cache())
    s0 = dict(_fftw.STATS)
    with _fftw.touching() as used:
        jitconv.convolve(a, b, method="fft", workers=1)   # the winner
    assert cached - before and cached - before <= used
    assert dict(_fftw.STATS) == s0 and set(_fftw._cache()) == cached


def test_candidates_are_timed_in_interleaved_batches(fake):
    """A B A B ...: the candidates' timing batches alternate, so they see the same noise."""
    order = []

    class Logged(Fake):
        def run(self, p, a, k):
            order.append(self.id)
            Fake.run(self, p, a, k)
    a, b = Logged("a", 1e-3, 1e-3), Logged("b", 1.1e-3, 1e-3)
    pl = fake(a, b)
    d, _ = pl.choose(problem())
    batches = [order[0]]
    for x in order[1:]:
        if x != batches[-1]:
            batches.append(x)
    # warm-up and first timing of each, then the rounds, alternating
    assert batches[:2] == ["a", "b"] and len(batches) >= 2 + 2 * (pl.repeats - 1)
    assert all(x != y for x, y in zip(batches, batches[1:]))
    assert set(d.machine) == {"ref_before", "ref_after"} and "machine" in d.record()


def test_a_decision_measured_in_a_noisy_moment_is_measured_again_once(fake):
    """Injected clock: during the first measurement the machine was busy ('b'
    suffered most), so 'a' won. Calls of 'a' then run at a third of the
    recorded time: after 3 such calls the key is measured again (once), 'b' wins."""
    noise = {"a": 3.0, "b": 8.0}

    class Noisy(Fake):
        def run(self, p, a_, k):
            self.calls += 1
            f = noise.get(self.id, 1.0) if self.calls > 1 else 0
            self.clock.now += self.cost * f
    a, b = Noisy("a", 1e-3, 2e-3), Noisy("b", 2e-3, 1e-3)
    pl = fake(a, b)
    p = problem()
    d, _ = pl.choose(p)
    assert d.chosen == "a" and d.timings["a"] == pytest.approx(6e-3)
    noise.clear()                                   # the machine is calm again
    for _ in range(pl.DRIFT_CALLS):
        pl.run(p, (None, None), pl.choose(p)[0])
    d2, _ = pl.choose(p)
    assert d2.source == "measured" and d2.chosen == "b" and pl.stats["remeasured"] == 1
    assert d2.timings["b"] == pytest.approx(1e-3)
    noise.update(a=0.25, b=0.25)                    # drifting again: no second re-measure
    for _ in range(3 * pl.DRIFT_CALLS):
        pl.run(p, (None, None), pl.choose(p)[0])
    assert pl.choose(p)[0] is d2 and pl.stats["remeasured"] == 1


def test_the_cost_model_scales_with_the_thread_count():
    """No constant is tied to one machine's core count: estimates keep falling
    from 2 to 64 threads for problems with enough independent work."""
    from jitconv.algorithms import REGISTRY
    a, k = np.zeros((64, 4096)), np.zeros((9, 9))
    for cid in ("direct-parallel", "fft"):
        c = REGISTRY.get(cid)
        est = [c.estimate(check.signal_problem("convolve", "auto", a, k, [0, 1],
                                               [(4, 64), (4, 4096)], np.dtype(float), w))
               for w in (2, 16, 64)]
        assert est[0] > est[1] > est[2], (cid, est)
