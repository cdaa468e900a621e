"""Argument checks of every face, before any work: each public call becomes a
``Call`` (problem, operands, finishing rule), an ``Answer`` or a ``Fallback``
here, or raises the oracle's exception with the oracle's message.

- ``signal``: SciPy 1.17's ``scipy.signal`` checks, in SciPy's order;
- ``nn``: PyTorch's conditions (as ``ValueError``/``TypeError``).

Shared here: the ``workers`` argument of every face.
"""
from .. import _config


def workers(w):
    """Normalise a ``workers`` argument like ``scipy.fft`` does (negative counts
    from the end; None: the thread's default)."""
    if w is None:
        return _config.default_workers()
    try:
        n = int(w)
    except (TypeError, ValueError):
        raise TypeError(f"workers must be an integer, not {w!r}") from None
    if n != w:
        raise TypeError(f"workers must be an integer, not {w!r}")
    if n == 0:
        raise ValueError("workers must not be zero")
    if n < 0:
        n = _config.CPUS + 1 + n
        if n <= 0:
            raise ValueError(f"workers value out of range; got {w}, must not be"
                             f" less than {-_config.CPUS}")
    return min(n, _config.CPUS)
