"""jitconv against its peers on the workloads W1-W19 (perf/README.md).

    python perf/run.py [--quick] [--only W5,W6] [--repeats N]
                       [--json PATH] [--md PATH] [--plot PATH]

For every workload, in one run: the float64 (or exact integer) reference is
computed; jitconv and every applicable peer are run on the same inputs, each
output verified against the reference, and timed in three phases:

(a) cold: a fresh ``python`` process imports jitconv and makes the first call
    (numba's on-disk cache warm: the in-process run below compiled it first);
    SciPy's ``import scipy.signal`` + first call is measured the same way;
(b) first call: the first call of this workload's shapes in the running
    process (compilation, FFTW planning, caches);
(c) steady: median of ``--repeats`` calls (7; 3 with --quick) after a warm-up.

jitconv runs in this process; the peers run in a separate worker process
(FFTW wisdom is process-global: pyFFTW's MEASURE plans must not leak into
jitconv's planner, nor jitconv's into the peer; PyTorch/OpenCV thread pools
stay out of jitconv's process). A peer that hangs is killed after
``--peer-timeout`` seconds and the worker restarted.

Progress goes to stderr; the markdown table to stdout (and --md); the full
report with an environment fingerprint to --json; a bar chart to --plot.
"""
import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (HERE, ROOT):  # perf/ modules, and the working tree's jitconv first
    if _p not in sys.path:
        sys.path.insert(0, _p)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ timing
def first_call(fn):
    """Run ``fn`` once: (seconds, output)."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def steady(fn, repeats, budget, first_s, warmups=1):
    """Median of up to ``repeats`` timed calls after a warm-up.

    The warm-up is ``warmups`` untimed calls; when the first call alone took
    more than ``budget`` seconds it counts as one of them. Timed calls stop
    once they have used ``budget`` seconds (at least one is made).
    """
    for _ in range(warmups - (first_s > budget)):
        fn()
    samples = []
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        while True:
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
            if len(samples) >= repeats or sum(samples) + samples[-1] > budget:
                break
    finally:
        if was:
            gc.enable()
    return statistics.median(samples), samples


def measure(fn, ref, tol, repeats, budget, warmups=1):
    """First call (verified against ``ref`` with ``tol``), then the steady state
    after ``warmups`` more untimed calls (``jitconv_warmups``: jitconv's planner
    measures a key at its second call)."""
    import workloads
    res = {}
    try:
        res["first_call_s"], out = first_call(fn)
    except Exception as exc:
        res.update(status="error", message=f"{type(exc).__name__}: {exc}"[:300])
        return res
    ok, err, msg = workloads.verify(out, ref, tol)
    res.update(verified=bool(ok), rel_err=err, message=msg,
               out_dtype=str(getattr(out, "dtype", type(out).__name__)))
    del out
    try:
        res["median_s"], res["samples_s"] = steady(fn, repeats, budget, res["first_call_s"],
                                                   warmups)
    except Exception as exc:
        res.update(status="error", message=f"{type(exc).__name__} in a repeat: {exc}"[:300])
        return res
    res["n"] = len(res["samples_s"])
    res["status"] = "ok" if ok else "failed"
    return res


# ------------------------------------------------------------ peer process
def _peer_worker(conn, quick, wisdom_path):
    """Loop of the peer process: build the workload, run one peer, send the result."""
    import numpy as np
    import peers
    import workloads
    peers.set_wisdom_path(wisdom_path)
    cur = {"wid": None, "w": None, "ref_path": None, "ref": None}
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        wid, key, ref_path, repeats, budget, max_est = msg
        try:
            if cur["wid"] != wid:
                cur.update(wid=wid, w=None, ref=None)
                gc.collect()
                cur["w"] = workloads.make(wid, quick)
            if cur["ref_path"] != ref_path or cur["ref"] is None:
                cur["ref"] = np.load(ref_path)
                cur["ref_path"] = ref_path
            w, ref = cur["w"], cur["ref"]
            fn = peers.PEER_FUNCS[key](w)
            if fn is None:
                conn.send({"key": key, "status": "n/a"})
                continue
            res = {"key": key, "label": fn.label, "eligible": fn.eligible, "note": fn.note,
                   "est_s": fn.est_s}
            if getattr(fn, "skip", None):
                res.update(status="not eligible", message=fn.skip, eligible=False)
                conn.send(res)
                continue
            if fn.est_s is not None and fn.est_s > max_est:
                res.update(status="skipped",
                           message=f"estimated {fn.est_s:.0f} s per call > --max-est {max_est:g} s")
                conn.send(res)
                continue
            tol = w.tol if fn.tol is None else fn.tol
            res.update(measure(fn, ref, tol, repeats, budget))
            if key == "scipy_fftconvolve_pyfftw":
                peers.save_fftw_wisdom()
                res["fftw_wisdom_loaded_at_start"] = peers.WISDOM["loaded"]
            conn.send(res)
        except Exception as exc:
            conn.send({"key": key, "status": "error",
                       "message": f"{type(exc).__name__}: {exc}"[:300],
                       "traceback": traceback.format_exc()[-2000:]})


class PeerProcess:
    def __init__(self, quick, wisdom_path):
        import multiprocessing as mp
        self.ctx = mp.get_context("spawn")
        self.quick, self.wisdom_path = quick, wisdom_path
        self.proc = None
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_peer_worker, args=(child, self.quick, self.wisdom_path),
                                     daemon=True, name="jitconv-perf-peers")
        self.proc.start()
        child.close()

    def kill(self):
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join(10)

    def run(self, wid, key, ref_path, repeats, budget, max_est, timeout):
        self.conn.send((wid, key, ref_path, repeats, budget, max_est))
        try:
            if self.conn.poll(timeout):
                return self.conn.recv()
            status, msg = "timeout", f"no result within --peer-timeout {timeout:g} s; peer process killed"
        except (EOFError, OSError) as exc:
            status, msg = "crashed", f"peer process died ({type(exc).__name__})"
        self.kill()
        self.start()
        return {"key": key, "status": status, "message": msg}

    def close(self):
        try:
            self.conn.send(None)
            self.proc.join(10)
        except (OSError, BrokenPipeError):
            pass
        self.kill()


# ------------------------------------------------------------ cold start
def _cold_child(wid, quick, target):
    """Fresh process: import + first call of ``target`` on workload ``wid`` (JSON on stdout).

    NumPy and the inputs are ready before the clock starts; SciPy is not
    imported before it (workloads.py imports NumPy only)."""
    import workloads
    w = workloads.make(wid, quick)
    t0 = time.perf_counter()
    if target == "jitconv":
        import jitconv  # noqa: F401
        if w.is_ndimage:
            import jitconv.ndimage  # noqa: F401
        t1 = time.perf_counter()
        fn = w.jitconv()
    else:
        if w.is_ndimage:
            import scipy.ndimage  # noqa: F401
        else:
            import scipy.signal  # noqa: F401
        t1 = time.perf_counter()
        fn = w.scipy_call()
    fn()
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1, "total_s": t2 - t0}))


def cold(wid, quick, target, runs, timeout=300):
    """Run the cold child ``runs`` times; report the last run (and all totals)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, HERE] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    cmd = [sys.executable, os.path.abspath(__file__), "--_cold", wid, "--_target", target]
    if quick:
        cmd.append("--quick")
    res = None
    totals = []
    for _ in range(runs):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"status": "timeout"}
        if p.returncode != 0:
            return {"status": "error", "message": p.stderr.strip().splitlines()[-1:] or ["?"]}
        res = json.loads(p.stdout.strip().splitlines()[-1])
        totals.append(res["total_s"])
    res["status"] = "ok"
    res["totals_s"] = totals
    return res


# --------------------------------------------------------- environment
def _version(*names):
    from importlib import metadata
    for n in names:
        try:
            return metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return None


def fingerprint():
    import numpy as np
    cpu = platform.processor() or platform.machine()
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    simd = [x for x in ("avx2", "avx512f", "avx512bw", "fma") if f" {x} " in flags + " "]
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "jitconv"],
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    try:
        import jitconv
        jv, jfile = jitconv.__version__, os.path.dirname(jitconv.__file__)
    except Exception as exc:  # still benchmark the peers
        jv, jfile = f"import failed: {exc}", None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "simd": simd, "cores": cores, "logical_cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__, "scipy": _version("scipy"), "numba": _version("numba"),
        "pyfftw": _version("pyFFTW", "pyfftw"),
        "opencv": _version("opencv-python-headless", "opencv-python", "opencv-contrib-python"),
        "torch": _version("torch"), "matplotlib": _version("matplotlib"),
        "jitconv": jv, "jitconv_path": jfile, "git_commit": commit, "jitconv_tree_dirty": dirty,
        "env": {k: v for k, v in os.environ.items()
                if k.startswith(("JITCONV_", "NUMBA_", "OMP_", "OPENBLAS_", "MKL_", "PYFFTW_"))},
        "loadavg_start": os.getloadavg(),
    }


# ---------------------------------------------------------------- the run
def run_workload(wid, args, pp, tmpdir, idx, total):
    import numpy as np
    import workloads
    w = workloads.make(wid, args.quick)
    log(f"[{idx}/{total}] {wid}: {w.desc}")
    t_w = time.perf_counter()
    rec = {"id": wid, "loadavg_start": os.getloadavg()[0], "desc": w.desc, "op": w.op,
           "mode": None if w.is_cnn else w.mode,
           "shapes": [list(w.a.shape), None if w.b is None else list(w.b.shape)],
           "dtype": str(w.result_dtype),
           "axes": w.axes, "tol": w.tol, "jitconv_expr": w.jitconv_expr,
           "reference": {"expr": w.ref_expr}}
    if not w.is_cnn:
        import scipy.signal  # noqa: F401  (not in the reference's time)
    t0 = time.perf_counter()
    ref = w.reference()
    rec["reference"]["time_s"] = time.perf_counter() - t0
    log(f"    reference ({w.ref_kind}) {rec['reference']['time_s']:.2f} s")
    w.reference_cache = ref
    ref_path = os.path.join(tmpdir, f"ref_{wid}.npy")
    np.save(ref_path, ref)

    # jitconv, in this process, before any peer
    try:
        fn = w.jitconv()
    except Exception as exc:
        fn = None
        rec["jitconv"] = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:300]}
    if fn is None and "jitconv" not in rec:
        rec["jitconv"] = {"status": "not implemented"}
        log("    jitconv: not implemented")
    elif fn is not None:
        r = measure(fn, ref, w.tol, args.repeats, args.budget, jitconv_warmups())
        if r.get("status") in ("ok", "failed") and r.get("out_dtype") != str(w.result_dtype):
            r["dtype_mismatch"] = f"jitconv returned {r['out_dtype']}, SciPy returns {w.result_dtype}"
        rec["jitconv"] = r
        log("    " + _line("jitconv", r))
    del fn
    rec["jitconv_variants"] = []
    if args.variants and not w.is_cnn and rec["jitconv"].get("status") in ("ok", "failed"):
        _jitconv_variants(w, rec, args)

    # peers, in the worker
    rec["peers"] = []
    for key, _ in _peer_list():
        r = pp.run(wid, key, ref_path, args.repeats, args.budget, args.max_est, args.peer_timeout)
        if r.get("status") == "n/a":
            continue
        rec["peers"].append(r)
        log("    " + _line(r.get("label", key), r))

    # jitconv once more after the peers: how much the machine drifted meanwhile (informational)
    if args.variants and rec["jitconv"].get("status") == "ok":
        fn = w.jitconv()
        r = measure(fn, ref, w.tol, args.repeats, args.budget, jitconv_warmups())
        r.update(key="jitconv_again", label="jitconv, re-timed after the peers")
        rec["jitconv_variants"].append(r)
        log("    " + _line(r["label"], r))
        del fn

    # cold start, after the in-process run compiled (and cached) jitconv's kernels
    if rec["jitconv"].get("status") in ("ok", "failed") and args.cold_runs > 0:
        c = cold(wid, args.quick, "jitconv", args.cold_runs)
        rec["jitconv"]["cold"] = c
        if c.get("status") == "ok":
            log(f"    jitconv cold: import {c['import_s']:.2f} s + first call {c['first_call_s']:.2f} s"
                f" = {c['total_s']:.2f} s (runs: {', '.join(f'{t:.2f}' for t in c['totals_s'])})")
        else:
            log(f"    jitconv cold: {c}")
    if not w.is_cnn and args.cold_runs > 0 and not args.no_scipy_cold:
        c = cold(wid, args.quick, "scipy", 1)
        rec["scipy_auto_cold"] = c
        if c.get("status") == "ok":
            log(f"    scipy cold: import {c['import_s']:.2f} s + first call {c['first_call_s']:.2f} s")
    os.remove(ref_path)
    rec["loadavg_end"] = os.getloadavg()[0]
    rec["wall_s"] = time.perf_counter() - t_w
    _summarise(rec)
    b = rec.get("best_peer")
    log(f"    => best peer: {b} {_ms(rec.get('best_peer_s'))}; jitconv/best {_num(rec.get('ratio_to_best'))}; "
        f"speed-up vs scipy auto {_num(rec.get('speedup_vs_scipy_auto'))}")
    return rec


def jitconv_warmups():
    """Untimed calls of a jitconv workload after its first: until its key's
    measuring call (``measure_on``, the second call by default) has run, so
    that the timed calls are steady state, not planning (a first call slower
    than the budget used to leave the measuring call among the timed ones)."""
    try:
        from jitconv import _config
        return max(1, int(_config.SETTINGS.measure_on))
    except Exception:  # noqa: BLE001 - another jitconv: one warm-up, as for the peers
        return 1


#: rough multiply-adds per second of jitconv's direct kernels (2 threads), to skip hopeless calls
JITCONV_DIRECT_RATE = 2e9


def _jitconv_variants(w, rec, args):
    """Informational: jitconv's own pick and both of its families forced (not peers)."""
    import jitconv
    if w.is_ndimage:
        return _jitconv_filter_variants(w, rec, args)
    kw = {"axes": w.axes} if w.axes else {}
    try:  # jitconv's planner, when it has one: what 'auto' runs and why
        from jitconv import planner
        e = planner.explain(w.a, w.b, w.mode, op=w.op, **kw)
        rec["jitconv"]["explain"] = {k: e.get(k) for k in ("chosen", "family", "source", "reason",
                                                           "candidates")}
        rec["jitconv"]["auto_pick"] = f"{e.get('chosen')} ({e.get('family')}, {e.get('source')})"
    except Exception:
        try:
            rec["jitconv"]["auto_pick"] = jitconv.choose_conv_method(w.a, w.b, w.mode)
        except Exception as exc:
            rec["jitconv"]["auto_pick"] = f"error: {exc}"
    fn_op = getattr(jitconv, w.op)
    for method in ("direct", "fft"):
        label = f"jitconv method='{method}'"
        est = w.macs / JITCONV_DIRECT_RATE if method == "direct" else None
        if est is not None and est > args.max_est:
            r = {"status": "skipped", "message": f"estimated {est:.0f} s per call > --max-est {args.max_est:g} s"}
        else:
            def fn(method=method):
                return fn_op(w.a, w.b, w.mode, method=method, **kw)
            r = measure(fn, w.reference_cache, w.tol, args.repeats, args.budget)
        r.update(key=f"jitconv_{method}", label=label, est_s=est)
        rec["jitconv_variants"].append(r)
        log("    " + _line(label, r))


def _jitconv_filter_variants(w, rec, args):
    """Informational, ndimage workloads: the planner's pick and each candidate forced."""
    import jitconv
    from jitconv import ndimage
    fn = getattr(ndimage, w.filter)
    fargs, kw = w.filter_args()
    try:
        e = jitconv.explain(fn, w.a, *fargs, **kw)
        rec["jitconv"]["explain"] = {k: e.get(k) for k in ("chosen", "family", "source", "reason",
                                                           "candidates")}
        rec["jitconv"]["auto_pick"] = f"{e.get('chosen')} ({e.get('family')}, {e.get('source')})"
        cands = [c["id"] for c in e.get("candidates") or []]
    except Exception as exc:
        rec["jitconv"]["auto_pick"] = f"error: {exc}"
        cands = []
    for cid in cands:
        label = f"jitconv forced {cid}"
        est = w.macs / JITCONV_DIRECT_RATE if cid == "filter-direct" else None
        if est is not None and est > args.max_est:
            r = {"status": "skipped", "message": f"estimated {est:.0f} s per call > --max-est {args.max_est:g} s"}
        else:
            def call(cid=cid):
                with jitconv.force(cid):
                    return fn(w.a, *fargs, **kw)
            r = measure(call, w.reference_cache, w.tol, args.repeats, args.budget)
        r.update(key=f"jitconv_{cid}", label=label, est_s=est)
        rec["jitconv_variants"].append(r)
        log("    " + _line(label, r))


def _peer_list():
    import peers
    return peers.PEERS


def _summarise(rec):
    ok = [p for p in rec["peers"] if p.get("status") == "ok" and p.get("eligible", True)]
    if ok:
        best = min(ok, key=lambda p: p["median_s"])
        rec["best_peer"], rec["best_peer_s"] = best["label"], best["median_s"]
    # the SciPy baseline: scipy.signal (auto), or the scipy.ndimage filter for W15-W19
    base_key = "scipy_ndimage_filter" if rec["op"].startswith("ndimage.") else "scipy_auto"
    auto = next((p for p in rec["peers"] if p["key"] == base_key), None)
    if auto and auto.get("median_s") is not None:
        rec["scipy_baseline"] = auto.get("label")
        rec["scipy_auto_s"] = auto["median_s"]
        rec["scipy_auto_verified"] = auto.get("status") == "ok"
    extra = next((p for p in rec["peers"] if p["key"] == "scipy_auto_all_cpus"), None)
    if extra and extra.get("median_s") is not None:
        rec["scipy_auto_all_cpus_s"] = extra["median_s"]
        rec["scipy_auto_all_cpus_verified"] = extra.get("status") == "ok"
    j = rec["jitconv"]
    if j.get("status") in ("ok", "failed") and j.get("median_s"):
        if ok:
            rec["ratio_to_best"] = j["median_s"] / rec["best_peer_s"]
        if rec.get("scipy_auto_s"):
            rec["speedup_vs_scipy_auto"] = rec["scipy_auto_s"] / j["median_s"]
        if rec.get("scipy_auto_all_cpus_s"):
            rec["speedup_vs_scipy_auto_all_cpus"] = rec["scipy_auto_all_cpus_s"] / j["median_s"]


def geomean_speedup(results, ids=None, field="speedup_vs_scipy_auto"):
    """Geometric mean of the speed-ups ``field`` over SciPy's baseline on ``ids``
    (default: the scipy.signal workloads of ``GEOMEAN_IDS``)."""
    import workloads
    ids = workloads.GEOMEAN_IDS if ids is None else ids
    vals = {r["id"]: r[field] for r in results
            if r["id"] in ids and r.get(field)}
    if not vals:
        return None, []
    return math.exp(sum(math.log(v) for v in vals.values()) / len(vals)), sorted(vals, key=lambda s: int(s[1:]))


# ---------------------------------------------------------------- output
def _ms(s):
    if s is None:
        return "—"
    ms = 1e3 * s
    return f"{ms:.3g} ms" if ms < 100 else f"{ms:,.0f} ms"


def _msn(s):
    if s is None:
        return "—"
    ms = 1e3 * s
    return f"{ms:.3g}" if ms < 100 else f"{ms:,.0f}"


def _num(x, fmt="{:.2f}"):
    return "—" if x is None else fmt.format(x)


def _err(r):
    e = r.get("rel_err")
    if e is None:
        return "—"
    return "0 (exact)" if e == 0 else f"{e:.1e}"


def _line(name, r):
    st = r.get("status")
    if st in ("ok", "failed"):
        flag = "verified" if st == "ok" else "FAILED VERIFICATION"
        n = f" n={r['n']}" if r.get("n") else ""
        return (f"{name}: {_ms(r.get('median_s'))} (first call {_ms(r.get('first_call_s'))}{n}) "
                f"{r.get('message', '')} [{flag}]")
    return f"{name}: {st} {r.get('message', '')}"


def markdown(report):
    env, s = report["environment"], report["settings"]
    L = [f"# jitconv benchmark{' (--quick)' if s['quick'] else ''}", "",
         f"{env['date']} · {env['cpu']} · {env['cores']} cores · Python {env['python']} · "
         f"numpy {env['numpy']} · scipy {env['scipy']} · numba {env['numba']} · pyfftw {env['pyfftw']} · "
         f"opencv {env['opencv']} · torch {env['torch']} · jitconv {env['jitconv']} "
         f"(git {str(env.get('git_commit'))[:10]}{', jitconv/ modified' if env.get('jitconv_tree_dirty') else ''})",
         "",
         f"Steady state: median of up to {s['repeats']} calls after a warm-up (fewer when a call "
         f"exceeds the {s['budget_s']:g} s budget: see n in the details). Load average at start "
         f"{_num(env['loadavg_start'][0])}, at end {_num(report.get('loadavg_end', [None])[0])}.", "",
         "| id | problem | jitconv ms | best peer | peer ms | jitconv/best | vs SciPy | "
         "jitconv first call | jitconv cold (import+1st) | verified |",
         "|---|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in report["results"]:
        j = r["jitconv"]
        st = j.get("status")
        if st == "not implemented":
            jms, ver = "not implemented", "—"
        elif st in ("ok", "failed"):
            jms = _msn(j.get("median_s"))
            ver = "yes" if st == "ok" else f"**NO** ({j.get('message')})"
            if j.get("dtype_mismatch"):
                ver += f" **dtype: {j['dtype_mismatch']}**"
        else:
            jms, ver = f"{st}", j.get("message", "")
        c = j.get("cold", {})
        cold_s = f"{c['total_s']:.2f} s" if c.get("status") == "ok" else "—"
        L.append(f"| {r['id']} | {r['desc']} | {jms} | {r.get('best_peer', '—')} | "
                 f"{_msn(r.get('best_peer_s'))} | {_num(r.get('ratio_to_best'))} | "
                 f"{_num(r.get('speedup_vs_scipy_auto'), '{:.2f}x')} | {_ms(j.get('first_call_s'))} | "
                 f"{cold_s} | {ver} |")
    gm, ids = report["summary"]["geomean_speedup_vs_scipy_auto"], report["summary"]["geomean_ids"]
    gm_all = report["summary"].get("geomean_speedup_vs_scipy_auto_all_cpus")
    ngm = report["summary"].get("geomean_speedup_vs_scipy_ndimage")
    nids = report["summary"].get("geomean_ndimage_ids") or []
    L += ["", f"**Geometric-mean speed-up over scipy.signal (method='auto')** on {', '.join(ids) or '—'}: "
              f"**{_num(gm, '{:.2f}x')}**; over the same with `scipy.fft.set_workers(<all CPUs>)`: "
              f"**{_num(gm_all, '{:.2f}x')}**"]
    if nids:
        L += ["", f"**Geometric-mean speed-up over scipy.ndimage** on {', '.join(nids)}: "
                  f"**{_num(ngm, '{:.2f}x')}**"]
    L += ["", "vs SciPy: SciPy's time over jitconv's; the baseline is scipy.signal (method='auto') for "
              "W1-W14 and the same scipy.ndimage filter for W15-W19.",
          "jitconv/best < 1: jitconv is faster than every peer; > 1: the best peer is that many times faster.",
          "", "## All measurements", ""]
    for r in report["results"]:
        L += [f"### {r['id']}: {r['desc']}", "",
              (f"jitconv call: `{r['jitconv_expr']}`" if r["jitconv_expr"]
               else "jitconv call: none (not implemented)")
              + (f" (auto picks {r['jitconv']['auto_pick']})" if r["jitconv"].get("auto_pick") else "")
              + f" · reference: {r['reference']['expr']} "
              + f"({r['reference']['time_s']:.2f} s) · tolerance: "
              + f"{'exact' if r['tol'] == 0 else r['tol']} · load average "
              + f"{_num(r.get('loadavg_start'))} → {_num(r.get('loadavg_end'))}", "",
              "| implementation | median ms | first call ms | n | error vs reference | status | note |",
              "|---|---:|---:|---:|---|---|---|"]
        rows = ([("**jitconv**", r["jitconv"])]
                + [(f"({v['label']}, info)", v) for v in r.get("jitconv_variants", [])]
                + [(p.get("label", p["key"]), p) for p in r["peers"]])
        for name, p in rows:
            st = p.get("status")
            status = {"ok": "verified", "failed": "**failed verification**"}.get(st, st)
            if st == "ok" and not p.get("eligible", True):
                status = "verified (float32 variant, not eligible)"
            if name == r.get("best_peer"):
                name = f"{name} (best)"
            msg = p.get("note") or ""
            if st not in ("ok",) and p.get("message"):
                msg = (msg + "; " if msg else "") + p["message"]
            L.append(f"| {name} | {_msn(p.get('median_s'))} | {_msn(p.get('first_call_s'))} | "
                     f"{p.get('n', '—')} | {_err(p)} | {status} | {msg} |")
        c = r["jitconv"].get("cold", {})
        sc = r.get("scipy_auto_cold", {})
        if c.get("status") == "ok" or sc.get("status") == "ok":
            parts = []
            if c.get("status") == "ok":
                parts.append(f"jitconv `import` {c['import_s']:.2f} s + first call {c['first_call_s']:.2f} s")
            if sc.get("status") == "ok":
                mod = "scipy.ndimage" if r["op"].startswith("ndimage.") else "scipy.signal"
                parts.append(f"`import {mod}` {sc['import_s']:.2f} s + first call "
                             f"{sc['first_call_s']:.2f} s")
            L += ["", "Fresh process: " + "; ".join(parts) + "."]
        L.append("")
    return "\n".join(L)


def plot(report, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    res = report["results"]
    ncol = 3 if len(res) > 4 else max(1, len(res))
    nrow = math.ceil(len(res) / ncol)
    fig, axs = plt.subplots(nrow, ncol, figsize=(7 * ncol, 3.4 * nrow), squeeze=False)
    for ax in axs.flat[len(res):]:
        ax.axis("off")
    for ax, r in zip(axs.flat, res):
        bars = []
        j = r["jitconv"]
        if j.get("median_s"):
            bars.append(("jitconv", j["median_s"], "tab:orange" if j["status"] == "ok" else "red", ""))
        for p in r["peers"]:
            if p.get("median_s") is None:
                continue
            if p["status"] != "ok":
                col, hatch = "lightgray", "//"
            elif not p.get("eligible", True):
                col, hatch = "silver", ""
            elif p["label"] == r.get("best_peer"):
                col, hatch = "tab:green", ""
            else:
                col, hatch = "tab:blue", ""
            bars.append((p["label"], p["median_s"], col, hatch))
        bars.sort(key=lambda b: b[1])
        y = range(len(bars))
        ax.barh(list(y), [1e3 * b[1] for b in bars], color=[b[2] for b in bars],
                hatch=None, edgecolor="k", linewidth=0.3)
        for i, b in enumerate(bars):
            if b[3]:
                ax.barh([i], [1e3 * b[1]], color="none", hatch=b[3], edgecolor="gray")
            ax.text(1e3 * b[1], i, f" {1e3 * b[1]:.3g}", va="center", fontsize=7)
        ax.set_yticks(list(y))
        ax.set_yticklabels([b[0] for b in bars], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("median time per call, ms (log)", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        title = f"{r['id']}: {r['desc']}"
        if j.get("status") == "not implemented":
            title += "\n(jitconv: not implemented)"
        elif r.get("ratio_to_best"):
            title += f"\njitconv/best {r['ratio_to_best']:.2f}"
            if r.get("speedup_vs_scipy_auto"):
                title += f" · {r['speedup_vs_scipy_auto']:.2f}x vs scipy auto"
        ax.set_title(title, fontsize=8)
        if bars:
            lo, hi = min(b[1] for b in bars) * 1e3, max(b[1] for b in bars) * 1e3
            ax.set_xlim(lo / 2, hi * 4)
    gm = report["summary"]["geomean_speedup_vs_scipy_auto"]
    env = report["environment"]
    fig.suptitle(f"jitconv (orange) vs peers (green: best verified peer; grey: lower precision; hatched: "
                 f"failed verification) · geo-mean speed-up vs scipy auto {_num(gm, '{:.2f}x')}\n"
                 f"{env['cpu']}, {env['cores']} cores, {env['date']}"
                 f"{' · --quick' if report['settings']['quick'] else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)


# ------------------------------------------------------------------ main
def warm_fftw(args):
    """Plan the pyFFTW peer once per workload (FFTW_MEASURE) and keep the wisdom.

    Runs in this process, which never imports jitconv in this mode."""
    import peers
    import workloads
    if not args.fftw_wisdom:
        log("--warm-fftw needs a wisdom file (--fftw-wisdom PATH)")
        return 2
    peers.set_wisdom_path(args.fftw_wisdom)
    for wid in args.ids:
        w = workloads.make(wid, args.quick)
        fn = peers.scipy_fftconvolve_pyfftw(w)
        if fn is None:
            continue
        t0 = time.perf_counter()
        fn()
        peers.save_fftw_wisdom()
        log(f"{wid}: planned in {time.perf_counter() - t0:.1f} s (wisdom at start: {peers.WISDOM['loaded']})")
    return 0


def parse(argv):
    import workloads
    p = argparse.ArgumentParser(prog="python perf/run.py", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="scaled-down workloads and 3 repeats (a few minutes)")
    p.add_argument("--only", default="", help="comma-separated workload ids, e.g. W5,W6")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per measurement (7; quick 3)")
    p.add_argument("--json", default=None, help="write the full report (with environment) here")
    p.add_argument("--md", default=None, help="write the markdown tables here")
    p.add_argument("--plot", default=None, help="write a PNG bar chart here")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed calls per measurement before repeats are cut (8; quick 2)")
    p.add_argument("--max-est", type=float, default=None,
                   help="skip a direct-algorithm peer whose estimated time per call exceeds this (5 s; quick 3 s)")
    p.add_argument("--peer-timeout", type=float, default=900,
                   help="kill a peer (and restart the peer process) after this many seconds")
    p.add_argument("--cold-runs", type=int, default=2,
                   help="fresh-process runs of jitconv per workload (the last one is reported; 0: skip)")
    p.add_argument("--no-scipy-cold", action="store_true", help="skip the fresh-process SciPy measurement")
    p.add_argument("--fftw-wisdom", default=None,
                   help="file keeping the pyFFTW peer's FFTW wisdom between runs ('off' to plan afresh; "
                        "default ~/.cache/jitconv-perf/pyfftw-wisdom.pickle)")
    p.add_argument("--jitconv-wisdom", default="fresh",
                   help="jitconv's planner wisdom for this run: 'fresh' (default: a new file, so first calls "
                        "plan and cold starts read what this run planned), 'default' (the user's file), "
                        "'off', or a path (sets JITCONV_WISDOM)")
    p.add_argument("--no-variants", dest="variants", action="store_false",
                   help="do not also time jitconv with method='direct' and method='fft' (informational rows)")
    p.add_argument("--warm-fftw", action="store_true",
                   help="only plan the pyFFTW peer (FFTW_MEASURE) for the selected workloads and store the "
                        "wisdom in --fftw-wisdom; no timing")
    p.add_argument("--_cold", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_target", default="jitconv", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.repeats = a.repeats or (3 if a.quick else 7)
    a.budget = a.budget or (2.0 if a.quick else 8.0)
    a.max_est = a.max_est or (3.0 if a.quick else 5.0)
    only = [s.strip().upper() for s in a.only.split(",") if s.strip()]
    bad = [s for s in only if s not in workloads.IDS]
    if bad:
        p.error(f"unknown workload(s) {', '.join(bad)}; known: {', '.join(workloads.IDS)}")
    a.ids = [i for i in workloads.IDS if not only or i in only]
    if a.fftw_wisdom is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        a.fftw_wisdom = os.path.join(base, "jitconv-perf", "pyfftw-wisdom.pickle")
    elif a.fftw_wisdom.lower() == "off":
        a.fftw_wisdom = None
    return a


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args._cold:
        _cold_child(args._cold, args.quick, args._target)
        return 0
    if args.warm_fftw:
        return warm_fftw(args)
    t_start = time.perf_counter()
    tmpdir = tempfile.TemporaryDirectory(prefix="jitconv-perf-")
    # jitconv's planner wisdom (remembered algorithm choices and FFTW wisdom): a fresh file
    # by default, so that the first calls plan for real and stale decisions cannot leak in
    if args.jitconv_wisdom == "fresh":
        os.environ["JITCONV_WISDOM"] = os.path.join(tmpdir.name, "jitconv-wisdom.json")
    elif args.jitconv_wisdom != "default":
        os.environ["JITCONV_WISDOM"] = args.jitconv_wisdom
    env = fingerprint()
    log(f"jitconv perf: {len(args.ids)} workload(s){' (quick)' if args.quick else ''}, "
        f"repeats {args.repeats}, budget {args.budget:g} s; {env['cpu']}, {env['cores']} cores")
    pp = PeerProcess(args.quick, args.fftw_wisdom)
    results = []
    try:
        for i, wid in enumerate(args.ids, 1):
            results.append(run_workload(wid, args, pp, tmpdir.name, i, len(args.ids)))
    finally:
        pp.close()
        tmpdir.cleanup()
    gm, ids = geomean_speedup(results)
    gm_all, _ = geomean_speedup(results, field="speedup_vs_scipy_auto_all_cpus")
    import workloads
    ngm, nids = geomean_speedup(results, workloads.NDIMAGE_IDS)
    report = {
        "environment": env,
        "settings": {"quick": args.quick, "repeats": args.repeats, "budget_s": args.budget,
                     "max_est_s": args.max_est, "peer_timeout_s": args.peer_timeout,
                     "cold_runs": args.cold_runs, "fftw_wisdom": args.fftw_wisdom,
                     "jitconv_wisdom": args.jitconv_wisdom,
                     "workloads": args.ids},
        "results": results,
        "summary": {"geomean_speedup_vs_scipy_auto": gm, "geomean_ids": ids,
                    "geomean_speedup_vs_scipy_auto_all_cpus": gm_all,
                    "geomean_speedup_vs_scipy_ndimage": ngm, "geomean_ndimage_ids": nids,
                    "jitconv_all_verified": all(r["jitconv"].get("status") in ("ok", "not implemented")
                                                and not r["jitconv"].get("dtype_mismatch")
                                                for r in results)},
        "loadavg_end": os.getloadavg(),
        "wall_s": time.perf_counter() - t_start,
    }
    md = markdown(report)
    print(md)
    for path in (args.json, args.md, args.plot):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md + "\n")
    if args.plot:
        try:
            plot(report, args.plot)
        except ImportError:
            log("matplotlib not installed: no plot")
    log(f"done in {report['wall_s']:.0f} s; geometric-mean speed-up vs scipy auto: {_num(gm, '{:.2f}x')}"
        + (f"; vs scipy.ndimage: {_num(ngm, '{:.2f}x')}" if nids else ""))
    return 0 if report["summary"]["jitconv_all_verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
