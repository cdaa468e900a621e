"""Defaults and ``JITCONV_*`` environment variables, read in one place."""
import os
import threading


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

#: Problems whose multiply-add count is below this run on the serial kernel:
#: waking an OpenMP team costs more than the work (and causes latency spikes).
SERIAL_WORK = _env_int("JITCONV_SERIAL_WORK", 200_000)

#: FFTW planner flag used when building plans. ESTIMATE keeps first calls cheap;
#: MEASURE is used with a time limit.
FFTW_EFFORT = os.environ.get("JITCONV_FFTW_EFFORT", "FFTW_ESTIMATE")
FFTW_TIMELIMIT = float(os.environ.get("JITCONV_FFTW_TIMELIMIT", "1.0"))

#: Bytes of cached FFTW plans (with their buffers) kept per thread.
PLAN_CACHE_BYTES = _env_int("JITCONV_PLAN_CACHE_BYTES", 256 * 2**20)

_local = threading.local()


def default_workers():
    """Thread count for calls that do not pass ``workers``.

    ``JITCONV_WORKERS`` overrides it; ``set_workers`` changes it for the calling
    thread only.
    """
    w = getattr(_local, "workers", None)
    if w is not None:
        return w
    return max(1, min(_env_int("JITCONV_WORKERS", CPUS), CPUS))


class set_workers:
    """Context manager: default thread count for jitconv calls made by this thread.

    Examples
    --------
    >>> import jitconv
    >>> with jitconv.set_workers(1):
    ...     pass
    """

    def __init__(self, workers):
        self.workers = check_workers(workers)
        self._prev = None

    def __enter__(self):
        self._prev = getattr(_local, "workers", None)
        _local.workers = self.workers
        return self

    def __exit__(self, *exc):
        _local.workers = self._prev
        return False


def check_workers(workers):
    """Normalise a ``workers`` argument like ``scipy.fft`` does (negative counts from the end)."""
    if workers is None:
        return default_workers()
    try:
        w = int(workers)
    except (TypeError, ValueError):
        raise TypeError(f"workers must be an integer, not {workers!r}") from None
    if w != workers:
        raise TypeError(f"workers must be an integer, not {workers!r}")
    if w == 0:
        raise ValueError("workers must not be zero")
    if w < 0:
        w = CPUS + 1 + w
        if w <= 0:
            raise ValueError(f"workers value out of range; got {workers}, must not be"
                             f" less than {-CPUS}")
    return min(w, CPUS)

#: Set in a child forked after the parent ran a parallel kernel under GNU
#: OpenMP: its first parallel launch would abort the child, so run serially.
FORKED_AFTER_OMP = False
