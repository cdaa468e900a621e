"""What the planner costs: first calls of new keys, and repeated small calls.

    python perf/planner_cost.py [--quick] [--only W1,W2] [--json PATH]

(a) **First calls.** For each workload (W1-W9, W13, W14 of
    ``jitconv/_workloads.py``), in a fresh process warmed up on other
    problems of every family and dtype (kernels compiled, FFTW loaded), with
    an empty wisdom file: jitconv's first call of the new key, its second
    call (the key recurs: measured now), the steady state (median), and
    SciPy's first call and steady state on the same inputs in the same
    process. Then a second fresh process with the wisdom the first stored:
    its first call, and how many candidate timings it made (it should make
    none).
(b) **Small calls.** float64 256 * 5, repeated: numpy.convolve,
    scipy.signal.convolve, jitconv.convolve and a ``jitconv.plan``, timed in
    interleaved rounds (median of the rounds' per-call times).

Every number is wall time on a shared machine: compare within one run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
IDS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W13", "W14")

CHILD = r"""
import json, sys, time, statistics
import numpy as np
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import workloads
import jitconv, scipy.signal as ss
wid, quick, second = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
rng = np.random.default_rng(99)
# warm up on other problems: every family and dtype, other shapes than the workload's
for dt in (np.float32, np.float64, np.complex128, np.int64):
    for n, m in ((3000, 7), (4000, 900), (50_000, 40)):
        a = (rng.standard_normal(n) * 10).astype(dt); k = (rng.standard_normal(m) * 10).astype(dt)
        for _ in range(2):
            jitconv.convolve(a, k); ss.convolve(a, k); jitconv.fftconvolve(a, k)
    a2 = (rng.standard_normal((300, 310)) * 10).astype(dt); k2 = (rng.standard_normal((5, 6)) * 10).astype(dt)
    for _ in range(2):
        jitconv.convolve(a2, k2, "same"); ss.convolve(a2, k2, "same")
        jitconv.correlate(a2, k2, "valid"); ss.correlate(a2, k2, "valid")
w = workloads.make(wid, quick)
ours = w.jitconv()
op = getattr(ss, w.op)
a, b, mode = w.a, w.b, w.mode
scipy_call = (lambda: ss.fftconvolve(a, b, mode, axes=w.axes)) if w.axes else (lambda: op(a, b, mode))
stats0 = jitconv.planner_stats()
out = {{}}
t0 = time.perf_counter(); ours(); out["jitconv_first"] = time.perf_counter() - t0
out["first_source"] = jitconv.explain(jitconv.fftconvolve if w.axes else getattr(jitconv, w.op),
                                      a, b, mode, **({{"axes": w.axes}} if w.axes else {{}})).source
if not second:
    t0 = time.perf_counter(); ours(); out["jitconv_second"] = time.perf_counter() - t0
ts = []
for _ in range(5):
    t0 = time.perf_counter(); ours(); ts.append(time.perf_counter() - t0)
out["jitconv_steady"] = statistics.median(ts)
t0 = time.perf_counter(); scipy_call(); out["scipy_first"] = time.perf_counter() - t0
ts = []
for _ in range(3):
    t0 = time.perf_counter(); scipy_call(); ts.append(time.perf_counter() - t0)
out["scipy_steady"] = statistics.median(ts)
s = jitconv.planner_stats()
out["measured"] = s["measured"] - stats0["measured"]
out["measured_keys"] = s["measured_keys"] - stats0["measured_keys"]
out["disk"] = s["disk"] - stats0["disk"]
print(json.dumps(out))
"""


def first_calls(ids, quick):
    rows = []
    for wid in ids:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, JITCONV_WISDOM=os.path.join(d, "w.json"))
            code = CHILD.format(root=ROOT, here=HERE)
            res = {}
            for second in (False, True):
                p = subprocess.run([sys.executable, "-c", code, wid, "1" if quick else "0",
                                    "1" if second else "0"],
                                   env=env, capture_output=True, text=True, timeout=1800)
                if p.returncode:
                    raise SystemExit(p.stderr[-3000:])
                res["second_process" if second else "first_process"] = json.loads(
                    p.stdout.strip().splitlines()[-1])
        f, s = res["first_process"], res["second_process"]
        row = dict(id=wid, **{k: f[k] for k in ("jitconv_first", "first_source", "jitconv_second",
                                                 "jitconv_steady", "scipy_first", "scipy_steady",
                                                 "measured_keys")},
                   ratio_first=f["jitconv_first"] / f["scipy_first"],
                   second_process_first=s["jitconv_first"],
                   second_process_measured=s["measured"], second_process_disk=s["disk"])
        rows.append(row)
        print(f"{wid:4s} first {1e3 * row['jitconv_first']:8.1f} ms ({row['first_source']:11s}) "
              f"SciPy first {1e3 * row['scipy_first']:8.1f} ms  ratio {row['ratio_first']:.2f}  "
              f"second {1e3 * row['jitconv_second']:8.1f} ms  steady {1e3 * row['jitconv_steady']:7.2f}"
              f" ms (SciPy {1e3 * row['scipy_steady']:7.2f})  next process: first "
              f"{1e3 * row['second_process_first']:7.1f} ms, {row['second_process_measured']} "
              "timings", flush=True)
    return rows


def small_calls(rounds=15, number=2000):
    import numpy as np
    import scipy.signal as ss
    sys.path.insert(0, ROOT)
    import jitconv
    rng = np.random.default_rng(0)
    a, k = rng.standard_normal(256), rng.standard_normal(5)
    p = jitconv.plan(a, k)
    fns = {"numpy.convolve": lambda: np.convolve(a, k),
           "scipy.signal.convolve": lambda: ss.convolve(a, k),
           "jitconv.convolve": lambda: jitconv.convolve(a, k),
           "jitconv.plan(...)(x)": lambda: p(a)}
    for f in fns.values():
        for _ in range(100):
            f()
    t = {name: [] for name in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(number):
                f()
            t[name].append((time.perf_counter() - t0) / number)
    out = {name: statistics.median(v) for name, v in t.items()}
    for name, v in out.items():
        print(f"{name:24s} {1e6 * v:7.2f} us per call", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    ids = [i.strip().upper() for i in args.only.split(",") if i.strip()] or list(IDS)
    print("(b) small calls: float64 256 * 5, repeated", flush=True)
    small = small_calls()
    print("(a) first calls of new keys (fresh processes, warmed up, empty wisdom)", flush=True)
    rows = first_calls(ids, args.quick)
    if args.json:
        sys.path.insert(0, ROOT)
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"commit": git, "quick": args.quick, "small_calls_s": small,
                       "first_calls": rows, "loadavg": os.getloadavg()}, f, indent=1)


if __name__ == "__main__":
    main()
