"""direct-batched: many small problems with the batch in the vector lanes.

Its sums are ``kernels.direct``'s, so every result is compared bit for bit
with ``direct-serial`` (and its values with SciPy), the path that ran is
proven from the trace, and the cases cover what the kernel treats apart:
items past the last whole vector of lanes, a broadcast operand, blocks
partly outside ``x`` (its zero padding), a kernel row's shorter last block,
kernels longer than the data, a batch axis that is not the first, float64
weights for float32 data (short 1-d kernels), and NaN/inf (weights with
NaN or inf take the exact path).
"""
import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv import _trace
from jitconv._validate.signal import signal_call
from jitconv.algorithms import REGISTRY

BATCHED = ("direct-batched", "direct-batched-parallel")


def data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def forced(cid, op, x, y, mode="full", axes=None, lags=None, workers=2):
    kw = {} if lags is None else {"lags": lags}
    with jitconv.force(cid):
        with _trace.paths() as log:
            out = getattr(jitconv, op)(x, y, mode, axes=axes, workers=workers, **kw)
    return out, log


def same_bits(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    return np.array_equal(a.view(np.uint8), b.view(np.uint8))


def check(op, x, y, mode="full", axes=None, lags=None):
    ref, _ = forced("direct-serial", op, x, y, mode, axes, lags)
    for cid in BATCHED:
        call = signal_call(op, x, y, mode, "auto", axes, 2, lags)
        assert REGISTRY.get(cid).supports(call.problem), cid
        out, log = forced(cid, op, x, y, mode, axes, lags)
        assert log == [cid.replace("-parallel", "") + ("-parallel" if "parallel" in cid
                                                      else "-serial")], log
        assert same_bits(out, ref), cid
    return ref


CASES = [
    # op, shape1, shape2, mode, axes, lags
    ("correlate", (37, 32, 32), (37, 32, 32), "full", (1, 2), 6),        # W23 in small
    ("correlate", (19, 20, 17), (19, 9, 30), "full", (1, 2), (3, range(-15, 9))),
    ("convolve", (21, 9, 11), (21, 5, 4), "full", (1, 2), None),
    ("convolve", (21, 9, 11), (21, 5, 4), "same", (1, 2), None),
    ("correlate", (21, 9, 11), (21, 5, 4), "valid", (1, 2), None),
    ("convolve", (33, 16, 16), (1, 13, 13), "same", (1, 2), None),       # broadcast kernel
    ("correlate", (1, 16, 16), (33, 5, 5), "full", (1, 2), None),        # broadcast data
    ("correlate", (50, 45), (50, 40), "same", (1,), None),               # f64 weights (short)
    ("correlate", (50, 200), (50, 90), "full", (1,), 12),                # a long 1-d kernel
    ("convolve", (10, 5, 7), (10, 9, 12), "full", (1, 2), None),         # kernel > data
    ("convolve", (6, 7, 8, 9), (6, 3, 4, 10), "full", (1, 2, 3), None),  # 3 axes
    ("correlate", (12, 5, 13), (4, 5, 9), "full", (0, 2), None),         # batch in the middle
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op,s1,s2,mode,axes,lags", CASES)
def test_bitwise_the_direct_sum(op, s1, s2, mode, axes, lags, dtype, rng):
    x, y = data(rng, s1, dtype), data(rng, s2, dtype)
    ref = check(op, x, y, mode, axes, lags)
    if lags is None and len(axes) < 3:   # the values: SciPy's FFT in float64
        flip = (slice(None),) * y.ndim
        if op == "correlate":
            flip = tuple(slice(None, None, -1) if a in axes else slice(None)
                         for a in range(y.ndim))
        want = ss.fftconvolve(x.astype(np.float64), y[flip].astype(np.float64), mode,
                              axes=axes)
        np.testing.assert_allclose(ref, want, atol=1e-4 if dtype == np.float32 else 1e-10)


def test_results_do_not_depend_on_the_lanes_or_threads(rng, monkeypatch):
    """Tasks of 16, 32 or 64 items, one or two threads: the same bits."""
    from jitconv.algorithms import direct_batched
    x, y = data(rng, (70, 12, 12), np.float32), data(rng, (70, 12, 12), np.float32)
    outs = []
    for lane_bytes in (64, 128, 256):
        monkeypatch.setattr(direct_batched, "LANE_BYTES", lane_bytes)
        for cid, workers in (("direct-batched", 1), ("direct-batched-parallel", 2)):
            outs.append(forced(cid, "correlate", x, y, lags=4, axes=(1, 2),
                               workers=workers)[0])
    assert all(same_bits(o, outs[0]) for o in outs)


def test_nan_and_inf_keep_the_direct_pattern(rng):
    """A NaN or inf in the data spreads only to the outputs whose taps read it;
    weights with inf take the exact path (a padding zero times inf is NaN)."""
    x, y = data(rng, (40, 16, 16), np.float32), data(rng, (40, 16, 16), np.float32)
    x[3, 2, 5] = np.nan
    x[7, 15, 0] = np.inf
    check("correlate", x, y, lags=5, axes=(1, 2))
    y[9, 0, 0] = np.inf          # a task with inf weights: the exact path
    y[30, 15, 15] = -np.inf
    ref = check("correlate", x, y, lags=5, axes=(1, 2))
    assert np.isfinite(ref[9]).sum() > 0      # inf reaches only some lags
    assert not np.isfinite(ref[9]).all()


def test_not_for_complex_integers_or_single_problems(rng):
    for x, y, axes in [
            (data(rng, (8, 9, 9), np.float32) + 1j, data(rng, (8, 3, 3), np.float32), (1, 2)),
            (rng.integers(0, 9, (8, 9, 9)), rng.integers(0, 9, (8, 3, 3)), (1, 2)),
            (data(rng, (9, 9), np.float32), data(rng, (3, 3), np.float32), None)]:
        call = signal_call("correlate", x, y, "full", "auto", axes, 2, None)
        assert not any(REGISTRY.get(cid).supports(call.problem) for cid in BATCHED)


def test_the_planner_picks_it_for_many_small_windows(rng):
    """W23's shape (PIV: 32x32 windows, 13x13 lags): the model's pick."""
    x, y = data(rng, (512, 32, 32), np.float32), data(rng, (512, 32, 32), np.float32)
    call = signal_call("correlate", x, y, "full", "auto", (1, 2), 2, 6)
    est = {c.id: c.estimate(call.problem) for c in REGISTRY.supporting(call.problem)}
    assert min(est, key=est.get) == "direct-batched-parallel", est


def test_register_tiles_without_avx512(run_python):
    """On a CPU without AVX-512 (numba told to compile for Haswell) the tiles
    take 4 outputs of 8-lane vectors: still bitwise the direct sum."""
    code = r"""
import json, numpy as np, jitconv
from jitconv.kernels import direct_batched as kb
rng = np.random.default_rng(0)
same = []
for dt in (np.float32, np.float64):
    x, y = rng.standard_normal((21, 14, 19)).astype(dt), rng.standard_normal((21, 6, 11)).astype(dt)
    outs = []
    for cid in ("direct-serial", "direct-batched"):
        with jitconv.force(cid):
            outs.append(jitconv.correlate(x, y, axes=(1, 2), lags=(3, 7), workers=1))
    same.append(bool(np.array_equal(outs[0].view(np.uint8), outs[1].view(np.uint8))))
print(json.dumps({"tile": [kb.TILE, kb.LANES32], "same": same}))
"""
    out = run_python(code, NUMBA_CPU_NAME="haswell", JITCONV_NUMBA_CACHE="0")
    assert out["tile"] == [4, 8]
    assert out["same"] == [True, True], out


def test_the_kernels_are_cached_on_disk(run_python):
    """Both kernels compile once per machine: nothing in them keeps numba from
    caching them (``numba.get_num_threads`` inside a kernel did)."""
    code = r"""
import json, warnings, numpy as np, jitconv
x = np.random.default_rng(0).standard_normal((40, 9, 9)).astype(np.float32)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    for cid in ("direct-batched", "direct-batched-parallel"):
        with jitconv.force(cid):
            jitconv.correlate(x, x, axes=(1, 2), lags=2, workers=2)
print(json.dumps([str(w.message) for w in seen if "cache" in str(w.message).lower()
                  and "wisdom" not in str(w.message)]))
"""
    assert run_python(code) == []
