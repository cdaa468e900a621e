"""``python -m jitconv bench``: jitconv against its peers on W1-W14.

Every workload is timed side by side in one run (median of repeats, after
one warm-up call that also compiles and plans), every output is checked
against a reference, and the result is a markdown table plus optional JSON
(with an environment fingerprint) and a PNG plot. Peers: SciPy (and NumPy)
for the signal workloads; for the CNN layers W10-W12, PyTorch when it is
installed (``torch.set_num_threads(2)``) and NumPy im2col + matmul. The full
peer set (pyFFTW-backed SciPy, OpenCV, scipy.ndimage) lives in ``perf/``.
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
        ("W10", "CNN f32 x(32,64,56,56) w(64,64,3,3) pad 1", "conv2d",
         r.standard_normal((32 // s, 64, 56, 56)).astype(f32),
         (r.standard_normal((64, 64, 3, 3)) / 24).astype(f32), dict(padding=1)),
        ("W11", "CNN f32 x(8,3,224,224) w(64,3,7,7) stride 2 pad 3", "conv2d",
         r.standard_normal((8 // s, 3, 224, 224)).astype(f32),
         (r.standard_normal((64, 3, 7, 7)) / 12).astype(f32), dict(stride=2, padding=3)),
        ("W12", "CNN-1D f32 x(16,32,16000) w(32,32,9) pad 4", "conv1d",
         r.standard_normal((16 // s, 32, 16000)).astype(f32),
         (r.standard_normal((32, 32, 9)) / 17).astype(f32), dict(padding=4)),
    ]
    return W


def _im2col_matmul(x, w, stride=1, padding=0):
    """NumPy peer of the CNN layers: sliding windows, one tensordot (float32)."""
    nd = w.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(padding, padding)] * nd)
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=tuple(range(2, 2 + nd)))
    win = win[(slice(None), slice(None)) + (slice(None, None, stride),) * nd]
    y = np.tensordot(win, w, axes=([1] + list(range(2 + nd, 2 + 2 * nd)),
                                   list(range(1, 2 + nd))))
    return np.moveaxis(y, -1, 1)


def _time(fn, repeats):
    fn()  # warm-up: compile, plan
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _peers(op, a, b, kw):
    peers = {}
    if op in ("conv1d", "conv2d"):
        try:
            import torch
            torch.set_num_threads(2)
            tf = getattr(torch.nn.functional, op)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            peers["torch." + op] = lambda: tf(ta, tb, **kw).numpy()
        except ImportError:
            pass
        peers["numpy im2col+matmul"] = lambda: _im2col_matmul(a, b, **kw)
        return peers
    import scipy.signal as ss
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


class _Progress:
    """A one-line progress bar on stderr (plain lines when it is not a terminal)."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()

    def show(self, what):
        width = 30
        fill = int(width * self.done / max(self.total, 1))
        bar = "#" * fill + "." * (width - fill)
        line = (f"[{bar}] {self.done}/{self.total} {time.perf_counter() - self.t0:5.0f} s  "
                f"{what}")
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, what):
        self.done += 1
        self.show(what)

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _reference(op, a, b, kw):
    """float64 (or exact integer) reference of a workload."""
    if op in ("conv1d", "conv2d"):
        return _im2col_matmul(a.astype(np.float64), b.astype(np.float64), **kw)
    import scipy.signal as ss
    if a.dtype.kind in "iu":
        return ss.convolve(a, b, method="direct", **kw)
    a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    b64 = b.astype(np.complex128 if b.dtype.kind == "c" else np.float64)
    if op == "correlate":
        b64 = b64[(slice(None, None, -1),) * b64.ndim].conj()
    return ss.fftconvolve(a64, b64, **kw)


def run(quick=False, only=None, repeats=None, out=sys.stdout):
    import jitconv
    from jitconv import nn
    repeats = repeats or (3 if quick else 7)
    rows = []
    work = [w for w in _workloads(quick) if not only or w[0] in only]
    bar = _Progress(sum(1 + len(_peers(w[2], w[3], w[4], w[5])) for w in work))
    for wid, desc, op, a, b, kw in work:
        bar.show(f"{wid}: jitconv")
        ours = getattr(nn, op) if op in ("conv1d", "conv2d") else getattr(jitconv, op)
        res = ours(a, b, **kw)
        peers = _peers(op, a, b, kw)
        ref = _reference(op, a, b, kw)
        scale = max(float(np.max(np.abs(ref))), 1e-300)
        err = float(np.max(np.abs(res - ref)) / scale)
        tol = 1e-4 if res.dtype in (np.float32, np.complex64) else 1e-9
        ok = bool(np.array_equal(res, ref)) if res.dtype.kind in "iu" else err <= tol
        t_ours = _time(lambda: ours(a, b, **kw), repeats)
        bar.step(f"{wid}: jitconv {t_ours * 1e3:.1f} ms")
        t_peers = {}
        for name, fn in peers.items():
            t_peers[name] = _time(fn, repeats)
            bar.step(f"{wid}: {name} {t_peers[name] * 1e3:.1f} ms")
        best = min(t_peers, key=t_peers.get)
        auto = t_peers.get(f"scipy.{op}(auto)")
        rows.append(dict(id=wid, problem=desc, jitconv_s=t_ours, peers_s=t_peers, best_peer=best,
                         ratio_to_best=t_ours / t_peers[best],
                         speedup_vs_scipy_auto=None if auto is None else auto / t_ours,
                         verified=ok, rel_err=err))
    bar.close()
    return {"environment": fingerprint(), "quick": quick, "repeats": repeats, "results": rows}


def markdown(report):
    lines = ["| id | problem | jitconv ms | best peer | peer ms | jitconv/best | speed-up vs scipy auto | verified |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        sp = r["speedup_vs_scipy_auto"]
        lines.append(f"| {r['id']} | {r['problem']} | {1e3 * r['jitconv_s']:.2f} | {r['best_peer']} | "
                     f"{1e3 * r['peers_s'][r['best_peer']]:.2f} | {r['ratio_to_best']:.2f} | "
                     f"{'—' if sp is None else f'{sp:.1f}x'} | {'yes' if r['verified'] else 'NO'} |")
    sp = [r["speedup_vs_scipy_auto"] for r in report["results"]
          if r["speedup_vs_scipy_auto"] is not None]
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
    p.add_argument("--plot", default=None, help="write a PNG bar chart here (needs matplotlib)")
    args = p.parse_args(argv)
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    report = run(args.quick, only, args.repeats)
    print(markdown(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.plot:
        plot(report, args.plot)
    return 0 if all(r["verified"] for r in report["results"]) else 1


def plot(report, path):
    """Bar chart of time relative to the best peer per workload (log scale)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib (pip install '.[bench]'); no plot written",
              file=sys.stderr)
        return
    rows = report["results"]
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(rows) + 2), 4))
    ratios = [r["ratio_to_best"] for r in rows]
    colors = ["tab:green" if v <= 1 else "tab:red" for v in ratios]
    ax.bar([r["id"] for r in rows], ratios, color=colors)
    ax.axhline(1.0, color="k", lw=1)
    ax.set_yscale("log")
    ax.set_ylabel("jitconv time / best peer's time")
    env = report["environment"]
    ax.set_title(f"jitconv vs best peer (< 1: jitconv faster)\n{env['cpu']}, "
                 f"{env['cpus']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}", file=sys.stderr)
