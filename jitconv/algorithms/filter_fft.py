"""Large filters through FFTW: overlap-save blocks of the boundary-extended
input (``jitconv._fftw``).

The input is extended along every filtered axis by its boundary mode as far
as the weights reach (``m // 2 + origin`` before, the rest after), block by
block: each block of ``F`` extended positions per axis (read through the
mode's index maps, ``cval`` beyond the edges: the padded copy an FFT needs)
is correlated with the weights through one product of spectra, and its
``F - m + 1`` valid outputs are kept (wrap-around only reaches the others).
``F`` is the overlap-save optimum at a ``2^a 3^b 5^c`` length
(``_shapes.save_block``), or one block over the whole axis when that is
shorter; small blocks go through FFTW in batches, large ones one at a time.
Cost ``O(N log F)`` whatever the number of taps: it wins for large kernels
(W19: 63x63).

Candidate ``filter-fft`` (family ``'fft'``): float outputs of float inputs,
never under the ``'exact'`` restriction (integer or bool data, NaN/inf in
the input, the weights or a constant ``cval``). float32 data with a float32
output runs in single precision. Error (normwise, per block, like every FFT
convolution): ``max|err| <~ eps * log2(F) * ||x_block||_2 * ||w||_2`` with
``eps`` of the precision used; taps SciPy drops (``|w| <= DBL_EPSILON``) are
included. Plans are FFTW_ESTIMATE's and the blocks depend on the sizes only:
results are the same bits in every call, thread and process.
"""
import itertools
import math

import numpy as np

from .. import _fftw, _trace
from .._extend import line_map
from .._shapes import save_block
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


def _gather(x, sels, cval):
    """``x`` read at source indices ``sels`` along its last axes (-1: ``cval``):
    a slice for a block inside the input, else one fancy-index gather."""
    nb = x.ndim - len(sels)
    if all(sel[0] >= 0 and sel[-1] - sel[0] == len(sel) - 1 for sel in sels):
        # ascending maps never skip (they are the identity inside the input)
        return x[(Ellipsis,) + tuple(slice(int(s[0]), int(s[-1]) + 1) for s in sels)]
    d = len(sels)
    idx = tuple(np.maximum(sel, 0).reshape((-1,) + (1,) * (d - 1 - i)) for i, sel in enumerate(sels))
    out = x[(Ellipsis,) + idx]
    for i, sel in enumerate(sels):
        if (sel < 0).any():
            sl = [slice(None)] * x.ndim
            sl[nb + i] = sel < 0
            out[tuple(sl)] = cval
    return out


class FilterFFT(Candidate):
    id = "filter-fft"
    kind = "filter"
    family = "fft"

    def supports(self, p):
        if p.rule == "uniform" or p.family != "auto":
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

    def run(self, p, x, w, cval):
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
        # FFTW_ESTIMATE plans (their own cache slot): a plan depends on the
        # sizes only, so every call and every thread gets the same bits, as
        # SciPy's direct sums do (its tests compare threaded calls exactly)
        with _fftw.planning("estimate", None):
            kspec = _fftw.spectrum(k, (1,) + batch + tuple(fshape), taxes, fshape, False, single,
                                   p.workers)
            for g in range(0, len(grid), B):
                group = grid[g:g + B]
                shape = (len(group),) + batch + tuple(fshape)

                def load(buf, group=group):
                    for i, org in enumerate(group):
                        sels = [mp[o:o + f] for mp, o, f in zip(maps, org, fshape)]
                        blk = _gather(xt, sels, cval)
                        size = blk.shape[nd - A:]
                        buf[(i, Ellipsis) + tuple(slice(0, s) for s in size)] = blk
                        for j, s in enumerate(size):  # a short edge block: zero the rest
                            if s < fshape[j]:
                                buf[(i,) + (slice(None),) * len(batch)
                                    + tuple(slice(0, size[q]) for q in range(j))
                                    + (slice(s, None),)] = 0
                crop = (slice(None),) * (1 + nd - A) + tuple(
                    slice(mi - 1, mi - 1 + t) for mi, t in zip(m, steps))
                res = _fftw.freq_conv(np.broadcast_to(np.zeros((), fd), shape), k, taxes,
                                      fshape, crop, single, p.workers, slot="filter",
                                      kspec=kspec, load=load)
                for i, org in enumerate(group):
                    dst = tuple(slice(o, min(o + t, ni)) for o, t, ni in zip(org, steps, n))
                    out[(Ellipsis,) + dst] = res[(i, Ellipsis) + tuple(
                        slice(0, d.stop - d.start) for d in dst)]
        return np.moveaxis(out, last, axes)
