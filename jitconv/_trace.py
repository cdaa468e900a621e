"""Which algorithm ran: a cheap, thread-local record that tests use as proof.

``record(name)`` is called by every executor; it costs one attribute lookup
when nobody listens.
"""
from contextlib import contextmanager

from . import _config

# defaults a thread that never listened reads without an exception
# (``_config.local``: 0.45 -> 0.1 us per record, on every call)
_local = _config.local(log=None, muted=False)


def record(name):
    log = _local.log
    if log is not None and not _local.muted:
        log.append(name)


@contextmanager
def muted():
    """Runs inside the block (the planner's timing runs) are not recorded."""
    prev = _local.muted
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
    prev = _local.log
    log = []
    _local.log = log
    try:
        yield log
    finally:
        _local.log = prev
