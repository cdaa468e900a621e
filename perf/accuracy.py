"""Accuracy of jitconv's direct and FFT families against SciPy's, measured.

    python perf/accuracy.py [--quick] [--json PATH]

For each problem (random normal data, fixed seeds), every output is compared
with an exact reference: the convolution of the same (float32 or float64)
inputs computed in float64 with compensated (TwoSum/TwoProd) accumulation,
i.e. to about 1e-32 relative, far below either library's error.

Two measures, as in the README's "Accuracy" section:

- componentwise: ``max_i |out_i - ref_i| / (|a| * |k|)_i`` (the direct
  family's bound is ``c * eps`` times this denominator);
- normwise: ``max_i |out_i - ref_i| / (eps * log2(N) * ||a||_2 * ||k||_2)``
  (the FFT family's bound is 1 in these units).

The median of the componentwise ratio over outputs is also reported ("typical
data"), with the maximum.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def exact_conv(a, k):
    """Full 1-d convolution of float arrays as a double-double pair ``(hi, lo)``:
    ``hi + lo`` (unrounded) is accurate to ~1e-30 relative."""
    a = a.astype(np.float64)
    k = k.astype(np.float64)
    n, m = a.size, k.size
    hi = np.zeros(n + m - 1)
    lo = np.zeros(n + m - 1)
    split = 134217729.0  # 2^27 + 1: Dekker's split
    for j in range(m):
        kj = k[j]
        p = a * kj
        # exact product error (Dekker TwoProd)
        c = split * a
        ah = c - (c - a)
        al = a - ah
        c = split * kj
        kh = c - (c - kj)
        kl = kj - kh
        pe = ((ah * kh - p) + ah * kl + al * kh) + al * kl
        seg = slice(j, j + n)
        s = hi[seg] + p
        bb = s - hi[seg]
        se = (hi[seg] - (s - bb)) + (p - bb)      # TwoSum error
        hi[seg] = s
        lo[seg] += se + pe
    return hi, lo


def measure(out, ref, a, k):
    hi, lo = ref
    absconv = sum(exact_conv(np.abs(a), np.abs(k)))
    err = np.abs((out.astype(np.float64) - hi) - lo)
    comp = err / np.where(absconv > 0, absconv, np.inf)
    eps = np.finfo(out.dtype).eps
    norm = eps * np.log2(hi.size) * np.linalg.norm(a.astype(np.float64)) * \
        np.linalg.norm(k.astype(np.float64))
    return {"comp_max": float(comp.max()), "comp_median": float(np.median(comp)),
            "norm_max": float(err.max() / norm)}


def problems(quick):
    s = 10 if quick else 1
    return [("f32 1e5 * 4097", np.float32, 100_000 // s, 4097),
            ("f32 1e5 * 255", np.float32, 100_000 // s, 255),
            ("f32 131072 * 31", np.float32, 131072 // s, 31),
            ("f32 1e5 * 16", np.float32, 100_000 // s, 16),
            ("f64 1e5 * 4097", np.float64, 100_000 // s, 4097),
            ("f64 131072 * 31", np.float64, 131072 // s, 31)]


def main(argv=None):
    import scipy.signal as ss
    import jitconv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    rows = []
    for name, dt, n, m in problems(args.quick):
        rng = np.random.default_rng(n + m)
        a = rng.standard_normal(n).astype(dt)
        k = rng.standard_normal(m).astype(dt)
        ref = exact_conv(a, k)
        row = {"problem": name}
        for label, out in (("jitconv direct", jitconv.convolve(a, k, method="direct")),
                           ("scipy direct", ss.convolve(a, k, method="direct")),
                           ("jitconv fft", jitconv.convolve(a, k, method="fft")),
                           ("scipy fft", ss.convolve(a, k, method="fft"))):
            row[label] = measure(out, ref, a, k)
        rows.append(row)
        print(f"{name:18s}" + "".join(
            f"  {lab}: comp max {r['comp_max']:.2e} med {r['comp_median']:.2e} norm {r['norm_max']:.3f}"
            for lab, r in row.items() if lab != "problem"), flush=True)
    if args.json:
        import subprocess
        root = os.path.dirname(HERE)

        def git(*a):
            return subprocess.run(["git", *a], cwd=root, capture_output=True, text=True).stdout
        with open(args.json, "w") as f:
            json.dump({"jitconv": jitconv.__version__, "commit": git("rev-parse", "HEAD").strip(),
                       "jitconv_changed": bool(git("status", "--porcelain", "jitconv")),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
