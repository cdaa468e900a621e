"""jitconv.dask: on a real LocalCluster (2 worker processes), the result equals
the in-memory jitconv result: bitwise on the direct paths, within the FFT
bound otherwise; errors raised before any task; the kernel in the graph once;
exact at every seam for every mode, chunking and kernel size; a worker killed
mid-computation is recovered; a second run on a fresh cluster measures
nothing. The boundary-mode halo driver (for the ndimage filters) is checked
against scipy.ndimage, which stands in for the per-chunk filter here only.
"""
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

import jitconv  # noqa: E402
from jitconv import _planner, _trace  # noqa: E402
from jitconv import dask as jd  # noqa: E402
from jitconv.dask import _blocks  # noqa: E402

from test_errors import CASES as ERROR_CASES  # noqa: E402

OPS = ("convolve", "correlate", "fftconvolve", "oaconvolve")
MODES = ("full", "same", "valid")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(jitconv.__file__)))


def _cluster(**env):
    from distributed import LocalCluster
    env = dict({"PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
                "JITCONV_WISDOM": "off", "OMP_NUM_THREADS": "1"}, **env)
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                        dashboard_address=":0", env=env)


@pytest.fixture(scope="module")
def client():
    from distributed import Client
    # values do not depend on planning effort: the cost model decides here
    with _cluster(JITCONV_PLANNER_EFFORT="estimate") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture
def sync():
    """Tasks run in this thread (``_trace`` sees them, ``_planner.PLANNER`` is
    this process's); the cost model decides (values do not depend on it)."""
    prev = jitconv.set_planner(effort="estimate")
    try:
        with dask.config.set(scheduler="sync"):
            yield
    finally:
        jitconv.set_planner(**prev)


# ------------------------------------------------------------------- helpers
def _ref(op, a, k, mode, method, axes):
    args = (mode, method) if method else (mode,)
    return getattr(jitconv, op)(a, k, *args, axes=axes)


def _lazy(op, x, k, mode, method, axes):
    args = (mode, method) if method else (mode,)
    return getattr(jd, op)(x, k, *args, axes=axes)


def _fft_bound(a, k, rt):
    """The FFT paths' normwise bound (README, "Accuracy"), for the two results compared."""
    eps = np.finfo(np.dtype(rt)).eps
    n = max(a.size + k.size, 2)
    return 8 * eps * math.log2(n) * float(np.linalg.norm(a.ravel()) * np.linalg.norm(k.ravel()))


def _check(y, ref, a, k, exact):
    assert y.dtype == ref.dtype and y.shape == ref.shape
    if exact or ref.size == 0:
        assert np.array_equal(y, ref, equal_nan=True), np.abs(y - ref).max()
    else:
        assert np.abs(y - ref).max() <= _fft_bound(a, k, ref.dtype)


def _rng():
    return np.random.default_rng(20261128)


def _data(shape, dtype, rng):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-50, 50, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


#: (data shape, chunks, kernel shape, axes, data dtype, kernel dtype): uneven
#: chunks, chunks smaller than the halo, kernels larger than an axis, even and
#: odd kernels, 1-, 2-, 3-d, batch axes (a kernel per row; data broadcast),
#: complex asymmetric kernels, integers, booleans
GRID = [
    ((50,), ((5, 20, 3, 22),), (7,), None, "f8", "f8"),
    ((50,), ((13, 13, 13, 11),), (6,), None, "f8", "f8"),
    ((41,), (3,), (9,), None, "f8", "f8"),                       # chunks < halo
    ((30,), ((10, 10, 10),), (45,), None, "f8", "f8"),           # kernel > axis
    ((40, 37), ((7, 13, 20), (10, 10, 17)), (5, 4), None, "f4", "f4"),
    ((40, 37), (4, 4), (11, 11), None, "f8", "f8"),              # chunks < halo
    ((20, 37), ((7, 13), (10, 10, 17)), (25, 3), None, "f8", "f8"),  # kernel > axis 0
    ((33, 29), ((11, 11, 11), (9, 20)), (6, 5), None, "c16", "c16"),
    ((33, 29), ((11, 11, 11), (9, 20)), (4, 7), None, "f8", "c16"),
    ((12, 13, 11), (5, 4, 6), (3, 4, 5), None, "f8", "f8"),
    ((12, 13, 11), (5, 4, 6), (2, 2, 2), None, "f4", "f8"),
    ((6, 64), (2, 16), (1, 9), 1, "f8", "f8"),
    ((6, 64), (4, 20), (6, 9), -1, "f8", "f8"),                  # a kernel per row
    ((1, 64), (1, 20), (5, 7), [1], "f8", "f8"),                 # data broadcast
    ((45, 31), (10, 10), (5, 6), None, "i2", "i1"),
    ((60,), (16,), (7,), None, "?", "?"),
]


def _grid_cases(only=None):
    rng = _rng()
    for g, (shape, chunks, kshape, axes, dt, kdt) in enumerate(GRID):
        if only is not None and g not in only:
            continue
        a = _data(shape, dt, rng)
        k = _data(kshape, kdt, rng)
        if np.dtype(kdt).kind == "c":
            k = k + 0.5j * np.arange(k.size).reshape(k.shape)   # asymmetric
        for op in OPS:
            if op in ("fftconvolve", "oaconvolve") and a.dtype == bool:
                continue
            for mode in MODES:
                for method in (("direct", "auto") if op in ("convolve", "correlate") else (None,)):
                    try:
                        ref = _ref(op, a, k, mode, method, axes)
                    except ValueError:
                        continue      # 'valid' with incomparable shapes: tested with the errors
                    yield (g, op, mode, method), a, chunks, k, axes, ref


# ------------------------------------------------------------ the face itself
def test_import_jitconv_does_not_import_dask(run_python):
    out = run_python("import sys, json, jitconv\n"
                     "before = 'dask' in sys.modules\n"
                     "m = jitconv.dask\n"
                     "print(json.dumps([before, m.__name__, 'dask.array' in sys.modules]))")
    assert out == [False, "jitconv.dask", True]


def test_lazy_graph_chunks_dtype_before_compute():
    """Shape, dtype and chunks are known before anything runs, and building
    the graph computes nothing (the data's tasks would raise)."""
    def boom():
        raise AssertionError("computed")
    x = da.from_delayed(dask.delayed(boom)(), shape=(10,), dtype=np.float64)
    x = da.concatenate([x, da.ones(7, chunks=7)])
    y = jd.convolve(x, np.ones(3), "full")
    assert y.shape == (19,) and y.dtype == np.float64
    assert y.chunks == ((11, 8),)
    x = da.ones((10, 9), chunks=(4, 5), dtype=np.int16)
    for op, mode, shape, chunks, dtype in [
            ("convolve", "same", (10, 9), ((4, 4, 2), (5, 4)), np.float64),
            ("correlate", "full", (12, 12), ((5, 4, 3), (6, 6)), np.float64),
            ("fftconvolve", "valid", (8, 6), ((3, 4, 1), (3, 3)), np.float64),
            ("oaconvolve", "same", (10, 9), ((4, 4, 2), (5, 4)), np.float64)]:
        y = getattr(jd, op)(x, np.ones((3, 4)), mode)
        assert (y.shape, y.chunks, y.dtype) == (shape, chunks, dtype), op
    assert jd.convolve(x, np.ones((3, 4), np.int8)).dtype == np.int16
    assert jd.fftconvolve(x.astype(np.float32), np.ones((3, 4), np.float32)).dtype == np.float32


def test_kernel_is_one_key_of_the_graph(monkeypatch):
    monkeypatch.setattr(_blocks, "SLIVER_BYTES", 0)
    k = np.random.default_rng(0).standard_normal((40, 40))   # 12.8 kB
    x = da.ones((400, 400), chunks=50)
    y = jd.convolve(x, k, "same")
    graph = dict(y.__dask_graph__())
    big = [key for key, v in graph.items() if len(pickle.dumps(v)) >= k.nbytes]
    assert len(big) == 1
    tasks = [key for key in graph if str(key).startswith("('jitconv-convolve")]
    assert len(tasks) == 64
    # a block is its own chunk and copies of its neighbours' edges (2-d:
    # sides and corners; 8 for interior blocks): no concatenating tasks
    slivers = [key for key in graph if str(key).startswith("('sliver-")]
    assert len(slivers) == 6 * 6 * 8 + 4 * 6 * 5 + 4 * 3
    assert len(graph) == 64 + len(slivers) + 64 + 1
    # small chunks are read whole by their neighbours' tasks
    monkeypatch.setattr(_blocks, "SLIVER_BYTES", 1 << 20)
    graph = dict(jd.convolve(x, k, "same").__dask_graph__())
    assert len(graph) == 64 + 64 + 1


@pytest.mark.parametrize("name,args,kw", [c for c in ERROR_CASES if c[0] in OPS],
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ERROR_CASES) if c[0] in OPS])
def test_errors_as_in_memory_before_any_work(name, args, kw):
    """SciPy's exception and message, raised when the graph is built."""
    a, k = (np.asarray(v) for v in args[:2])
    with pytest.raises(Exception) as want:
        getattr(jitconv, name)(a, k, *args[2:], **kw)
    x = da.from_array(a, chunks=2) if a.ndim else da.from_array(a)
    with pytest.raises(want.type) as got:
        getattr(jd, name)(x, k, *args[2:], **kw)
    assert str(got.value) == str(want.value)


def test_empty_and_trivial_calls_as_in_memory(sync):
    for op in OPS:
        for a, k in [(np.ones((0, 3)), np.ones((2, 2))), (np.ones((4, 3)), np.ones((0, 2)))]:
            try:
                want = getattr(jitconv, op)(a, k)
            except ValueError as e:
                with pytest.raises(ValueError, match=str(e)):
                    getattr(jd, op)(da.from_array(a), k)
                continue
            got = getattr(jd, op)(da.from_array(a), k)
            assert got.shape == want.shape and got.dtype == want.dtype
        # 0-d operands, and fftconvolve's broadcast-only case
        want = getattr(jitconv, op)(np.array(2.0), np.array(3.0 + 1j))
        assert getattr(jd, op)(da.from_array(np.array(2.0)), np.array(3.0 + 1j)).compute() == want
    a, k = np.arange(12.0).reshape(3, 4), np.full((1, 1), 2.0)
    for op in ("fftconvolve", "oaconvolve"):
        want = getattr(jitconv, op)(a, k, "same")
        got = getattr(jd, op)(da.from_array(a, chunks=2), k, "same")
        assert got.dtype == want.dtype and np.array_equal(got.compute(), want)


def test_long_double_is_a_clear_type_error():
    x = da.ones(10, dtype=np.longdouble)
    with pytest.raises(TypeError, match="does not compute dtypes"):
        jd.convolve(x, np.ones(3))


def test_unknown_chunk_sizes_are_a_clear_error():
    x = da.ones(10, chunks=5)
    x = x[x > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        jd.convolve(x, np.ones(3))


def test_the_example_runs_small(tmp_path, child_env):
    """examples/dask_big_convolve.py (README, "Scale-out") in a small size: no
    worker spilled, paused or restarted; the checked window is right."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "dask_big_convolve.py"),
                          "--gib", "0.015625", "--chunk", "512",
                          "--json", str(tmp_path / "o.json")],
                         env=child_env(JITCONV_PLANNER_EFFORT="estimate"), capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.load(open(tmp_path / "o.json"))
    assert summary["ok"] and summary["n"] == 2048
    assert [len(r["per_worker"]) for r in summary["runs"]] == [2, 2]


def test_byte_swapped_inputs(sync):
    a = np.arange(30.0).astype(">f8")
    k = np.array([1.0, 2.0, -1.0], ">f8")
    for op in OPS:
        want = getattr(jitconv, op)(a, k, "same")
        got = getattr(jd, op)(da.from_array(a, chunks=7), k, "same")
        assert got.dtype == want.dtype == np.dtype("=f8")
        assert np.allclose(got.compute(), want, rtol=0, atol=1e-12)


def test_kernel_may_be_a_dask_array(sync):
    a = np.arange(20.0)
    got = jd.convolve(da.from_array(a, chunks=6), da.from_array(np.array([1.0, -2.0, 3.0])))
    assert np.array_equal(got.compute(), jitconv.convolve(a, [1.0, -2.0, 3.0], method="direct"))


# ---------------------------------------------------------- seams, chunking
def test_merge_and_cut_arithmetic():
    assert _blocks.merge_chunks((1, 1, 1, 1, 1), 2) == (2, 3)
    assert _blocks.merge_chunks((3, 3), 2, first=3) == (6,)
    assert _blocks.merge_chunks((4, 4, 1), 2, last=1) == (4, 5)
    # every output chunk's block holds exactly the inputs it reads, and its
    # pieces tile it: brute force over small cases
    for n in range(1, 12):
        for m in range(1, 14):
            for mode in MODES:
                start, length = jitconv._shapes.window(mode, n, m)
                for c in range(1, n + 1):
                    chunks = (c,) * (n // c) + ((n % c,) if n % c else ())
                    cut = _blocks.cut_window(chunks, n, m, start, length)
                    assert sum(cut.chunks) == n and sum(cut.out_chunks) == length
                    assert all(o > 0 for o in cut.out_chunks)
                    assert len(cut.chunks) == 1 or min(cut.chunks) >= max(m // 2, (m - 1) // 2)
                    p = np.cumsum((0,) + cut.chunks)
                    for i, ((b0, b1), (s0, s1)) in enumerate(zip(cut.out, cut.span)):
                        assert (s0, s1) == (max(0, b0 - m + 1), min(n, b1))
                        pieces = cut.pieces(i)
                        assert len(pieces) <= 3
                        pos = s0
                        for d, j, lo, hi in pieces:
                            assert d == pos - s0 and p[j] + lo == pos and hi <= cut.chunks[j]
                            pos += hi - lo
                        assert pos == s1


def test_filter_cut_wraps_around():
    cut = _blocks.cut_filter((4, 4, 2), 10, 2, 1, "wrap")
    assert cut.chunks == (4, 4, 2) and cut.span[0] == (-2, 5) and cut.span[-1] == (6, 11)
    assert cut.pieces(0) == ((0, 2, 0, 2), (2, 0, 0, 4), (6, 1, 0, 1))
    assert cut.pieces(2) == ((0, 1, 2, 4), (2, 2, 0, 2), (4, 0, 0, 1))
    assert _blocks.cut_filter((4, 4, 2), 10, 2, 1, "reflect").span == ((0, 5), (2, 9), (6, 10))


def test_chunks_smaller_than_the_halo_are_merged(sync):
    a = np.random.default_rng(1).standard_normal(100)
    y = jd.convolve(da.from_array(a, chunks=3), np.ones(21) / 21, "same", method="direct")
    assert min(y.chunks[0]) >= 10
    assert np.array_equal(y.compute(), jitconv.convolve(a, np.ones(21) / 21, "same",
                                                         method="direct"))


def test_interior_chunks_share_one_problem_key(sync):
    """4x4 chunks: 9 distinct chunk problems (corner, edge, interior per axis);
    the overlap-save FFT ran on each chunk."""
    x = da.random.default_rng(2).standard_normal((64, 64), chunks=16)
    k = np.random.default_rng(3).standard_normal((9, 9))
    _planner.PLANNER.forget()
    with _trace.paths() as ran:
        y = jd.fftconvolve(x, k, "same").compute()
    keys = [key for key in _planner.PLANNER.memory if key[0] == "fftconvolve"]
    assert len(keys) == 9
    assert ran == ["fft-real"] * 16
    assert {key[2] for key in keys} == {(20, 20), (20, 24), (24, 20), (24, 24)}
    assert np.abs(y - jitconv.fftconvolve(x.compute(), k, "same")).max() < 1e-12
    # the chunk problems do not depend on the array's size: a larger array
    # with the same chunks meets the same 9 keys (planned once for both)
    for method in ("direct", "auto"):
        _planner.PLANNER.forget()
        for n in (64, 96):
            x = da.ones((n, n), chunks=16)
            jd.convolve(x, k, "same", method=method).compute()
        assert len([key for key in _planner.PLANNER.memory if key[0] == "convolve"]) == 9


def test_planner_picks_per_chunk_problem(sync):
    """'auto' per chunk problem: a Gaussian goes separable on large chunks, and
    not on small ones, where the FFT and the direct sum tie (within 1.15x,
    the cost model decides); integers direct (exact)."""
    g = np.exp(-np.linspace(-2, 2, 15) ** 2)
    k = np.outer(g, g).astype(np.float32)
    x = da.random.default_rng(4).random((600, 600), chunks=300).astype(np.float32)
    with _trace.paths() as ran:
        jd.convolve(x, k, "same").compute()
    assert ran.count("separable") == 4 and set(ran) == {"separable", "direct-serial"}
    with _trace.paths() as ran:
        jd.convolve(x.rechunk(50), k, "same").compute()
    assert ran and set(ran) <= {"fft-real", "direct-serial"}   # per chunk shape
    xi = da.from_array(np.arange(400, dtype=np.int64).reshape(20, 20), chunks=7)
    with _trace.paths() as ran:
        y = jd.convolve(xi, np.ones((3, 3), np.int64), "same").compute()
    assert set(ran) <= {"direct-serial", "direct-parallel"}
    assert np.array_equal(y, jitconv.convolve(xi.compute(), np.ones((3, 3), np.int64), "same"))


def test_one_kernel_thread_per_task_by_default(sync):
    x = da.ones((64, 64), chunks=32)
    _planner.PLANNER.forget()
    jd.convolve(x, np.ones((3, 5)), "same").compute()
    jd.correlate(x, np.ones((3, 5)), "same", workers=2).compute()
    workers = {key[0]: key[9] for key in _planner.PLANNER.memory}
    assert workers == {"convolve": 1, "correlate": min(2, jitconv._config.CPUS)}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_direct_is_bitwise_the_in_memory_result(data):
    """Random shapes, chunks, kernels, axes and modes: bitwise equal."""
    nd = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 14 if nd < 3 else 7), min_size=nd,
                                     max_size=nd)))
    kshape = tuple(data.draw(st.lists(st.integers(1, 9 if nd < 3 else 5), min_size=nd,
                                      max_size=nd)))
    chunks = tuple(tuple(data.draw(st.lists(st.integers(1, n), min_size=1, max_size=n)
                                   .map(lambda cs, n=n: _fit(cs, n)))) for n in shape)
    op = data.draw(st.sampled_from(("convolve", "correlate")))
    mode = data.draw(st.sampled_from(MODES))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(shape)
    k = rng.standard_normal(kshape) + 1j * rng.standard_normal(kshape)
    try:
        want = getattr(jitconv, op)(a, k, mode, "direct")
    except ValueError:
        return
    slivers = data.draw(st.booleans())
    with dask.config.set(scheduler="sync"), mock.patch.object(_blocks, "SLIVER_BYTES",
                                                              0 if slivers else 1 << 40):
        got = getattr(jd, op)(da.from_array(a, chunks=chunks), k, mode, "direct").compute()
    assert got.dtype == want.dtype and np.array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_lags_are_bitwise_the_in_memory_lags(data):
    """``correlate(lags=)`` on random shapes, chunks and lag windows: bitwise
    the in-memory ``correlate(lags=)`` (itself a slice of 'full') on the
    direct path, within the FFT bound otherwise; errors as in memory."""
    nd = data.draw(st.integers(1, 2))
    shape = tuple(data.draw(st.lists(st.integers(1, 40 if nd == 1 else 12), min_size=nd,
                                     max_size=nd)))
    kshape = tuple(data.draw(st.lists(st.integers(1, 12 if nd == 1 else 6), min_size=nd,
                                      max_size=nd)))
    chunks = tuple(tuple(data.draw(st.lists(st.integers(1, n), min_size=1, max_size=n)
                                   .map(lambda cs, n=n: _fit(cs, n)))) for n in shape)
    lags = []
    for n, m in zip(shape, kshape):
        lo = data.draw(st.integers(-(m - 1), n - 1))
        hi = data.draw(st.integers(lo, n))
        lags.append(range(lo, hi, data.draw(st.integers(1, 3))))
    lags = tuple(lags) if nd > 1 or data.draw(st.booleans()) else lags[0]
    method = data.draw(st.sampled_from(("direct", "fft", "auto")))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(shape)
    k = rng.standard_normal(kshape) + 1j * rng.standard_normal(kshape)
    want = jitconv.correlate(a, k, method=method, lags=lags)
    x = da.from_array(a, chunks=chunks)
    with dask.config.set(scheduler="sync"):
        got = jd.correlate(x, k, method=method, lags=lags).compute()
    if method == "direct":
        assert got.dtype == want.dtype and np.array_equal(got, want)
    else:
        _check(got, want, a, k, exact=False)


def test_lags_read_only_the_chunks_they_need(sync):
    """A window of lags of a long recording: the tasks read the chunks the
    window reads, not the whole array; bad lags raise before any work."""
    rng = _rng()
    a = rng.standard_normal(100_000)
    k = rng.standard_normal(64)
    x = da.from_array(a, chunks=1000)
    y = jd.correlate(x, k, lags=range(50_000, 50_100))
    assert y.shape == (100,)
    # the graph as dask runs it (culled to what the result needs)
    graph = y.__dask_graph__().cull(set(dask.core.flatten(y.__dask_keys__())))
    reads = {key[1] for key in dict(graph) if isinstance(key, tuple) and key[0] == x.name}
    assert reads and len(reads) <= 3, reads
    assert np.array_equal(y.compute(), jitconv.correlate(a, k, lags=range(50_000, 50_100)))
    with pytest.raises(ValueError, match="reversed"):
        jd.correlate(x, k, lags=range(5, -5, -1))
    with pytest.raises(ValueError, match="mode='full'"):
        jd.correlate(x, k, "same", lags=3)
    with pytest.raises(TypeError):
        jd.correlate(x, k, lags=1.5)


def _fit(cs, n):
    """Chunk sizes summing to ``n`` from a drawn list."""
    out, left = [], n
    for c in cs:
        if left == 0:
            break
        c = min(c, left)
        out.append(c)
        left -= c
    if left:
        out.append(left)
    return out


# --------------------------------------------------------- on the LocalCluster
@pytest.mark.parametrize("slivers", [False, True])
def test_every_function_mode_and_chunking_on_the_cluster(client, slivers, monkeypatch):
    """The whole grid with halos read from whole neighbour chunks (these
    chunks are small); a part of it with halos copied out by sliver tasks."""
    monkeypatch.setattr(_blocks, "SLIVER_BYTES", 0 if slivers else 1 << 40)
    cases = list(_grid_cases(only={0, 2, 3, 5, 7, 9, 12, 13} if slivers else None))
    lazy = [_lazy(c[0][1], da.from_array(c[1], chunks=c[2]), c[3], c[0][2], c[0][3], c[4])
            for c in cases]
    for y, c in zip(lazy, cases):
        assert y.dtype == c[5].dtype and y.shape == c[5].shape, c[0]
    results = client.compute(lazy, sync=True)
    assert len(results) == len(cases) > (100 if slivers else 250)
    for res, ((g, op, mode, method), a, chunks, k, axes, ref) in zip(results, cases):
        exact = method == "direct" or ref.dtype.kind in "biu"
        try:
            _check(res, ref, a, k, exact)
        except AssertionError as e:
            raise AssertionError(f"grid {g} {op} {mode} {method}: {e}") from None


def test_inputs_unchanged_and_result_fresh(client):
    a = np.random.default_rng(5).standard_normal((30, 30))
    k = np.random.default_rng(6).standard_normal((5, 5))
    a0, k0 = a.copy(), k.copy()
    y = jd.convolve(da.from_array(a, chunks=7), k, "same").compute()
    assert np.array_equal(a, a0) and np.array_equal(k, k0)
    assert y.flags.writeable


def test_a_worker_killed_mid_computation_is_recovered(client):
    """One worker process is killed (SIGKILL) while it holds results of a
    running computation; dask recomputes what it lost and the result is
    still bitwise the in-memory one. Gate tasks keep the computation from
    finishing before the kill (no sleeps: every wait is on an event)."""
    from distributed import Event
    rng = np.random.default_rng(7)
    a = rng.standard_normal((256, 256))
    k = rng.standard_normal((7, 6))
    want = jitconv.convolve(a, k, "same", method="direct")
    go = Event("jitconv-test-go", client=client)
    go.clear()

    def gate(block):
        Event("jitconv-test-go").wait(timeout=60)
        return block

    y = jd.convolve(da.from_array(a, chunks=32), k, "same", method="direct")
    # unfused: the convolution's own tasks hold their results on the workers
    gated = y.map_blocks(gate, meta=np.empty((0, 0)))   # meta: not called on the client
    fut = client.compute(gated, optimize_graph=False)
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        held = client.has_what()
        for addr, keys in held.items():
            if any("jitconv-convolve" in str(key) for key in keys):
                victim = addr
                break
        else:
            time.sleep(0.05)
    assert victim is not None and not fut.done()
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    go.set()
    got = fut.result(timeout=300)
    assert np.array_equal(got, want)
    # the victim left the cluster; its nanny starts a fresh worker
    while victim in client.scheduler_info()["workers"] and time.monotonic() < deadline + 60:
        time.sleep(0.05)
    assert victim not in client.scheduler_info()["workers"]
    client.wait_for_workers(2, timeout=60)


def test_second_run_on_a_fresh_cluster_measures_nothing(tmp_path):
    """Workers share what they measure through the wisdom file: in the first
    run each chunk problem is measured by one worker (never by two); a fresh
    cluster reads every decision and measures nothing."""
    from distributed import Client
    wisdom = str(tmp_path / "wisdom.json")
    rng = np.random.default_rng(8)
    a = rng.standard_normal((300, 300))
    k = rng.standard_normal((9, 8))
    want = jitconv.convolve(a, k, "same", method="direct")
    env = dict(JITCONV_WISDOM=wisdom, JITCONV_PLANNER_EFFORT="measure",
               JITCONV_MIN_MEASURE="0", JITCONV_PRUNE_FACTOR="1e9",
               JITCONV_PLANNING_BUDGET="0.05",
               # every chunk key measured on first sight (by default a key
               # is measured when it recurs; the edge chunks' keys may not)
               JITCONV_MEASURE_ON="1")

    def stats():
        return (jitconv.planner_stats(),
                [repr(key) for key, d in _planner.PLANNER.memory.items()
                 if d.source == "measured"])

    def run():
        with _cluster(**env) as cluster, Client(cluster) as c:
            y = jd.convolve(da.from_array(a, chunks=50), k, "same").compute()
            assert np.abs(y - want).max() <= _fft_bound(a, k, y.dtype)
            return c.run(stats)

    first = run()
    measured = [key for _, keys in first.values() for key in keys]
    assert len(measured) == len(set(measured)) == 9    # each chunk problem once, by one worker
    second = run()
    assert sum(s["measured"] for s, _ in second.values()) == 0
    assert sum(s["disk"] for s, _ in second.values()) >= 9


# ---------------------------------------------- filters with boundary modes
NDIMAGE_MODES = ("reflect", "mirror", "nearest", "wrap", "constant")


def _ndi_correlate(w, mode, origin):
    import scipy.ndimage as ndi   # a stand-in for the per-chunk filter, in tests only
    return lambda b: ndi.correlate(b, w, mode=mode, cval=1.5, origin=origin)


@pytest.mark.parametrize("mode", NDIMAGE_MODES)
def test_halo_driver_is_exact_for_every_boundary_mode(mode, sync):
    """Filters run per block by ``map_filter`` equal the filter on the whole
    array: every mode, origin, even/odd kernels, kernels larger than an axis,
    chunks smaller than the halo, 1-, 2-, 3-d."""
    import scipy.ndimage as ndi
    rng = np.random.default_rng(9)
    for shape, chunks, wshape in [((40,), ((5, 20, 3, 12),), (7,)), ((40,), (3,), (10,)),
                                  ((9,), (4,), (23,)), ((30, 27), ((7, 13, 10), 6), (5, 4)),
                                  ((20, 17), (4, 5), (21, 3)), ((9, 10, 11), (4, 3, 5), (3, 4, 2))]:
        a = rng.standard_normal(shape)
        w = rng.standard_normal(wshape)
        for origin in {tuple(-(m // 2) for m in wshape), (0,) * len(shape),
                       tuple((m - 1) // 2 for m in wshape)}:
            depth = {ax: (m // 2 + o, (m - 1) // 2 - o)
                     for ax, (m, o) in enumerate(zip(wshape, origin))}
            for sliver in (0, 1 << 40):
                with mock.patch.object(_blocks, "SLIVER_BYTES", sliver):
                    y = _blocks.map_filter(_ndi_correlate(w, mode, origin),
                                           da.from_array(a, chunks=chunks), depth,
                                           dict.fromkeys(range(len(shape)), mode), a.dtype)
                want = ndi.correlate(a, w, mode=mode, cval=1.5, origin=origin)
                assert np.array_equal(y.compute(), want), (shape, wshape, origin, sliver)


def test_halo_driver_on_the_cluster(client):
    import scipy.ndimage as ndi
    a = np.random.default_rng(10).standard_normal((64, 48))
    w = np.random.default_rng(11).standard_normal((6, 5))
    ys = [_blocks.map_filter(_ndi_correlate(w, m, (0, 1)), da.from_array(a, chunks=(20, 13)),
                             {0: (3, 2), 1: (3, 1)}, {0: m, 1: m}, a.dtype) for m in NDIMAGE_MODES]
    for m, y in zip(NDIMAGE_MODES, client.compute(ys, sync=True)):
        assert np.array_equal(y, ndi.correlate(a, w, mode=m, cval=1.5, origin=(0, 1))), m


def test_dask_boundaries_that_match_ndimage_modes():
    """Which of dask's ``map_overlap`` boundaries extends like which ndimage
    mode (where dask's reaches: a depth within one chunk): ``DASK_BOUNDARY``."""
    from dask.array.overlap import boundaries
    a = np.arange(1.0, 9.0)
    x = da.from_array(a, chunks=4)
    numpy_pad = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap"}
    for mode, pad in numpy_pad.items():
        want = np.pad(a, 3, mode=pad)
        got = _blocks.DASK_BOUNDARY[mode]
        if got is None:
            # no dask boundary gives ndimage's mirror
            assert all(not np.array_equal(boundaries(x, {0: 3}, {0: b}).compute(), want)
                       for b in ("reflect", "periodic", "nearest"))
        else:
            assert np.array_equal(boundaries(x, {0: 3}, {0: got}).compute(), want), mode
    assert np.array_equal(boundaries(x, {0: 3}, {0: 1.5}).compute(),
                          np.pad(a, 3, constant_values=1.5))
