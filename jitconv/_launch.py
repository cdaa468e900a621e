"""Running numba kernels safely: the process thread budget, parallel launch,
fork hooks and recovery from a corrupt on-disk numba cache.

Every kernel call of jitconv goes through ``call`` (serial kernels) or
``launch`` (a parallel kernel and its serial twin). Three hazards are handled
here and nowhere else:

- **oversubscription and workqueue aborts**: parallel regions reserve threads
  from one process-wide budget (``THREADS``); with fewer than two free the
  serial twin runs, so Python threads calling jitconv at once never run more
  kernel threads than CPUs, and under numba's ``workqueue`` layer (which
  aborts the process on concurrent parallel launches) one parallel region at
  most runs at a time;
- **fork after GNU OpenMP**: a child forked after the parent ran a parallel
  region under ``omp`` would abort on its first parallel launch; the fork hook
  sets ``FORKED_AFTER_OMP`` and such a child runs the serial twins;
- **a corrupt numba cache** (a killed writer, a full disk): ``call`` flushes
  the cache indexes of every kernel, warns and compiles afresh, once.

The one thread knob (``workers=``, ``jitconv.set_workers``) also reaches BLAS:
``blas_threads`` sets OpenBLAS's (or MKL's) thread count through threadpoolctl
around every candidate that calls it.
"""
import os
import threading
import warnings

import numba

from . import _config, _fftw, _trace
from .kernels._options import KERNELS

#: Set in a child forked after the parent ran a parallel kernel under GNU
#: OpenMP: its first parallel launch would abort the child, so run serially.
FORKED_AFTER_OMP = False


def readonly(a):
    """A read-only view: a kernel sees one numba type whether or not the
    caller's array was writeable (numba specialises on the flag)."""
    v = a.view()
    v.setflags(write=False)   # (setflags: 0.13 us cheaper than flags.writeable)
    return v


class Threads:
    """Kernel threads in use by parallel regions of this process.

    Each parallel call reserves its threads; when fewer than two are free it
    runs the serial kernel instead (see the module docstring).
    """

    def __init__(self, total):
        self.free = total
        self.active = 0
        self.lock = threading.Lock()
        self.layer = None  # numba's threading layer, known after the first launch
        self.first = threading.Lock()

    def take(self, n):
        with self.lock:
            if self.layer == "workqueue" and self.active:
                return 0
            k = min(n, self.free)
            if k < 2:
                return 0
            self.free -= k
            self.active += 1
            return k

    def give(self, k):
        with self.lock:
            self.free += k
            self.active -= 1


THREADS = Threads(_config.CPUS)


def parallel_ok(workers):
    """Whether a parallel kernel may run at all with ``workers`` threads."""
    return workers > 1 and not FORKED_AFTER_OMP


def launch(par, ser, args, workers, parallel=True, trace=None, dynamic=False):
    """Run kernel ``par`` on up to ``workers`` threads, or its serial twin ``ser``.

    Threads come from the process-wide budget (``THREADS``); with fewer than
    two free, after a fork of an OpenMP parent, or when ``parallel`` is false,
    the serial twin runs. ``trace``: path name recorded as ``trace-serial`` /
    ``trace-parallel``. ``dynamic``: the parallel loop's iterations are handed
    out one at a time as threads finish them (numba's ``parallel_chunksize(1)``)
    instead of in one static share per thread: for loops of few, coarse tasks,
    where a thread slowed by another process would otherwise leave its share
    to finish alone.
    """
    k = 0
    if parallel and parallel_ok(workers):
        k = THREADS.take(min(workers, numba.config.NUMBA_NUM_THREADS))
    if k < 2:
        if trace:
            _trace.record(trace + "-serial")
        try:   # `call`, inlined: a small call's serial run is most of its time
            ser(*args)
        except Exception as exc:  # noqa: BLE001 - call() decides: recover or re-raise
            _recover(exc)
            ser(*args)
        return
    if trace:
        _trace.record(trace + "-parallel")
    prev = numba.get_num_threads()
    chunk = numba.set_parallel_chunksize(1) if dynamic else None
    try:
        numba.set_num_threads(k)
        if THREADS.layer is None:
            with THREADS.first:  # the layer starts once; learn which it is
                call(par, *args)
                THREADS.layer = numba.threading_layer()
        else:
            call(par, *args)
    finally:
        if chunk is not None:
            numba.set_parallel_chunksize(chunk)
        numba.set_num_threads(prev)
        THREADS.give(k)


_POOL = {"pool": None, "lock": threading.Lock()}


def _pool():
    with _POOL["lock"]:
        if _POOL["pool"] is None:
            from concurrent.futures import ThreadPoolExecutor
            _POOL["pool"] = ThreadPoolExecutor(max(1, _config.CPUS - 1),
                                               thread_name_prefix="jitconv")
        return _POOL["pool"]


def spread(fn, n, workers, trace=None):
    """``[fn(0), ..., fn(n - 1)]``, run on up to ``workers`` threads.

    For work that releases the GIL outside numba (FFTW transforms, large
    NumPy copies): the calling thread and ``k - 1`` threads of a process-wide
    pool take items in turn, where ``k`` threads come from the same budget
    as the parallel kernels (``THREADS``); with fewer than two free, or in a
    child forked after the parent used GNU OpenMP, the items run here, in
    order. Results keep their item's place, so a caller that combines them
    in order gets the same answer for any thread count. The first exception
    of an item is raised after every thread stopped. While the threads run,
    BLAS runs on one thread inside each item (the GEMM paths of
    ``jitconv.nn``: the items, not one BLAS call at a time, use the cores).
    """
    k = 0
    if n > 1 and parallel_ok(workers):
        k = THREADS.take(min(workers, n))
    if k < 2:
        if trace:
            _trace.record(trace + "-serial")
        return [fn(i) for i in range(n)]
    if trace:
        _trace.record(trace + "-parallel")
    results = [None] * n
    items = iter(range(n))
    take = threading.Lock()
    failed = []

    def work():
        while not failed:
            with take:
                i = next(items, None)
            if i is None:
                return
            try:
                results[i] = fn(i)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                failed.append(exc)
    try:
        # every thread runs its items' transforms through FFTW alike (a key's
        # first call would run this thread's new ones on NumPy: other bits)
        with blas_threads(1), _fftw.first_use(False):
            futures = [_pool().submit(work) for _ in range(k - 1)]
            work()
            for f in futures:
                f.result()
    finally:
        THREADS.give(k)
    if failed:
        raise failed[0]
    return results


def call(fn, *args):
    """Call a kernel; recover once from a corrupt on-disk numba cache.

    A truncated ``.nbc`` or garbage ``.nbi`` (a killed writer, a full disk)
    makes numba raise while loading (numba#10434): usually ``UnpicklingError``,
    but random bytes can unpickle into other errors. Inputs are validated
    before any kernel runs, so a kernel call has no other expected failure:
    drop the cache indexes, warn, compile afresh, retry once.
    """
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - see above; a second failure propagates
        _recover(exc)
        return fn(*args)


def _recover(exc):
    """After kernel failure ``exc``: drop numba's on-disk cache indexes and
    warn (the caller retries once), or re-raise ``exc`` when no cache exists."""
    caches = [d._cache for d in KERNELS if type(getattr(d, "_cache", None)).__name__
              not in ("NoneType", "NullCache")]
    if not caches:
        raise exc
    for cache in caches:
        try:
            cache.flush()
        except OSError:
            pass
    warnings.warn(f"jitconv: the numba cache was unreadable ({type(exc).__name__}: {exc}); "
                  "it was cleared and the kernels are compiled again", RuntimeWarning,
                  stacklevel=5)


_blas = {"libs": None}


def _blas_libs():
    """threadpoolctl controllers of numpy's BLAS (the one ``np.matmul`` calls; a
    wheel ships it in ``numpy.libs``), else of every BLAS loaded now."""
    if _blas["libs"] is None:
        import numpy
        from threadpoolctl import ThreadpoolController
        libs = ThreadpoolController().select(user_api="blas").lib_controllers
        home = os.path.dirname(os.path.dirname(numpy.__file__))
        mine = [lib for lib in libs if os.path.join(home, "numpy") in lib.filepath]
        _blas["libs"] = mine or libs
    return _blas["libs"]


class blas_threads:
    """Context manager: BLAS runs on ``workers`` threads inside the block.

    BLAS's thread count is process-wide: Python threads calling with different
    ``workers`` at once see each other's setting (the last one wins while both
    run). Costs ~2 us when the count changes, ~1 us when it does not.
    """

    def __init__(self, workers):
        self.workers = workers
        self.prev = []

    def __enter__(self):
        self.prev = []
        for lib in _blas_libs():
            n = lib.num_threads
            if n != self.workers:
                lib.set_num_threads(self.workers)
                self.prev.append((lib, n))
        return self

    def __exit__(self, *exc):
        for lib, n in self.prev:
            lib.set_num_threads(n)
        return False


def _after_fork_in_child():
    global FORKED_AFTER_OMP
    # the pool's threads do not exist in the child
    _POOL["pool"] = None
    _POOL["lock"] = threading.Lock()
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel ran in the parent: nothing to fear
        return
    if layer == "omp":
        FORKED_AFTER_OMP = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
