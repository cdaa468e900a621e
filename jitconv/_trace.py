"""Which algorithm ran: a cheap, thread-local record that tests use as proof.

``record(name)`` is called by every executor; it costs one attribute lookup
when nobody listens.
"""
import threading
from contextlib import contextmanager

_local = threading.local()


def record(name):
    log = getattr(_local, "log", None)
    if log is not None and not getattr(_local, "muted", False):
        log.append(name)


@contextmanager
def muted():
    """Runs inside the block (the planner's timing runs) are not recorded."""
    prev = getattr(_local, "muted", False)
    _local.muted = True
    try:
        yield
    finally:
        _local.muted = prev


@contextmanager
def paths():
    """Collect the names of the algorithms run by this thread inside the block.

    Examples
    --------
    >>> import numpy as np, jitconv
    >>> with jitconv._trace.paths() as ran:
    ...     _ = jitconv.convolve(np.ones(5), np.ones(3), method='direct')
    >>> ran
    ['direct-serial']
    """
    prev = getattr(_local, "log", None)
    log = []
    _local.log = log
    try:
        yield log
    finally:
        _local.log = prev
