"""Bad input: SciPy's exception type and message, raised before any work."""
import numpy as np
import pytest
import scipy.signal as ss

import jitconv
from jitconv import _engine, _planner

o1 = np.ones(5)
o2 = np.ones((3, 4))

CASES = [
    ("convolve", (o1, o2), {}),
    ("convolve", (np.ones(3), np.ones((1, 3))), {}),
    ("convolve", (np.ones(()), o1), {}),
    ("convolve", (np.ones((3, 5)), np.ones((5, 3)), "valid"), {}),
    ("convolve", (o1, o1), {"method": "xx"}),
    ("convolve", (o1, o1), {"method": None}),
    ("convolve", (o1, o1), {"method": "FFT"}),
    ("convolve", (o1, o1, "xx"), {}),
    ("convolve", (o2, o2, "xx"), {}),
    ("convolve", (o1, o1, "xx"), {"method": "direct"}),
    ("convolve", (o2, o2, "xx"), {"method": "direct"}),
    ("convolve", (o1, o1, "xx"), {"method": "fft"}),
    ("convolve", (o1, o1, "xx"), {"method": "yy"}),
    ("correlate", (o1, o2), {}),
    ("correlate", (o1, o1, "xx"), {}),
    ("correlate", (o1, o1, ["full"]), {}),
    ("correlate", (o1, o1), {"method": "xx"}),
    ("correlate", (o1, o1, "xx"), {"method": "xx"}),
    ("correlate", (np.ones((3, 5)), np.ones((5, 3)), "valid"), {}),
    ("fftconvolve", (o1, o2), {}),
    ("fftconvolve", (o1, o1, "xx"), {}),
    ("fftconvolve", (o2, o2), {"axes": []}),
    ("fftconvolve", (o2, o2), {"axes": [2]}),
    ("fftconvolve", (o2, o2), {"axes": [-3]}),
    ("fftconvolve", (o2, o2), {"axes": [0, 0]}),
    ("fftconvolve", (o2, o2), {"axes": [0, -2]}),
    ("fftconvolve", (o2, o2), {"axes": 1.0}),
    ("fftconvolve", (o1, o1), {"axes": True}),
    ("fftconvolve", (np.ones((4, 5)), np.ones((3, 3))), {"axes": 1}),
    ("fftconvolve", (np.ones((3, 5)), np.ones((5, 3)), "valid"), {}),
    ("oaconvolve", (o1, o2), {}),
    ("oaconvolve", (o1, o1, "xx"), {}),
    ("oaconvolve", (o2, o2), {"axes": []}),
    ("oaconvolve", (np.ones((4, 5)), np.ones((3, 3))), {"axes": 1}),
    ("convolve2d", (o1, o1), {}),
    ("correlate2d", (o1, o1), {}),
    ("convolve2d", (o2, o2, "xx"), {}),
    ("convolve2d", (o2, o2), {"boundary": "xx"}),
    ("convolve2d", (o2, o2), {"boundary": "reflect"}),
    ("correlate2d", (o2, o2), {"boundary": "nope"}),
    ("convolve2d", (np.ones((3, 5)), np.ones((5, 3)), "valid"), {}),
    ("convolve2d", ([[1]], [[1, 2]]), {"fillvalue": [1, 2]}),
    ("convolve2d", ([[1]], [[1, 2]]), {"fillvalue": []}),
    ("convolve2d", ([[1]], [[1, 2]]), {"fillvalue": 1j}),
    ("convolve2d", (np.ones((2, 2), np.int8), np.ones((2, 2), np.int8)), {"fillvalue": 1000}),
    ("convolve2d", (o2, o2), {"fillvalue": "a"}),
    ("convolve2d", (np.ones((2, 2), bool), np.ones((2, 2), bool)), {}),
    ("convolve2d", (np.ones((2, 2), np.float16), np.ones((2, 2), np.float16)), {}),
    ("correlation_lags", (5, 3, "xx"), {}),
    ("choose_conv_method", (o1, o1, "xx"), {}),
]


def _outcome(fn, args, kw):
    try:
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(*args, **kw)
    except Exception as e:  # noqa: BLE001 - we compare whatever SciPy raises
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("name,args,kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_same_exception_as_scipy(name, args, kw, monkeypatch):
    exp_type, exp_msg = _outcome(getattr(ss, name), args, kw)
    assert exp_type is not None, "case must be an error in SciPy"

    def no_work(*a, **k):
        raise AssertionError("computation started before validation")
    # every computation of a validated call starts in the engine's decide
    # (guards, planning) and runs through the planner
    monkeypatch.setattr(_engine, "decide", no_work)
    monkeypatch.setattr(_planner.Planner, "run", no_work)
    got_type, got_msg = _outcome(getattr(jitconv, name), args, kw)
    assert got_type is exp_type, (got_type, got_msg, exp_type, exp_msg)
    assert got_msg == exp_msg


@pytest.mark.parametrize("fn", [jitconv.convolve, jitconv.correlate])
@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@pytest.mark.parametrize("shapes", [((0,), (3,)), ((3,), (0,)), ((0, 2), (2, 2))])
def test_empty_inputs_raise_valueerror(fn, method, shapes):
    """SciPy raises ValueError (direct) or IndexError (fft, a bug); we always raise ValueError."""
    with pytest.raises(ValueError, match="cannot be empty"):
        fn(np.ones(shapes[0]), np.ones(shapes[1]), method=method)


@pytest.mark.parametrize("fn", [jitconv.fftconvolve, jitconv.oaconvolve])
def test_empty_frequency_functions_return_empty(fn):
    out = fn(np.ones(0), np.ones(3))
    assert out.shape == (0,) and out.dtype == np.float64
    out = fn(np.ones((0, 3)), np.ones((2, 3)))
    assert out.size == 0 and out.ndim == 2


def test_axes_on_scipy_only_dtypes_is_typeerror():
    with pytest.raises(TypeError, match="axes"):
        jitconv.convolve(np.ones((2, 3), np.longdouble), np.ones((1, 2)), axes=1)


@pytest.mark.parametrize("w", [0, 1.5, "2"])
def test_bad_workers(w):
    with pytest.raises((ValueError, TypeError)):
        jitconv.convolve(o1, o1, workers=w)


def test_negative_workers_count_from_cpu_count():
    np.testing.assert_allclose(jitconv.convolve(o1, o1, workers=-1), np.convolve(o1, o1))
