"""Blocked FFT: only the requested window, in cache-sized blocks spread over the workers.

The plain FFT candidate transforms both operands whole (at a length whose
wrap-around spares the window). When the window is narrow and an operand
long, or the batch large, most of that work is wasted or runs out of cache.
Here, along each convolved axis (``n`` the longer operand, ``m`` the shorter
one, the convolution kernel, and a window of ``W`` outputs):

- **one block**: only the ``W + m - 1`` inputs the window reads are
  transformed, at the shortest length whose wrap-around spares the window;
- **tap blocks** (overlap-save over the kernel): the kernel is cut into
  ``nb`` blocks of ``bt`` taps; block ``q`` meets a segment of ``W + bt - 1``
  inputs; both are transformed at a length ``P >= W + bt - 1`` and the
  products of all blocks are summed in the frequency domain before one
  inverse transform. The cost is ``~2 nb P log P`` instead of ``~3 n log n``:
  a window of 1,000 lags of two 1e6-sample signals needs 1,000 times less
  work than the full correlation and stays in cache.

Work items (a slab of the batch, a run of tap blocks) are sized to stay in
L2 and run on the process's worker threads (``_launch.spread``), each with
single-threaded FFTW plans: 4096 pairs of 40x40 transforms ran in 20 ms this
way against 36 ms for one threaded FFTW call over the batch (2 cores). The
partition into items does not depend on the thread count, and partial
spectra are summed in item order: results are the same for any thread count.

Error: that of the FFT family (normwise ``eps * log2(P) * ||a||_2 * ||k||_2``
per block, the blocks' errors adding up: ``<~ sqrt(nb)`` times one block's).
"""
import math
from dataclasses import dataclass

import numpy as np

from .. import _fftw, _launch, _trace
from .._shapes import broadcast, fft_length_for_window, next_fast_even, next_fast_len
from . import cost
from .base import Candidate

#: elements (segments x FFT volume) per work item: its buffers stay in L2
ITEM = 1 << 17
#: the longest FFT a blocked axis uses (longer windows: one block)
P_MAX = 1 << 16


@dataclass(frozen=True)
class AxisPlan:
    """How one convolved axis is cut.

    ``nb`` tap blocks of ``bt`` taps; segments of ``ls`` inputs, the lowest
    starting at input position ``r0``, each next one ``bt`` later; FFT length
    ``P``; the window is ``[s, s + w)`` of each segment's convolution.
    """
    nb: int
    bt: int
    ls: int
    r0: int
    P: int
    s: int
    w: int


def _fast(n, last):
    return next_fast_even(n) if last else next_fast_len(n)


def axis_plan(n, m, start, length, last):
    """The cheapest cut of one axis: input length ``n``, kernel length ``m``,
    window ``(start, length)`` of the full convolution; ``last``: the last
    transformed axis (its FFT length is even, see ``_shapes.next_fast_even``)."""
    # one block: the inputs the window reads, clipped to the input
    r0 = max(0, start - m + 1)
    r1 = min(n, start + length)
    ls = r1 - r0
    s = start - r0
    P1 = _fast(fft_length_for_window(ls, m, s, length), last)
    best = AxisPlan(1, m, ls, r0, P1, s, length)
    best_cost = P1 * math.log2(max(P1, 2))
    P = _fast(length + 1, last)
    while P <= min(P_MAX, P1):
        bt = P - length + 1
        nb = -(-m // bt)
        c = nb * P * math.log2(max(P, 2)) * 1.1  # segment copies and block sums
        if nb > 1 and c < best_cost:
            best_cost = c
            best = AxisPlan(nb, bt, length + bt - 1, start - nb * bt + 1, P, bt - 1, length)
        P = _fast(P + max(1, P // 4), last)
    return best


def plans(s1, s2, axes, wins):
    """``(swap, [AxisPlan per axis])``: ``swap`` when ``s1``'s operand is the
    kernel (the smaller convolved volume is blocked)."""
    v1 = math.prod(s1[a] for a in axes)
    v2 = math.prod(s2[a] for a in axes)
    swap = v1 < v2
    n_s, m_s = (s2, s1) if swap else (s1, s2)
    last = len(axes) - 1
    return swap, [axis_plan(n_s[a], m_s[a], w[0], w[1], i == last)
                  for i, (a, w) in enumerate(zip(axes, wins))]


@dataclass(frozen=True)
class Layout:
    """Work items of a blocked problem: batch slabs x runs of the first axis' blocks."""
    B: int        # broadcast batch size
    bc: int       # batch elements per item
    qc: int       # blocks of the first convolved axis per item
    nbatch: int   # batch slabs
    nq: int       # block runs per slab

    @property
    def items(self):
        return self.nbatch * self.nq


def layout(B, pl):
    """Items of about ``ITEM`` transformed elements; independent of the thread count."""
    unit = math.prod(p.P for p in pl) * math.prod(p.nb for p in pl[1:])
    nb0 = pl[0].nb
    if nb0 * unit <= ITEM:
        bc, qc = max(1, min(B, ITEM // (nb0 * unit))), nb0
    else:
        bc, qc = 1, max(1, min(nb0, ITEM // unit))
    return Layout(B, bc, qc, -(-B // bc), -(-nb0 // qc))


def _segments(at, pl):
    """Read-only view ``(Ba, nb..., ls...)`` of the segments of ``at`` ``(Ba, n...)``;
    a zero-padded copy of the region they cover when they reach past ``at``."""
    n = at.shape[1:]
    lo = [p.r0 for p in pl]
    hi = [p.r0 + (p.nb - 1) * p.bt + p.ls for p in pl]
    if all(l >= 0 for l in lo) and all(h <= ni for h, ni in zip(hi, n)):
        region = at[(slice(None),) + tuple(slice(l, h) for l, h in zip(lo, hi))]
    else:
        region = np.zeros((at.shape[0],) + tuple(h - l for l, h in zip(lo, hi)), at.dtype)
        src = tuple(slice(max(l, 0), min(h, ni)) for l, h, ni in zip(lo, hi, n))
        dst = tuple(slice(s.start - l, s.stop - l) for s, l in zip(src, lo))
        region[(slice(None),) + dst] = at[(slice(None),) + src]
    st = region.strides
    shape = (region.shape[0],) + tuple(p.nb for p in pl) + tuple(p.ls for p in pl)
    strides = ((st[0],) + tuple(p.bt * st[1 + i] for i, p in enumerate(pl))
               + tuple(st[1 + i] for i in range(len(pl))))
    return np.lib.stride_tricks.as_strided(region, shape, strides, writeable=False)


def _blocks(kt, pl):
    """The kernel ``(Bk, m...)`` as blocks ``(Bk, nb..., bt...)``, block runs
    reversed so that block ``i`` meets segment ``i``."""
    m = kt.shape[1:]
    full = tuple(p.nb * p.bt for p in pl)
    if full != tuple(m):
        kp = np.zeros((kt.shape[0],) + full, kt.dtype)
        kp[(slice(None),) + tuple(slice(0, mi) for mi in m)] = kt
    else:
        kp = kt
    d = len(pl)
    split = kp.reshape((kp.shape[0],) + tuple(x for p in pl for x in (p.nb, p.bt)))
    rev = (slice(None),) + tuple(x for _ in pl for x in (slice(None, None, -1), slice(None)))
    split = split[rev]
    order = [0] + [1 + 2 * i for i in range(d)] + [2 + 2 * i for i in range(d)]
    return split.transpose(order)


def _batch(arr, nb, bshape, B):
    """Leading ``nb`` batch axes of ``arr`` as one axis of size 1 or ``B``."""
    own, rest = arr.shape[:nb], arr.shape[nb:]
    if own == tuple(bshape):
        return arr.reshape((B,) + rest)
    if math.prod(own) == 1:
        return arr.reshape((1,) + rest)
    return np.broadcast_to(arr, tuple(bshape) + rest).reshape((B,) + rest)


def run_blocked(a, k, axes, wins, single, workers):
    """Windows ``wins`` of the full convolution of ``a`` and ``k`` along ``axes``."""
    axes = list(axes)
    nd = a.ndim
    swap, pl = plans(a.shape, k.shape, axes, wins)
    if swap:
        a, k = k, a
    complex_ = a.dtype.kind == "c" or k.dtype.kind == "c"
    _trace.record("fft-blocked-" + ("complex" if complex_ else "real"))
    batch = [i for i in range(nd) if i not in axes]
    perm = batch + axes
    nb = len(batch)
    at, kt = a.transpose(perm), k.transpose(perm)
    bshape = broadcast(at.shape[:nb], kt.shape[:nb])
    B = math.prod(bshape)
    at, kt = _batch(at, nb, bshape, B), _batch(kt, nb, bshape, B)
    seg = _segments(at, pl)
    blk = _blocks(kt, pl)
    lay = layout(B, pl)
    d = len(pl)
    P = tuple(p.P for p in pl)
    crop = (slice(None),) + tuple(slice(p.s, p.s + p.w) for p in pl)
    rdt = np.dtype(np.complex64 if single else np.complex128) if complex_ else \
        np.dtype(np.float32 if single else np.float64)
    out = np.empty((B,) + tuple(p.w for p in pl), rdt)
    sum_axes = tuple(range(1, 1 + d))
    NB = math.prod(p.nb for p in pl)
    fftw_threads = workers if lay.items == 1 else 1

    def spectrum(i):
        bi, qi = divmod(i, lay.nq)
        bsl = slice(bi * lay.bc, min(B, (bi + 1) * lay.bc))
        qsl = slice(qi * lay.qc, min(pl[0].nb, (qi + 1) * lay.qc))
        sa = seg[(bsl if seg.shape[0] > 1 else slice(0, 1), qsl)]
        kb = blk[(bsl if blk.shape[0] > 1 else slice(0, 1), qsl)]
        fa = _fftw.forward(sa, d, P, complex_, single, fftw_threads, "blk-a", prune=True)
        fk = _fftw.forward(kb, d, P, complex_, single, fftw_threads, "blk-k", prune=True)
        if lay.nq == 1:  # every block of this slab: the sum goes straight to the inverse
            if NB == 1:  # one block: drop its axes, no sum to form
                fa = fa.reshape(fa.shape[:1] + fa.shape[1 + d:])
                fk = fk.reshape(fk.shape[:1] + fk.shape[1 + d:])
            _fftw.inverse(fa, d, P, crop, complex_, single, fftw_threads, "blk-i",
                          out=out[bsl], fk=fk, sum_axes=() if NB == 1 else sum_axes,
                          prune=True)
            return None
        return np.multiply(fa, fk).sum(axis=sum_axes)

    parts = _launch.spread(spectrum, lay.items, workers)
    if lay.nq > 1:
        def finish(bi):
            y = parts[bi * lay.nq].copy()
            for qi in range(1, lay.nq):
                y += parts[bi * lay.nq + qi]
            bsl = slice(bi * lay.bc, min(B, (bi + 1) * lay.bc))
            _fftw.inverse(y, d, P, crop, complex_, single, fftw_threads, "blk-i", out=out[bsl],
                          prune=True)
        _launch.spread(finish, lay.nbatch, workers)
    res = out.reshape(tuple(bshape) + out.shape[1:])
    inv = [0] * nd
    for i, p in enumerate(perm):
        inv[p] = i
    return res.transpose(inv)


class BlockedFFT(Candidate):
    id = "fft-blocked"
    family = "fft"

    def _shape(self, p):
        swap, pl = plans(p.shape1, p.shape2, p.axes, p.wins)
        lay = layout(cost.batch(p), pl)
        return swap, pl, lay

    def supports(self, p):
        if not p.axes or any(p.shape1[a] < 2 or p.shape2[a] < 2 for a in p.axes) \
                or any(w[1] == 0 for w in p.wins):
            return False
        swap, pl, lay = self._shape(p)
        s_long = p.shape2 if swap else p.shape1
        cropped = math.prod(q.ls for q in pl) < math.prod(s_long[a] for a in p.axes)
        if not (lay.items > 1 or any(q.nb > 1 for q in pl) or cropped):
            return False  # the plain FFT's work, cut no differently
        return cost.fits_memory(self._bytes(p, pl, lay))

    def _bytes(self, p, pl, lay):
        item = 8 if p.single else 16
        per_item = math.prod(q.P for q in pl) * math.prod(q.nb for q in pl[1:]) * lay.bc * lay.qc
        region = cost.batch(p) * math.prod((q.nb - 1) * q.bt + q.ls for q in pl)
        return item * (region + 4 * per_item * min(p.workers, lay.items)
                       + (lay.items * math.prod(q.P for q in pl) * lay.bc if lay.nq > 1 else 0))

    def estimate(self, p):
        swap, pl, lay = self._shape(p)
        vol = math.prod(q.P for q in pl)
        logp = sum(math.log2(max(q.P, 2)) for q in pl)
        per = (1.0 if p.complex else 0.5) * cost.FFT_UNIT[p.single] * vol * logp
        NB = math.prod(q.nb for q in pl)
        s1b = math.prod(s for i, s in enumerate(p.shape1) if i not in p.axes)
        s2b = math.prod(s for i, s in enumerate(p.shape2) if i not in p.axes)
        ba, bk = (s2b, s1b) if swap else (s1b, s2b)
        B = lay.B
        seg = (ba if ba > 1 else lay.nbatch) * NB
        ker = (bk if bk > 1 else lay.nbatch) * NB
        par = max(1, min(p.workers, lay.items)) if lay.items > 1 else min(p.workers, 2)
        work = per * (seg + ker + B) + 2e-10 * vol * B * NB
        return cost.FFT_FIXED + 15e-6 * lay.items / par + work / par

    def run(self, p, a, k):
        return run_blocked(a, k, list(p.axes), list(p.wins), p.single, p.workers)
