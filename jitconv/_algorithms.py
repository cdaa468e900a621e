"""Registry of candidate algorithms.

Each candidate has an ``id``, a ``family`` ('direct' or 'fft'), and:

- ``supports(p)``: can it compute problem ``p`` (and within the memory budget)?
- ``estimate(p)``: predicted seconds from shapes alone (the cost model);
- ``run(p, a, k)``: compute; returns the internal result (``finalize`` casts).

Preparation (numba compilation, FFTW planning on scratch buffers) happens in
the planner's warm-up call, which is never counted as run time.
"""
import math

import numpy as np

from . import _config, _core, _direct, _trace
from ._methods import DIRECT_FIXED, DIRECT_MAC, FFT_FIXED, FFT_UNIT, PARALLEL_FIXED
from ._shapes import fft_axes_lengths, oa_lengths


def _batch(p):
    b = 1
    for i in range(len(p.shape1)):
        if i not in p.axes:
            b *= max(p.shape1[i], p.shape2[i])
    return b


def _macs(p):
    out = math.prod(w[1] for w in p.wins)
    kvol = min(math.prod(p.shape1[a] for a in p.axes), math.prod(p.shape2[a] for a in p.axes))
    return _batch(p) * out * kvol


def _cdtype(p):
    return _core.compute_dtype(np.dtype(p.rt))


def _mac_cost(p):
    c = _cdtype(p)
    key = {"f": "f4" if c.itemsize == 4 else "f8", "c": "c8" if c.itemsize == 8 else "c16",
           "i": "i8"}[c.kind]
    return DIRECT_MAC[key]


def fft_single(p):
    single = (np.dtype(np.float32), np.dtype(np.complex64))
    return (_core.fft_float(np.dtype(p.dtype1)) in single
            and _core.fft_float(np.dtype(p.dtype2)) in single)


def _is_complex(p):
    return np.dtype(p.dtype1).kind == "c" or np.dtype(p.dtype2).kind == "c"


class DirectSerial:
    id = "direct-serial"
    family = "direct"

    def supports(self, p):
        return True

    def estimate(self, p):
        return DIRECT_FIXED + _macs(p) * _mac_cost(p)

    def run(self, p, a, k):
        return _direct.direct_conv(a, k, p.axes, p.wins, _cdtype(p), 1, parallel=False)


class DirectParallel:
    id = "direct-parallel"
    family = "direct"

    def supports(self, p):
        return p.workers > 1 and not _config.FORKED_AFTER_OMP

    def estimate(self, p):
        tasks = _batch(p) * max(1, math.prod(w[1] for w in p.wins[:-1]) if p.wins else 1)
        tasks *= max(1, (p.wins[-1][1] + _direct.CHUNK - 1) // _direct.CHUNK) if p.wins else 1
        par = min(p.workers, tasks)
        return DIRECT_FIXED + PARALLEL_FIXED + _macs(p) * _mac_cost(p) / par

    def run(self, p, a, k):
        return _direct.direct_conv(a, k, p.axes, p.wins, _cdtype(p), p.workers, parallel=True)


def _fft_lengths(p):
    return fft_axes_lengths(p.shape1, p.shape2, p.axes, p.wins)[1]


def _fft_cost(p, lengths, nblocks=1):
    """Two forward transforms and one inverse over each operand's batch."""
    vol = math.prod(lengths)
    logp = sum(math.log2(max(n, 2)) for n in lengths)
    per = (1.0 if _is_complex(p) else 0.5) * FFT_UNIT[fft_single(p)] * vol * logp
    b1 = math.prod(s for i, s in enumerate(p.shape1) if i not in p.axes)
    b2 = math.prod(s for i, s in enumerate(p.shape2) if i not in p.axes)
    b = _batch(p)
    threads = min(p.workers, 2)
    return FFT_FIXED + (per * (b1 * nblocks + b2 + b * nblocks) + 2e-10 * vol * b * nblocks) / threads


def _fft_bytes(p, lengths, nblocks=1):
    item = 8 if fft_single(p) else 16  # complex spectrum element
    return 5 * math.prod(lengths) * _batch(p) * nblocks * item


class FFT:
    id = "fft"
    family = "fft"

    def supports(self, p):
        return bool(p.axes) and _fft_bytes(p, _fft_lengths(p)) <= _config.PLANNER.memory_budget

    def estimate(self, p):
        return _fft_cost(p, _fft_lengths(p))

    def run(self, p, a, k):
        return _core.run_fft(a, k, list(p.axes), list(p.wins), fft_single(p), p.workers)


class OverlapAdd:
    id = "oa"
    family = "fft"

    def _blocks(self, p):
        lens, nblocks = [], 1
        for a in p.axes:
            block, overlap, st1, st2 = oa_lengths(p.shape1[a], p.shape2[a])
            if overlap is None:
                lens.append(block)
                continue
            full = p.shape1[a] + p.shape2[a] - 1
            lens.append(block)
            nblocks *= math.ceil(full / (block - overlap))
        return lens, nblocks

    def supports(self, p):
        if not p.axes:
            return False
        if not any(oa_lengths(p.shape1[a], p.shape2[a])[1] is not None for a in p.axes):
            return False
        lens, nb = self._blocks(p)
        return _fft_bytes(p, lens, nb) <= _config.PLANNER.memory_budget

    def estimate(self, p):
        lens, nb = self._blocks(p)
        return _fft_cost(p, lens, nb) * 1.15  # block bookkeeping and the overlap adds

    def run(self, p, a, k):
        return _core.run_oa(a, k, list(p.axes), list(p.wins), fft_single(p), p.workers)


class Separable:
    """Rank-1 kernel: one direct 1-d pass per convolved axis (float/complex only).

    Intermediate results are rounded to the compute dtype (float32 for
    float32 data: half the memory traffic of float64, and the second pass
    runs on float32 vectors); the result differs from the full direct sum by
    that rounding and the pass sums' rounding only.
    """
    id = "separable"
    family = "direct"

    def supports(self, p):
        return p.separable

    def _passes(self, p):
        """Multiply-adds of the passes (each pass shrinks/grows one axis to its window)."""
        dims = [max(a, b) if i not in p.axes else a for i, (a, b) in
                enumerate(zip(p.shape1, p.shape2))]
        cost = 0
        for ax, (s, l) in zip(p.axes, p.wins):
            m = p.shape2[ax]
            if m > 1:
                dims[ax] = l
                cost += math.prod(dims) * m
        return cost

    def estimate(self, p):
        par = min(p.workers, 2)
        return DIRECT_FIXED * 3 + 20e-6 + self._passes(p) * _mac_cost(p) * 1.3 / par

    def run(self, p, a, k):
        from ._separable import factors
        # k's length-1 convolved axes need nothing: their value is in the
        # factors, and their window is the whole axis in every mode
        fs = factors(k, list(p.axes), np.dtype(p.rt))
        _trace.record("separable")
        cd = _cdtype(p)
        axes = list(p.axes)
        # every pass convolves over all of ``axes`` with a kernel that is 1 long
        # except along its own axis: no transposition, the vertical pass runs
        # over contiguous rows (one per tap) like the horizontal one.
        # Windows: a pass's own axis gets its final window; axes done before
        # are already cut to theirs, axes still to do keep their full length
        wins = {ax: (0, a.shape[ax]) for ax in axes}
        x = a
        for ax, f in fs:
            shape = [1] * a.ndim
            shape[ax] = f.size
            wins[ax] = p.wins[axes.index(ax)]
            x = _direct.direct_conv(x, f.reshape(shape), axes, [wins[a_] for a_ in axes],
                                    cd, p.workers)
            wins[ax] = (0, x.shape[ax])
        return x


REGISTRY = [DirectSerial(), DirectParallel(), Separable(), FFT(), OverlapAdd()]
BY_ID = {c.id: c for c in REGISTRY}

#: which candidate families each requested family admits
FAMILIES = {"auto": ("direct", "fft"), "direct": ("direct",), "fft": ("fft",), "oa": ("fft",)}


def candidates(p):
    allowed = FAMILIES[p.family]
    out = [c for c in REGISTRY if c.family in allowed and c.supports(p)]
    if p.family == "oa":
        out = [c for c in out if c.id == "oa"] or [BY_ID["fft"]]
    if not out:  # nothing within the memory budget: the direct kernel needs no workspace
        out = [c for c in REGISTRY if c.family in allowed and c.id != "oa"][:1]
    return out
