"""Processes of one machine share what they measure: no decision lost, a key
measured once, a killed lock holder leaves no stale lock.

Multi-process tests run fresh interpreters started together behind file
gates (the parent holds an exclusive lock, the children wait for a shared
one): no sleeps, every wait is on a lock or a pipe and bounded by a timeout.
Measuring happens but costs little (min_measure=0, every candidate timed
on a key's first call: measure_on=1,
short timing batches). The in-process tests inject the planner's clock.
"""
import errno
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from jitconv import _config, _filelock, _planner, _store
from test_planner import Fake, problem  # noqa: F401 - the fake fixture comes along
from test_planner import fake  # noqa: F401

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fcntl gates and SIGKILL")

#: every child: cheap measuring that still happens, and a look at the wisdom
#: file at every call of a pending key (the test decides when, not a clock)
PRELUDE = r"""
import fcntl, json, os, sys
import numpy as np
import jitconv
from jitconv import _planner
jitconv.set_planner(effort="measure", min_measure=0.0, prune=1e9, measure_on=1)
_planner.PLANNER.batch = 2e-4
_planner.PLANNER.poll = 0.0

def say(tag):
    print("@" + tag, flush=True)

def gate(path):
    # wait until the parent releases its exclusive lock on the gate file
    with open(path, "rb") as f:
        fcntl.lockf(f, fcntl.LOCK_SH)

def warm_up():
    # compile (or load from numba's cache) every candidate before the race
    for cid in ("direct-serial", "direct-parallel", "fft", "oa"):
        with jitconv.force(cid):
            jitconv.convolve(np.ones(64), np.ones(9))

def measured_keys():
    return [repr(k) for k, d in _planner.PLANNER.memory.items() if d.source == "measured"]

def report(**extra):
    print("=" + json.dumps(dict(stats=jitconv.planner_stats(), **extra)), flush=True)
"""


class Gate:
    """Closed while the parent holds an exclusive lock on a file; ``open()`` lets
    every child waiting in ``gate(path)`` through at once."""

    def __init__(self, path):
        import fcntl
        self.path = str(path)
        self._f = open(self.path, "wb")
        fcntl.lockf(self._f, fcntl.LOCK_EX)

    def open(self):
        self._f.close()  # drops the lock


class Children:
    """Fresh interpreters running ``PRELUDE + code``; their ``@tag`` lines are
    collected by reader threads, their last ``=json`` line is the result."""

    def __init__(self, code, args, env):
        self.lines = queue.Queue()
        self.ended = set()
        self.out = [[] for _ in args]
        self.procs = []
        for i, a in enumerate(args):
            p = subprocess.Popen([sys.executable, "-c", PRELUDE + code] + [str(x) for x in a],
                                 env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
            threading.Thread(target=self._read, args=(i, p), daemon=True).start()

    def _read(self, i, p):
        for line in p.stdout:
            self.out[i].append(line)
            if line.startswith("@"):
                self.lines.put((i, line[1:].strip()))
        self.lines.put((i, None))  # end of output

    def expect(self, count, tags, timeout=300):
        """The next ``count`` tag lines (child index, tag), each in ``tags``."""
        got = []
        while len(got) < count:
            try:
                i, tag = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"children silent for {timeout} s; got {got}")
            if tag is None:
                rc = self.procs[i].wait(timeout=timeout)
                if rc != 0 or not any(ln.startswith("=") for ln in self.out[i]):
                    pytest.fail(f"child {i} ended (rc {rc}): {self.procs[i].stderr.read()[-3000:]}")
                self.ended.add(i)
                if len(self.ended) == len(self.procs):
                    pytest.fail(f"every child ended; expected {count} of {tags}, got {got}")
                continue
            assert tag in tags, tag
            got.append((i, tag))
        return got

    def results(self, timeout=300):
        res = []
        for i, p in enumerate(self.procs):
            rc = p.wait(timeout=timeout)
            err = p.stderr.read()
            assert rc == 0, err[-3000:]
            lines = [ln for ln in self.out[i] if ln.startswith("=")]
            assert lines, err[-3000:]
            res.append((json.loads(lines[-1][1:]), err))
        return res

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _decisions(path):
    decisions, fftw = _store.load(str(path))
    assert decisions is not None and fftw is not None, "the wisdom file is not valid"
    return decisions


@posix
@pytest.mark.slow
def test_eight_processes_twenty_keys_lose_no_decision(tmp_path, child_env):
    """8 processes x 20 new keys each, started together: all 160 decisions on disk."""
    path = tmp_path / "w.json"
    code = r"""
s = int(sys.argv[1])
warm_up()
say("ready")
gate(sys.argv[2])
for i in range(20):
    n = 300 + 7 * (20 * s + i)   # 160 keys, distinct over the processes
    jitconv.convolve(np.ones(n), np.ones(9))
report(keys=measured_keys())
"""
    start = Gate(tmp_path / "start")
    kids = Children(code, [(s, start.path) for s in range(8)], child_env(JITCONV_WISDOM=str(path)))
    try:
        kids.expect(8, {"ready"})
        start.open()
        res = kids.results()
    finally:
        kids.kill_all()
    keys = [k for r, _ in res for k in r["keys"]]
    assert all(r["stats"]["measured_keys"] == 20 for r, _ in res)
    assert len(set(keys)) == 160
    decisions = _decisions(path)
    assert set(keys) <= set(decisions) and len(decisions) == 160
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


@posix
@pytest.mark.slow
def test_eight_processes_meeting_one_new_key_measure_it_once(tmp_path, child_env):
    """The measurer is held at its start until the 7 others have answered their
    call (with the model's pick): exactly one measures; on their next call the
    others take its stored decision. JITCONV_WISDOM names a shared directory."""
    shared = tmp_path / "shared"
    shared.mkdir()
    code = r"""
warm_up()
measure = _planner.Planner._measure
def held_measure(self, *a, **k):
    say("measuring")
    gate(sys.argv[2])   # until every other process has answered its call
    return measure(self, *a, **k)
_planner.Planner._measure = held_measure
say("ready")
gate(sys.argv[1])
a, k = np.arange(3001.0) % 7, np.arange(33.0) - 16
ref = np.convolve(a, k)
y = jitconv.convolve(a, k)
first = jitconv.planner_stats()
assert np.allclose(y, ref), "the model's pick gave a wrong answer"
say("answered")
gate(sys.argv[3])
assert np.allclose(jitconv.convolve(a, k), ref)
e = jitconv.explain(a, k)
report(first=first, chosen=e["chosen"], decision=e["decided_by"])
"""
    gates = [Gate(tmp_path / g) for g in ("start", "measure", "again")]
    kids = Children(code, [[g.path for g in gates]] * 8,
                    child_env(JITCONV_WISDOM=str(shared) + os.sep))
    try:
        kids.expect(8, {"ready"})
        gates[0].open()
        got = kids.expect(8, {"measuring", "answered"})
        assert sum(tag == "measuring" for _, tag in got) == 1, got
        gates[1].open()  # the measurer measures, stores, answers
        kids.expect(1, {"answered"})
        gates[2].open()
        res = [r for r, _ in kids.results()]
    finally:
        kids.kill_all()
    assert sum(r["stats"]["measured_keys"] for r in res) == 1
    assert sum(r["first"]["waited"] for r in res) == 7  # the model's pick meanwhile
    assert sorted(r["decision"] for r in res) == ["disk"] * 7 + ["measured"]
    assert len({r["chosen"] for r in res}) == 1
    assert len(_decisions(shared / "wisdom.json")) == 1


@posix
@pytest.mark.slow
def test_process_killed_holding_the_lock(tmp_path, child_env):
    """A writer SIGKILLed inside its merge (lock held, temporary file half
    written): the processes waiting for the lock carry on, the file stays
    valid, nothing stored is lost and the stale temporary file is removed."""
    path = tmp_path / "w.json"
    holder = r"""
jitconv.convolve(np.ones(700), np.ones(9))       # stored normally
def stuck(fd):
    say("holding")
    sys.stdin.read()                              # killed here, lock held
jitconv._store.os.fsync = stuck
jitconv.convolve(np.ones(701), np.ones(9))
"""
    waiter = r"""
import time
from jitconv import _filelock, _store
_store.LOCK_TIMEOUT = 600   # never give up: the test's timeout is the bound

class Clock:                # the lock's clock; says when it first waits
    monotonic = staticmethod(time.monotonic)
    said = False
    @classmethod
    def sleep(cls, s):
        if not cls.said:
            cls.said = True
            say("waiting")
        time.sleep(s)
_filelock.time = Clock
s = int(sys.argv[1])
for i in range(3):
    jitconv.convolve(np.ones(800 + 10 * s + i), np.ones(9))
report(keys=measured_keys())
"""
    env = child_env(JITCONV_WISDOM=str(path))
    h = Children(holder, [()], env)
    try:
        h.expect(1, {"holding"})
        assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
        first = set(_decisions(path))
        assert len(first) == 1
        kids = Children(waiter, [(s,) for s in range(3)], env)
        try:
            kids.expect(3, {"waiting"})  # all three blocked on the held lock
            os.kill(h.procs[0].pid, signal.SIGKILL)
            assert h.procs[0].wait(timeout=60) == -signal.SIGKILL
            res = kids.results(timeout=120)
        finally:
            kids.kill_all()
    finally:
        h.kill_all()
    keys = {k for r, _ in res for k in r["keys"]}
    assert len(keys) == 9
    assert not any("without it" in err for _, err in res)  # the lock was taken, not skipped
    decisions = _decisions(path)
    assert first | keys == set(decisions)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


@posix
def test_the_kernel_releases_a_dead_holders_lock(tmp_path, child_env):
    """Record locks exclude other processes and vanish with their holder: the
    stale-lock case needs no pid file (and threads of one process exclude
    each other through the lock object)."""
    lf = _filelock.LockFile(str(tmp_path / "x.lock"))
    code = r"""
import sys
from jitconv import _filelock
lf = _filelock.LockFile(sys.argv[1])
print(lf.try_acquire(5), lf.try_acquire(6), flush=True)
sys.stdin.read()
"""
    p = subprocess.Popen([sys.executable, "-c", code, lf.path], env=child_env(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().split() == ["True", "True"]
        assert not lf.try_acquire(5) and lf.try_acquire(7)
        assert not lf.try_acquire(7)  # another thread of this process holds it
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
        assert lf.try_acquire(5) and lf.try_acquire(6)
    finally:
        p.kill()
        p.wait()
        for off in (5, 6, 7):
            lf.release(off)


# ------------------------------------------------------------- in process

@pytest.fixture
def shared(fake, monkeypatch, tmp_path):
    """``shared(*candidates)``: a fake-timed planner on a wisdom file in tmp_path,
    and a fake clock for waiting."""
    monkeypatch.setenv("JITCONV_WISDOM", str(tmp_path / "w.json"))
    _store._warned.clear()

    def make(*cs):
        pl = fake(*cs)
        pl.clock = Clock()
        return pl
    return make


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_wisdom_may_name_a_directory(tmp_path, monkeypatch):
    d = tmp_path / "shared"
    monkeypatch.setenv("JITCONV_WISDOM", str(d) + os.sep)  # need not exist yet
    assert _store.path() == str(d / "wisdom.json")
    d.mkdir()
    monkeypatch.setenv("JITCONV_WISDOM", str(d))
    assert _store.path() == str(d / "wisdom.json")
    monkeypatch.setenv("JITCONV_WISDOM", str(d / "mine.json"))
    assert _store.path() == str(d / "mine.json")


def test_a_miss_rereads_the_file_only_when_it_changed(shared):
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)
    one, other = shared(a, b), shared(a, b)
    one.choose(problem(n=1000))                 # reads the file, measures, stores
    assert one.stats["measured_keys"] == 1 and one.stats["rereads"] == 0
    d, _ = other.choose(problem(n=2000))        # another process stores a key
    assert d.source == "measured"
    d, _ = one.choose(problem(n=2000))
    assert d.source == "disk" and d.chosen == "b"
    assert one.stats["rereads"] == 1 and one.stats["measured_keys"] == 1
    one.choose(problem(n=3000))                 # the file changed only by its own write
    assert one.stats["rereads"] == 1 and one.stats["measured_keys"] == 2


def test_a_key_measured_elsewhere_gets_the_models_pick_then_the_stored_one(shared, monkeypatch):
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)   # the model picks a; b is faster
    pl = shared(a, b)
    p = problem(n=1000)
    monkeypatch.setattr(_store, "claim", lambda key, path=None: None)  # another measures
    d, hit = pl.choose(p)
    assert (d.source, d.chosen, hit) == ("pending", "a", False)
    assert a.calls == b.calls == 0 and p.key() not in pl.memory
    # the other process stores its decision
    rec = {"chosen": "b", "estimates": {}, "timings": {"a": 2e-3, "b": 1e-3}}
    _store.merge({p.keystr(): rec}, 100)
    assert pl.choose(p)[0].source == "pending"  # looked a moment ago: not again yet
    pl.clock.now += pl.poll
    d, _ = pl.choose(p)
    assert (d.source, d.chosen) == ("disk", "b") and pl.choose(p) == (d, True)
    assert pl.stats["waited"] == 2 and pl.stats["measured"] == 0


def test_waiting_is_bounded_and_a_dead_measurer_is_taken_over(shared, monkeypatch):
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)
    pl = shared(a, b)
    p, q = problem(n=1000), problem(n=2000)
    real = _store.claim
    monkeypatch.setattr(_store, "claim", lambda key, path=None: None)
    assert pl.choose(p)[0].source == "pending"
    pl.clock.now += pl.wait  # its measurer is stuck: the model's pick stays
    d, _ = pl.choose(p)
    assert (d.source, d.chosen) == ("estimate", "a") and pl.choose(p) == (d, True)
    assert pl.choose(q)[0].source == "pending"
    monkeypatch.setattr(_store, "claim", real)  # its measurer died: the claim is free
    pl.clock.now += pl.poll
    d, _ = pl.choose(q)
    assert (d.source, d.chosen) == ("measured", "b") and pl.stats["measured_keys"] == 1
    assert q.keystr() in _decisions(_store.path())


def test_without_working_locks_one_warning_then_each_process_on_its_own(shared, monkeypatch):
    def no_locks(*a, **k):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(_filelock.fcntl, "lockf", no_locks)
    a, b = Fake("a", 1e-3, 2e-3), Fake("b", 2e-3, 1e-3)
    pl = shared(a, b)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in (1000, 2000, 3000):
            assert pl.choose(problem(n=n))[0].source == "measured"
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 1 and "file locking does not work" in msgs[0], msgs
    assert len(_decisions(_store.path())) == 3  # still stored (best effort)
    _store._no_locking.discard(_store.path())


def test_merge_keeps_what_others_stored(tmp_path, monkeypatch):
    """Two writers each holding a stale view: the second keeps the first's keys."""
    path = str(tmp_path / "w.json")
    rec = {"chosen": "x", "estimates": {}, "timings": {}}
    _store.merge({"k2": rec}, 100, path)
    _store.merge({"k1": rec}, 100, path)
    assert list(_decisions(path)) == ["k2", "k1"]
    _store.merge({"k2": rec, "k3": rec}, 2, path)  # bounded: the oldest go first
    assert list(_decisions(path)) == ["k2", "k3"]
