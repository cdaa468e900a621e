"""CNN forward convolution via FFTW (``nn-fft``): for large kernels.

Real transforms of the input and the flipped, dilated weights, a channel
matmul per frequency, one inverse transform, then the strided window.
Error: normwise, as the signal FFT family's.
"""
import math

import numpy as np

from .. import _fftw, _trace
from .._shapes import next_fast_len
from . import cost
from .base import Candidate


def _out_index(o, s, start, full):
    """Outputs ``o`` read ``full[o*s + start]``; the range of ``o`` inside
    ``[0, full)`` as ``(lo, hi)`` (the rest is pure zero padding)."""
    lo = (-start + s - 1) // s if start < 0 else 0
    hi = (full - 1 - start) // s + 1 if full - 1 - start >= 0 else 0
    lo = min(lo, o)
    return lo, max(lo, min(hi, o))


def fft_lengths(spatial, geo):
    """FFT length per spatial axis: the full convolution with the dilated kernel."""
    return [next_fast_len(s + (k - 1) * d) if s + (k - 1) * d > 1 else 1
            for s, k, d in zip(spatial, geo.kernel, geo.dilation)]


def conv_fft(x, w, groups, geo, workers):
    """Correlation via the convolution theorem: full convolution of ``x`` with
    the flipped, dilated kernel, then the strided window the geometry asks for."""
    N, C = x.shape[:2]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    S = x.shape[2:]
    keff = [(k - 1) * d + 1 for k, d in zip(geo.kernel, geo.dilation)]
    wd = np.zeros((Cout, Cg) + tuple(keff), w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in geo.dilation)] = w
    wd = wd[(slice(None), slice(None)) + (slice(None, None, -1),) * 3]
    full = [s + k - 1 for s, k in zip(S, keff)]
    F = fft_lengths(S, geo)
    _trace.record("nn-fft")
    X = _fftw.rfft_padded(x, (2, 3, 4), F, workers)
    Wf = _fftw.rfft_padded(np.ascontiguousarray(wd), (2, 3, 4), F, workers)
    fv = X.shape[2:]
    nf = math.prod(fv)
    # per frequency: (N x Cg) @ (Cg x cog) for each group
    Xt = np.ascontiguousarray(X.reshape(N, groups, Cg, nf).transpose(1, 3, 0, 2))
    Wt = np.ascontiguousarray(Wf.reshape(groups, cog, Cg, nf).transpose(0, 3, 2, 1))
    Yt = np.matmul(Xt, Wt)                                   # (G, nf, N, cog)
    Y = np.ascontiguousarray(Yt.transpose(2, 0, 3, 1)).reshape((N, Cout) + fv)
    y = np.zeros((N, Cout) + geo.out, x.dtype)
    crop, dst = [slice(None), slice(None)], [slice(None), slice(None)]
    for o, s, p, k, f in zip(geo.out, geo.stride, geo.pad, keff, full):
        start = k - 1 - p
        lo, hi = _out_index(o, s, start, f)
        if hi <= lo:
            return y
        crop.append(slice(lo * s + start, (hi - 1) * s + start + 1, s))
        dst.append(slice(lo, hi))
    y[tuple(dst)] = _fftw.irfft_cropped(Y, (2, 3, 4), F, tuple(crop), workers)
    return y



class FFTConv(Candidate):
    id = "nn-fft"
    kind = "nn-conv"
    family = "fft"
    uses_blas = True

    def supports(self, p):
        F = fft_lengths(p.xshape[2:], p.geo)
        nbytes = 8 * math.prod(F) * (2 * p.xshape[0] * p.xshape[1] + p.wshape[0] * p.wshape[1]
                                     + 2 * p.xshape[0] * p.wshape[0])
        return cost.fits_memory(nbytes)

    def estimate(self, p):
        F = fft_lengths(p.xshape[2:], p.geo)
        vol = math.prod(F)
        logp = sum(math.log2(max(n, 2)) for n in F)
        single = cost.itemsize(p) == 4
        N, C = p.xshape[:2]
        Cout, Cg = p.wshape[:2]
        ffts = 0.5 * cost.FFT_UNIT[single] * vol * logp * (N * C + Cout * Cg + N * Cout)
        # per-frequency complex products: 4 real multiply-adds each (batched
        # small matmuls: about twice the per-thread GEMM rate of im2col chunks)
        prod = 4 * (vol / 2) * N * Cout * Cg / (2 * cost.GEMM_MACS[4 if single else 8])
        # x2.5: batched small 2-d transforms and the transposes around the
        # per-frequency products run well below the model (measured on W10)
        return 200e-6 + 2.5 * ((ffts + prod) / cost.speedup(cost.threads(p),
                                                             serial=cost.SERIAL_FFT)
                               + 4 * vol * (N * C + N * Cout) * 8 / cost.COPY_BYTES)

    def run(self, p, x, w):
        return conv_fft(x, w, p.groups, p.geo, p.workers)
