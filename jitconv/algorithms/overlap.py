"""Overlap-add: the longer operand in blocks along each convolved axis.

Each block is convolved by FFT at a block length that minimises the cost per
output (SciPy's Lambert-W rule, capped near L2 size); all blocks are
transformed in one batched FFTW call, then their tails are added. Used by
``oaconvolve`` and chosen by ``'auto'`` for long signals with short kernels.
Error: as the FFT family's, per block.
"""
import math

import numpy as np

from .. import _fftw, _trace
from .._shapes import crop, oa_lengths
from . import cost
from .base import Candidate
from .fft import run_fft


def run_oa(a, k, axes, wins, single, workers):
    """Overlap-add: split the longer operand in blocks along each axis."""
    info = [oa_lengths(a.shape[ax], k.shape[ax]) for ax in axes]
    if not axes or all(i[1] is None for i in info):
        return run_fft(a, k, axes, wins, single, workers)
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
    return np.ascontiguousarray(ret[crop(nd, axes, wins)])


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




class OverlapAdd(Candidate):
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
        return cost.fits_memory(cost.fft_bytes(p, lens, nb))

    def estimate(self, p):
        lens, nb = self._blocks(p)
        return cost.fft_cost(p, lens, nb) * 1.15  # block bookkeeping and the overlap adds

    def run(self, p, a, k):
        return run_oa(a, k, list(p.axes), list(p.wins), p.single, p.workers)
