"""Large filters through FFTW: the boundary extension first, then one product
of spectra (``jitconv._fftw``).

The input is extended along every filtered axis by its boundary mode as far
as the weights reach (``m // 2 + origin`` before, the rest after: a padded
copy, which an FFT needs), and the valid part of its correlation with the
weights is computed at FFTW-friendly lengths ``>= n + m - 1`` (wrap-around
only reaches outputs outside the valid part). Cost ``O(N log N)`` whatever
the number of taps: it wins for large kernels (W19: 63x63).

Candidate ``filter-fft`` (family ``'fft'``): float outputs of float inputs,
never under the ``'exact'`` restriction (integer or bool data, NaN/inf in
the input, the weights or a constant ``cval``). float32 data with a float32
output runs in single precision. Error (normwise, like every FFT
convolution): ``max|err| <~ eps * log2(N) * ||x_ext||_2 * ||w||_2`` with
``eps`` of the precision used; taps SciPy drops (``|w| <= DBL_EPSILON``) are
included. Plans are FFTW_ESTIMATE's: results are the same bits in every
call, thread and process.
"""
import math

import numpy as np

from .. import _fftw, _trace
from .._extend import line_map
from .._shapes import next_fast_len
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


def lengths(p):
    axes, wshape, _, _ = _geometry(p)
    return [next_fast_len(p.shape[ax] + wshape[ax] - 1) for ax in axes]


def extend(x, axes, wshape, leads, modes, cval):
    """The input extended along ``axes`` by each axis's mode (a new array)."""
    for ax in axes:
        idx = line_map(x.shape[ax], wshape[ax], leads[ax], modes[ax])
        if modes[ax] == "constant":
            ext = np.take(x, np.maximum(idx, 0), axis=ax)
            sel = [slice(None)] * x.ndim
            sel[ax] = idx < 0
            ext[tuple(sel)] = cval
            x = ext
        else:
            x = np.take(x, idx, axis=ax)
    return x


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
        item = 8 if p.cdtype == np.float32 else 16
        batch = p.size // math.prod(p.shape[ax] for ax in axes)
        return cost.fits_memory(6 * math.prod(lengths(p)) * batch * item)

    def estimate(self, p):
        axes = _geometry(p)[0]
        batch = p.size // math.prod(p.shape[ax] for ax in axes)
        return cost.filter_fft(p, lengths(p), batch)

    def run(self, p, x, w, cval):
        axes, wshape, leads, modes = _geometry(p)
        fd = np.dtype(np.float32) if p.cdtype == np.float32 else np.dtype(np.float64)
        _trace.record("filter-fft")
        xe = extend(np.asarray(x, dtype=fd), axes, wshape, leads, modes, cval)
        k = np.asarray(w, dtype=np.float64).reshape(wshape)
        k = k[tuple(slice(None, None, -1) if ax in axes else slice(None)
                    for ax in range(len(wshape)))]
        fshape = [next_fast_len(xe.shape[ax]) for ax in axes]
        crop = tuple(slice(wshape[ax] - 1, wshape[ax] - 1 + p.shape[ax]) if ax in axes
                     else slice(None) for ax in range(len(p.shape)))
        # FFTW_ESTIMATE plans (their own cache slot): a plan depends on the
        # sizes only, so every call and every thread gets the same bits, as
        # SciPy's direct sums do (its tests compare threaded calls exactly)
        with _fftw.planning("estimate", None):
            return _fftw.freq_conv(xe, k, tuple(axes), fshape, crop, fd == np.float32,
                                   p.workers, slot="filter")
