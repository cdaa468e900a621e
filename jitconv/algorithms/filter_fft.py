"""Large filters through FFTW: overlap-save blocks of the boundary-extended
input (``jitconv._fftw``).

The input is extended along every filtered axis by its boundary mode as far
as the weights reach (``m // 2 + origin`` before, the rest after), block by
block: each block of ``F`` extended positions per axis (gathered straight
into the transform's buffer by ``kernels.filter_float.gather_block``: one
slice copy per row inside the input, the mode's index maps at the borders,
``cval`` beyond the edges) is correlated with the weights through one
product of spectra, and its ``F - m + 1`` valid outputs are kept
(wrap-around only reaches the others). ``F`` is the overlap-save optimum at
a ``2^a 3^b 5^c`` length (``_shapes.save_block``: a cost model of
FFTW_ESTIMATE's transforms by length, and of the pipeline's cache limits),
or one block over the whole axis when that is cheaper; small blocks go
through FFTW in batches, large ones one at a time, the call's threads taking
contiguous shares of the blocks (FFTW releases the GIL; one FFTW thread per
block: FFTW's own threads on a 512^2 block cost more than they saved,
measured). Cost ``O(N log F)`` whatever the number of taps: it wins for
large kernels (W19: 63x63 on 2048^2, 64 blocks of 320^2).

Candidate ``filter-fft`` (family ``'fft'``): float outputs of float inputs,
never under the ``'exact'`` restriction (integer or bool data, NaN/inf in
the input, the weights or a constant ``cval``). float32 data with a float32
output runs in single precision. Error (normwise, per block, like every FFT
convolution): ``max|err| <~ eps * log2(F) * ||x_block||_2 * ||w||_2`` with
``eps`` of the precision used; taps SciPy drops (``|w| <= DBL_EPSILON``) are
included. Plans are FFTW_ESTIMATE's and the blocks depend on the sizes only:
results are the same bits in every call, thread and process. FFTW_MEASURE
plans would be faster (W19's pipeline of 320^2 blocks: 8% on one thread;
512^2 transform pairs: 14%) but FFTW picks them by timing, so two threads
(or a call before and one after the planner measured the key) could run
different algorithms and get different bits, which SciPy's threading tests
reject; the blocks' lengths are chosen among those FFTW_ESTIMATE plans well
instead.
"""
import hashlib
import itertools
import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _fftw, _launch, _trace
from .._extend import line_map
from .._shapes import save_block
from ..kernels import filter_float as _kf
from . import cost
from .base import Candidate


def _geometry(p):
    """``(axes, weights shape as N-d, lead per axis, mode per axis)``."""
    nd = len(p.shape)
    if p.rule == "nd":
        axes = [ax for ax in range(nd) if p.wshape[ax] > 1]
        return axes, p.wshape, [m // 2 + o for m, o in zip(p.wshape, p.origins)], p.modes
    shape = [1] * nd
    shape[p.axis] = p.wshape[0]
    leads = [0] * nd
    leads[p.axis] = p.wshape[0] // 2 + p.origins[0]
    modes = ["constant"] * nd
    modes[p.axis] = p.modes[0]
    return [p.axis], tuple(shape), leads, modes


def blocks(p):
    """``[(fft_length, outputs_per_block)]`` per filtered axis."""
    axes, wshape, _, _ = _geometry(p)
    return [save_block(p.shape[ax], wshape[ax], len(axes)) for ax in axes]


#: real values per FFTW call: small blocks go through FFTW in batches; large
#: ones one at a time (a batch of 8 2-d blocks of 512^2 took 3x the time per
#: block of single 2-d plans, measured), FFTW's threads splitting each transform
BATCH_VALUES = 1 << 14


def _run(sel):
    """``(start, stop, source start)`` of the positions of ``sel`` that read
    the input in order (the inside of the input: maps are the identity there)."""
    ok = np.flatnonzero(sel >= 0)
    if ok.size == 0:
        return 0, 0, 0
    # the identity run: sel[q] - q is constant on it (the largest such run)
    d = sel - np.arange(sel.size)
    vals, counts = np.unique(d[ok], return_counts=True)
    off = vals[np.argmax(counts)]
    run = np.flatnonzero((d == off) & (sel >= 0))
    return int(run[0]), int(run[-1]) + 1, int(sel[run[0]])


def _sel(mp, o, f):
    """Entries ``o .. o+f-1`` of the map ``mp``, -2 past its end."""
    s = np.full(f, -2, dtype=np.int64)
    part = mp[o:o + f]
    s[:part.size] = part
    return s


#: weights' spectra of recent calls (a filter applied to many images computes
#: its spectrum once: a 320^2 transform, 0.5 ms of W19's 3.7 at 512^2)
_SPECTRA = OrderedDict()
_SPECTRA_LOCK = threading.Lock()
SPECTRA_KEPT = 8


def _spectrum(k, shape, taxes, fshape, single):
    """The scaled spectrum of the weights ``k`` for blocks of ``fshape``
    (FFTW_ESTIMATE plans), from the cache when the same weights came before."""
    key = (hashlib.blake2b(k.tobytes(), digest_size=16).digest(), k.shape, shape, taxes,
           single)
    with _SPECTRA_LOCK:
        hit = _SPECTRA.get(key)
        if hit is not None:
            _SPECTRA.move_to_end(key)
            return hit
    with _fftw.planning("estimate", None):
        spec = _fftw.spectrum(k, shape, taxes, fshape, False, single, 1)
    spec.flags.writeable = False
    with _SPECTRA_LOCK:
        _SPECTRA[key] = spec
        while len(_SPECTRA) > SPECTRA_KEPT:
            _SPECTRA.popitem(last=False)
    return spec


_POOL = {"pool": None, "pid": None, "size": 0}
_POOL_LOCK = threading.Lock()


def _pool(n):
    """A process-wide pool of ``n`` threads (a new one in a forked child)."""
    with _POOL_LOCK:
        if _POOL["pid"] != os.getpid() or _POOL["size"] < n:
            _POOL.update(pool=ThreadPoolExecutor(n, thread_name_prefix="jitconv-fft"),
                         pid=os.getpid(), size=n)
        return _POOL["pool"]


class FilterFFT(Candidate):
    id = "filter-fft"
    kind = "filter"
    family = "fft"

    def supports(self, p):
        if p.rule in ("uniform", "box") or p.family != "auto":
            return False
        axes = _geometry(p)[0]
        if not axes:
            return False
        # ~6 spectra-sized buffers of a batch of blocks, and the output
        item = 8 if p.cdtype == np.float32 else 16
        batch = p.size // math.prod(p.shape[ax] for ax in axes)
        vol = max(BATCH_VALUES, math.prod(f for f, _ in blocks(p)) * batch)
        return cost.fits_memory(6 * item * vol + 2 * p.size * item)

    def estimate(self, p):
        axes = _geometry(p)[0]
        bl = blocks(p)
        nblk = math.prod(-(-p.shape[ax] // t) for ax, (f, t) in zip(axes, bl))
        batch = p.size // math.prod(p.shape[ax] for ax in axes)
        return cost.filter_fft(p, [f for f, _ in bl], batch * nblk)

    def run(self, p, x, w, cval, out=None):
        axes, wshape, leads, modes = _geometry(p)
        fd = np.dtype(np.float32) if p.cdtype == np.float32 else np.dtype(np.float64)
        single = fd == np.float32
        _trace.record("filter-fft")
        if x.dtype.kind == "b":
            x = x.view(np.uint8)
        nd, A = x.ndim, len(axes)
        last = list(range(nd - A, nd))
        xt = np.moveaxis(x, axes, last)                 # filtered axes last
        batch = xt.shape[:nd - A]
        # the input as (batch, n0, n1, n2): unit axes where fewer are filtered
        x4 = xt.reshape((math.prod(batch),) + (1,) * (3 - A) + xt.shape[nd - A:])
        n = [x.shape[ax] for ax in axes]
        m = [wshape[ax] for ax in axes]
        maps = [line_map(ni, mi, leads[ax], modes[ax]) for ni, mi, ax in zip(n, m, axes)]
        bl = [save_block(ni, mi, A) for ni, mi in zip(n, m)]
        fshape = [f for f, _ in bl]
        steps = [t for _, t in bl]
        grid = list(itertools.product(*[range(0, ni, t) for ni, t in zip(n, steps)]))
        k = np.asarray(w, dtype=np.float64).reshape(wshape)
        k = np.moveaxis(k[tuple(slice(None, None, -1) if ax in axes else slice(None)
                                for ax in range(nd))], axes, last)
        k = k.reshape((1,) + k.shape)                   # broadcast over the block batch
        B = max(1, min(len(grid), BATCH_VALUES // max(1, math.prod(fshape) * math.prod(batch))))
        taxes = tuple(range(1 + nd - A, 1 + nd))
        out = np.empty(batch + tuple(n), fd)
        kspec = _spectrum(k, (1,) + batch + tuple(fshape), taxes, fshape, single)
        groups = [grid[g:g + B] for g in range(0, len(grid), B)]
        # each block's source indices per axis, by block origin (-2 past the
        # input's end: a short edge block is zero-padded), and the inside run
        # of the last axis: computed once per origin, not once per block
        sels = [{o: _sel(mp, o, f) for o in range(0, ni, t)}
                for mp, f, ni, t in zip(maps, fshape, n, steps)]
        runs = {o: _run(s) for o, s in sels[-1].items()}

        def work(share):
            # FFTW_ESTIMATE plans (their own cache slot, one FFTW thread): a
            # plan depends on the sizes only, so every call and every thread
            # gets the same bits, as SciPy's direct sums do (its tests compare
            # threaded calls exactly)
            with _fftw.planning("estimate", None):
                for group in share:
                    self._group(group, x4, k, kspec, out, sels, runs, fshape, steps, m, batch,
                                nd, A, taxes, fd, single, cval)
        threads = _launch.THREADS.take(min(p.workers, len(groups))) \
            if _launch.parallel_ok(p.workers) else 0
        if threads < 2:
            work(groups)
        else:
            try:
                shares = [groups[i * len(groups) // threads:(i + 1) * len(groups) // threads]
                          for i in range(threads)]
                for f in [_pool(threads).submit(work, sh) for sh in shares]:
                    f.result()
            finally:
                _launch.THREADS.give(threads)
        return np.moveaxis(out, last, axes)

    @staticmethod
    def _group(group, x4, k, kspec, out, sels, runs, fshape, steps, m, batch, nd, A, taxes,
               fd, single, cval):
        """One FFTW call: the blocks of ``group`` (origins in output coordinates)."""
        n = out.shape[nd - A:]
        shape = (len(group),) + batch + tuple(fshape)
        one = np.zeros(1, np.int64)

        def load(buf):
            for i, org in enumerate(group):
                # three axes at most: unit ones before the filtered axes
                s3 = [one] * (3 - A) + [sel[o] for sel, o in zip(sels, org)]
                ra, rb, rs = runs[org[-1]]
                dst = buf[i].reshape((-1,) + tuple(len(s) for s in s3))
                _launch.call(_kf.gather_block, dst, x4, s3[0], s3[1], s3[2], ra, rb, rs,
                             float(cval))
        dsts = [tuple(slice(o, min(o + t, ni)) for o, t, ni in zip(org, steps, n))
                for org in group]
        stand = np.broadcast_to(np.zeros((), fd), shape)
        if len(group) == 1:  # straight into the output
            crop = (slice(None),) * (1 + nd - A) + tuple(
                slice(mi - 1, mi - 1 + d.stop - d.start) for mi, d in zip(m, dsts[0]))
            _fftw.freq_conv(stand, k, taxes, fshape, crop, single, 1, slot="filter",
                            kspec=kspec, load=load, out=out[(Ellipsis,) + dsts[0]][None])
            return
        crop = (slice(None),) * (1 + nd - A) + tuple(
            slice(mi - 1, mi - 1 + t) for mi, t in zip(m, steps))
        res = _fftw.freq_conv(stand, k, taxes, fshape, crop, single, 1, slot="filter",
                              kspec=kspec, load=load)
        for i, dst in enumerate(dsts):
            out[(Ellipsis,) + dst] = res[(i, Ellipsis) + tuple(
                slice(0, d.stop - d.start) for d in dst)]
