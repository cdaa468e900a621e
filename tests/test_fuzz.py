"""Hostile inputs: any dtype, shape (0 and 1 included), layout and special
value. Only ValueError/TypeError or a correct result; the non-finite pattern
equals SciPy's direct method's; inputs are byte-identical afterwards."""
import hashlib
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jitconv
from jitconv import _trace
from scipy.signal import _signaltools as ss

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 5e-324, 1e-310, 1e300, -1e300, 1.0, 0.0]

NUMERIC = [np.bool_, np.int8, np.uint8, np.int32, np.uint64, np.int64, np.float16, np.float32,
           np.float64, np.complex64, np.complex128, np.longdouble]
OTHER = [np.dtype(object), np.dtype("U3"), np.dtype("datetime64[s]"), np.dtype("m8[s]")]


@st.composite
def arrays(draw, ndim):
    dt = np.dtype(draw(st.sampled_from(NUMERIC)))
    if draw(st.booleans()) and dt.itemsize > 1 and dt != np.longdouble:
        dt = dt.newbyteorder(">")
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=6))
    n = int(np.prod(shape))
    if dt.kind == "b":
        vals = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        vals = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=n, max_size=n))
    else:
        vals = draw(st.lists(st.sampled_from(SPECIAL) | st.floats(-1e3, 1e3), min_size=n, max_size=n))
    with np.errstate(all="ignore"):
        a = np.array(vals, dtype=dt.newbyteorder("=") if dt.kind != "b" else bool).reshape(shape)
        a = a.astype(dt)
    layout = draw(st.sampled_from(["c", "f", "rev", "ro"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "rev" and a.ndim:
        a = np.ascontiguousarray(a[::-1])[::-1]
    elif layout == "ro":
        a.flags.writeable = False
    return a


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() + str(a.flags.writeable)


FUNCS = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d"]


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzz_never_crashes_and_is_correct(data):
    name = data.draw(st.sampled_from(FUNCS))
    ndim = 2 if name == "convolve2d" else data.draw(st.integers(1, 3))
    a, b = data.draw(arrays(ndim)), data.draw(arrays(ndim))
    mode = data.draw(st.sampled_from(["full", "same", "valid"]))
    kw = {}
    if name in ("convolve", "correlate"):
        kw["method"] = data.draw(st.sampled_from(["auto", "direct", "fft"]))
    da, db = digest(a), digest(b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with _trace.paths() as ran:
                out = getattr(jitconv, name)(a, b, mode, **kw)
            err = None
        except (ValueError, TypeError) as e:
            out, err = None, e
        assert digest(a) == da and digest(b) == db  # inputs untouched
        try:
            with np.errstate(all="ignore"):
                ref = getattr(ss, name)(a, b, mode, **kw)
        except Exception as e:  # noqa: BLE001 - SciPy rejects (bool N-d, empty, ...)
            ref = e
    if err is not None:
        # jitconv rejects only what SciPy rejects too, but for empty inputs:
        # SciPy's N-d direct code answers some (e.g. zeros of shape (1, 1) for
        # two empty 'valid' operands), jitconv raises (README, deviations)
        empty = a.size == 0 or b.size == 0
        assert isinstance(ref, Exception) or (empty and "cannot be empty" in str(err)), \
            (err, a, b, mode, kw)
        return
    if isinstance(ref, Exception):   # a documented deviation: jitconv answers
        ref = None
    elif out.size == 0 and np.size(ref) == 0 and name in ("fftconvolve", "oaconvolve"):
        return  # documented deviation: empty results keep the inputs' ndim
    if ref is not None:
        assert out.shape == ref.shape
        assert out.dtype == ref.dtype.newbyteorder("="), (out.dtype, ref.dtype)
    if out.size == 0:
        return
    if not ran:
        # no kernel of jitconv ran: SciPy's own code (long double, object...)
        # or an answer without a kernel (0-d, a broadcast product)
        if ref is not None:
            np.testing.assert_array_equal(out, ref)
        return
    fft = any(r.startswith(("fft", "oa")) for r in ran)
    if name == "convolve2d":
        return _check_2d(a, b, mode, out, ref)
    _check_values(name, a, b, mode, out, ref, fft, kw.get("method"))


def _check_2d(a, b, mode, out, ref):
    if out.dtype.kind in "iub" or np.all(np.isfinite(ref)):
        np.testing.assert_array_equal(np.isfinite(out), np.isfinite(ref))
    if out.dtype.kind in "iu":
        assert np.array_equal(out, ref)


def _norm(x):
    """||x||_2 without overflow in its squares (1e300: 1e300, not inf; an
    inf would make the bound of a zero operand NaN)."""
    m = float(np.abs(x).max()) if x.size else 0.0
    if m == 0.0 or not np.isfinite(m):
        return m
    return m * float(np.linalg.norm((x / m).ravel()))


def _eps(dtype):
    return np.finfo(np.result_type(dtype, np.float16)).eps


def _check_values(name, a, b, mode, out, ref, fft, method):
    """``out`` against the float64/complex128 direct sum over the overlap,
    within the stated error bounds (README, "Accuracy")."""
    if out.dtype.kind == "b":
        want = naive(name, a.astype(np.int64), b.astype(np.int64), mode) != 0
        assert np.array_equal(out, want)
        return
    if out.dtype.kind in "iu":
        if not fft and ref is not None:
            assert np.array_equal(out, ref)   # exact, and wrapping like SciPy's
        return
    want = naive(name, a, b, mode)
    with np.errstate(all="ignore"):
        want_out = want.astype(out.dtype)
    if not fft:
        # the non-finite pattern of the direct sum over the overlap (SciPy's
        # 1-d direct path; its N-d path also multiplies its zero padding,
        # giving 0*inf = NaN there: a documented deviation)
        if out.dtype.kind == "c":
            assert np.array_equal(np.isfinite(out), np.isfinite(want_out)), (a, b)
        else:
            assert np.array_equal(np.isnan(out), np.isnan(want_out)), (a, b)
            assert np.array_equal(np.isinf(out), np.isinf(want_out)), (a, b)
    finite_in = all(np.isfinite(x.astype(np.complex128)).all() for x in (a, b))
    ok = np.isfinite(want_out) & np.isfinite(out)
    if not ok.any() or (fft and not finite_in):
        return
    wide = np.complex128 if out.dtype.kind == "c" else np.float64
    with np.errstate(all="ignore"):
        a64, b64 = a.astype(wide), b.astype(wide)
        absconv = naive(name, np.abs(a64), np.abs(b64), mode).real
        err = np.abs(out.astype(wide) - want)
    compute = np.float32 if _eps(out.dtype) >= np.finfo(np.float32).eps else np.float64
    ec = np.finfo(compute).eps
    tiny = 8 * np.finfo(compute).smallest_subnormal * max(a.size, b.size)
    rounding = _eps(out.dtype) * np.abs(want)     # the result's own rounding
    if fft:
        n = max(out.size, 2)
        with np.errstate(all="ignore"):
            norm = _norm(a64) * _norm(b64)
        bound = ec * np.log2(n) * norm + rounding + tiny
    else:
        taps = min(a.size, b.size)
        if compute == np.float32 and out.dtype.kind == "f":
            taps = min(taps, 4)  # fused blocks of <= 8 float32 taps, summed in float64
        bound = (taps + 1) * ec * absconv + rounding + tiny
    with np.errstate(all="ignore"):
        bad = ok & ~(err <= bound)
    assert not bad.any(), (name, mode, method, out.dtype, err[bad][:3], bound[bad][:3])


def naive(name, a, b, mode):
    """Direct sum over the overlap only, in float64/complex128 (no padding products)."""
    wide = np.complex128 if a.dtype.kind == "c" or b.dtype.kind == "c" else np.float64
    a, b = a.astype(wide), b.astype(wide)
    if name == "correlate":
        b = np.conj(b[(slice(None, None, -1),) * b.ndim])
    full = np.zeros(tuple(n + m - 1 for n, m in zip(a.shape, b.shape)), dtype=wide)
    with np.errstate(all="ignore"):
        for idx in np.ndindex(b.shape):
            full[tuple(slice(i, i + n) for i, n in zip(idx, a.shape))] += a * b[idx]
    sl = []
    for n, m in zip(a.shape, b.shape):
        if mode == "full":
            sl.append(slice(None))
        elif mode == "same":
            s0 = (m - 1) // 2
            sl.append(slice(s0, s0 + n))
        else:
            sl.append(slice(min(n, m) - 1, min(n, m) - 1 + abs(n - m) + 1))
    return full[tuple(sl)]


@pytest.mark.parametrize("dt", OTHER)
@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve", "oaconvolve",
                                  "convolve2d", "correlate2d"])
def test_unsupported_dtypes_raise_cleanly_or_match_scipy(dt, name):
    a = np.zeros((3, 3), dtype=dt) if dt.kind != "U" else np.full((3, 3), "ab", dtype=dt)
    try:
        ref = getattr(ss, name)(a, a)
    except Exception as e:  # noqa: BLE001
        ref = e
    try:
        out = getattr(jitconv, name)(a, a)
    except Exception as e:  # noqa: BLE001
        assert isinstance(ref, Exception)
        assert isinstance(e, (ValueError, TypeError)), repr(e)
        return
    assert not isinstance(ref, Exception)
    assert out.dtype == ref.dtype and out.shape == ref.shape
