"""The CNN layers W10-W12: every jitconv.nn candidate forced, 'auto', and
PyTorch (NCHW and channels_last), interleaved in one process.

    python perf/cnn.py [--quick] [--only W10,W11] [--threads 1,2] [--repeats 9]

For each workload and thread count the callables run in rounds (A B C A B C
...), so that a change of the machine's load hits every one of them alike;
the table gives medians of the wall time and of the process CPU time (all
threads), and their ratios to the faster PyTorch layout. Every jitconv
output is checked against the float64 reference of ``jitconv/_workloads.py``
(``verify``) before timing. A last table gives each candidate's 1 -> 2-thread
speed-up (wall). On a shared machine read the ratios of one run, and the CPU
times when the load average is above the core count (wall times then measure
the other jobs).

Run it with the BLAS-tuning variables unset, as on a user's machine:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python perf/cnn.py``.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import jitconv  # noqa: E402
from jitconv import nn  # noqa: E402
from jitconv.algorithms import REGISTRY  # noqa: E402
from jitconv._validate import nn as check_nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402


def callables(w, threads):
    """name -> zero-argument callable for workload ``w`` on ``threads`` threads."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    x, k, s, p = w.a, w.b, w.stride, w.padding
    nd = x.ndim - 2
    conv = {1: nn.conv1d, 2: nn.conv2d}[nd]
    tconv = {1: F.conv1d, 2: F.conv2d}[nd]
    xt, kt = torch.from_numpy(x), torch.from_numpy(k)
    out = {}

    def torch_nchw():
        with torch.no_grad():
            return tconv(xt, kt, stride=s, padding=p).numpy()
    out["torch"] = torch_nchw
    if nd == 2:
        xc = xt.contiguous(memory_format=torch.channels_last)
        kc = kt.contiguous(memory_format=torch.channels_last)

        def torch_cl():
            with torch.no_grad():
                return F.conv2d(xc, kc, stride=s, padding=p).numpy()
        out["torch channels_last"] = torch_cl
    problem = check_nn.conv_call(nd, x, k, None, s, p, 1, 1, "zeros", False, threads).problem
    for c in REGISTRY.supporting(problem):
        if c.id == "nn-direct" and problem.macs > 1e9:
            continue   # minutes per call: the numba loops are for depthwise layers

        def forced(cid=c.id):
            with jitconv.force(cid):
                return conv(x, k, stride=s, padding=p, workers=threads)
        out[c.id] = forced
    out["jitconv auto"] = lambda: conv(x, k, stride=s, padding=p, workers=threads)
    return out


def measure(fns, repeats, gap):
    """Interleaved rounds: name -> (median wall, median process CPU) seconds.

    ``gap`` seconds of sleep before each timed call: OpenMP runtimes (PyTorch's
    and numba's are two) keep their threads spinning for a while after a
    parallel region, and would take the cores from the next callable."""
    for f in fns.values():      # compile, plan, warm caches
        f()
        f()
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            time.sleep(gap)
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: (float(np.median(wall[k])), float(np.median(cpu[k]))) for k in fns}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the scaled-down workloads")
    ap.add_argument("--only", default="W10,W11,W12")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--gap", type=float, default=0.05, help="seconds of sleep before each call")
    args = ap.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"jitconv at {os.popen('git rev-parse --short HEAD 2>/dev/null').read().strip()}, "
          f"load average {load:.2f} at the start, {os.cpu_count()} CPUs\n")
    walls = {}
    for wid in args.only.split(","):
        w = W.make(wid, quick=args.quick)
        ref = W.cnn_reference(w.a, w.b, w.stride, w.padding)
        for t in threads:
            fns = callables(w, t)
            for name, f in fns.items():
                if not name.startswith("torch"):
                    ok, _, msg = W.verify(f(), ref, 1e-4)
                    if not ok:
                        raise SystemExit(f"{wid} {name}: wrong result ({msg})")
            res = measure(fns, args.repeats, args.gap)
            bw = min(v[0] for k, v in res.items() if k.startswith("torch"))
            bc = min(v[1] for k, v in res.items() if k.startswith("torch"))
            print(f"### {wid} ({w.desc}), {t} thread{'s' if t > 1 else ''}\n")
            print("| | wall ms | / torch best | CPU ms | / torch best |")
            print("|---|---:|---:|---:|---:|")
            for name, (wl, cp) in sorted(res.items(), key=lambda kv: kv[1][0]):
                print(f"| {name} | {wl * 1e3:.1f} | {wl / bw:.2f} | {cp * 1e3:.1f} "
                      f"| {cp / bc:.2f} |")
                walls[(wid, name, t)] = wl
            print()
    if len(threads) > 1 and 1 in threads:
        t2 = max(threads)
        print(f"### 1 -> {t2}-thread speed-up (wall)\n")
        print("| workload | callable | speed-up |")
        print("|---|---|---:|")
        for (wid, name, t), wl in walls.items():
            if t == 1 and (wid, name, t2) in walls:
                print(f"| {wid} | {name} | {wl / walls[(wid, name, t2)]:.2f} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {load:.2f} at the end")


if __name__ == "__main__":
    main()
