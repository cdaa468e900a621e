"""Threads under every numba threading layer, processes (fork, spawn,
forkserver, pools, fork during planning), the numba cache, resources.
Each scenario runs in a subprocess and checks its return code."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jitconv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(jitconv.__file__)))


def run_py(code, env=None, timeout=300, cwd=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([ROOT, e.get("PYTHONPATH", "")])
    e.setdefault("JITCONV_WISDOM", "off")
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


def _tbb_env():
    lib = os.path.join(sys.prefix, "lib")
    if not any(f.startswith("libtbb.so") for f in os.listdir(lib)):
        return None
    return {"LD_LIBRARY_PATH": lib + os.pathsep + os.environ.get("LD_LIBRARY_PATH", "")}


THREADS = """
import threading, numpy as np, scipy.signal as ss, jitconv, numba
rng = np.random.default_rng(0)
a, k = rng.standard_normal(300_000), rng.standard_normal(31)
ref = np.convolve(a, k)
bad, errs = [], []
def worker(t):
    for i in range(60):
        with jitconv.force("direct-parallel"):
            out = jitconv.convolve(a * (t + 1), k, method="direct", workers=2)
        if not np.allclose(out, ref * (t + 1), rtol=1e-12, atol=1e-9):
            bad.append(t)
ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("layer", numba.threading_layer(), "bad", len(bad))
assert not bad
"""


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["omp", "workqueue", "tbb"])
def test_threads_under_every_layer(layer):
    env = {"NUMBA_THREADING_LAYER": layer}
    if layer == "tbb":
        extra = _tbb_env()
        if extra is None:
            pytest.skip("TBB runtime not installed (pip install tbb)")
        env.update(extra)
    out = run_py(THREADS, env)
    # workqueue aborts the process (SIGABRT) on concurrent parallel launches
    # unless jitconv serialises them
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"layer {layer} bad 0" in out.stdout


def test_parallel_regions_never_exceed_the_cpus():
    from jitconv import _launch
    t = _launch.Threads(4)
    got = [t.take(2), t.take(2), t.take(2)]
    assert got == [2, 2, 0]
    t.give(2)
    assert t.take(8) == 2
    t.layer = "workqueue"
    assert t.take(2) == 0  # a region is active: workqueue must not launch another


PROCS = """
import multiprocessing as mp, numpy as np, jitconv, sys
def job(seed):
    rng = np.random.default_rng(seed)
    a, k = rng.standard_normal(200_000), rng.standard_normal(33)
    out = []
    for cid, m in (("direct-parallel", "direct"), ("fft", "fft"), ("oa", "fft")):
        with jitconv.force(cid):
            r = jitconv.convolve(a, k, method=m, workers=2)
        out.append(float(np.max(np.abs(r - np.convolve(a, k)))))
    return max(out)
if __name__ == "__main__":
    method = sys.argv[1]
    job(0)  # the parent uses every path first (OpenMP team, FFTW plans)
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        errs = pool.map_async(job, range(4)).get(timeout=120)
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        errs += list(ex.map(job, range(2), timeout=120))
    print("maxerr", max(errs))
    assert max(errs) < 1e-9
"""


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_processes_after_parent_used_every_path(method, tmp_path):
    script = tmp_path / "procs.py"
    script.write_text(PROCS)
    e = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
             JITCONV_WISDOM="off")
    out = subprocess.run([sys.executable, str(script), method], env=e, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "maxerr" in out.stdout


@pytest.mark.slow
def test_fork_while_another_thread_plans():
    code = """
    import os, threading, time, signal, numpy as np, jitconv
    jitconv.set_planner(budget=3.0)
    def planner():
        x = np.random.default_rng(0).standard_normal(2**18 + 1)
        with jitconv.force("fft"):
            jitconv.fftconvolve(x, x[:70_001])
    t = threading.Thread(target=planner); t.start()
    time.sleep(0.3)  # let the thread get inside FFTW planning
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        r = jitconv.fftconvolve(np.ones(1000), np.ones(100))
        os._exit(0 if abs(r[500] - 100) < 1e-9 else 3)
    _, status = os.waitpid(pid, 0)
    t.join()
    print("child", status)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    """
    out = run_py(code, timeout=120)
    assert out.returncode == 0, (out.stdout, out.stderr[-3000:])


def _as_nobody():
    """Command prefix running as an unprivileged user, or None if not possible here."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        return None
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(pre + [sys.executable, "-c", "import numpy, numba, scipy, pyfftw"],
                           capture_output=True, timeout=120, cwd="/")
    return pre if probe.returncode == 0 else None


@pytest.mark.slow
def test_read_only_install_and_unwritable_home():
    pre = _as_nobody()
    if pre is None:
        pytest.skip("cannot run the interpreter as an unprivileged user here")
    import tempfile
    top = tempfile.mkdtemp(prefix="jitconv-ro-", dir="/tmp")
    try:
        os.chmod(top, 0o755)
        pkg = os.path.join(top, "site")
        shutil.copytree(os.path.join(ROOT, "jitconv"), os.path.join(pkg, "jitconv"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for dirpath, dirnames, filenames in os.walk(pkg):
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o444)
            os.chmod(dirpath, 0o555)
        code = """
        import warnings, numpy as np
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            import jitconv
            r = jitconv.convolve(np.arange(5.0), np.ones(3), method="direct")
        assert np.allclose(r, np.convolve(np.arange(5.0), np.ones(3)))
        print("ok", [str(x.message)[:60] for x in w])
        """
        env = dict(os.environ, PYTHONPATH=pkg, HOME=os.path.join(top, "nonexistent"),
                   XDG_CACHE_HOME="/proc/nonexistent", JITCONV_WISDOM="off")
        env.pop("NUMBA_CACHE_DIR", None)
        out = subprocess.run(pre + [sys.executable, "-c", textwrap.dedent(code)], env=env,
                             capture_output=True, text=True, timeout=300, cwd="/")
        assert out.returncode == 0, out.stderr[-3000:]
        assert "ok" in out.stdout and "cache disabled" in out.stdout
        # an unwritable NUMBA_CACHE_DIR, as root too
        env["NUMBA_CACHE_DIR"] = "/proc/nonexistent-cache"
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                             capture_output=True, text=True, timeout=300, cwd="/")
        assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]
    finally:
        for dirpath, dirnames, filenames in os.walk(top):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(top, ignore_errors=True)


def test_enable_cache_degrades_without_a_locator():
    from jitconv.kernels import _options

    class NoLocator:
        def enable_caching(self):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'x'")
    state = dict(_options._cache_state)
    try:
        with pytest.warns(RuntimeWarning, match="cache disabled"):
            _options.enable_cache(NoLocator())
    finally:
        _options._cache_state.update(state)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate-nbc", "garbage-nbi"])
def test_corrupt_numba_cache_recovers(tmp_path, damage):
    cache = tmp_path / "nbcache"
    code = """
    import numpy as np, jitconv
    r = jitconv.convolve(np.arange(50.0), np.ones(3), method="direct")
    assert np.allclose(r, np.convolve(np.arange(50.0), np.ones(3)))
    print("ok")
    """
    env = {"NUMBA_CACHE_DIR": str(cache)}
    first = run_py(code, env)
    assert first.returncode == 0, first.stderr[-2000:]
    files = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
    ext = ".nbc" if damage == "truncate-nbc" else ".nbi"
    hit = [f for f in files if f.endswith(ext) and "direct" in f]
    assert hit, files
    for f in hit:
        data = open(f, "rb").read()
        with open(f, "wb") as fh:
            fh.write(data[: len(data) // 2] if ext == ".nbc" else os.urandom(64))
    second = run_py(code, env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "ok" in second.stdout
    third = run_py(code, env)  # and the cache is healthy again
    assert third.returncode == 0 and "numba cache was unreadable" not in third.stderr


@pytest.mark.slow
def test_memory_error_not_oom_kill_under_rlimit():
    code = """
    import resource, numpy as np, jitconv
    a = np.ones(4096 * 4096, dtype=np.float64).reshape(4096, 4096)
    resource.setrlimit(resource.RLIMIT_AS, (1_500 * 2**20, resource.RLIM_INFINITY))
    for method in ("fft", "direct"):
        try:
            jitconv.convolve(a, a[:3000, :3000], method=method)
        except MemoryError:
            print("MemoryError", method)
    """
    out = run_py(code, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("MemoryError") == 2, out.stdout


def test_direct_is_bitwise_deterministic_across_threads_and_runs():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((300, 301)).astype(np.float32)
    k = rng.standard_normal((7, 5)).astype(np.float32)
    outs = []
    for cid, w in (("direct-serial", 1), ("direct-parallel", 2), ("direct-parallel", 2)):
        with jitconv.force(cid):
            outs.append(jitconv.convolve(a, k, "same", method="direct", workers=w))
    assert all(o.tobytes() == outs[0].tobytes() for o in outs)


DETERMINISTIC = """
import hashlib, json, sys, numpy as np, jitconv
w = int(sys.argv[1])
rng = np.random.default_rng(11)
out = {}
for name, a, k in [("r", rng.standard_normal(100_003), rng.standard_normal(5_001)),
                   ("c2", rng.standard_normal((300, 301)) + 1j * rng.standard_normal((300, 301)),
                    rng.standard_normal((40, 41)))]:
    for cid in ("fft", "oa"):
        with jitconv.force(cid):
            r = jitconv.convolve(a, k, method="fft", workers=w)
        out[name + cid] = hashlib.sha256(r.tobytes()).hexdigest()
print(json.dumps(out))
"""


@pytest.mark.slow
def test_deterministic_fft_is_bitwise_reproducible():
    runs = []
    for w in (1, 2, 2):
        e = {"JITCONV_DETERMINISTIC": "1", "JITCONV_PLANNER_EFFORT": "exhaustive"}
        res = subprocess.run([sys.executable, "-c", DETERMINISTIC, str(w)],
                             env=dict(os.environ, **e, JITCONV_WISDOM="off",
                                      PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])),
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        runs.append(res.stdout.strip().splitlines()[-1])
    assert runs[0] == runs[1] == runs[2]


def test_deterministic_never_times():
    prev = jitconv.set_planner(deterministic=True)
    try:
        before = jitconv.planner_stats()["measured"]
        rng = np.random.default_rng(12)
        a, k = rng.standard_normal(123_457), rng.standard_normal(3001)
        e = jitconv.explain(a, k)
        assert e["decided_by"] == "estimate"
        jitconv.convolve(a, k)
        assert jitconv.planner_stats()["measured"] == before
    finally:
        jitconv.set_planner(**prev)


def test_planner_memory_is_bounded():
    from jitconv import _planner
    prev = jitconv.set_planner(max_keys=50, effort="estimate")
    try:
        rng = np.random.default_rng(13)
        for n in range(100, 400):
            jitconv.convolve(rng.standard_normal(n), rng.standard_normal(7))
        assert len(_planner.PLANNER.memory) <= 50
    finally:
        jitconv.set_planner(**prev)


@pytest.mark.slow
def test_many_shapes_do_not_grow_memory():
    code = """
    import resource, numpy as np, jitconv
    jitconv.set_planner(effort="estimate", max_keys=500)
    rng = np.random.default_rng(0)
    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024
    def burst(lo, hi):
        for i in range(lo, hi):
            n = 200 + (i * 7919) % 5000
            m = 3 + i % 61
            for method in ("direct", "fft"):
                jitconv.convolve(rng.standard_normal(n), rng.standard_normal(m), method=method)
    burst(0, 2000)
    base = rss()
    burst(2000, 10000)
    grown = rss() - base
    print("grown MiB", grown / 2**20)
    assert grown < 32 * 2**20, grown
    """
    out = run_py(code, {"JITCONV_PLAN_CACHE_BYTES": str(16 * 2**20)}, timeout=600)
    assert out.returncode == 0, (out.stdout, out.stderr[-3000:])
