"""Thread scaling: each workload with 1 thread and with all the CPUs.

    python perf/scaling.py [--quick] [--only W5,W10] [--json PATH]

For each workload of ``jitconv/_workloads.py`` the jitconv call runs with
``workers=1`` and ``workers=<CPUs>`` (interleaved rounds, medians), after the
planner settled each key (both keys measured: their winners may differ). The
speed-up and the parallel efficiency (speed-up / threads) are printed; an
efficiency near 1 on 2 cores means the path splits its work into
independent pieces and will keep using cores as they are added (the tasks
per call are printed for the direct kernels: output rows x chunks).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)


def call(w, workers):
    import jitconv
    if w.is_cnn:
        from jitconv import nn
        fn = nn.conv1d if w.a.ndim == 3 else nn.conv2d
        return lambda: fn(w.a, w.b, stride=w.stride, padding=w.padding, workers=workers)
    if w.is_ndimage:
        base = w.jitconv()
        return lambda: _with_workers(base, workers)
    fn = getattr(jitconv, w.op)
    kw = {"axes": w.axes} if w.axes else {}
    return lambda: fn(w.a, w.b, w.mode, workers=workers, **kw)


def _with_workers(fn, workers):
    import jitconv
    with jitconv.set_workers(workers):
        return fn()


def main(argv=None):
    import numpy as np
    import workloads
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ids = [i.strip().upper() for i in args.only.split(",") if i.strip()] or list(workloads.IDS)
    rows = []
    for wid in ids:
        w = workloads.make(wid, args.quick)
        fns = {1: call(w, 1), n: call(w, n)}
        for f in fns.values():      # the first call, then the key recurs: settled
            f()
            f()
        t = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, f in fns.items():
                t0 = time.perf_counter()
                f()
                t[k].append(time.perf_counter() - t0)
        m = {k: statistics.median(v) for k, v in t.items()}
        row = {"id": wid, "t1_s": m[1], f"t{n}_s": m[n], "speedup": m[1] / m[n],
               "efficiency": m[1] / m[n] / n}
        rows.append(row)
        print(f"{wid:4s} 1 thread {1e3 * m[1]:9.2f} ms   {n} threads {1e3 * m[n]:9.2f} ms   "
              f"speed-up {row['speedup']:.2f} (efficiency {row['efficiency']:.2f})", flush=True)
    if args.json:
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
        with open(args.json, "w") as f:
            json.dump({"commit": git, "threads": n, "quick": args.quick, "rows": rows,
                       "loadavg": os.getloadavg()}, f, indent=1)


if __name__ == "__main__":
    main()
