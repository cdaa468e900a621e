"""W22, W23: correlation over a window of lags, jitconv against its peers.

W22  float64 1e6 x 1e6 samples, lags -16..16
     peer: scipy.signal.correlate (auto), then the 33 lags sliced out;
     hand-written routes: np.correlate of a zero-padded input in 'valid'
     mode, one np.dot per lag, torch conv1d of the padded input.
W23  4096 float32 pairs of 32x32 windows, lags -6..6 on both axes
     (particle image velocimetry: one search window per pair)
     peer: scipy.signal.fftconvolve(a, b reversed, axes=(1, 2)), then sliced;
     hand-written routes: torch conv2d with one group per pair, np.einsum
     over sliding windows.

Targets: at least 10x the peer on W22 and 3x on W23, and at or below the
fastest hand-written route. Every route is verified against a float64
reference; calls are timed interleaved (route A, B, C, A, B, C, ...) in one
process and the medians reported. ``--quick``: W22 with 2e5 samples, W23
with 512 pairs.

``--isolated`` times each route in a fresh process of its own instead: on a
busy 2-core machine, threads left spinning by one library's thread pool
(OpenMP, OpenBLAS, PyTorch) slow the next library's multi-threaded calls by
up to 50x (33 np.dot calls of 1e6 took 7 ms alone, 356 ms right after a
parallel numba kernel), so interleaved timings there measure the
interference as much as the routes.

``--threads N`` gives every library N threads (jitconv's workers, PyTorch,
and OpenBLAS/OpenMP through their environment variables, set before NumPy
loads): ``--threads 1`` compares the computations themselves, free of that
interference; the targets are for the default, all cores.

Usage: ``python perf/lags.py [--quick] [--only W22] [--repeats N] [--isolated]
[--threads N] [--json PATH]``
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time


def _early_threads(argv):
    """``--threads N`` must reach OpenBLAS and OpenMP before NumPy loads them."""
    for i, a in enumerate(argv):
        if a.startswith("--threads"):
            n = a.split("=", 1)[1] if "=" in a else (argv[i + 1] if i + 1 < len(argv) else "")
            if n.isdigit():
                for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                            "JITCONV_WORKERS"):
                    os.environ[var] = n
                return int(n)
    return None


THREADS = _early_threads(sys.argv[1:])

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's jitconv


def w22(quick):
    n = 200_000 if quick else 1_000_000
    L = 16
    rng = np.random.default_rng(22)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    import jitconv
    import scipy.signal as ss

    def dots():
        out = np.empty(2 * L + 1)
        for i, k in enumerate(range(-L, L + 1)):
            out[i] = np.dot(x[k:], y[:n - k]) if k >= 0 else np.dot(x[:n + k], y[-k:])
        return out

    routes = {
        "jitconv.correlate(lags=16)": lambda: jitconv.correlate(x, y, lags=L),
        "scipy.signal.correlate, sliced (peer)":
            lambda: ss.correlate(x, y)[n - 1 - L: n + L],
        "np.correlate(padded x, y, 'valid')":
            lambda: np.correlate(np.pad(x, L), y, "valid"),
        "np.dot per lag": dots,
    }
    torch = _torch()
    if torch is not None:
        tx = torch.from_numpy(x).reshape(1, 1, n)
        ty = torch.from_numpy(y).reshape(1, 1, n)

        def tconv():
            with torch.no_grad():
                return torch.nn.functional.conv1d(tx, ty, padding=L).numpy().reshape(-1)
        routes["torch conv1d(padding=16)"] = tconv
    ref = dots()  # float64 dot products: a float64 reference
    scale = np.linalg.norm(x) * np.linalg.norm(y)
    desc = f"float64 {n:.0e} x {n:.0e}, lags -16..16"
    return dict(id="W22", desc=desc, routes=routes, ref=ref, tol=1e-12 * scale,
                peer="scipy.signal.correlate, sliced (peer)", ours="jitconv.correlate(lags=16)")


def w23(quick):
    B = 512 if quick else 4096
    S, L = 32, 6
    rng = np.random.default_rng(23)
    a = rng.standard_normal((B, S, S)).astype(np.float32)
    b = rng.standard_normal((B, S, S)).astype(np.float32)
    import jitconv
    import scipy.signal as ss
    s = S - 1 - L
    win = (slice(None), slice(s, s + 2 * L + 1), slice(s, s + 2 * L + 1))
    routes = {
        "jitconv.correlate(axes=(1,2), lags=6)": lambda: jitconv.correlate(a, b, axes=(1, 2),
                                                                           lags=L),
        "scipy.signal.fftconvolve(axes=(1,2)), sliced (peer)":
            lambda: ss.fftconvolve(a, b[:, ::-1, ::-1], axes=(1, 2))[win],
    }
    torch = _torch()
    if torch is not None:
        ta = torch.from_numpy(a).reshape(1, B, S, S)
        tb = torch.from_numpy(b).reshape(B, 1, S, S)

        def tconv():
            with torch.no_grad():
                return torch.nn.functional.conv2d(ta, tb, padding=L, groups=B)[0].numpy()
        routes["torch conv2d(groups=pairs)"] = tconv

    def einsum():
        ap = np.pad(a, ((0, 0), (L, L), (L, L)))
        v = np.lib.stride_tricks.sliding_window_view(ap, (S, S), axis=(1, 2))
        return np.einsum("buvij,bij->buv", v, b, optimize=True)
    if quick:  # ~0.8 s per call at full size
        routes["np.einsum over sliding windows"] = einsum
    ref = ss.fftconvolve(a.astype(np.float64), b[:, ::-1, ::-1].astype(np.float64),
                         axes=(1, 2))[win]
    tol = 1e-5 * np.abs(ref).max()
    desc = f"float32 {B} pairs of 32x32, lags -6..6 per axis"
    return dict(id="W23", desc=desc, routes=routes, ref=ref, tol=tol,
                peer="scipy.signal.fftconvolve(axes=(1,2)), sliced (peer)",
                ours="jitconv.correlate(axes=(1,2), lags=6)")


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS or os.cpu_count())
    return torch


def measure_isolated(w, repeats, quick):
    """Each route verified and timed in a fresh interpreter of its own."""
    import subprocess
    med, ok, errs = {}, {}, {}
    for i, name in enumerate(w["routes"]):
        cmd = [sys.executable, os.path.abspath(__file__), "--route", f"{w['id']}:{i}",
               "--repeats", str(repeats)] + (["--quick"] if quick else []) \
            + ([f"--threads={THREADS}"] if THREADS else [])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"{name}: {out.stderr[-2000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        med[name], ok[name], errs[name] = r["median"], r["ok"], r["err"]
    return med, ok, errs


def one_route(spec, repeats, quick):
    """``--route W22:2``: verify and time one route here; print JSON."""
    wid, idx = spec.split(":")
    w = {"W22": w22, "W23": w23}[wid](quick)
    name = list(w["routes"])[int(idx)]
    sub = dict(w, routes={name: w["routes"][name]})
    med, ok, errs = measure(sub, repeats)
    print(json.dumps({"median": med[name], "ok": bool(ok[name]), "err": errs[name]}))
    return 0


def measure(w, repeats):
    """Verify every route, then time them interleaved; medians in seconds."""
    ok, errs = {}, {}
    for name, fn in w["routes"].items():
        res = np.asarray(fn())   # also the warm-up: compile, plan
        err = float(np.abs(res.astype(np.float64) - w["ref"]).max()) \
            if res.shape == w["ref"].shape else float("inf")
        ok[name], errs[name] = bool(err <= w["tol"]), err
    times = {name: [] for name in w["routes"]}
    for _ in range(repeats):
        for name, fn in w["routes"].items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(t) for name, t in times.items()}
    return med, ok, errs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--isolated", action="store_true",
                   help="time each route in a fresh process of its own")
    p.add_argument("--route", default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every library (default: all cores)")
    args = p.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 9)
    if args.route:
        return one_route(args.route, repeats, args.quick)
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    import jitconv
    report = {"environment": {"python": platform.python_version(), "numpy": np.__version__,
                              "jitconv": jitconv.__version__, "cpus": os.cpu_count(),
                              "time": time.strftime("%Y-%m-%d %H:%M:%S")},
              "quick": args.quick, "repeats": repeats, "isolated": args.isolated,
              "threads": THREADS,
              "results": []}
    failed = False
    for make in (w22, w23):
        w = make(args.quick)
        if only and w["id"] not in only:
            continue
        med, ok, errs = (measure_isolated(w, repeats, args.quick) if args.isolated
                         else measure(w, repeats))
        ours, peer = med[w["ours"]], med[w["peer"]]
        hand = {k: v for k, v in med.items() if k not in (w["ours"], w["peer"]) and ok[k]}
        best_hand = min(hand, key=hand.get) if hand else None
        print(f"\n{w['id']}: {w['desc']}")
        print("| route | ms | verified | jitconv speed-up |")
        print("|---|---:|---|---:|")
        for name in w["routes"]:
            print(f"| {name} | {med[name] * 1e3:.2f} | {'yes' if ok[name] else 'NO'} | "
                  f"{med[name] / ours:.2f}x |")
        line = f"peer/jitconv = {peer / ours:.1f}x"
        if best_hand:
            line += f"; jitconv / fastest hand-written ({best_hand}) = {ours / med[best_hand]:.2f}"
        print(line)
        failed |= not ok[w["ours"]]
        report["results"].append(dict(id=w["id"], problem=w["desc"], median_s=med, verified=ok,
                                      max_err=errs, peer_speedup=peer / ours,
                                      best_hand=best_hand,
                                      ratio_to_best_hand=None if not best_hand
                                      else ours / med[best_hand]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
