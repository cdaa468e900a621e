"""Planning in a process pool: is a key measured once per machine?

A ``multiprocessing.Pool(4)`` convolves 50 new 1-D shapes (near the
direct/FFT crossover, so the planner measures them; ``measure_on=1``: on their
first call), against one process
planning the same shapes. Every scenario starts from an empty wisdom
directory, with spawned workers whose kernels are compiled (or loaded from
numba's cache) before the clock starts, so planning time is measuring,
FFTW planning, re-reading and storing.

Scenarios:

- ``one process``: one worker plans the 50 shapes, one after another.
- ``pool, split``: ``Pool(4).map`` over the 50 shapes (each shape once).
- ``pool, all meet all``: each of the 4 workers convolves all 50 shapes
  (in different orders, started together): what a data-parallel job does.
- ``pool, no sharing``: the same, each worker with its own wisdom file: what
  happened before processes shared the file (every worker measures every
  key).

Columns: wall time of the job; planning seconds summed over the workers
(time inside the planner on a miss), and their CPU seconds (all threads; 4
workers on 2 cores stretch wall seconds, not CPU seconds); keys measured
summed over the workers,
and the most times one key was measured; candidate timings; calls answered
with the cost model's pick while another worker measured the key
('waited'); decisions in the wisdom file(s) afterwards.

The machine these run on is usually shared (2 cores, 4 workers): compare
rows of one run, not absolute times. Usage::

    python perf/pool_planning.py [--quick] [--json out.json]
"""
import argparse
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # the working tree's jitconv first (spawned workers inherit sys.path)
    sys.path.insert(0, ROOT)

import jitconv  # noqa: E402
from jitconv import _planner, _store  # noqa: E402

WORKERS = 4
_STATE = {"plan_s": 0.0, "plan_cpu": 0.0}


def shapes(quick):
    """Distinct (n, m) pairs the planner measures (both direct and FFT in play)."""
    if quick:
        return [(6000 + 613 * i, 60 + 7 * i) for i in range(12)]
    return [(20_000 + 997 * i, 150 + 13 * i) for i in range(50)]


def _init(wisdom, own_file, barrier):
    """Worker start: its wisdom file, a clock around the planner, warm kernels."""
    if own_file:
        os.environ["JITCONV_WISDOM"] = os.path.join(wisdom, f"w-{os.getpid()}.json")
    else:
        os.environ["JITCONV_WISDOM"] = wisdom + os.sep
    # each call meets a new key: measure it then (by default a key is
    # measured when it recurs, and a job meeting each shape once would
    # measure nothing: README, "The planner")
    jitconv.set_planner(measure_on=1)
    plan = _planner.Planner._plan

    def timed(self, *a, **k):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return plan(self, *a, **k)
        finally:
            _STATE["plan_s"] += time.perf_counter() - t0
            _STATE["plan_cpu"] += time.process_time() - c0
    _planner.Planner._plan = timed
    for cid in ("direct-serial", "direct-parallel", "fft", "oa"):
        with jitconv.force(cid):
            jitconv.convolve(np.ones(256), np.ones(9))
    _STATE["barrier"] = barrier


def _convolve(shape):
    n, m = shape
    rng = np.random.default_rng(n * 7919 + m)
    jitconv.convolve(rng.standard_normal(n), rng.standard_normal(m))


def _report():
    measured = [repr(k) for k, d in _planner.PLANNER.memory.items() if d.source == "measured"]
    return {"pid": os.getpid(), "stats": jitconv.planner_stats(), "plan_s": _STATE["plan_s"],
            "plan_cpu": _STATE["plan_cpu"], "measured": measured}


def _ready(_):
    _STATE["barrier"].wait(timeout=600)  # one task per worker: all initialised


def _one_shape(shape):
    _convolve(shape)
    return _report()


def _all_shapes(args):
    order, all_shapes = args
    _STATE["barrier"].wait(timeout=600)  # the 4 tasks run at once, on 4 workers
    for i in order:
        _convolve(all_shapes[i])
    return _report()


def scenario(name, shps, workers, meet_all, own_file):
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="jitconv-pool-") as wisdom:
        barrier = ctx.Barrier(workers)
        with ctx.Pool(workers, initializer=_init, initargs=(wisdom, own_file, barrier)) as pool:
            # the clock starts when every worker is up and warm
            pool.map(_ready, range(workers), chunksize=1)
            t0 = time.perf_counter()
            if meet_all:
                orders = [list(np.random.default_rng(w).permutation(len(shps)))
                          for w in range(workers)]
                reports = pool.map(_all_shapes, [(o, shps) for o in orders], chunksize=1)
            elif workers == 1:
                reports = [pool.apply(_all_shapes, ((list(range(len(shps))), shps),))]
            else:
                reports = pool.map(_one_shape, shps, chunksize=1)
            wall = time.perf_counter() - t0
        stored = 0
        for f in os.listdir(wisdom):
            if f.endswith(".json"):
                d = _store.load(os.path.join(wisdom, f))[0]
                stored += len(d or {})
    last = {}
    for r in reports:  # a worker's counters only grow: its last report holds them all
        prev = last.get(r["pid"])
        if prev is None or r["stats"]["planned"] + r["stats"]["waited"] >= \
                prev["stats"]["planned"] + prev["stats"]["waited"]:
            last[r["pid"]] = r
    per_key = Counter(k for r in last.values() for k in r["measured"])
    total = Counter()
    for r in last.values():
        total.update(r["stats"])
    return {"scenario": name, "workers": len(last), "wall_s": wall,
            "plan_s": sum(r["plan_s"] for r in last.values()),
            "plan_cpu": sum(r["plan_cpu"] for r in last.values()),
            "keys_measured": total["measured_keys"],
            "max_per_key": max(per_key.values(), default=0),
            "timings": total["measured"], "waited": total["waited"],
            "rereads": total["rereads"], "stored": stored, "shapes": len(shps)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="12 smaller shapes")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args(argv)
    shps = shapes(args.quick)
    runs = [("one process", 1, True, False),
            ("pool, split", WORKERS, False, False),
            ("pool, all meet all", WORKERS, True, False),
            ("pool, no sharing", WORKERS, True, True)]
    rows = []
    for name, w, meet_all, own in runs:
        print(f"... {name}", file=sys.stderr, flush=True)
        rows.append(scenario(name, shps, w, meet_all, own))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=os.path.dirname(os.path.abspath(__file__))
                                ).stdout.strip()
    except OSError:
        commit = "?"
    print(f"\n{len(shps)} new shapes, Pool({WORKERS}) (spawn), {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, jitconv at {commit}\n")
    head = ("scenario", "wall s", "planning s (sum)", "planning CPU s (sum)", "keys measured",
            "max per key", "candidate timings", "waited calls", "stored")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r['scenario']} | {r['wall_s']:.2f} | {r['plan_s']:.2f} | {r['plan_cpu']:.2f} "
              f"| {r['keys_measured']} "
              f"| {r['max_per_key']} | {r['timings']} | {r['waited']} | {r['stored']} |")
    one = rows[0]
    print()
    for r in rows[1:]:
        print(f"{r['scenario']}: planning {r['plan_s'] / one['plan_s']:.2f}x one process's "
              f"(CPU {r['plan_cpu'] / one['plan_cpu']:.2f}x), job wall time "
              f"{r['wall_s'] / one['wall_s']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"commit": commit, "quick": args.quick, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
