"""jitconv.dask.ndimage: the ndimage filters on dask arrays equal
``jitconv.ndimage`` on the whole array.

Bitwise where the exact sums run on both sides: integer data (the guards
restrict every chunk and the whole array to SciPy's sums) and float data
with the direct candidate forced (the synchronous scheduler runs the tasks
in this thread, inside ``jitconv.force``). The uniform filters' running sums
restart at each block, so their float results are compared within the
running sum's bound. Dtype and chunks are checked before values; errors are
SciPy's, raised before anything is computed; the weights are one key of the
graph. On a real LocalCluster the planner decides per chunk problem: float
results there are within the FFT candidate's bound.
"""
import itertools
import pickle
import warnings
from unittest import mock

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
from dask.core import get_dependencies  # noqa: E402

import jitconv  # noqa: E402
from jitconv import _planner, ndimage as nd  # noqa: E402
from jitconv.dask import _blocks, ndimage as dn  # noqa: E402

from test_dask import _cluster, sync  # noqa: E402,F401 - sync: the fixture
from test_ndimage import ERROR_CASES, _error  # noqa: E402

MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant",
         "grid-wrap"]
EPS64 = np.finfo(np.float64).eps
#: (shape, chunks) per rank: uneven chunks, chunks of 1 and 2 (smaller than
#: every halo below), an axis in one chunk
CHUNKINGS = {1: [((37,), ((5, 20, 3, 9),)), ((23,), (1,)), ((9,), (2,))],
             2: [((23, 17), ((7, 1, 10, 5), 4)), ((11, 8), (1, (3, 5)))],
             3: [((9, 10, 7), (4, 3, (1, 6))), ((6, 5, 8), (-1, 2, 3))]}


@pytest.fixture(scope="module")
def client():
    from distributed import Client
    with _cluster(JITCONV_PLANNER_EFFORT="estimate") as cluster, Client(cluster) as c:
        yield c


def _cases(ndim, rng):
    """Every function, with odd and even weights at the extreme origins and
    0: ``(name, args, kwargs)``."""
    for m in (3, 4):
        ws = tuple(m + 2 * (i % 2) for i in range(ndim))     # e.g. (3, 5, 3), (4, 6, 4)
        for pick in ("min", "zero", "max"):
            org = [{"min": -(k // 2), "zero": 0, "max": (k - 1) // 2}[pick] for k in ws]
            w = rng.integers(-4, 5, size=ws) / 2.0
            yield "correlate", (w,), {"origin": org}
            yield "convolve", (w,), {"origin": org}
            ax = {"min": 0, "zero": ndim - 1, "max": ndim // 2}[pick]
            w1 = rng.integers(-4, 5, size=ws[ax]) / 2.0
            yield "correlate1d", (w1,), {"axis": ax, "origin": org[ax]}
            yield "convolve1d", (w1,), {"axis": ax, "origin": org[ax]}
            yield "uniform_filter1d", (ws[ax],), {"axis": ax, "origin": org[ax]}
            yield "uniform_filter", (list(ws),), {"origin": org}
    for order in (0, 1, 2):
        yield "gaussian_filter", (1.1,), {"order": order}
        yield "gaussian_filter1d", (1.3,), {"order": order, "axis": order % ndim}
    yield "sobel", (), {"axis": 0}
    yield "prewitt", (), {"axis": -1}
    yield "laplace", (), {}
    yield "gaussian_laplace", (0.9,), {}
    yield "gaussian_gradient_magnitude", (0.9,), {}


def _running_bound(a, size):
    """The running sum's bound (``algorithms/filter_running.py``) for the two
    results of a uniform filter (one pass per axis of at most ``size``, each
    of a line of at most ``l`` steps), with every window sum of ``|x|`` at
    most ``size**ndim * max|x|``."""
    ln = max(a.shape)
    return 2 * a.ndim * EPS64 * (size + 2 * ln) * size ** a.ndim * np.abs(a).max()


def _check(y, want, x, uniform_float=None):
    assert y.dtype == want.dtype and y.shape == want.shape and y.chunks == x.chunks
    got = y.compute()
    assert got.dtype == want.dtype
    if uniform_float is not None:
        assert np.allclose(got, want, rtol=0, atol=uniform_float)
    else:
        assert np.array_equal(got, want)


# ------------------------------------------------- every function, mode, chunking
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_every_filter_mode_and_chunking_as_in_memory(ndim, mode, sync):
    """Integer data (bitwise whatever the planner does) and float data with
    the direct candidates forced (bitwise; the uniform filters within the
    running sum's bound), alternating over the cases."""
    rng = np.random.default_rng(ndim)
    for (shape, chunks), (i, (name, args, kw)) in itertools.product(
            CHUNKINGS[ndim], enumerate(_cases(ndim, rng))):
        kw = dict(kw, mode=mode, cval=2.5)
        if i % 2:
            a = rng.integers(0, 60, size=shape).astype(np.int16)
        else:
            a = rng.standard_normal(shape) * 10
        x = da.from_array(a, chunks=chunks)
        with jitconv.force("filter-direct-serial"):
            want = getattr(nd, name)(a, *args, **kw)
            y = getattr(dn, name)(x, *args, **kw)
            bound = None
            if name.startswith("uniform") and a.dtype.kind == "f":
                bound = _running_bound(a, max(np.ravel(args[0])))
            try:
                _check(y, want, x, bound)
            except AssertionError as e:
                raise AssertionError(f"{name} {kw} {shape} {chunks} {a.dtype}: {e}") from None


def test_footprints_larger_than_the_axis(sync):
    """Weights and Gaussians longer than the axis: the axis becomes one chunk
    for the filter, the result keeps the input's chunks."""
    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, size=(9, 30)).astype(np.int32)
    x = da.from_array(a, chunks=(2, 7))
    w = rng.integers(-3, 4, size=(23, 3)).astype(np.float64)
    for mode in MODES:
        for name, args, kw in [("correlate", (w,), {"origin": (11, -1)}),
                               ("convolve", (w,), {}),
                               ("correlate1d", (w[:, 0],), {"axis": 0, "origin": -11}),
                               ("gaussian_filter", (4.0,), {}),
                               ("uniform_filter1d", (20,), {"axis": 0, "origin": 9}),
                               ("gaussian_gradient_magnitude", (3.0,), {})]:
            kw = dict(kw, mode=mode, cval=-1.5)
            _check(getattr(dn, name)(x, *args, **kw), getattr(nd, name)(a, *args, **kw), x)


def test_one_sided_halos_at_the_edges(sync):
    """Extreme origins (a halo on one side only) with edge chunks as short as
    the halo: 'mirror' reads one point beyond its depth at an edge, which the
    edge block must hold; mixed modes on one axis take the farthest-reading."""
    a = np.random.default_rng(10).integers(-9, 9, size=11).astype(np.int64)
    for m, n_chunk, mode in itertools.product((2, 3, 4, 5), (1, 2, 3), MODES):
        x = da.from_array(a, chunks=n_chunk)
        w = np.arange(1.0, m + 1)
        for origin in (-(m // 2), (m - 1) // 2):
            _check(dn.correlate1d(x, w, mode=mode, origin=origin),
                   nd.correlate1d(a, w, mode=mode, origin=origin), x)
    b = np.random.default_rng(11).integers(0, 9, size=(9, 7)).astype(np.int32)
    for modes in (["mirror", "nearest"], ["constant", "mirror"]):
        for chunks in (2, 3, (1, 3)):
            x = da.from_array(b, chunks=chunks)
            _check(dn.gaussian_gradient_magnitude(x, 0.5, mode=modes),
                   nd.gaussian_gradient_magnitude(b, 0.5, mode=modes), x)


def test_mixed_wrap_and_other_modes_on_one_axis(sync):
    """``gaussian_gradient_magnitude`` with a mode per derivative extends
    every axis by 'wrap' in one derivative and 'reflect' in the other: such
    axes are taken whole, and the result is still exact."""
    a = np.random.default_rng(4).integers(0, 99, size=(20, 18)).astype(np.uint16)
    x = da.from_array(a, chunks=(6, 5))
    for modes in (["wrap", "reflect"], ["mirror", "wrap"], ["nearest", "mirror"]):
        for name in ("gaussian_gradient_magnitude", "gaussian_laplace"):
            y = getattr(dn, name)(x, 1.2, mode=modes)
            _check(y, getattr(nd, name)(a, 1.2, mode=modes), x)
    a = a.astype(np.float64)
    with jitconv.force("filter-direct-serial"):
        _check(dn.laplace(da.from_array(a, chunks=4), mode=["wrap", "constant"], cval=3.0),
               nd.laplace(a, mode=["wrap", "constant"], cval=3.0), da.from_array(a, chunks=4))


def test_dtypes_outputs_and_complex(sync):
    """Output dtypes (SciPy's casts, checked per block), bool, complex data
    and weights, axes, 0-d and empty inputs."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 9, size=(12, 10)).astype(np.uint8)
    x = da.from_array(a, chunks=(5, 3))
    w = rng.integers(-2, 3, size=(3, 4)).astype(np.float64)
    cw = w + 1j * rng.integers(-2, 3, size=(3, 4))
    calls = [("correlate", (w,), {"output": np.int8}),
             ("convolve", (w,), {"output": "float32"}),
             ("correlate", (w[:, 0],), {"axes": (0,), "origin": -1}),
             ("gaussian_filter", (1.0,), {"output": np.float64, "axes": (1,)}),
             ("uniform_filter", (3,), {"output": np.bool_}),
             ("sobel", (), {"output": np.int16}),
             ("correlate", (cw,), {"mode": "wrap"}),
             ("convolve1d", (cw[0],), {"output": np.complex128})]
    for (name, args, kw), data in itertools.product(calls, (a, a > 4, a + 1j * a[::-1])):
        xx = da.from_array(data, chunks=(5, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the promotion to complex: below
            try:
                want = getattr(nd, name)(data, *args, **kw)
            except (RuntimeError, ValueError) as e:
                with pytest.raises(type(e), match=str(e)):
                    getattr(dn, name)(xx, *args, **kw)
                continue
            y = getattr(dn, name)(xx, *args, **kw)
        if want.dtype.kind == "b":
            assert y.dtype == want.dtype and y.chunks == xx.chunks
            assert np.array_equal(y.compute().view(np.uint8), want.view(np.uint8))
        else:
            _check(y, want, xx)
    # the promotion warning is issued once, when the call returns
    with pytest.warns(UserWarning, match="promoting"):
        y = dn.correlate(x, cw, output=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.dtype == np.complex128 and np.array_equal(
            y.compute(), nd.correlate(a, cw, output=np.complex128))
    zero = np.array(3.0)
    y = dn.correlate(da.from_array(zero), np.array(2.0))
    assert y.shape == () and y.compute() == nd.correlate(zero, np.array(2.0))
    e = np.zeros((0, 4), np.int16)
    y = dn.gaussian_filter(da.from_array(e), 1.0)
    assert y.shape == (0, 4) and y.dtype == np.int16 and y.compute().shape == (0, 4)


# ------------------------------------------------------------- errors, graph
def _never():
    raise AssertionError("the data was computed")


def _unread(a):
    """A dask array of ``a``'s shape and dtype whose data raises when read."""
    return da.from_delayed(dask.delayed(_never)(), shape=a.shape, dtype=a.dtype)


@pytest.mark.parametrize("name,args,kwargs", ERROR_CASES)
def test_errors_as_in_memory_before_anything_is_computed(name, args, kwargs):
    want = _error(getattr(nd, name), *args, **kwargs)
    got = _error(getattr(dn, name), _unread(np.asarray(args[0])), *args[1:], **kwargs)
    if isinstance(kwargs.get("output"), np.ndarray):
        assert got[0] is TypeError and "output must be None or a dtype" in got[1]
    else:
        assert got == want


def test_output_arrays_are_a_clear_type_error():
    x = da.ones((4, 4), chunks=2)
    for out in (np.zeros((4, 4)), da.zeros((4, 4)), [[0.0] * 4] * 4):
        with pytest.raises(TypeError, match="output must be None or a dtype"):
            dn.gaussian_filter(x, 1.0, output=out)


def test_lazy_chunks_and_dtype_before_compute():
    a = np.zeros((10, 9), np.int16)
    x = _unread(a).rechunk((4, 5))
    for name, args in [("correlate", (np.ones((3, 4)),)), ("gaussian_filter", (2.0,)),
                       ("uniform_filter1d", (4,)), ("laplace", ()),
                       ("gaussian_gradient_magnitude", (1.0,))]:
        y = getattr(dn, name)(x, *args)
        want = getattr(nd, name)(a, *args)
        assert (y.shape, y.chunks, y.dtype) == (a.shape, x.chunks, want.dtype)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        y = da.ones(10, chunks=5)
        dn.sobel(y[y > 0])


@pytest.mark.parametrize("name", ["correlate", "convolve1d"])
def test_weights_are_one_key_of_the_graph(name, monkeypatch):
    monkeypatch.setattr(_blocks, "SLIVER_BYTES", 0)
    w = np.random.default_rng(0).standard_normal((30, 30) if name == "correlate" else 1000)
    n = 400 if name == "correlate" else 4000
    x = da.ones((400, n), chunks=(50, n // 8))
    y = getattr(dn, name)(x, w, **({} if name == "correlate" else {"axis": 1}))
    graph = dict(y.__dask_graph__())
    big = [key for key, v in graph.items() if len(pickle.dumps(v)) >= w.nbytes]
    assert len(big) == 1
    tasks = [key for key in graph if str(key).startswith(f"('jitconv-{name}")]
    assert len(tasks) == 64
    assert all(big[0] in get_dependencies(graph, t) for t in tasks)


def test_one_kernel_thread_per_task_by_default(sync, monkeypatch):
    seen = set()
    choose = _planner.PLANNER.choose

    def spy(p):
        seen.add((p.rule, p.workers))
        return choose(p)
    monkeypatch.setattr(_planner.PLANNER, "choose", spy)
    x = da.ones((64, 64), chunks=32)
    dn.correlate(x, np.ones((3, 5))).compute()
    dn.correlate1d(x, np.ones(3), workers=2).compute()
    assert seen == {("nd", 1), ("line", min(2, jitconv._config.CPUS))}


def test_inputs_unchanged(sync):
    a = np.random.default_rng(6).standard_normal((20, 20))
    w = np.random.default_rng(7).standard_normal((3, 3))
    a0, w0 = a.copy(), w.copy()
    y = dn.convolve(da.from_array(a, chunks=6), w, mode="mirror").compute()
    assert np.array_equal(a, a0) and np.array_equal(w, w0) and not np.shares_memory(y, a)


# ------------------------------------------------------------ on the cluster
def test_every_filter_on_the_cluster(client):
    """Every function and mode on a LocalCluster of two processes: integer
    data bitwise; float data planned per chunk problem, within the FFT
    candidate's normwise bound ``eps * log2(F) * ||x||_2 * ||w||_2``
    (``algorithms/filter_fft.py``; ``log2 F <= 16``; passes in turn: their
    weights' ``sum|w| <= 4`` each), for both results compared, plus
    their float32 rounding; the uniform filters within the running sum's
    bound. (Observed: every case bitwise but the 15x13 correlation, which
    the planner computes otherwise on some chunks: 2e-5 against 2e-3.)"""
    rng = np.random.default_rng(8)
    ai = rng.integers(-99, 99, size=(41, 37)).astype(np.int32)
    af = rng.standard_normal((41, 37)).astype(np.float32)
    big = rng.standard_normal((15, 13))
    cases = [(name, args, kw) for name, args, kw in _cases(2, rng) if kw.get("origin") != 0]
    cases += [("correlate", (big,), {}), ("gaussian_filter", (3.0,), {})]
    lazy, wants = [], []
    for (name, args, kw), mode, a in itertools.product(cases, MODES[:5], (ai, af)):
        kw = dict(kw, mode=mode, cval=1.5)
        x = da.from_array(a, chunks=((13, 1, 20, 7), (9, 28)))
        lazy.append(getattr(dn, name)(x, *args, **kw))
        wants.append((name, args, kw, a, x, getattr(nd, name)(a, *args, **kw)))
    results = client.compute(lazy, sync=True)
    assert len(results) > 300
    for y, res, (name, args, kw, a, x, want) in zip(lazy, results, wants):
        assert y.dtype == res.dtype == want.dtype and y.chunks == x.chunks, (name, kw)
        if a.dtype.kind in "iu":
            assert np.array_equal(res, want), (name, kw)
            continue
        eps = np.finfo(np.float32).eps
        rounding = 2 * eps * np.abs(want).max()    # both results rounded to float32
        if name.startswith("uniform"):
            bound = _running_bound(a.astype(np.float64), max(np.ravel(args[0])))
        elif name in ("correlate", "convolve", "correlate1d", "convolve1d"):
            bound = 2 * eps * 16 * np.linalg.norm(a) * np.linalg.norm(args[0])
        else:   # passes in turn, each of weights with sum|w| <= 4 (Sobel's [1, 2, 1])
            passes = 3 if name.startswith(("gaussian_laplace", "gaussian_grad")) else 2
            bound = 2 * eps * 16 * np.linalg.norm(a) * 4.0 ** passes
        bound += rounding
        assert np.abs(res.astype(np.float64) - want).max() <= bound, (name, kw)


def test_uniform_filter_of_floats_is_exact_at_the_seams(sync):
    """The planner's own choice per chunk (the fused box of float data among
    them), every mode, origins at both extremes: within the running sums'
    bound of the in-memory result."""
    rng = np.random.default_rng(9)
    a = rng.standard_normal((41, 37)).astype(np.float32)
    x = da.from_array(a, chunks=((13, 1, 20, 7), (9, 28)))
    for mode, origin in itertools.product(MODES, ([-1, -2], [1, 2], [0, 0])):
        want = nd.uniform_filter(a, [3, 5], origin=origin, mode=mode, cval=1.5)
        res = dn.uniform_filter(x, [3, 5], origin=origin, mode=mode, cval=1.5).compute()
        bound = _running_bound(a.astype(np.float64), 5) + 2 * np.finfo(np.float32).eps * 4
        assert np.abs(res.astype(np.float64) - want).max() <= bound, (mode, origin)


def test_halo_depth_is_read_from_the_passes():
    """The halo of a call (``_halo``): one pass's ``m // 2 + origin`` before
    and ``(m - 1) // 2 - origin`` after, passes in turn added, combined
    filters the largest, axes mixing 'wrap' with another mode whole."""
    from jitconv._validate import ndimage as check
    s = np.broadcast_to(np.zeros((), np.float64), (20, 30, 10))
    call = check.correlate(s, np.ones((4, 1, 5)), None, "mirror", 0.0, (1, 0, -2), False, None, 1)
    assert dn._halo(call, 3) == ({0: (3, 0), 2: (0, 4)}, {0: "mirror", 2: "mirror"}, [])
    call = check.convolve1d(s, np.ones(4), 1, None, "wrap", 0.0, 1, 1)   # origin -1 - 1 = -2
    assert dn._halo(call, 3) == ({1: (0, 3)}, {1: "wrap"}, [])
    call = check.sobel(s, 0, None, "nearest", 0.0, workers=1)
    assert dn._halo(call, 3)[0] == {0: (1, 1), 1: (1, 1), 2: (1, 1)}
    call = check.uniform_filter(s, (3, 4, 1), None, "constant", 0.0, (0, 1, 0), workers=1)
    assert dn._halo(call, 3)[0] == {0: (1, 1), 1: (3, 0)}
    # uniform_filter of a real input: one 'box' problem holding every pass
    call = check.uniform_filter(s.astype(np.float32), (3, 5, 1), None, "reflect", 0.0,
                                (-1, -2, 0), workers=1)
    assert call.problem.rule == "box"
    assert dn._halo(call, 3)[0] == {0: (0, 2), 1: (0, 4)}
    call = check.gaussian_gradient_magnitude(s, 1.0, None, ["wrap", "reflect", "mirror"], 0.0,
                                             workers=1)
    assert dn._halo(call, 3) == ({}, {}, [0, 1, 2])
    # passes in turn along one axis (no SciPy function makes them; the rule holds)
    from jitconv._problem import Chain
    one = check.correlate1d(s, np.ones(4), 0, None, "reflect", 0.0, 0, 1)
    two = check.correlate1d(s, np.ones(3), 0, None, "nearest", 0.0, -1, 1)
    assert dn._halo(Chain(s, [one, two], one.finish), 3)[0] == {0: (2 + 0, 1 + 2)}
    call = check.gaussian_laplace(s, (1.0, 2.0, 0.5), None, "reflect", 0.0, workers=1)
    # radius int(4 * sigma + 0.5) per axis; each second derivative smooths all axes
    assert dn._halo(call, 3)[0] == {0: (4, 4), 1: (8, 8), 2: (2, 2)}


def test_slivers_and_whole_neighbours_agree(sync):
    """Halos copied out by sliver tasks or read from whole neighbour chunks."""
    a = np.random.default_rng(9).integers(0, 50, size=(30, 26)).astype(np.int64)
    for sliver in (0, 1 << 40):
        with mock.patch.object(_blocks, "SLIVER_BYTES", sliver):
            x = da.from_array(a, chunks=(7, 9))
            for mode in ("wrap", "mirror", "constant"):
                _check(dn.gaussian_filter(x, 1.5, mode=mode, cval=4.0),
                       nd.gaussian_filter(a, 1.5, mode=mode, cval=4.0), x)
