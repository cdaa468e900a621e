"""The cost model: predicted seconds of each candidate from shapes alone.

SciPy's model (PR #11031) compares operation counts with constants fitted for
its single-threaded direct code. jitconv's direct kernels vectorise and use
every worker, and its FFTs are FFTW's at padded lengths, so the constants here
describe these kernels (measured on the 2-core reference machine with
``perf/auto_sweep.py``). They only prune and break ties: the planner times
the candidates they keep.
"""
import math

import numpy as np

from .. import _config

#: seconds per multiply-add of the direct kernel, per thread, by compute kind
DIRECT_MAC = {"f4": 0.18e-9, "f8": 0.22e-9, "c8": 0.9e-9, "c16": 0.95e-9, "i8": 0.35e-9}
#: seconds per (element * log2(length)) of one FFTW transform, per thread
FFT_UNIT = {False: 1.3e-9, True: 0.8e-9}
#: ``direct-lags`` (eight taps per pass over a group of outputs) against
#: ``DIRECT_MAC``, measured on 1e6 x 1e6 taps, 33 lags: 0.088 ns per float64
#: multiply-add and thread
LAGS_MAC_FACTOR = 0.4
#: seconds of one dependent floating-point addition: a sum of K taps, in
#: order, never takes less than K of them (3-4 cycles each)
ADD_LATENCY = 0.9e-9
#: ``direct-lags``: seconds per kernel row a task visits, and per
#: bounds-checked tap at the row's edges (fitted with thread CPU time on
#: 128 x 32x32 and 100 x 64x64 windows of 13 and 9 lags, float64)
LAGS_ROW = 117e-9
LAGS_EDGE_TAP = 2.75e-9
#: fixed costs of a call (validation, planner lookup, driver), measured:
#: ~90 us for a tiny direct call, ~100 us for a tiny FFT call
DIRECT_FIXED = 80e-6
#: an OpenMP launch costs ~0.1 ms when the other core is busy (README, "Threads")
PARALLEL_FIXED = 150e-6
FFT_FIXED = 100e-6

#: multiply-adds per second of BLAS GEMM on im2col chunks (measured on the
#: reference machine: ~80 GFLOP/s float32 with 2 threads, half in float64)
GEMM_MACS = {4: 40e9, 8: 20e9}
#: bytes per second written by im2col / col2im
COPY_BYTES = 6e9


# ----------------------------------------------------------- signal problems
def batch(p):
    """Broadcast size of the non-convolved axes."""
    b = 1
    for i in range(len(p.shape1)):
        if i not in p.axes:
            b *= max(p.shape1[i], p.shape2[i])
    return b


def macs(p):
    """Multiply-adds of the direct evaluation of the output windows."""
    out = math.prod(w[1] for w in p.wins)
    kvol = min(math.prod(p.shape1[a] for a in p.axes), math.prod(p.shape2[a] for a in p.axes))
    return batch(p) * out * kvol


def mac_cost(p):
    """Seconds per multiply-add of the direct kernel for ``p``'s compute dtype."""
    c = p.cdtype
    key = {"f": "f4" if c.itemsize == 4 else "f8", "c": "c8" if c.itemsize == 8 else "c16",
           "i": "i8"}[c.kind]
    return DIRECT_MAC[key]


def fft_cost(p, lengths, nblocks=1):
    """Two forward transforms and one inverse over each operand's batch."""
    vol = math.prod(lengths)
    logp = sum(math.log2(max(n, 2)) for n in lengths)
    per = (1.0 if p.complex else 0.5) * FFT_UNIT[p.single] * vol * logp
    b1 = math.prod(s for i, s in enumerate(p.shape1) if i not in p.axes)
    b2 = math.prod(s for i, s in enumerate(p.shape2) if i not in p.axes)
    b = batch(p)
    threads = min(p.workers, 2)
    return FFT_FIXED + (per * (b1 * nblocks + b2 + b * nblocks) + 2e-10 * vol * b * nblocks) / threads


def fft_bytes(p, lengths, nblocks=1):
    """Peak bytes of an FFT path (~5 spectra of the padded size)."""
    item = 8 if p.single else 16  # complex spectrum element
    return 5 * math.prod(lengths) * batch(p) * nblocks * item


def fits_memory(nbytes):
    return nbytes <= _config.SETTINGS.memory_budget


# ------------------------------------------------------------ CNN problems
def threads(p):
    """Threads a CNN candidate can use."""
    return max(1, min(p.workers, _config.CPUS))


def itemsize(p):
    return np.dtype(p.dtype).itemsize
