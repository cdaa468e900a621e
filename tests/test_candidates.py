"""Every registered candidate, on a grid of problems of its kind: wherever its
``supports(p)`` is true, it runs and matches the oracle (SciPy, PyTorch).

The planner may pick any supported candidate (by estimate, by timing, after
another failed), so ``supports`` is a promise: this walk holds every
candidate to it, not only the ones today's cost model happens to pick.
"""
import warnings
from dataclasses import replace

import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv import _engine, _planner
from jitconv._validate import nn as check_nn, signal as check_signal
from jitconv.algorithms import REGISTRY

pytestmark = pytest.mark.usefixtures("estimate_planner")


def _run(c, call):
    """Candidate ``c`` on ``call``'s problem, finished as the engine finishes it."""
    raw = _planner.PLANNER.invoke(c, call.problem, call.operands)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _engine.finish(call, c, raw)


def _close(out, ref, family, what):
    assert out.shape == ref.shape, what
    if out.dtype.kind in "biu" and family == "direct":
        assert np.array_equal(out, ref), what
        return
    eps = np.finfo(np.result_type(out.dtype, np.float32)).eps
    scale = max(float(np.max(np.abs(ref))), 1.0) if ref.size else 1.0
    # normwise bound of the FFT family (and far above the direct sums' error)
    n = max(ref.size, 2)
    tol = 8 * eps * np.log2(n) * scale * max(1.0, np.sqrt(n) / 8)
    np.testing.assert_allclose(out.astype(np.complex128 if out.dtype.kind == "c" else float),
                               ref, rtol=0, atol=tol, err_msg=what)


def _signal_cases():
    rng = np.random.default_rng(0)
    shapes = [((1,), (1,)), ((7,), (3,)), ((8,), (4,)), ((13,), (17,)), ((64,), (5,)),
              ((600,), (41,)), ((9, 10), (3, 4)), ((12, 11), (5, 5)), ((6, 5, 7), (2, 3, 2)),
              ((4, 30), (1, 7))]
    dtypes = [np.float64, np.float32, np.complex128, np.int64, np.bool_]
    for s1, s2 in shapes:
        for dt in dtypes:
            for op in ("convolve", "correlate", "fftconvolve", "oaconvolve"):
                for mode in ("full", "same", "valid"):
                    if op in ("fftconvolve", "oaconvolve") and dt in (np.int64, np.bool_):
                        continue
                    yield op, s1, s2, mode, dt, rng, None
    # rank-1 kernels, where the separable passes apply
    g = np.hanning(9)[1:-1]
    for dt in (np.float64, np.float32, np.complex128):
        yield "convolve", (40, 37), np.outer(g, g[::-1] + 0.5), "same", dt, rng, None
        yield "correlate", (33, 30, 8), np.multiply.outer(np.outer(g, g), g[:3]), "full", dt, rng, \
            None
    # windows of lags (correlate(lags=)), where the narrow-window candidates apply
    for s1, s2, lags in [((300,), (280,), 5), ((300,), (40,), range(-30, 200, 3)),
                         ((20, 24), (18, 22), (3, range(-2, 5))), ((9, 8, 7), (9, 8, 7), 2)]:
        for dt in dtypes:
            yield "correlate", s1, s2, "full", dt, rng, lags
    # batches of small problems (axes=), where the batched candidates apply
    for s1, s2 in [((5, 9, 11), (5, 4, 3)), ((40, 30), (40, 9)), ((3, 6, 5, 4), (1, 3, 2, 5))]:
        for dt in (np.float64, np.float32, np.complex128):
            for op in ("convolve", "correlate"):
                for mode in ("full", "same", "valid"):
                    yield op, s1, s2, mode, dt, rng, None, tuple(range(1, len(s1)))


def _operand(shape, dt, rng):
    if dt == np.bool_:
        return rng.random(shape) > 0.5
    if dt == np.int64:
        return rng.integers(-50, 50, shape)
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def test_every_signal_candidate_runs_where_it_claims():
    ran = {c.id: 0 for c in REGISTRY if c.kind == "signal"}
    for op, s1, s2, mode, dt, rng, lags, *axes in _signal_cases():
        axes = axes[0] if axes else None
        a = _operand(s1, dt, rng)
        k = s2.astype(dt) if isinstance(s2, np.ndarray) else _operand(s2, dt, rng)
        if mode == "valid" and not (all(x >= y for x, y in zip(a.shape, k.shape))
                                    or all(x <= y for x, y in zip(a.shape, k.shape))):
            continue
        method = "auto" if op in ("convolve", "correlate") else None
        call = check_signal.signal_call(op, a, k, mode, method, axes, 2, lags)
        if not hasattr(call, "problem"):
            continue
        call.problem = _engine._flag_separable(call.problem, *call.operands)
        if axes is not None:   # batches: SciPy's convolve has no axes
            kk = np.conj(k[(slice(None),) + (slice(None, None, -1),) * (k.ndim - 1)]) \
                if op == "correlate" else k
            ref = ss.fftconvolve(a.astype(np.result_type(a, np.float64)),
                                 kk.astype(np.result_type(k, np.float64)), mode, axes=axes)
        elif op in ("fftconvolve", "oaconvolve"):
            ref = ss.fftconvolve(a.astype(np.result_type(a, np.float64)),
                                 k.astype(np.result_type(k, np.float64)), mode)
        elif dt == np.bool_:  # SciPy's N-d direct code rejects bool: the exact sum, nonzero
            ref = getattr(ss, op)(a.astype(np.int64), k.astype(np.int64), mode,
                                  method="direct") != 0
        else:
            ref = getattr(ss, op)(a, k, mode, method="direct")
        if lags is not None:   # the lags asked for: a slice of the full correlation
            ref = ref[tuple(slice(r.start + m - 1, r.stop + m - 1, r.step) for r, m in
                            zip(check_signal.lag_ranges(lags, a.shape, k.shape,
                                                        range(a.ndim)), k.shape))]
        for c in REGISTRY:
            if c.kind != "signal" or not c.supports(call.problem):
                continue
            out = _run(c, call)
            _close(out, ref, c.family, f"{c.id} {op} {s1} {k.shape} {mode} {np.dtype(dt)}")
            ran[c.id] += 1
    assert all(ran.values()), ran  # every candidate was walked somewhere


def test_every_boundary_candidate_runs_where_it_claims():
    rng = np.random.default_rng(1)
    ran = 0
    for s1, s2 in [((5, 6), (3, 2)), ((4, 4), (7, 5)), ((1, 9), (1, 3)), ((8, 3), (2, 2))]:
        for dt in (np.float64, np.int64, np.complex128):
            a, b = _operand(s1, dt, rng), _operand(s2, dt, rng)
            for op in ("convolve2d", "correlate2d"):
                for mode in ("full", "same", "valid"):
                    if mode == "valid" and not (all(x >= y for x, y in zip(s1, s2))
                                                or all(x <= y for x, y in zip(s1, s2))):
                        continue
                    for bnd in ("fill", "wrap", "symm"):
                        call = check_signal.boundary_call(op, a, b, mode, bnd, 2, 2)
                        ref = getattr(ss, op)(a, b, mode, bnd, 2)
                        for c in REGISTRY:
                            if c.kind == "boundary" and c.supports(call.problem):
                                _close(_run(c, call), ref, c.family, f"{c.id} {op} {mode} {bnd}")
                                ran += 1
    assert ran


def _filter_cases():
    """(function, input, args, kwargs) over the filter problems' rules, dtypes
    and modes, small (the exact family) and large enough for the float
    candidates (``MIN_WORK``)."""
    rng = np.random.default_rng(2)
    w2 = rng.standard_normal((3, 4))
    rank1 = np.outer(rng.standard_normal(5), rng.standard_normal(4))
    w1 = rng.standard_normal(5)
    for shape in ((9, 8), (300, 257), (12, 7, 5)):
        for dt in (np.float64, np.float32, np.int16):
            x = (10 * rng.standard_normal(shape)).astype(dt)
            for mode in ("reflect", "constant", "wrap", "mirror", "nearest"):
                kw = {"mode": mode, "cval": 0.75}
                nd_w = w2 if len(shape) == 2 else w2[:, :, None]
                yield "correlate", x, (nd_w,), dict(kw, origin=[1] + [0] * (len(shape) - 1))
                yield "convolve", x, (rank1 if len(shape) == 2 else rank1[:, :, None],), kw
                for ax in range(len(shape)):
                    yield "correlate1d", x, (w1,), dict(kw, axis=ax, origin=-1)
                    yield "uniform_filter1d", x, (4,), dict(kw, axis=ax)
                yield "uniform_filter", x, ((5, 6) + (3,) * (len(shape) - 2),), kw
                if dt == np.float32:
                    yield "uniform_filter", x, (5,), dict(kw, output=np.float64)


def test_every_filter_candidate_runs_where_it_claims(monkeypatch):
    import scipy.ndimage as snd

    from jitconv import ndimage as jnd
    from jitconv._problem import Call
    from jitconv.algorithms import filter_separable, guards
    calls = []
    monkeypatch.setattr(_engine, "execute", calls.append)  # the face's validated call
    ran = {c.id: 0 for c in REGISTRY if c.kind == "filter"}
    for name, x, args, kw in _filter_cases():
        getattr(jnd, name)(x, *args, **kw)
        call = calls.pop()
        if not isinstance(call, Call):
            continue  # a chain of 1-d passes: each is a problem of the cases above
        p = call.problem
        if guards.filter_eager(p) is not None:  # what the planner sees: decided first
            p = p.restricted("exact")
        if p.rule == "nd" and filter_separable.rank1(p, call.operands[1]):
            p = replace(p, rank1=True)
        call.problem = p
        ref = getattr(snd, name)(x, *args, **kw)
        for c in REGISTRY:
            if c.kind != "filter" or not c.supports(p):
                continue
            out = _run(c, call)
            what = f"{c.id} {name} {x.shape} {x.dtype} {kw}"
            assert out.dtype == ref.dtype, what
            if c.family == "direct":  # SciPy's own sums
                assert np.array_equal(out, ref), what
            else:
                _close(out, ref, c.family, what)
            ran[c.id] += 1
    assert all(ran.values()), ran  # every candidate was walked somewhere


torch = pytest.importorskip("torch")
F = torch.nn.functional

#: (nd, x shape, w shape, stride, padding, dilation, groups)
NN_CASES = [
    (1, (2, 3, 20), (4, 3, 5), 1, 0, 1, 1),
    (1, (2, 4, 17), (4, 2, 3), 2, 1, 2, 2),
    (2, (2, 3, 11, 9), (4, 3, 3, 3), 1, 1, 1, 1),
    (2, (1, 4, 10, 12), (6, 2, 3, 3), 1, 0, 1, 2),
    (2, (2, 3, 13, 13), (5, 3, 7, 7), 2, 3, 1, 1),
    (2, (2, 6, 9, 8), (6, 1, 3, 3), 1, 1, 1, 6),   # depthwise
    (2, (1, 2, 9, 9), (3, 2, 3, 3), 1, 2, 2, 1),
    (3, (2, 3, 11, 11, 11), (1, 3, 1, 3, 3), 1, 0, 1, 1),  # a 1x3x3 kernel with depth
    (3, (1, 2, 6, 7, 5), (3, 2, 3, 3, 3), 1, 1, 1, 1),
    (3, (1, 2, 7, 6, 6), (2, 2, 2, 3, 1), 2, 1, 1, 1),
    # rows of at least one vector: nn-tile's masked stores, the stem's stride-2 phase pairs
    (2, (1, 3, 21, 40), (10, 3, 7, 7), 2, 3, 1, 1),
    (1, (2, 5, 70), (9, 5, 9), 1, 4, 1, 1),
    (2, (1, 4, 18, 22), (9, 4, 3, 3), 1, 1, 1, 1),    # Winograd F(4x4): several tile rows
]


def _torch(fn, *arrays, **kw):
    return fn(*[torch.from_numpy(np.asarray(a, np.float64)) for a in arrays], **kw).numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_nn_candidate_runs_where_it_claims(dtype):
    rng = np.random.default_rng(2)
    ran = {c.id: 0 for c in REGISTRY if c.kind.startswith("nn-")}
    for nd, xs, ws, st, pad, dil, groups in NN_CASES:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        kw = dict(stride=st, padding=pad, dilation=dil, groups=groups)
        conv = getattr(F, f"conv{nd}d")
        y = _torch(conv, x, w, **kw)
        dy = rng.standard_normal(y.shape).astype(dtype)
        xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
        wt = torch.from_numpy(w.astype(np.float64)).requires_grad_()
        conv(xt, wt, **kw).backward(torch.from_numpy(dy.astype(np.float64)))
        calls = [
            (check_nn.conv_call(nd, x, w, None, st, pad, dil, groups, "zeros", False, 2), y),
            (check_nn.input_grad_call(nd, dy, w, xs, st, pad, dil, groups, False, 2),
             xt.grad.numpy()),
            (check_nn.weight_grad_call(nd, x, dy, ws, st, pad, dil, groups, False, 2),
             wt.grad.numpy()),
        ]
        for call, ref in calls:
            for c in REGISTRY:
                if c.kind != call.problem.kind or not c.supports(call.problem):
                    continue
                out = _run(c, call)
                assert out.dtype == dtype
                scale = max(1.0, float(np.abs(ref).max()))
                tol = (1e-4 if dtype == np.float32 else 1e-10) * scale
                np.testing.assert_allclose(out, ref, rtol=0, atol=tol,
                                           err_msg=f"{c.id} {call.problem.kind} {xs} {ws}")
                ran[c.id] += 1
    assert all(ran.values()), ran


def test_a_failing_choice_is_recorded_and_the_next_candidate_runs(monkeypatch):
    """A candidate that raises at run time (not the user's input error) is
    recorded as failed for the key and the next candidate answers: the user
    never sees a planner mistake."""
    from jitconv._planner import Decision
    pl = _planner.Planner()
    monkeypatch.setattr(_planner, "PLANNER", pl)
    fft = REGISTRY.get("fft")

    def broken(p, a, k):
        raise RuntimeError("a planner mistake")
    monkeypatch.setattr(fft, "run", broken)
    rng = np.random.default_rng(3)
    a, k = rng.standard_normal(3000), rng.standard_normal(500)
    call = check_signal.signal_call("convolve", a, k, "full", "auto", None, 1)
    key = call.problem.key()
    pl.memory[key] = Decision(fft, "measured", {"fft": 1e-4, "direct-serial": 2e-4},
                              {"fft": 1e-4, "direct-serial": 3e-4})
    with jitconv._trace.paths() as log, pytest.warns(RuntimeWarning, match="failed"):
        out = jitconv.convolve(a, k, workers=1)
    np.testing.assert_allclose(out, np.convolve(a, k), atol=1e-10)
    assert log[0].startswith("direct")
    d = pl.memory[key]
    assert d.chosen != "fft" and d.source == "recovered"
    assert np.isinf(d.timings["fft"]) and "a planner mistake" in d.errors["fft"]
    assert jitconv.planner_stats()["failures"] == 1
    with jitconv._trace.paths() as log:   # the next call goes straight to the replacement
        jitconv.convolve(a, k, workers=1)
    assert log[0].startswith("direct")


def test_a_forced_candidate_failure_reaches_the_caller(monkeypatch):
    def broken(p, a, k):
        raise RuntimeError("forced and broken")
    monkeypatch.setattr(REGISTRY.get("oa"), "run", broken)
    with jitconv.force("oa"), pytest.raises(RuntimeError, match="forced and broken"):
        jitconv.oaconvolve(np.ones(10_000), np.ones(65))
