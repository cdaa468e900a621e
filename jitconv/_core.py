"""Execution core shared by the public functions: no defaults, no validation.

Every problem arrives here as "the windows ``wins`` (one ``(start, length)``
per convolved axis in ``axes``) of the full convolution of ``a`` and ``k``,
broadcast over the other axes". Correlation has already been turned into
convolution with the reversed, conjugated kernel.
"""
import math

import numpy as np

from . import _direct, _trace
from ._shapes import fft_axes_lengths, oa_lengths

_COMPUTE = {
    "b": np.dtype(np.int64), "i": np.dtype(np.int64), "u": np.dtype(np.int64),
}


def compute_dtype(rt):
    """dtype the direct kernel computes in for result dtype ``rt``."""
    rt = np.dtype(rt)
    if rt.kind in _COMPUTE:
        return _COMPUTE[rt.kind]
    if rt == np.float16:
        return np.dtype(np.float32)
    return rt.newbyteorder("=")


def fft_float(dtype):
    """The float dtype SciPy's FFT functions compute ``dtype`` in."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype.newbyteorder("=")


def finalize(res, rt, rounded):
    """Cast an internal result to SciPy's result dtype ``rt`` as a fresh C array."""
    rt = np.dtype(rt)
    if rt.kind in "biu" and rounded:
        res = np.round(res)
    if rt.kind == "b":
        return np.ascontiguousarray(res != 0)
    if rt.kind in "iu" and res.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return np.ascontiguousarray(res.astype(rt))
    return np.ascontiguousarray(res, dtype=rt.newbyteorder("="))


def _crop(nd, axes, wins):
    crop = [slice(None)] * nd
    for ax, (s, l) in zip(axes, wins):
        crop[ax] = slice(s, s + l)
    return tuple(crop)


def run_fft(a, k, axes, wins, single, workers):
    """Windows of the full convolution by one FFT of padded length per axis.

    Along convolved axes where an operand has length 1 the convolution is a
    broadcast product: no transform there, only the window's crop.
    """
    crop = _crop(a.ndim, axes, wins)
    tx, fshape = fft_axes_lengths(a.shape, k.shape, axes, wins)
    if not tx:
        _trace.record("fft-none")
        full = np.multiply(a, k, dtype=np.result_type(fft_float(a.dtype), fft_float(k.dtype)))
        return np.ascontiguousarray(full[crop])
    from . import _fftw
    return _fftw.freq_conv(a, k, tx, fshape, crop, single, workers)


def run_oa(a, k, axes, wins, single, workers):
    """Overlap-add: split the longer operand in blocks along each axis."""
    info = [oa_lengths(a.shape[ax], k.shape[ax]) for ax in axes]
    if not axes or all(i[1] is None for i in info):
        return run_fft(a, k, axes, wins, single, workers)
    from . import _fftw
    _trace.record("oa")
    nd = a.ndim
    shp_r1, shp_r2, fft_axes, block_axes, fshape = [], [], [], [], []
    pad1, pad2 = [], []
    pos = 0
    for ax in range(nd):
        if ax not in axes:
            shp_r1.append(a.shape[ax])
            shp_r2.append(k.shape[ax])
            pad1.append(a.shape[ax])
            pad2.append(k.shape[ax])
            pos += 1
            continue
        block, overlap, st1, st2 = info[axes.index(ax)]
        full = a.shape[ax] + k.shape[ax] - 1
        n1 = _nsteps(a.shape[ax], st1, block, overlap, full)
        n2 = _nsteps(k.shape[ax], st2, block, overlap, full)
        shp_r1 += [n1, st1]
        shp_r2 += [n2, st2]
        pad1.append(n1 * st1)
        pad2.append(n2 * st2)
        block_axes.append(pos)
        fft_axes.append(pos + 1)
        fshape.append(block)
        pos += 2
    ap = _zero_pad(a, pad1).reshape(shp_r1)
    kp = _zero_pad(k, pad2).reshape(shp_r2)
    ret = _fftw.freq_conv(ap, kp, fft_axes, fshape, (slice(None),) * len(shp_r1),
                          single, workers, slot=1)
    for ax, bpos, fpos in zip(axes, block_axes, fft_axes):
        block, overlap = info[axes.index(ax)][:2]
        if overlap is None:
            continue
        step = block - overlap
        head = _sl(ret, fpos, slice(0, step))
        tail = _sl(ret, fpos, slice(step, block))
        dst = _sl(_sl(head, bpos, slice(1, None)), fpos, slice(0, overlap))
        dst += _sl(tail, bpos, slice(0, -1))
        ret = head
    merged = []
    for i, s in enumerate(ret.shape):
        if i in fft_axes:
            merged[-1] *= s
        else:
            merged.append(s)
    ret = ret.reshape(merged)
    full = [slice(0, a.shape[ax] + k.shape[ax] - 1) if ax in axes else slice(None)
            for ax in range(nd)]
    ret = ret[tuple(full)]
    return np.ascontiguousarray(ret[_crop(nd, axes, wins)])


def _nsteps(s, step, block, overlap, full):
    if s <= step:
        return 1
    n = math.ceil((s + 1) / step)
    if (block - overlap) * n < full:
        n += 1
    return n


def _zero_pad(x, shape):
    if tuple(x.shape) == tuple(shape):
        return x
    out = np.zeros(shape, dtype=x.dtype.newbyteorder("="))
    out[tuple(slice(0, s) for s in x.shape)] = x
    return out


def _sl(x, axis, s):
    idx = [slice(None)] * x.ndim
    idx[axis] = s
    return x[tuple(idx)]


def _ext_index(lo, X, n, bnd):
    """Source index for positions ``lo .. lo+X-1`` of an extended axis of length ``n``."""
    j = np.arange(lo, lo + X)
    if bnd == "wrap":
        return j % n
    # symmetric with edge repeat, any distance (SciPy's reflect_symm_index)
    k = np.where(j >= 0, j, -j - 1) % (2 * n)
    return np.where(k >= n, 2 * n - k - 1, k)


def run_2d(a, b, mode, bnd, fill, convolve, rt, workers):
    """``convolve2d``/``correlate2d``: extend the image by the boundary rule, then
    a valid correlation (SciPy's indexing in ``_firfilter.c``)."""
    cd = compute_dtype(rt)
    N, M = a.shape, b.shape
    if mode == "full":
        Os = [n + m - 1 for n, m in zip(N, M)]
        lo = [-(m - 1) for m in M]
    elif mode == "same":
        Os = list(N)
        lo = [((m - 1) >> 1) - (m - 1) if convolve else -((m - 1) >> 1) for m in M]
    else:
        Os = [n - m + 1 for n, m in zip(N, M)]
        lo = [0, 0]
    X = [o + m - 1 for o, m in zip(Os, M)]
    if bnd == "fill" or a.size == 0:
        ext = np.full(X, fill if fill is not None else 0, dtype=cd)
        src, dst = [], []
        for l, x, n in zip(lo, X, N):
            s0, s1 = max(l, 0), min(l + x, n)
            src.append(slice(s0, max(s0, s1)))
            dst.append(slice(s0 - l, max(s0, s1) - l))
        ext[tuple(dst)] = a[tuple(src)]
    else:
        i0 = _ext_index(lo[0], X[0], N[0], bnd)
        i1 = _ext_index(lo[1], X[1], N[1], bnd)
        ext = a[np.ix_(i0, i1)]
    w = b[::-1, ::-1] if convolve else (np.conj(b) if b.dtype.kind == "c" else b)
    return _direct.valid_corr(ext, w, cd, workers)
