"""Convolve an array 4x larger than the whole cluster's memory, with jitconv.dask.

A LocalCluster of 2 worker processes with 1 GiB each blurs an 8 GiB float32
array (46341 x 46341, generated lazily by ``dask.array.random`` in chunks of
2048^2) with a 31x31 Gaussian ('same' mode), and reduces the result to its
sum, mean and maximum. No chunk of the array exists before its task needs
it, and none is kept after its dependents ran: each worker holds a few
chunks with their halos at a time.

It runs twice on the same cluster: the first run also plans the chunk
problems (the workers measure the candidates on chunk-sized scratch arrays,
and keep their FFTW plans cached), the second uses the decisions. It
reports, per run and worker: the resident memory before the run (Python,
NumPy, numba and FFTW loaded: about 0.25 GiB) and its peak during the run (sampled
every 10 ms by a thread in the worker) against the memory limit, bytes
spilled to disk, whether the worker was paused for memory, and whether it
survived (same process from start to end). It also
checks the result in one interior window against jitconv's in-memory
convolution of the same data.

Run::

    python examples/dask_big_convolve.py                       # 8 GiB, 2 x 1 GiB
    python examples/dask_big_convolve.py --gib 0.25 --worker-memory 0.5   # a small try
"""
import argparse
import json
import math
import threading
import time

import numpy as np


def gaussian(m):
    t = np.arange(m) - (m - 1) / 2
    g = np.exp(-0.5 * (t / (m / 6)) ** 2)
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def _watch(dask_worker):
    """Start sampling this worker's RSS; remember its process id."""
    import os

    import psutil
    proc = psutil.Process()
    base = proc.memory_info().rss
    state = dask_worker._jc_watch = {"pid": os.getpid(), "base": base, "peak": base, "run": True}

    def loop():
        while state["run"]:
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            state["paused"] = state.get("paused", False) or dask_worker.status.name == "paused"
            time.sleep(0.01)
    state["thread"] = threading.Thread(target=loop, daemon=True)
    state["thread"].start()


def _report(dask_worker):
    import os
    state = getattr(dask_worker, "_jc_watch", None)
    if state is None:            # a worker started after the watch began: a restart
        return {"pid": os.getpid(), "restarted": True}
    state["run"] = False
    state["thread"].join()
    spilled = dask_worker.data.spilled_total if hasattr(dask_worker.data, "spilled_total") else None
    return {"pid": os.getpid(), "restarted": False, "base_rss_MiB": state["base"] / 2**20,
            "peak_rss_MiB": state["peak"] / 2**20,
            "peak_over_base_MiB": (state["peak"] - state["base"]) / 2**20,
            "limit_MiB": dask_worker.memory_manager.memory_limit / 2**20,
            "spilled_bytes": int(spilled.disk) if spilled is not None else 0,
            "paused": state.get("paused", False)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gib", type=float, default=8.0, help="size of the array (GiB)")
    ap.add_argument("--worker-memory", type=float, default=1.0, help="per worker (GiB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--kernel", type=int, default=31)
    ap.add_argument("--runs", type=int, default=2,
                    help="runs on the same cluster (the first one plans the chunk problems)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster

    from jitconv import dask as jd

    n = math.isqrt(int(args.gib * 2**30) // 4 - 1) + 1     # n * n * 4 bytes >= gib
    k = gaussian(args.kernel)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      memory_limit=int(args.worker_memory * 2**30),
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        x = da.random.default_rng(0).random((n, n), chunks=args.chunk, dtype=np.float32)
        y = jd.convolve(x, k, "same")
        print(f"array {n} x {n} float32 = {x.nbytes / 2**30:.2f} GiB in {x.npartitions} chunks "
              f"of {args.chunk}^2; {args.workers} workers x {args.worker_memory:g} GiB "
              f"({x.nbytes / (args.workers * args.worker_memory * 2**30):.1f}x the cluster's "
              f"memory); kernel {args.kernel}^2", flush=True)
        # the workers' baseline: jitconv imported, its kernels loaded (a small call)
        jd.convolve(da.ones((64, 64), chunks=32, dtype=np.float32), k, "same").sum().compute()
        runs = []
        for _ in range(args.runs):
            client.run(_watch)
            t0 = time.perf_counter()
            total, mean, peak = da.compute(y.sum(dtype=np.float64), y.mean(dtype=np.float64),
                                           y.max())
            runs.append({"seconds": time.perf_counter() - t0, "sum": float(total),
                         "mean": float(mean), "max": float(peak),
                         "per_worker": list(client.run(_report).values())})
            print(json.dumps(runs[-1]), flush=True)
        # one interior window, checked against the in-memory convolution
        r, h = n // 3, args.kernel // 2
        window = x[r - h:r + 256 + h, r - h:r + 256 + h].compute()
        want = __import__("jitconv").convolve(window, k, "valid")
        got = y[r:r + 256, r:r + 256].compute()
        err = float(np.abs(got - want).max())
    summary = {"n": n, "GiB": x.nbytes / 2**30, "chunk": args.chunk, "kernel": args.kernel,
               "workers": args.workers, "worker_memory_GiB": args.worker_memory,
               "window_max_abs_err": err, "runs": runs}
    # uniform [0, 1) data: the expected mean is 0.5 times the average kernel
    # mass that stays inside the array (the rest falls on the zero padding)
    g = k.sum(axis=1)
    inside = np.convolve(np.ones(n), g, "same").mean()
    summary["expected_mean"] = float(0.5 * inside ** 2)
    pids = {w["pid"] for w in runs[0]["per_worker"]}
    ok = (all(not w["restarted"] and w["spilled_bytes"] == 0 and not w["paused"]
              and w["pid"] in pids for r in runs for w in r["per_worker"])
          and err < 1e-5
          and all(abs(r["mean"] - summary["expected_mean"]) < 1e-3 for r in runs))
    summary["ok"] = bool(ok)
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if not ok:
        raise SystemExit("a worker restarted, spilled or paused, or the result is wrong")


if __name__ == "__main__":
    main()
