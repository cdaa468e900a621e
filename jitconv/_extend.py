"""Boundary modes of ``scipy.ndimage``'s filters, as index maps.

An axis of length ``n`` extended beyond its edges: position ``i`` (any
integer) reads the input at ``index(i, n, mode)``, or the constant ``cval``
where that index is ``-1``. The rules are SciPy's (``ni_support.c``), for
any distance from the edge (the extension repeats):

==========  =========================  ==============================
mode        extension of ``a b c d``   synonyms
==========  =========================  ==============================
reflect     ``d c b a | a b c d | d c b a``  ``grid-mirror``
mirror      ``d c b | a b c d | c b a``      (length 1: nearest)
nearest     ``a a a | a b c d | d d d``
wrap        ``b c d | a b c d | a b c``      ``grid-wrap``
constant    ``k k k | a b c d | k k k``      ``grid-constant``
==========  =========================  ==============================

Pure functions of integers (NumPy only).
"""
from functools import lru_cache

import numpy as np

#: every name SciPy's filters accept -> the rule it means
CANONICAL = {"reflect": "reflect", "grid-mirror": "reflect", "mirror": "mirror",
             "nearest": "nearest", "wrap": "wrap", "grid-wrap": "wrap",
             "constant": "constant", "grid-constant": "constant"}


def index(pos, n, mode):
    """Source indices of positions ``pos`` (int array) on an axis of length ``n``
    extended by ``mode`` (canonical name); ``-1`` where the constant is read."""
    pos = np.asarray(pos, dtype=np.int64)
    inside = (pos >= 0) & (pos < n)
    if mode == "constant":
        return np.where(inside, pos, -1)
    if mode == "nearest":
        return np.clip(pos, 0, n - 1)
    if mode == "wrap":
        return pos % n
    if mode == "reflect":
        q = pos % (2 * n)
        return np.where(q >= n, 2 * n - 1 - q, q)
    # mirror: period 2n - 2 (a length-1 axis repeats its element)
    if n == 1:
        return np.zeros_like(pos)
    q = pos % (2 * n - 2)
    return np.where(q >= n, 2 * n - 2 - q, q)


@lru_cache(maxsize=256)
def line_map(n, m, lead, mode):
    """Source index of each position of an extended line: ``n`` outputs, ``m``
    taps, ``lead`` positions before the first output (``m // 2 + origin``).

    Entry ``q`` is the input read at position ``q - lead``: the line extended
    by ``lead`` before and ``m - 1 - lead`` after, as SciPy's line buffers.
    Cached (a filter's repeated calls reuse their maps): read-only.
    """
    out = index(np.arange(n + m - 1) - lead, n, mode)
    out.flags.writeable = False
    return out
