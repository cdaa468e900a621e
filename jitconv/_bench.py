"""``python -m jitconv bench``: jitconv against its peers on W1-W19.

The workloads are ``jitconv._workloads``' (shared with ``perf/run.py``).
Every workload is timed side by side in one run (median of repeats, after
warm-up calls that compile and plan: the planner measures a key when it
recurs), every output is checked
against the workload's float64 (or exact) reference, and the result is a
markdown table plus optional JSON (with an environment fingerprint) and a
PNG plot. Peers: SciPy (and NumPy) for the signal workloads; for the CNN
layers W10-W12, PyTorch when it is installed (``torch.set_num_threads(2)``)
and NumPy im2col + matmul; for the ndimage filters W15-W19, scipy.ndimage.
The full peer set (pyFFTW-backed SciPy, OpenCV) lives in ``perf/``.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np


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
    from . import _config
    # warm-up: the first call compiles and runs the model's pick; the planner
    # measures an unsure key on call ``measure_on``: that one is untimed too
    for _ in range(max(1, _config.SETTINGS.measure_on)):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _peers(w):
    """``{name: zero-argument callable}`` of the peers of workload ``w``."""
    peers = {}
    a, b = w.a, w.b
    if w.is_ndimage:
        peers[f"scipy.ndimage.{w.filter}"] = w.scipy_call()
        return peers
    if w.is_cnn:
        kw = dict(stride=w.stride, padding=w.padding)
        op = "conv1d" if a.ndim == 3 else "conv2d"
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
    mode, axes = w.mode, w.axes
    if axes is not None:
        peers["scipy.fftconvolve"] = lambda: ss.fftconvolve(a, b, mode, axes=axes)
        peers["scipy.oaconvolve"] = lambda: ss.oaconvolve(a, b, mode, axes=axes)
        return peers
    fn = getattr(ss, w.op)
    peers[f"scipy.{w.op}(auto)"] = lambda: fn(a, b, mode)
    if a.ndim == 1 and mode in ("full", "valid") and w.op == "convolve":
        peers["numpy.convolve"] = lambda: np.convolve(a, b, mode)
    if not w.exact:
        k = b[(slice(None, None, -1),) * b.ndim].conj() if w.op == "correlate" else b
        peers["scipy.fftconvolve"] = lambda: ss.fftconvolve(a, k, mode)
    return peers


def fingerprint():
    import numba
    import scipy
    from . import _config, _fftw, _store
    return {"jitconv": _config.VERSION, "numpy": np.__version__, "scipy": scipy.__version__,
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


def run(quick=False, only=None, repeats=None, out=sys.stdout):
    from . import _workloads
    repeats = repeats or (3 if quick else 7)
    rows = []
    work = [_workloads.make(wid, quick) for wid in _workloads.IDS if not only or wid in only]
    bar = _Progress(sum(1 + len(_peers(w)) for w in work))
    for w in work:
        bar.show(f"{w.id}: jitconv")
        ours = w.jitconv()
        res = ours()
        peers = _peers(w)
        ok, err, _ = _workloads.verify(res, w.reference(), w.tol)
        t_ours = _time(ours, repeats)
        bar.step(f"{w.id}: jitconv {t_ours * 1e3:.1f} ms")
        t_peers = {}
        for name, fn in peers.items():
            t_peers[name] = _time(fn, repeats)
            bar.step(f"{w.id}: {name} {t_peers[name] * 1e3:.1f} ms")
        best = min(t_peers, key=t_peers.get)
        auto = t_peers.get(f"scipy.ndimage.{w.filter}" if w.is_ndimage else f"scipy.{w.op}(auto)")
        rows.append(dict(id=w.id, problem=w.desc, jitconv_s=t_ours, peers_s=t_peers,
                         best_peer=best, ratio_to_best=t_ours / t_peers[best],
                         speedup_vs_scipy_auto=None if auto is None else auto / t_ours,
                         verified=ok, rel_err=err))
    bar.close()
    return {"environment": fingerprint(), "quick": quick, "repeats": repeats, "results": rows}


def markdown(report):
    lines = ["| id | problem | jitconv ms | best peer | peer ms | jitconv/best | speed-up vs SciPy | verified |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        sp = r["speedup_vs_scipy_auto"]
        lines.append(f"| {r['id']} | {r['problem']} | {1e3 * r['jitconv_s']:.2f} | {r['best_peer']} | "
                     f"{1e3 * r['peers_s'][r['best_peer']]:.2f} | {r['ratio_to_best']:.2f} | "
                     f"{'—' if sp is None else f'{sp:.1f}x'} | {'yes' if r['verified'] else 'NO'} |")
    from . import _workloads
    for title, ids in (("scipy.signal (auto)", _workloads.GEOMEAN_IDS),
                       ("scipy.ndimage", _workloads.NDIMAGE_IDS)):
        sp = [r["speedup_vs_scipy_auto"] for r in report["results"]
              if r["speedup_vs_scipy_auto"] is not None and r["id"] in ids]
        if sp:
            gm = float(np.exp(np.mean(np.log(sp))))
            lines.append(f"\nGeometric-mean speed-up over {title}: {gm:.2f}x")
    lines.append("\nSpeed-ups are over scipy.signal (method='auto') for W1-W14 and over the "
                 "same scipy.ndimage filter for W15-W19.")
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
