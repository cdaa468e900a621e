"""The one place where njit options are set.

No fast-math flags: with ``nnan``/``ninf`` LLVM may assume there are no
NaN/inf, which would break the non-finite pattern of direct convolution;
``reassoc`` would reorder sums; even ``contract`` alone is not used, since
LLVM fuses a multiply-add only when both land in one basic block, so the
same sum could round differently in two loops. Kernels that want fused
multiply-adds call them explicitly (``_fma.madd``, ``tile``'s intrinsic).
Two kernel modules (``filter_float``'s float32 passes and
``nn_winograd4``'s transforms) use ``SERIAL_FMA``/``PARALLEL_FMA``:
``contract`` only, each ``acc + a * b`` written as one statement, whose
multiply and add always share a block; their tests check that the bits do
not depend on the thread count or the chunk.
Every kernel releases the GIL.
numba's cache checks the kernel modules' own files, not this one: after
changing an option here, touch the kernel modules (or clear their
``__pycache__``) so that no kernel compiled with the old options is reused.
Caching is switched on after decoration by ``enable_cache`` and only where a
writable cache directory exists (a read-only install must still import).
"""
import os
import warnings

import numba

PARALLEL = dict(nogil=True, parallel=True, cache=False, error_model="numpy")
SERIAL = dict(nogil=True, parallel=False, cache=False, error_model="numpy")
PARALLEL_FMA = dict(PARALLEL, fastmath={"contract"})
SERIAL_FMA = dict(SERIAL, fastmath={"contract"})

_cache_state = {"ok": None}

#: every kernel dispatcher of jitconv, for ``jitconv._launch``'s recovery from
#: a corrupt on-disk cache (it flushes their cache indexes)
KERNELS = []


def enable_cache(*dispatchers):
    """Register ``dispatchers`` and turn on their on-disk cache if a locator works.

    numba raises ``RuntimeError: cannot cache function ... no locator available``
    when neither the package directory, ``NUMBA_CACHE_DIR`` nor the user cache
    directory is writable; we then run uncached and warn once.
    """
    KERNELS.extend(dispatchers)
    if os.environ.get("JITCONV_NUMBA_CACHE", "1") == "0":
        return
    for d in dispatchers:
        try:
            d.enable_caching()
        except Exception as exc:  # RuntimeError (no locator) or OSError
            if _cache_state["ok"] is not False:
                warnings.warn(f"jitconv: numba on-disk cache disabled ({exc}); "
                              "kernels will be compiled in every process",
                              RuntimeWarning, stacklevel=3)
            _cache_state["ok"] = False
            return
    _cache_state["ok"] = True
