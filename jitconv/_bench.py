"""``python -m jitconv bench``: jitconv against SciPy on the signal workloads.

Every workload is timed side by side in one run (median of repeats, after
one warm-up call that also compiles and plans), every output is checked
against SciPy's, and the result is a markdown table plus optional JSON with
an environment fingerprint. The full peer set (pyFFTW-backed SciPy, OpenCV,
PyTorch) lives in ``perf/``.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np


def _workloads(quick):
    """(id, description, op, in1, in2, kwargs) for the signal workloads of BENCHMARKS.md."""
    r = np.random.default_rng(0)
    s = 4 if quick else 1  # --quick shrinks the big sizes
    f32 = np.float32
    g = np.exp(-0.5 * (np.arange(-15, 16) / 5.0) ** 2)
    W = [
        ("W1", "1-D 1e6 * 31 full", "convolve", r.standard_normal(1_000_000 // s),
         r.standard_normal(31), dict(mode="full")),
        ("W2", "1-D 1e6 * 4097 same", "convolve", r.standard_normal(1_000_000 // s),
         r.standard_normal(4097), dict(mode="same")),
        ("W3", "1-D 2^20 * 2^20 full", "convolve", r.standard_normal(2**20 // s),
         r.standard_normal(2**20 // s), dict(mode="full")),
        ("W4", "f32 (256,16384) * (1,129) axis -1 same", "fftconvolve",
         r.standard_normal((256 // s, 16384)).astype(f32),
         r.standard_normal((1, 129)).astype(f32), dict(mode="same", axes=-1)),
        ("W5", "f32 2048^2 * 5x5 same", "convolve",
         r.standard_normal((2048 // s, 2048)).astype(f32),
         r.standard_normal((5, 5)).astype(f32), dict(mode="same")),
        ("W6", "f32 2048^2 * 31x31 gaussian same", "convolve",
         r.standard_normal((2048 // s, 2048)).astype(f32),
         np.outer(g, g).astype(f32), dict(mode="same")),
        ("W7", "1024^2 * 129x129 same", "convolve", r.standard_normal((1024 // s, 1024)),
         r.standard_normal((129, 129)), dict(mode="same")),
        ("W8", "f32 128^3 * 7^3 same", "convolve",
         r.standard_normal((128 // s, 128, 128)).astype(f32),
         r.standard_normal((7, 7, 7)).astype(f32), dict(mode="same")),
        ("W9", "c128 2^18 * 2^12 full", "convolve",
         r.standard_normal(2**18 // s) + 1j * r.standard_normal(2**18 // s),
         r.standard_normal(2**12) + 1j * r.standard_normal(2**12), dict(mode="full")),
        ("W13", "correlate 1024^2 with 64x64 valid", "correlate",
         r.standard_normal((1024 // s, 1024)), r.standard_normal((64, 64)), dict(mode="valid")),
        ("W14", "int64 1e5 * 1e3 full", "convolve",
         r.integers(-1000, 1001, 100_000 // s), r.integers(-1000, 1001, 1000), dict(mode="full")),
    ]
    return W


def _time(fn, repeats):
    fn()  # warm-up: compile, plan
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _peers(op, a, b, kw):
    import scipy.signal as ss
    peers = {}
    if op == "fftconvolve":
        peers["scipy.fftconvolve"] = lambda: ss.fftconvolve(a, b, **kw)
        peers["scipy.oaconvolve"] = lambda: ss.oaconvolve(a, b, **kw)
        return peers
    fn = getattr(ss, op)
    peers[f"scipy.{op}(auto)"] = lambda: fn(a, b, **kw)
    if a.ndim == 1 and kw["mode"] in ("full", "valid") and op == "convolve":
        peers["numpy.convolve"] = lambda: np.convolve(a, b, kw["mode"])
    if a.dtype.kind != "i":
        peers["scipy.fftconvolve"] = lambda: (ss.fftconvolve(a, b[(slice(None, None, -1),) * b.ndim].conj(), **kw)
                                              if op == "correlate" else ss.fftconvolve(a, b, **kw))
    return peers


def fingerprint():
    import numba
    import scipy
    import jitconv
    from jitconv import _fftw, _store
    return {"jitconv": jitconv.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "pyfftw": _fftw.pyfftw_version(),
            "python": platform.python_version(), "cpu": _store._cpu()[0],
            "cpus": len(os.sched_getaffinity(0)), "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def run(quick=False, only=None, repeats=None, out=sys.stdout):
    import jitconv
    repeats = repeats or (3 if quick else 7)
    rows = []
    work = [w for w in _workloads(quick) if not only or w[0] in only]
    for i, (wid, desc, op, a, b, kw) in enumerate(work, 1):
        print(f"[{i}/{len(work)}] {wid} {desc} ...", file=sys.stderr, flush=True)
        ours = getattr(jitconv, op)
        res = ours(a, b, **kw)
        peers = _peers(op, a, b, kw)
        ref = next(iter(peers.values()))()
        err = float(np.max(np.abs(res - ref)) / max(float(np.max(np.abs(ref))), 1e-300))
        tol = 1e-4 if res.dtype in (np.float32, np.complex64) else 1e-9
        if res.dtype.kind in "iu":
            ok = bool(np.array_equal(res, ref))
        else:
            ok = err <= tol
        t_ours = _time(lambda: ours(a, b, **kw), repeats)
        t_peers = {name: _time(fn, repeats) for name, fn in peers.items()}
        best = min(t_peers, key=t_peers.get)
        auto = next(iter(t_peers.values()))
        rows.append(dict(id=wid, problem=desc, jitconv_s=t_ours, peers_s=t_peers, best_peer=best,
                         ratio_to_best=t_ours / t_peers[best], speedup_vs_scipy_auto=auto / t_ours,
                         verified=ok, rel_err=err))
    return {"environment": fingerprint(), "quick": quick, "repeats": repeats, "results": rows}


def markdown(report):
    lines = ["| id | problem | jitconv ms | best peer | peer ms | jitconv/best | speed-up vs scipy auto | verified |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['id']} | {r['problem']} | {1e3 * r['jitconv_s']:.2f} | {r['best_peer']} | "
                     f"{1e3 * r['peers_s'][r['best_peer']]:.2f} | {r['ratio_to_best']:.2f} | "
                     f"{r['speedup_vs_scipy_auto']:.1f}x | {'yes' if r['verified'] else 'NO'} |")
    sp = [r["speedup_vs_scipy_auto"] for r in report["results"]]
    if sp:
        gm = float(np.exp(np.mean(np.log(sp))))
        lines.append(f"\nGeometric-mean speed-up over scipy.signal (auto): {gm:.2f}x")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m jitconv bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes and 3 repeats (~1 min)")
    p.add_argument("--only", default="", help="comma-separated workload ids, e.g. W5,W6")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--json", default=None, help="write the full report here")
    args = p.parse_args(argv)
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    report = run(args.quick, only, args.repeats)
    print(markdown(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if all(r["verified"] for r in report["results"]) else 1
