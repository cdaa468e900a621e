"""The FFT family: the convolution theorem on FFTW (``jitconv._fftw``).

One transform of each operand at an FFTW-friendly length per convolved axis,
padded only as far as the requested windows need (wrap-around may land
outside them), a product of spectra and one inverse transform. Real inputs
use real transforms. Along convolved axes where an operand has length 1 the
convolution is a broadcast product: no transform there.

Error: normwise, ``max|err| <~ eps * log2(N) * ||a||_2 * ||k||_2``; small
outputs next to large ones can lose all their digits (use the direct family
for them).
"""
import numpy as np

from .. import _fftw, _trace
from .._dtypes import fft_float
from .._shapes import crop, fft_axes_lengths
from . import cost
from .base import Candidate


def run_fft(a, k, axes, wins, single, workers):
    """Windows ``wins`` of the full convolution of ``a`` and ``k`` along ``axes``."""
    idx = crop(a.ndim, axes, wins)
    tx, fshape = fft_axes_lengths(a.shape, k.shape, axes, wins)
    if not tx:
        _trace.record("fft-none")
        full = np.multiply(a, k, dtype=np.result_type(fft_float(a.dtype), fft_float(k.dtype)))
        return np.ascontiguousarray(full[idx])
    return _fftw.freq_conv(a, k, tx, fshape, idx, single, workers)


def lengths(p):
    """FFT length of each transformed axis of ``p``."""
    return fft_axes_lengths(p.shape1, p.shape2, p.axes, p.wins)[1]


class FFT(Candidate):
    id = "fft"
    family = "fft"

    def supports(self, p):
        return bool(p.axes) and cost.fits_memory(cost.fft_bytes(p, lengths(p)))

    def estimate(self, p):
        return cost.fft_cost(p, lengths(p))

    def run(self, p, a, k):
        return run_fft(a, k, list(p.axes), list(p.wins), p.single, p.workers)

    def bind(self, p, k):
        """The kernel's spectrum is computed once, with its FFTW plans."""
        tx, fshape = fft_axes_lengths(p.shape1, p.shape2, p.axes, p.wins)
        if not tx:
            return super().bind(p, k)
        idx = crop(len(p.shape1), list(p.axes), list(p.wins))
        kspec = _fftw.spectrum(k, p.shape1, tx, fshape, p.complex, p.single, p.workers)

        def conv(a, out=None):
            return _fftw.freq_conv(a, k, tx, fshape, idx, p.single, p.workers, kspec=kspec,
                                   out=out)
        conv.writes_out = True
        return conv
