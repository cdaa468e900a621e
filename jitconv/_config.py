"""Defaults and ``JITCONV_*`` environment variables, read in one place.

This module holds settings and nothing that acts on them: the planner
reads ``SETTINGS``, the launcher reads ``CPUS`` and ``default_workers()``.
"""
import os
import threading

#: jitconv's version (also ``jitconv.__version__``); part of the wisdom fingerprint
VERSION = "0.1.0"


def _available_cpus():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return default


CPUS = _available_cpus()
_DEFAULT_WORKERS = max(1, min(_env_int("JITCONV_WORKERS", CPUS), CPUS))

#: Problems whose multiply-add count is below this run on the serial kernel:
#: waking an OpenMP team costs more than the work (and causes latency spikes).
SERIAL_WORK = _env_int("JITCONV_SERIAL_WORK", 200_000)

def _env_float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


EFFORTS = ("estimate", "measure", "exhaustive", "wisdom_only")


class PlannerSettings:
    """Planner knobs (``jitconv.set_planner`` changes them; env vars set the defaults).

    Attributes
    ----------
    effort : str
        'estimate' (cost model only), 'measure' (default: time the candidates
        the model keeps), 'exhaustive' (time every candidate), 'wisdom_only'
        (never time: stored decisions, else the model). ``JITCONV_PLANNER_EFFORT``.
    budget : float
        Seconds of planning allowed per problem key (``JITCONV_PLANNING_BUDGET``).
    prune : float
        Candidates whose estimate is within this factor of the best are timed.
    margin : float
        A measured candidate overrules the model's pick only when faster by this factor.
    min_measure : float
        Problems whose best estimate is below this (seconds) are decided by
        the model: timing them costs more than any pick could save.
    measure_on : int
        The call of a key at which the planner measures it when the model is
        unsure (default 2: the first call runs the model's pick with
        FFTW_ESTIMATE plans; the key is measured when it recurs, where
        measuring can pay back). 1 measures on the first call.
        ``JITCONV_MEASURE_ON``.
    memory_budget : int
        Bytes the FFT paths may allocate (~5x the output at their peak);
        beyond it they are not candidates. ``JITCONV_MEMORY_BUDGET``.
    deterministic : bool
        Bitwise reproducible results: no timing (the model decides from
        shapes alone), FFTW_ESTIMATE plans, one FFTW thread.
        ``JITCONV_DETERMINISTIC=1``.
    max_keys : int
        Decisions kept in memory (least recently planned go first).
    """

    def __init__(self):
        effort = os.environ.get("JITCONV_PLANNER_EFFORT", "measure")
        self.effort = effort if effort in EFFORTS else "measure"
        self.budget = _env_float("JITCONV_PLANNING_BUDGET", 1.0)
        self.prune = _env_float("JITCONV_PRUNE_FACTOR", 4.0)
        self.margin = _env_float("JITCONV_MARGIN", 1.1)
        self.min_measure = _env_float("JITCONV_MIN_MEASURE", 150e-6)
        self.measure_on = max(1, _env_int("JITCONV_MEASURE_ON", 2))
        self.memory_budget = _env_int("JITCONV_MEMORY_BUDGET", _default_memory_budget())
        self.deterministic = os.environ.get("JITCONV_DETERMINISTIC", "0") not in ("", "0", "false")
        self.max_keys = _env_int("JITCONV_MAX_KEYS", 20_000)


def _default_memory_budget():
    """Half the memory available now (MemAvailable), at least 256 MiB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return max(256 * 2**20, int(line.split()[1]) * 1024 // 2)
    except OSError:
        pass
    return 4 * 2**30


SETTINGS = PlannerSettings()

#: FFTW transforms smaller than this many elements (the whole batch of
#: transforms of one call) are planned with FFTW_ESTIMATE even when
#: measuring: their MEASURE plans gain nothing.
FFTW_MEASURE_MIN = _env_int("JITCONV_FFTW_MEASURE_MIN", 4096)

#: In a key's first call, a transform this process never ran (and has no
#: FFTW wisdom for) runs on NumPy's pocketfft; FFTW plans it when it recurs
#: (``_fftw.first_use``). ``JITCONV_FIRST_USE_NUMPY=0``: FFTW_ESTIMATE plans
#: at once.
FIRST_USE_NUMPY = _env_int("JITCONV_FIRST_USE_NUMPY", 1) != 0

#: Bytes of cached FFTW plans (with their buffers) kept per thread, and how
#: many plans (FFTW's own plan data is not counted in the bytes).
PLAN_CACHE_BYTES = _env_int("JITCONV_PLAN_CACHE_BYTES", 256 * 2**20)
PLAN_CACHE_PLANS = _env_int("JITCONV_PLAN_CACHE_PLANS", 512)

def local(**defaults):
    """A ``threading.local`` whose attributes read as ``defaults`` in a thread
    that never set them: a plain class lookup, where ``getattr(local, name,
    default)`` raises and catches an AttributeError (~0.3 us on every call)."""
    return type("Local", (threading.local,), defaults)()


_local = local(workers=None)


def default_workers():
    """Thread count for calls that do not pass ``workers``.

    ``JITCONV_WORKERS`` overrides it; ``jitconv.set_workers`` changes it for
    the calling thread only (``thread_workers``).
    """
    w = _local.workers
    if w is not None:
        return w
    return _DEFAULT_WORKERS


def thread_workers(workers):
    """Set this thread's default thread count (None: back to the process default);
    returns the previous value."""
    prev = _local.workers
    _local.workers = workers
    return prev
