"""Threads racing through first calls (compilation, FFTW planning, the
planner's measuring) and steady state: no wrong result, no crash, no hang."""
import os
import subprocess
import sys

import pytest

import jitconv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(jitconv.__file__)))

RACE = r"""
import sys, threading, random, numpy as np, scipy.signal as ss, jitconv
T, N = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
def c(*s):
    return rng.standard_normal(s) + 1j * rng.standard_normal(s)
cases = []
for dt in (np.float64, np.float32):
    cases.append(("convolve", rng.standard_normal(20_000).astype(dt), rng.standard_normal(300).astype(dt), "same", "auto"))
    cases.append(("correlate", rng.standard_normal((60, 70)).astype(dt), rng.standard_normal((9, 5)).astype(dt), "valid", "auto"))
cases += [
    ("convolve", c(5000), c(700), "full", "auto"),
    ("convolve", rng.integers(-100, 100, 3000), rng.integers(-100, 100, 200), "full", "fft"),
    ("convolve", rng.integers(-100, 100, 3000), rng.integers(-100, 100, 200), "same", "direct"),
    ("correlate", c(40, 40), c(7, 6), "full", "fft"),
    ("fftconvolve", rng.standard_normal((8, 4000)), rng.standard_normal((1, 65)), "same", None),
    ("oaconvolve", rng.standard_normal(30_000), rng.standard_normal(129), "full", None),
    ("convolve2d", rng.standard_normal((50, 60)), rng.standard_normal((5, 4)), "same", "symm"),
    ("convolve", rng.standard_normal((20, 20, 20)).astype(np.float32), rng.standard_normal((3, 3, 3)).astype(np.float32), "same", "auto"),
]
def call(mod, name, a, b, mode, extra):
    f = getattr(mod, name)
    if name in ("fftconvolve", "oaconvolve"):
        return f(a, b, mode, axes=-1) if a.ndim == 2 else f(a, b, mode)
    if name == "convolve2d":
        return f(a, b, mode, boundary=extra)
    return f(a, b, mode, method=extra if mod is jitconv else "direct")
refs = [call(ss, *cs) for cs in cases]
wrong, errors = [], []
barrier = threading.Barrier(T + 1)
stop = threading.Event()
def worker(tid):
    r = random.Random(tid)
    barrier.wait()
    for i in range(N):
        j = r.randrange(len(cases))
        scale = r.choice([1, 2, -3])
        name, a, b, mode, extra = cases[j]
        try:
            out = call(jitconv, name, a * scale if a.dtype != bool else a, b, mode, extra)
            ref = refs[j] * scale
            tol = 2e-4 if out.dtype in (np.float32, np.complex64) else 1e-9
            if out.shape != ref.shape or not np.allclose(out, ref, rtol=0, atol=tol * np.abs(ref).max()):
                wrong.append((tid, i, name))
        except Exception as e:
            errors.append(repr(e))
def exporter():
    barrier.wait()
    while not stop.is_set():
        jitconv.export_wisdom()
threads = [threading.Thread(target=worker, args=(t,)) for t in range(T)]
ex = threading.Thread(target=exporter)
for t in threads + [ex]:
    t.start()
for t in threads:
    t.join()
stop.set(); ex.join()
print("wrong", len(wrong), "errors", len(errors), errors[:3], jitconv.planner_stats())
sys.exit(1 if wrong or errors else 0)
"""


@pytest.mark.slow
@pytest.mark.parametrize("threads,calls", [(8, 500)])
def test_threads_race_first_calls(threads, calls, tmp_path):
    env = dict(os.environ, JITCONV_WISDOM=str(tmp_path / "w.json"))
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", RACE, str(threads), str(calls)], env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    assert "wrong 0 errors 0" in out.stdout
