"""The measuring planner: problem key -> chosen candidate, measured once.

On a key miss (under one lock, re-checked after taking it): the candidates
that support the problem are estimated by the cost model, those within a
factor of the best estimate are prepared and timed on scratch arrays of the
problem's shapes and dtypes (never the caller's), after a warm-up that
compiles and plans. Timing is the minimum of repeats of calibrated loops; a
failing candidate is infinitely slow; a measured candidate overrules the
model's pick only when faster by a margin. The decision and all timings are
kept in memory and persisted with FFTW's wisdom (``_store``), so a later
process with the same fingerprint measures nothing.

The hit path is a dict read without a lock. ``timer`` and ``clock`` are
attributes so tests can inject fake time.
"""
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import _algorithms, _config, _store, _trace


@dataclass
class Decision:
    chosen: str
    source: str                       # 'measured', 'estimate', 'disk'
    estimates: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)   # id -> seconds (inf = failed)
    errors: dict = field(default_factory=dict)

    def record(self):
        return {"chosen": self.chosen, "estimates": self.estimates,
                "timings": {k: (None if math.isinf(v) else v) for k, v in self.timings.items()}}


def _scratch(shape, dtype, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 3, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


#: candidates estimated below this are always timed when they survive pruning
SLOW = 0.05


class Planner:
    #: seconds each timed batch of calls should last
    batch = 5e-3
    repeats = 3

    def __init__(self):
        self.timer = time.perf_counter
        self.clock = time.monotonic
        self.lock = threading.RLock()
        self.memory = {}
        self.stats = Counter()
        self._disk = None
        self._dirty = False

    # ------------------------------------------------------------- lookup
    def choose(self, p, effort=None):
        """``(decision, hit)`` for problem ``p``; plans on a miss."""
        forced = getattr(_forced, "id", None)
        if forced is not None and p.admits(forced):
            return Decision(forced, "forced"), False
        key = p.key()
        d = self.memory.get(key)
        if d is not None:
            self.stats["hits"] += 1
            return d, True
        with self.lock:
            d = self.memory.get(key)
            if d is not None:
                self.stats["hits"] += 1
                return d, True
            effort = "estimate" if p.deterministic else (effort or _config.PLANNER.effort)
            d = self._plan(p, effort)
            self._remember(key, d)
            self.stats["planned"] += 1
            return d, False

    def _remember(self, key, d):
        """Keep a decision; beyond ``max_keys`` the oldest are dropped (bounded memory
        for programs that see endless new shapes; dropped keys are planned again,
        from the wisdom file when they were stored)."""
        mem = self.memory
        mem[key] = d
        extra = len(mem) - _config.PLANNER.max_keys
        if extra > 0:
            for k in list(mem)[:extra]:
                mem.pop(k, None)

    def peek(self, p):
        """The decision for ``p`` if known (memory, disk), else the model's; plans nothing."""
        d = self.memory.get(p.key())
        if d is not None:
            return d
        with self.lock:
            return self._plan(p, "wisdom_only")

    def forget(self):
        """Forget every decision made or loaded by this process."""
        with self.lock:
            self.memory.clear()
            self._disk = None

    # ------------------------------------------------------------ planning
    def disk(self):
        if self._disk is None:
            decisions, fftw = _store.load()
            self._disk = decisions or {}
            if fftw is not None:
                from . import _fftw
                try:
                    _fftw.import_wisdom(fftw)
                except ValueError:
                    _store._warn_once(("fftw",), "stored FFTW wisdom is malformed; ignored")
        return self._disk

    def _plan(self, p, effort, exhaustive=False):
        cands = p.candidates()
        est = {c.id: c.estimate(p) for c in cands}
        order = sorted(cands, key=lambda c: est[c.id])
        by_model = order[0].id
        if len(order) == 1:
            return Decision(by_model, "estimate", est)
        rec = self.disk().get(p.keystr()) if not exhaustive else None
        if rec is not None and rec.get("chosen") in est:
            self.stats["disk"] += 1
            timings = {k: (math.inf if v is None else v) for k, v in rec.get("timings", {}).items()}
            return Decision(rec["chosen"], "disk", est, timings)
        if not exhaustive and (effort in ("estimate", "wisdom_only")
                               or est[by_model] < _config.PLANNER.min_measure):
            return Decision(by_model, "estimate", est)
        if not exhaustive and effort != "exhaustive":
            order = [c for c in order if est[c.id] <= _config.PLANNER.prune * est[by_model]]
            if len(order) == 1:
                return Decision(by_model, "estimate", est)
        d = self._measure(p, order, est, by_model, exhaustive)
        self._persist(p, d)
        return d

    def _measure(self, p, order, est, by_model, exhaustive):
        from . import _fftw
        ops = p.operands(np.random.default_rng(0))
        # the budget bounds the timing runs; warm-ups (numba compilation, FFTW
        # planning, itself bounded by FFTW's time limit) are the first result's cost
        budget = _config.PLANNER.budget * (4 if exhaustive else 1)
        spent = 0.0
        timings, errors = {}, {}
        effort = "exhaustive" if exhaustive else _config.PLANNER.effort
        if effort not in ("measure", "exhaustive"):
            effort = "measure"
        for c in order:
            remaining = budget - spent
            if timings and remaining <= 0:
                break
            # measured evidence prunes too: a slow candidate (its warm-up and
            # timed call would cost seconds) predicted far behind the best
            # time so far is not timed (W2's direct path: 0.8 s a call)
            best_so_far = min(timings.values(), default=math.inf)
            if effort != "exhaustive" and est[c.id] > max(SLOW, _config.PLANNER.prune * best_so_far):
                continue
            try:
                with _fftw.planning(effort, max(0.05, remaining / 4)), _trace.muted():
                    timings[c.id], used = self._time(lambda: c.run(p, *ops), remaining)
                spent += used
            except Exception as e:  # noqa: BLE001 - a failing candidate loses
                timings[c.id] = math.inf
                errors[c.id] = f"{type(e).__name__}: {e}"
        best = min(timings, key=timings.get)
        chosen = by_model if by_model in timings else best
        if timings[best] * _config.PLANNER.margin < timings.get(chosen, math.inf):
            chosen = best
        if math.isinf(timings.get(chosen, math.inf)):
            chosen = by_model
        return Decision(chosen, "measured", est, timings, errors)

    def _time(self, fn, remaining):
        """``(best seconds per call, seconds spent timing)``.

        The warm-up call is never counted; then batches of calls lasting about
        ``batch`` seconds, the minimum over ``repeats`` (one when the budget
        would not allow more).
        """
        fn()
        start = t0 = self.timer()
        fn()
        one = max(self.timer() - t0, 1e-9)
        self.stats["measured"] += 1
        number = max(1, min(10_000, int(self.batch / one)))
        repeats = self.repeats if one * number * self.repeats < max(remaining, 0) else 1
        best = one
        for _ in range(repeats):
            t0 = self.timer()
            for _ in range(number):
                fn()
            best = min(best, (self.timer() - t0) / number)
        return best, self.timer() - start

    def measure_all(self, p):
        """Time every supported candidate of ``p`` (``choose_conv_method(measure=True)``)."""
        with self.lock:
            d = self._plan(p, "exhaustive", exhaustive=True)
            self._remember(p.key(), d)
            self.stats["planned"] += 1
            return d

    def _persist(self, p, d):
        # a failure may be transient (memory, a broken build): never store it
        if _store.path() is None or d.errors:
            return
        disk = self.disk()
        disk[p.keystr()] = d.record()
        current, _ = _store.load()   # merge what other processes stored meanwhile
        if current:
            for k, v in current.items():
                disk.setdefault(k, v)
        for k in list(disk)[:max(0, len(disk) - _config.PLANNER.max_keys)]:
            del disk[k]  # bounded file: the oldest decisions go first
        from . import _fftw
        _store.save(disk, _fftw.export_wisdom())


PLANNER = Planner()
_forced = threading.local()


class force:
    """Context manager: run candidate ``cid`` wherever its family is allowed.

    For tests and experiments; the planner is bypassed (nothing is measured
    or stored) for calls made by this thread inside the block.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> with jitconv.force("oa"):
    ...     y = jitconv.fftconvolve(np.ones(10_000), np.ones(65))
    """

    def __init__(self, cid):
        from . import _nn
        known = set(_algorithms.BY_ID) | set(_nn.BY_ID)
        if cid not in known:
            raise ValueError(f"unknown candidate {cid!r}; known: {sorted(known)}")
        self.cid = cid

    def __enter__(self):
        self.prev = getattr(_forced, "id", None)
        _forced.id = self.cid
        return self

    def __exit__(self, *exc):
        _forced.id = self.prev


def planner_stats():
    """Counters of this process's planner.

    Returns
    -------
    dict
        ``'measured'``: candidate timings made by this process; ``'planned'``:
        keys planned (a decision made or loaded); ``'hits'``: calls answered
        from memory; ``'disk'``: decisions loaded from the wisdom file.
    """
    s = PLANNER.stats
    return {"measured": s["measured"], "planned": s["planned"], "hits": s["hits"],
            "disk": s["disk"]}
