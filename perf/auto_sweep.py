"""Is the planner's pick the fastest? A sweep across the direct/FFT crossover.

For each problem (1-D and 2-D, narrow and tall arrays, float32 and
float64, all modes), jitconv's planner settles it as ``convolve(method='auto')``
would when the key recurs (the model's pick, or the measured one when the
model was unsure); afterwards every
candidate is forced and timed (median of repeats after warm-up) and the
pick is scored as ``time(pick) / time(fastest)``. The user's view is scored
too: ``convolve(method='auto')`` against the faster of ``method='direct'``
and ``method='fft'`` (each settled by the planner the same way), the three
calls timed in interleaved rounds (``family_ratio``). For comparison, the pick
of SciPy's fitted model (``_fftconv_faster``) is scored on jitconv's kernels
(the best candidate of the family it names). Usage::

    python perf/auto_sweep.py [--quick] [--json out.json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
from scipy.signal import _signaltools as sst

import jitconv
from jitconv.algorithms import REGISTRY


def problems(quick):
    r = np.random.default_rng(0)
    out = []
    n1 = [2000, 20_000] if quick else [1000, 4000, 20_000, 100_000]
    m1 = [4, 30, 300, 2000] if quick else [3, 10, 30, 100, 300, 1000, 3000]
    n2 = [64, 200] if quick else [48, 96, 192, 320]
    m2 = [3, 9, 21] if quick else [3, 5, 9, 15, 25]
    # narrow and tall arrays, filtered along their long or their short axis
    shapes = [((1000, 8), (7, 1)), ((8, 1000), (1, 7)), ((4096, 4), (31, 1)),
              ((4, 4096), (1, 31)), ((2000, 16), (5, 5)), ((16, 2000), (3, 9)),
              ((300, 3), (9, 3)), ((3, 3000), (3, 65))]
    for dt in (np.float64, np.float32):
        for mode in ("full", "same"):
            for s1, s2 in (shapes if not quick else shapes[:4]):
                out.append((r.standard_normal(s1).astype(dt), r.standard_normal(s2).astype(dt), mode))
    for dt in (np.float64, np.float32):
        for mode in ("full", "same", "valid"):
            for n in n1:
                for m in m1:
                    if m < n:
                        out.append((r.standard_normal(n).astype(dt), r.standard_normal(m).astype(dt), mode))
            for n in n2:
                for m in m2:
                    if m < n:
                        out.append((r.standard_normal((n, n + 7)).astype(dt),
                                    r.standard_normal((m, m + 2)).astype(dt), mode))
    return out


def median_time(fn, repeats, cap=None):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        if cap is not None and ts[-1] > cap:
            break
    return statistics.median(ts)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json")
    args = p.parse_args(argv)
    os.environ.setdefault("JITCONV_WISDOM", "off")
    rows = []
    probs = problems(args.quick)
    for i, (a, k, mode) in enumerate(probs):
        jitconv.explain(a, k, mode)      # the first call: the model's pick
        e = jitconv.explain(a, k, mode)  # the key recurs: the planner's settled decision
        # every candidate timed afterwards, in two rounds: each one's best
        # median, and the spread between rounds (the machine's noise floor)
        t, spread = {}, []
        for rnd in range(args.rounds):
            for c in e["candidates"]:
                with jitconv.force(c["id"]):
                    cap = 20 * min(t.values()) if t else None
                    m = median_time(lambda: jitconv.convolve(a, k, mode), args.repeats, cap)
                if c["id"] in t:
                    spread.append(max(m, t[c["id"]]) / min(m, t[c["id"]]))
                t[c["id"]] = min(m, t.get(c["id"], m))
        # the user's view (the acceptance): 'auto' against each forced
        # family (method='direct' / 'fft', each settled by the planner as
        # 'auto' is), the three calls timed in interleaved rounds
        calls = {m: (lambda m=m: jitconv.convolve(a, k, mode, method=m))
                 for m in ("auto", "direct", "fft")}
        for m in ("direct", "fft"):
            jitconv.explain(a, k, mode, method=m)
            jitconv.explain(a, k, mode, method=m)
        fm = {}
        for rnd in range(args.rounds + 1):
            for m, fn in calls.items():
                v = median_time(fn, args.repeats)
                fm[m] = min(v, fm.get(m, v))
        best = min(t.values())
        fam = "fft" if sst._fftconv_faster(a, k, mode) else "direct"
        scipy_t = min(v for cid, v in t.items() if REGISTRY.get(cid).family == fam)
        rows.append(dict(shape1=a.shape, shape2=k.shape, dtype=str(a.dtype), mode=mode,
                         times=t, chosen=e["chosen"], source=e["decided_by"],
                         noise=max(spread) if spread else 1.0,
                         ratio=t[e["chosen"]] / best, scipy_family=fam,
                         method_times=fm, family_ratio=fm["auto"] / min(fm["direct"], fm["fft"]),
                         scipy_ratio=scipy_t / best))
        print(f"{i + 1}/{len(probs)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    for who, col in (("jitconv planner", "ratio"), ("SciPy's model  ", "scipy_ratio"),
                     ("auto / best of method='direct','fft'", "family_ratio")):
        r = np.array([x[col] for x in rows])
        print(f"{who}: n={len(r)}  median {np.median(r):.3f}  p90 {np.quantile(r, 0.9):.3f}  "
              f"p99 {np.quantile(r, 0.99):.3f}  max {r.max():.2f}  "
              f"<=1.2x: {np.mean(r <= 1.2) * 100:.1f}%  geo-mean {np.exp(np.mean(np.log(r))):.3f}")
    noise = np.array([x["noise"] for x in rows])
    print(f"noise floor (same candidate, two rounds): median {np.median(noise):.3f}  "
          f"p90 {np.quantile(noise, 0.9):.3f}  max {noise.max():.2f}")
    big = [x for x in rows if min(x["times"].values()) >= 1e-3]
    rb = np.array([x["ratio"] for x in big])
    if len(rb):
        print(f"problems >= 1 ms: n={len(rb)}  <=1.2x: {np.mean(rb <= 1.2) * 100:.1f}%  max {rb.max():.2f}")
    worst = sorted(rows, key=lambda x: -x["ratio"])[:5]
    for w in worst:
        print("  worst:", w["shape1"], w["shape2"], w["dtype"], w["mode"], w["chosen"], w["source"],
              f"{w['ratio']:.2f}", {k: f"{v * 1e3:.3f}ms" for k, v in w["times"].items()})
    for w in sorted(rows, key=lambda x: -x["family_ratio"])[:5]:
        print("  worst against a forced family:", w["shape1"], w["shape2"], w["dtype"], w["mode"],
              w["chosen"], f"{w['family_ratio']:.2f}",
              {k: f"{v * 1e3:.3f}ms" for k, v in w["method_times"].items()})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)


if __name__ == "__main__":
    main()
