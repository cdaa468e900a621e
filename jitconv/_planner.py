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

Processes of one machine share what they measure (``_store``): before
measuring a key, the planner re-reads the wisdom file if it changed (a
``stat`` when it did not); then it claims the key, so that a process meeting
a key another one is measuring answers with the cost model's pick meanwhile
(source ``'pending'``) and picks up the stored decision on a later call
instead of measuring too. Decisions are merged into the file under an
inter-process lock held for the merge only.

The hit path is a dict read without a lock. ``timer`` (timing) and ``clock``
(waiting for other processes) are attributes so tests can inject fake time.
"""
import math
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import _config, _fftw, _launch, _store, _trace
from .algorithms import REGISTRY, Reduction, guards


@dataclass
class Decision:
    candidate: object
    #: 'measured', 'estimate', 'disk', 'forced', 'pending' (another process
    #: measures it), 'provisional' (the model's pick for a key the planner will
    #: measure when it recurs), 'recovered' (a candidate failed and was replaced)
    source: str
    estimates: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)   # id -> seconds (inf = failed)
    errors: dict = field(default_factory=dict)
    #: the machine's state around the measurement: a reference loop's seconds
    #: before and after (``Planner.reference``)
    machine: dict = field(default_factory=dict)
    #: calls answered by a provisional decision; consecutive calls whose time
    #: drifted far from the recorded one
    calls: int = 0
    drift: int = 0

    @property
    def chosen(self):
        """The chosen candidate's id."""
        return self.candidate.id

    def record(self):
        return {"chosen": self.chosen, "estimates": self.estimates,
                "timings": {k: (None if math.isinf(v) else v) for k, v in self.timings.items()},
                "machine": self.machine}


#: candidates estimated below this are always timed when they survive pruning
SLOW = 0.05


@dataclass
class _Pending:
    """A key another process is measuring: the model's pick until its result is stored."""
    decision: Decision
    until: float          # clock time after which this process stops waiting
    next: float = 0.0     # clock time of the next look at the wisdom file
    looks: int = 0


class Planner:
    #: seconds each timed batch of calls should last
    batch = 5e-3
    repeats = 3
    #: seconds a process waits for a key another process measures (answering
    #: with the model's pick meanwhile); then it keeps the model's pick
    wait = 30.0
    #: seconds between the first two looks (a stat and a lock try; a read
    #: when the file changed) for a pending key; they double up to 1 s
    poll = 0.02

    def __init__(self, registry=REGISTRY):
        self.registry = registry
        self.timer = time.perf_counter
        self.clock = time.monotonic
        self.lock = threading.RLock()
        self.memory = {}
        #: bumped whenever ``memory`` changes: caches of decided calls (the
        #: engine's) are valid while it stays the same
        self.generation = 0
        self.stats = Counter()
        self._disk = None     # decisions of the wisdom file (and stored by this process)
        self._seen = None     # signature of the wisdom file content last read
        self.pending = {}     # key -> _Pending
        self.remeasured = set()   # keys measured again after a drift (once per process)
        self.calm = math.inf

    # ------------------------------------------------------------- lookup
    def choose(self, p, effort=None):
        """``(decision, hit)`` for problem ``p``; plans on a miss, measures a
        key the model was unsure about when it recurs (``measure_on``)."""
        forced = _forced.id
        if forced is not None and self.registry.admits(p, forced):
            self.disk()  # the stored FFTW wisdom, before a forced FFT plans
            return Decision(self.registry.get(forced), "forced"), False
        key = p.key()
        d = self.memory.get(key)
        if d is not None and d.source != "provisional":
            self.stats["hits"] += 1
            return d, True
        with self.lock:
            d = self.memory.get(key)
            if d is not None and d.source != "provisional":
                self.stats["hits"] += 1
                return d, True
            pend = self.pending.get(key)
            if pend is not None and self.clock() < pend.next:
                self.stats["waited"] += 1  # looked a moment ago: the model's pick again
                return pend.decision, False
            if d is not None:   # provisional: this call is one more of the key
                d.calls += 1
                if d.calls < _config.SETTINGS.measure_on:
                    self.stats["hits"] += 1
                    return d, True
            effort = "estimate" if p.deterministic else (effort or _config.SETTINGS.effort)
            d = self._plan(p, effort, recurring=d is not None)
            if d.source == "pending":
                self.stats["waited"] += 1
                return d, False
            self._remember(key, d)
            self.stats["planned"] += 1
            return d, False

    def _remember(self, key, d):
        """Keep a decision; beyond ``max_keys`` the oldest are dropped (bounded memory
        for programs that see endless new shapes; dropped keys are planned again,
        from the wisdom file when they were stored)."""
        mem = self.memory
        mem[key] = d
        self.generation += 1
        self.pending.pop(key, None)
        extra = len(mem) - _config.SETTINGS.max_keys
        if extra > 0:
            for k in list(mem)[:extra]:
                mem.pop(k, None)

    def settle(self, p):
        """The decision for ``p``, measured now if the key was provisional
        (``jitconv.plan``: a plan is made to be called many times)."""
        d, _ = self.choose(p)
        if d.source != "provisional":
            return d
        with self.lock:
            d = self.memory.get(p.key(), d)
            if d.source == "provisional":
                effort = "estimate" if p.deterministic else _config.SETTINGS.effort
                d = self._plan(p, effort, recurring=True)
                if d.source != "pending":
                    self._remember(p.key(), d)
            return d

    def peek(self, p):
        """The decision for ``p`` if known (memory, disk), else the model's; plans nothing."""
        d = self.memory.get(p.key())
        if d is not None:
            return d
        with self.lock:
            return self._plan(p, "wisdom_only")

    def forget(self, file=False):
        """Forget every decision made or loaded by this process; with ``file``,
        also what the wisdom file holds now (not what is stored later)."""
        with self.lock:
            self.memory.clear()
            self.generation += 1
            self.pending.clear()
            self._disk = {} if file else None
            self._seen = _store.signature() if file else None

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
        recorded = self.watches(d)
        try:
            t0 = self.timer()
            out = self.invoke(d.candidate, p, operands)
            if recorded is not None:
                self.observe(p, d, self.timer() - t0, recorded)
        except guards.NonFinite:
            raise  # not a failure: the data is for the direct family (the engine's guard)
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
        """The wisdom file's decisions, read on first use."""
        if self._disk is None:
            self._disk = {}
            self._absorb(*_store.read())
        return self._disk

    def _reread(self):
        """Read the wisdom file again if another process changed it since this
        one last read it (unchanged: one ``stat``)."""
        disk = self.disk()
        sig = _store.signature()
        if sig is not None and sig != self._seen:
            self.stats["rereads"] += 1
            self._absorb(*_store.read())
        return disk

    def _absorb(self, decisions, fftw, sig):
        self._seen = sig
        if decisions:
            self._add(decisions)
        if fftw is not None:
            try:
                _fftw.import_wisdom(fftw)
            except ValueError:
                _store._warn_once(("fftw",), "stored FFTW wisdom is malformed; ignored")

    def _add(self, decisions):
        """Add stored decisions to this process's view of the file, which keeps
        the file's bound (``max_keys``, the oldest go first)."""
        disk = self._disk
        disk.update(decisions)
        for k in list(disk)[:max(0, len(disk) - _config.SETTINGS.max_keys)]:
            del disk[k]

    def _stored(self, p, est, disk):
        """The decision for ``p`` in ``disk`` (None if absent or naming an unknown candidate)."""
        rec = disk.get(p.keystr())
        if rec is None or rec.get("chosen") not in est:
            return None
        self.stats["disk"] += 1
        timings = {k: (math.inf if v is None else v) for k, v in rec.get("timings", {}).items()}
        return Decision(self.registry.get(rec["chosen"]), "disk", est, timings)

    def _plan(self, p, effort, exhaustive=False, recurring=False):
        """The decision for ``p``: stored, the model's, provisional or measured.

        The model decides alone when it is sure: one candidate left after
        pruning (that FFTW cannot improve by measuring), a problem too small
        to be worth timing, or an effort that never times. Otherwise the key
        is unsure: its first call runs the model's pick ('provisional') and
        the key is measured when it recurs (``measure_on``), where measuring
        pays back; a key with one FFT candidate is then planned by FFTW at
        the planner's effort.
        """
        self.disk()  # also imports the stored FFTW wisdom, for keys decided without it
        cands = self.registry.supporting(p)
        est = {c.id: self.estimate(c, p) for c in cands}
        order = sorted(cands, key=lambda c: est[c.id])
        by_model = order[0]
        drifted = recurring and p.key() in self.remeasured
        d = None if exhaustive or drifted else self._stored(p, est, self.disk())
        if d is not None:
            return d
        if not exhaustive and (effort in ("estimate", "wisdom_only")
                               or est[by_model.id] < _config.SETTINGS.min_measure):
            return Decision(by_model, "estimate", est)
        if not exhaustive and effort != "exhaustive":
            order = [c for c in order if est[c.id] <= _config.SETTINGS.prune * est[by_model.id]]
        if len(order) == 1 and by_model.family != "fft":
            return Decision(by_model, "estimate", est)
        if not (exhaustive or recurring) and _config.SETTINGS.measure_on > 1:
            return Decision(by_model, "provisional", est, calls=1)
        if exhaustive:  # asked to time everything (choose_conv_method(measure=True))
            d = self._measure(p, order, est, by_model, exhaustive)
            self._persist(p, d)
            return d
        # Measure once per machine: another process may have stored this key
        # since we last read the file, or may be measuring it right now.
        d = None if drifted else self._stored(p, est, self._reread())
        if d is not None:
            return d
        claim = _store.claim(p.keystr())
        if claim is None:
            return self._wait(p, by_model, est)
        with claim:
            # it may have been stored between our read and our claim (its
            # measurer stores before releasing): read once more
            d = None if drifted else self._stored(p, est, self._reread())
            if d is None:
                d = self._measure(p, order, est, by_model, exhaustive)
                self._persist(p, d)  # before the claim is released
        return d

    def _wait(self, p, by_model, est):
        """Another process measures ``p``: the model's pick meanwhile ('pending'),
        and a look (``_plan`` again) after ``poll`` seconds, then 2x, 4x ...
        apart (at most 1 s: a busy file is not parsed at every call); after
        ``wait`` seconds the model's pick becomes this process's decision.
        A measurer that dies releases its claim: the next look takes it over."""
        key = p.key()
        now = self.clock()
        pend = self.pending.get(key)
        if pend is None:
            pend = self.pending[key] = _Pending(Decision(by_model, "pending", est), now + self.wait)
        if now >= pend.until:
            del self.pending[key]
            return Decision(by_model, "estimate", est)
        pend.next = now + min(self.poll * 2 ** pend.looks, 1.0)
        pend.looks += 1
        return pend.decision

    def _measure(self, p, order, est, by_model, exhaustive):
        """Time the candidates ``order`` on scratch operands; the decision.

        First each candidate, in the model's order, is warmed up (numba
        compilation, FFTW planning at the planner's effort: never counted) and
        timed once; a slow candidate predicted far behind the best time so
        far is skipped (W2's direct path: 0.8 s a call). Then the survivors
        are timed in interleaved batches (A B A B ...: each batch lasts about
        ``batch`` seconds, so they see the same noise; each after one untimed
        call, which absorbs the switch from the other candidate's threads),
        ``repeats`` rounds within the budget, and each keeps its minimum. A reference loop timed
        before and after records the machine's state with the decision.
        """
        ops = p.operands(np.random.default_rng(0))
        budget = _config.SETTINGS.budget * (4 if exhaustive else 1)
        effort = "exhaustive" if exhaustive else _config.SETTINGS.effort
        if effort not in ("measure", "exhaustive"):
            effort = "measure"
        prune = math.inf if effort == "exhaustive" else _config.SETTINGS.prune
        ref0 = self.reference()
        spent = 0.0          # seconds of timed calls (warm-ups are not counted)
        timings, errors, fns = {}, {}, {}
        plans = {}           # FFTW plans (this thread's) each candidate used
        for c in order:
            best = min(timings.values(), default=math.inf)
            if timings and spent > budget:
                break
            if est[c.id] > max(SLOW, prune * best):
                continue
            fn = fns[c.id] = (lambda c=c: self.invoke(c, p, ops))
            try:
                with _fftw.planning(effort, max(0.05, (budget - spent) / 4)), _trace.muted(), \
                        _fftw.touching() as plans[c.id]:
                    fn()                                  # warm-up: compile, plan
                    t0 = self.timer()
                    fn()
                    timings[c.id] = max(self.timer() - t0, 1e-9)
                spent += timings[c.id]
                self.stats["measured"] += 1
            except Exception as e:  # noqa: BLE001 - a failing candidate loses
                timings[c.id] = math.inf
                errors[c.id] = f"{type(e).__name__}: {e}"
        best = min(timings.values())
        alive = [cid for cid, t in timings.items() if t <= prune * best and not math.isinf(t)]
        number = {cid: max(1, min(10_000, int(self.batch / timings[cid]))) for cid in alive}
        for _ in range(self.repeats):
            cost = sum(timings[cid] * number[cid] for cid in alive)
            if spent + cost > budget:
                break
            for cid in alive:
                with _fftw.planning(effort, 0.05), _trace.muted():
                    # one untimed call first: the switch from the previous
                    # batch's candidate (FFTW's threads, then numba's) cost a
                    # parallel kernel's next call 2-4 ms here, 20x its time;
                    # a key run again and again never pays it
                    fns[cid]()
                    t0 = self.timer()
                    for _ in range(number[cid]):
                        fns[cid]()
                    dt = self.timer() - t0
                spent += dt
                timings[cid] = min(timings[cid], dt / number[cid])
        best = min(timings, key=timings.get)
        chosen = by_model.id if by_model.id in timings else best
        if timings[best] * _config.SETTINGS.margin < timings.get(chosen, math.inf):
            chosen = best
        if math.isinf(timings.get(chosen, math.inf)):
            chosen = by_model.id
        # the losers' plans and buffers (scratch-sized: up to the plan cache's
        # bound per thread) would otherwise stay cached, unused
        keep = plans.get(chosen, set())
        _fftw.evict(set().union(*plans.values()) - keep)
        self.stats["measured_keys"] += 1
        machine = {"ref_before": ref0, "ref_after": self.reference()}
        return Decision(self.registry.get(chosen), "measured", est, timings, errors, machine)

    #: a numpy loop timed as the machine's state (seconds per run, minimum of 3)
    _REF = np.linspace(0.0, 1.0, 20_000)

    def reference(self):
        """Seconds of a fixed single-threaded loop (~0.1 ms): larger than usual
        when the machine is busy. The calmest value seen is kept as ``calm``."""
        t = math.inf
        for _ in range(3):
            t0 = self.timer()
            np.sin(self._REF)
            t = min(t, self.timer() - t0)
        self.calm = min(getattr(self, "calm", math.inf), t)
        return t

    #: observed times this far (either way) from the recorded one are a drift
    DRIFT = 2.0
    #: consecutive drifting calls that trigger a re-measure
    DRIFT_CALLS = 3
    #: recorded times below this are not watched (call overheads dominate)
    DRIFT_MIN = 1e-3

    def watches(self, d):
        """The recorded seconds of ``d``'s candidate, if its calls are watched for drift."""
        if d.source not in ("measured", "disk"):
            return None
        t = d.timings.get(d.chosen)
        return t if t is not None and self.DRIFT_MIN <= t < math.inf else None

    def observe(self, p, d, seconds, recorded):
        """A call of ``p`` ran ``d``'s candidate in ``seconds`` (recorded:
        ``recorded``). ``DRIFT_CALLS`` consecutive calls ``DRIFT`` times away
        from it (slower while the machine is calm, or faster) make the key be
        measured again at its next call: at most once per process."""
        ratio = seconds / recorded
        if 1.0 / self.DRIFT < ratio < self.DRIFT:
            d.drift = 0
            return
        if ratio >= self.DRIFT and self.reference() > 1.5 * self.calm:
            return   # the machine is busy now: not the decision's fault
        d.drift += 1
        key = p.key()
        if d.drift < self.DRIFT_CALLS or key in self.remeasured:
            return
        with self.lock:
            if self.memory.get(key) is d:
                self.remeasured.add(key)
                self.stats["remeasured"] += 1
                self._remember(key, Decision(d.candidate, "provisional", d.estimates,
                                             calls=_config.SETTINGS.measure_on, drift=-1))

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
            self._merge({p.keystr(): d.record()})

    def save(self):
        """Store this process's FFTW wisdom (and decisions), merged into the file's."""
        if _store.path() is None:
            _fftw.mark_saved()   # nothing to store it in
            return
        with self.lock:
            self._merge({})

    def _merge(self, new):
        self.disk()
        self._add(new)
        # read-merge-write under the inter-process lock: what others stored
        # meanwhile is kept, and comes back to us (we have read it)
        merged, sig = _store.merge(new, _config.SETTINGS.max_keys)
        if merged is not None:
            self._add(merged)
            self._seen = sig


PLANNER = Planner()
_forced = _config.local(id=None)


def forcing():
    """Whether this thread runs inside ``force(...)``."""
    return _forced.id is not None


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
        self.prev = _forced.id
        _forced.id = self.cid
        return self

    def __exit__(self, *exc):
        _forced.id = self.prev


def planner_stats():
    """Counters of this process's planner.

    Returns
    -------
    dict
        ``'measured'``: candidate timings made by this process;
        ``'measured_keys'``: keys this process measured; ``'planned'``: keys
        planned (a decision made or loaded); ``'hits'``: calls answered from
        memory; ``'disk'``: decisions loaded from the wisdom file;
        ``'waited'``: calls answered with the cost model's pick while another
        process measured their key; ``'rereads'``: times the wisdom file was
        read again because another process had changed it; ``'failures'``:
        candidates that failed at run time and were replaced;
        ``'remeasured'``: keys measured again because their calls drifted far
        from the recorded time.
    """
    s = PLANNER.stats
    return {k: s[k] for k in ("measured", "measured_keys", "planned", "hits", "disk",
                              "waited", "rereads", "failures", "remeasured")}
