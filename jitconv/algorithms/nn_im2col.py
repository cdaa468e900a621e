"""What the CNN candidates share: im2col in cache-sized chunks, and input regions.

Every CNN problem works on the normalised 3-spatial-axis form of
``kernels.nn``: ``x (N, C, D, H, W)``, ``w (Cout, Cin/groups, KD, KH, KW)``
and a ``Geo`` (kernel, stride, dilation, leading zero padding, output size).
Zero padding is implicit (never materialised); other padding modes were
applied before the problem was made. float32 problems are computed and
accumulated in float32 (like PyTorch and BLAS sgemm), float64 in float64.
"""
import math

import numpy as np

from .. import _config, _launch

#: bytes of one im2col chunk: big enough for BLAS to run near its peak (the
#: GEMMs' width grows with it), small enough to stay in the 35 MiB L3 between
#: im2col and the GEMM. End to end (ms, 1/2/4/8 MiB): W10 grid 92/89/85/83,
#: W11 43/41/38/37, W12 98/76/69/70
COLS_BYTES = 4 << 20


def chunks(N, R, P, item):
    """Yield ``(n0, B, p0, Pt)`` chunks of images and output positions whose
    im2col matrix ``(B, R, Pt)`` takes about ``COLS_BYTES``.

    The GEMM drivers run their chunks on the call's threads
    (``_launch.spread``): each thread copies its chunk (a serial kernel) and
    multiplies it with BLAS on one thread, so that copies and products of
    different chunks overlap on all the cores. (One BLAS call at a time on
    all threads, with the copies in between on the calling thread, left the
    copies serial: an Amdahl bound at 16-64 cores.)"""
    per_image = R * P * item
    if per_image <= COLS_BYTES:
        B = max(1, min(N, COLS_BYTES // max(per_image, 1)))
        for n0 in range(0, N, B):
            yield n0, min(B, N - n0), 0, P
        return
    Pt = max(256, COLS_BYTES // (R * item))
    for n0 in range(N):
        for p0 in range(0, P, Pt):
            yield n0, 1, p0, min(Pt, P - p0)


def buffer(buf, shape, dtype):
    """A C-contiguous ``shape`` array in ``buf``'s memory (a new one if too small):
    smaller last chunks keep the kernels' contiguous signature."""
    n = math.prod(shape)
    if buf is None or buf.size < n:
        buf = np.empty(n, dtype)
    return buf, buf[:n].reshape(shape)


def enough_work(N, R, P):
    """Whether a parallel kernel is worth its launch for ``N*R*P`` multiply-adds."""
    return N * R * P >= _config.SERIAL_WORK


def region(src, starts, dst):
    """Copy into the zeroed ``dst`` the window of ``src`` that starts at
    ``starts`` along the trailing axes (``dst``'s extent there); positions
    outside ``src`` stay zero (padding, or a crop for negative offsets)."""
    nd = len(starts)
    s_idx = [slice(None)] * (src.ndim - nd)
    d_idx = list(s_idx)
    for st, e, n in zip(starts, dst.shape[-nd:], src.shape[-nd:]):
        s0, s1 = max(st, 0), min(st + e, n)
        if s1 <= s0:
            return dst
        s_idx.append(slice(s0, s1))
        d_idx.append(slice(s0 - st, s1 - st))
    dst[tuple(d_idx)] = src[tuple(s_idx)]
    return dst
