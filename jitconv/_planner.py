"""The measuring planner: problem key -> chosen candidate, measured once.

On a key miss (under one lock, re-checked after taking it): the candidates
of the registry that support the problem are estimated by the cost model,
those within a factor of the best estimate are prepared and timed on scratch
operands of the problem's shapes and dtypes (never the caller's), after a
warm-up that compiles and plans. Timing is the minimum of repeats of
calibrated loops; a failing candidate is infinitely slow; a measured
candidate overrules the model's pick only when faster by a margin. The
decision and all timings are kept in memory and persisted with FFTW's wisdom
(``_store``), so a later process with the same fingerprint measures nothing.

``choose`` returns a ``Decision`` holding the candidate object. ``run`` runs
a decision: a candidate that fails at run time is recorded as failed (in
this process) and the next best candidate runs instead.

The hit path is a dict read without a lock. ``timer`` is an attribute so
tests can inject fake time.
"""
import math
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import _config, _fftw, _launch, _store, _trace
from .algorithms import REGISTRY, Reduction


@dataclass
class Decision:
    candidate: object
    source: str                       # 'measured', 'estimate', 'disk', 'forced'
    estimates: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)   # id -> seconds (inf = failed)
    errors: dict = field(default_factory=dict)

    @property
    def chosen(self):
        """The chosen candidate's id."""
        return self.candidate.id

    def record(self):
        return {"chosen": self.chosen, "estimates": self.estimates,
                "timings": {k: (None if math.isinf(v) else v) for k, v in self.timings.items()}}


#: candidates estimated below this are always timed when they survive pruning
SLOW = 0.05


class Planner:
    #: seconds each timed batch of calls should last
    batch = 5e-3
    repeats = 3

    def __init__(self, registry=REGISTRY):
        self.registry = registry
        self.timer = time.perf_counter
        self.lock = threading.RLock()
        self.memory = {}
        self.stats = Counter()
        self._disk = None

    # ------------------------------------------------------------- lookup
    def choose(self, p, effort=None):
        """``(decision, hit)`` for problem ``p``; plans on a miss."""
        forced = getattr(_forced, "id", None)
        if forced is not None and self.registry.admits(p, forced):
            self.disk()  # the stored FFTW wisdom, before a forced FFT plans
            return Decision(self.registry.get(forced), "forced"), False
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
            effort = "estimate" if p.deterministic else (effort or _config.SETTINGS.effort)
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
        extra = len(mem) - _config.SETTINGS.max_keys
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

    # ------------------------------------------------------------- running
    def run(self, p, operands, decision=None):
        """Compute problem ``p`` with ``decision`` (default: the planner's choice).

        A candidate that raises is recorded as failed for this key (in this
        process: a failure may be transient, so it is never stored) and the
        next candidate by measured time, then estimate, runs instead. The
        error of the first failure is raised only when every candidate fails.
        A forced candidate's failure is raised as it is.
        """
        d = decision if decision is not None else self.choose(p)[0]
        try:
            out = self.invoke(d.candidate, p, operands)
        except Exception as exc:  # noqa: BLE001 - a planner mistake must not reach the user
            if d.source == "forced":
                raise
            out = self._recover(p, operands, d, exc)
        if _fftw.unsaved():
            # FFTW measured plans outside a timed planning (a key with one
            # candidate, a forced FFT): store that wisdom for the next process
            self.save()
        return out

    def _recover(self, p, operands, d, exc):
        first = exc
        failed = {d.chosen}
        while True:
            with self.lock:
                d.timings[d.chosen] = math.inf
                d.errors[d.chosen] = f"{type(exc).__name__}: {exc}"
                rest = [c for c in self.registry.supporting(p) if c.id not in failed]
                if not rest:
                    raise first
                order = sorted(rest, key=lambda c: (d.timings.get(c.id, math.inf),
                                                    d.estimates.get(c.id, math.inf)))
                nxt = Decision(order[0], "recovered", d.estimates, d.timings, d.errors)
                self._remember(p.key(), nxt)
                self.stats["failures"] += 1
            warnings.warn(f"jitconv: candidate {d.chosen!r} failed on this problem "
                          f"({type(exc).__name__}: {exc}); {nxt.chosen!r} runs instead",
                          RuntimeWarning, stacklevel=5)
            try:
                return self.invoke(nxt.candidate, p, operands)
            except Exception as e:  # noqa: BLE001
                d, exc = nxt, e
                failed.add(nxt.chosen)

    def invoke(self, c, p, operands):
        """Run candidate ``c`` on ``p``; a reduction runs its problem's own choice."""
        if isinstance(c, Reduction):
            sub = c.reduce(p)
            return self.run(sub, c.operands(p, *operands))
        if c.uses_blas:
            with _launch.blas_threads(p.workers):
                return c.run(p, *operands)
        return c.run(p, *operands)

    def estimate(self, c, p):
        """The cost model's seconds for ``c`` on ``p`` (a reduction: its problem's best)."""
        if isinstance(c, Reduction):
            sub = c.reduce(p)
            return min(self.estimate(s, sub) for s in self.registry.supporting(sub))
        return c.estimate(p)

    # ------------------------------------------------------------ planning
    def disk(self):
        if self._disk is None:
            decisions, fftw = _store.load()
            self._disk = decisions or {}
            if fftw is not None:
                try:
                    _fftw.import_wisdom(fftw)
                except ValueError:
                    _store._warn_once(("fftw",), "stored FFTW wisdom is malformed; ignored")
        return self._disk

    def _plan(self, p, effort, exhaustive=False):
        self.disk()  # also imports the stored FFTW wisdom, for keys decided without it
        cands = self.registry.supporting(p)
        est = {c.id: self.estimate(c, p) for c in cands}
        order = sorted(cands, key=lambda c: est[c.id])
        by_model = order[0]
        if len(order) == 1:
            return Decision(by_model, "estimate", est)
        rec = self.disk().get(p.keystr()) if not exhaustive else None
        if rec is not None and rec.get("chosen") in est:
            self.stats["disk"] += 1
            timings = {k: (math.inf if v is None else v) for k, v in rec.get("timings", {}).items()}
            return Decision(self.registry.get(rec["chosen"]), "disk", est, timings)
        if not exhaustive and (effort in ("estimate", "wisdom_only")
                               or est[by_model.id] < _config.SETTINGS.min_measure):
            return Decision(by_model, "estimate", est)
        if not exhaustive and effort != "exhaustive":
            order = [c for c in order if est[c.id] <= _config.SETTINGS.prune * est[by_model.id]]
            if len(order) == 1:
                return Decision(by_model, "estimate", est)
        d = self._measure(p, order, est, by_model, exhaustive)
        self._persist(p, d)
        return d

    def _measure(self, p, order, est, by_model, exhaustive):
        ops = p.operands(np.random.default_rng(0))
        # the budget bounds the timing runs; warm-ups (numba compilation, FFTW
        # planning, itself bounded by FFTW's time limit) are the first result's cost
        budget = _config.SETTINGS.budget * (4 if exhaustive else 1)
        spent = 0.0
        timings, errors = {}, {}
        effort = "exhaustive" if exhaustive else _config.SETTINGS.effort
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
            if effort != "exhaustive" and est[c.id] > max(SLOW, _config.SETTINGS.prune * best_so_far):
                continue
            try:
                with _fftw.planning(effort, max(0.05, remaining / 4)), _trace.muted():
                    timings[c.id], used = self._time(lambda: self.invoke(c, p, ops), remaining)
                spent += used
            except Exception as e:  # noqa: BLE001 - a failing candidate loses
                timings[c.id] = math.inf
                errors[c.id] = f"{type(e).__name__}: {e}"
        best = min(timings, key=timings.get)
        chosen = by_model.id if by_model.id in timings else best
        if timings[best] * _config.SETTINGS.margin < timings.get(chosen, math.inf):
            chosen = best
        if math.isinf(timings.get(chosen, math.inf)):
            chosen = by_model.id
        return Decision(self.registry.get(chosen), "measured", est, timings, errors)

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
        with self.lock:
            self.disk()[p.keystr()] = d.record()
            self.save()

    def save(self):
        """Store this process's decisions and FFTW wisdom, merged with the file's."""
        if _store.path() is None:
            _fftw.mark_saved()   # nothing to store it in
            return
        with self.lock:
            self._save()

    def _save(self):
        disk = self.disk()
        current, _ = _store.load()   # merge what other processes stored meanwhile
        if current:
            for k, v in current.items():
                disk.setdefault(k, v)
        for k in list(disk)[:max(0, len(disk) - _config.SETTINGS.max_keys)]:
            del disk[k]  # bounded file: the oldest decisions go first
        _store.save(disk, _fftw.export_wisdom())


PLANNER = Planner()
_forced = threading.local()


class force:
    """Context manager: run candidate ``cid`` wherever it applies.

    For tests and experiments; the planner is bypassed (nothing is measured
    or stored) for calls made by this thread inside the block, for problems
    whose family admits ``cid`` and that it supports.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> with jitconv.force("oa"):
    ...     y = jitconv.fftconvolve(np.ones(10_000), np.ones(65))
    """

    def __init__(self, cid):
        known = REGISTRY.ids()
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
        from memory; ``'disk'``: decisions loaded from the wisdom file;
        ``'failures'``: candidates that failed at run time and were replaced.
    """
    s = PLANNER.stats
    return {"measured": s["measured"], "planned": s["planned"], "hits": s["hits"],
            "disk": s["disk"], "failures": s["failures"]}
