"""The cost model: predicted seconds of each candidate from shapes alone.

SciPy's model (PR #11031) compares operation counts with constants fitted for
its single-threaded direct code. jitconv's direct kernels vectorise and use
every worker, and its FFTs are FFTW's at padded lengths, so the constants here
describe these kernels: seconds per unit of work on **one thread** (measured
on the reference machine with ``perf/auto_sweep.py``), divided by the speed-up
of the actual thread count (``speedup``), which no constant caps: the model
holds on 2 cores and on 64. They only prune and break ties: the planner
times the candidates they keep when it is unsure.
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
#: ``direct-batched`` (the batch in the vector lanes, register tiles) against
#: ``DIRECT_MAC``, seconds per element it packs and per output it writes
#: (measured with one thread on 1024 pairs of 32x32 windows with 13x13 lags,
#: float32 7.6 ms and float64 9.3 ms, and on 4096 pairs of 16x16 and 5x5)
BATCHED_MAC_FACTOR = 0.2
PACK_ELEMENT = 0.5e-9
BATCHED_OUTPUT = 1e-9
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
#: an OpenMP launch costs ~0.1 ms when the other core is busy (``docs/reliability.md``, row 4)
PARALLEL_FIXED = 150e-6
FFT_FIXED = 100e-6

#: multiply-adds per second of BLAS GEMM on im2col chunks, per thread (measured
#: on the reference machine with one thread per chunk: ~80 GFLOP/s float32,
#: half in float64; the im2col copy is modelled apart)
GEMM_MACS = {4: 40e9, 8: 20e9}

#: serial fractions (Amdahl) of the thread speed-ups: the direct kernels are
#: compute-bound (1.9-2x measured from 1 to 2 threads on W4-W5), FFTs and
#: GEMMs on im2col chunks are bound by memory traffic (1.6-1.8x measured)
SERIAL_DIRECT = 0.03
SERIAL_FFT = 0.12
SERIAL_GEMM = 0.10


def speedup(threads, tasks=None, serial=SERIAL_DIRECT):
    """Speed-up of ``threads`` threads over one, for work split in ``tasks``
    independent pieces (no more threads than tasks are busy): Amdahl's law
    ``t / (1 + (t - 1) * serial)``."""
    t = max(1, threads if tasks is None else min(threads, tasks))
    return t / (1.0 + (t - 1) * serial)


#: transforms (batch included) smaller than this run on one FFTW thread (_fftw)
FFT_THREADED_MIN = 1 << 15
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


#: ``direct-serial``/``direct-parallel`` on real float data: seconds per
#: multiply-add and thread ``a + b / taps``, ``taps`` the kernel's length
#: along the last convolved axis (the register-tiled kernels reuse each load
#: across a row's taps: short rows pay the loads). Fitted with one thread on
#: 4e5-point rows of 2-100 taps: float32 0.28 ns (2 taps), 0.11 (9), 0.08
#: (31-63), 0.036-0.039 (65-301: its long-row kernel); float64 0.30, 0.11,
#: 0.09, 0.07. Against ``DIRECT_MAC`` (0.18/0.22 ns for every shape) that is
#: 4.6x closer on W4 (float32 rows of 129 taps: 50 ms predicted, 10.9 ms run)
DIRECT_ROW = {"f4": (0.065e-9, 0.45e-9), "f8": (0.065e-9, 0.45e-9)}
DIRECT_ROW_LONG = {"f4": (64, 0.03e-9, 0.45e-9)}


def direct_mac_cost(p):
    """Seconds per multiply-add of ``direct-serial``/``-parallel`` for ``p``,
    per thread: by the compute dtype and, for real floats, the row length."""
    c = p.cdtype
    key = "f4" if c == np.float32 else "f8" if c == np.float64 else None
    if key is None or not p.axes:
        return mac_cost(p)
    ax = p.axes[-1]
    taps = max(1, min(p.shape1[ax], p.shape2[ax]))
    a, b = DIRECT_ROW[key]
    long = DIRECT_ROW_LONG.get(key)
    if long is not None and taps >= long[0]:
        a, b = long[1:]
    return a + b / taps


#: ``direct-serial``/``-parallel`` on N-d kernels: seconds per tap of an edge
#: output (one whose kernel row reaches past the input's ends: partial
#: blocks), per pair of an output row and a kernel row, per thread. Small
#: images with wide kernels spend most of their time there (48x55 * 15x17
#: 'same': 0.23 ms, of which the multiply-adds at the vector rate take 0.06);
#: 1-d rows were measured at the vector rate, edges included
DIRECT_EDGE_TAP = 0.6e-9


def direct_work(p):
    """Seconds of ``direct-serial``'s work on ``p`` on one thread."""
    work = macs(p) * direct_mac_cost(p)
    if len(p.axes) < 2:
        return work
    pairs = batch(p)
    for ax, w in zip(p.axes[:-1], p.wins[:-1]):
        pairs *= w[1] * min(p.shape1[ax], p.shape2[ax])
    ax = p.axes[-1]
    taps = min(p.shape1[ax], p.shape2[ax])
    n = max(p.shape1[ax], p.shape2[ax])
    s, length = p.wins[-1]
    # outputs of the window (full-convolution indices) outside [taps - 1, n - 1]
    edge = max(0, min(s + length, taps - 1) - s) + max(0, s + length - max(s, n))
    return work + pairs * min(edge, length) * taps * DIRECT_EDGE_TAP


def fft_cost(p, lengths, nblocks=1):
    """Two forward transforms and one inverse over each operand's batch."""
    vol = math.prod(lengths)
    logp = sum(math.log2(max(n, 2)) for n in lengths)
    per = (1.0 if p.complex else 0.5) * FFT_UNIT[p.single] * vol * logp
    b1 = math.prod(s for i, s in enumerate(p.shape1) if i not in p.axes)
    b2 = math.prod(s for i, s in enumerate(p.shape2) if i not in p.axes)
    b = batch(p)
    threads = p.workers if vol * b * nblocks >= FFT_THREADED_MIN else 1
    return FFT_FIXED + ((per * (b1 * nblocks + b2 + b * nblocks) + 2e-10 * vol * b * nblocks)
                        / speedup(threads, serial=SERIAL_FFT))


def fft_bytes(p, lengths, nblocks=1):
    """Peak bytes of an FFT path (~5 spectra of the padded size)."""
    item = 8 if p.single else 16  # complex spectrum element
    return 5 * math.prod(lengths) * batch(p) * nblocks * item


def fits_memory(nbytes):
    return nbytes <= _config.SETTINGS.memory_budget


# ------------------------------------------------------------ filter problems
#: seconds per tap and output of the exact filter kernels, per thread (float64
#: arithmetic, also for float32 data: SciPy's sums); a symmetric pair costs
#: about 1.3 taps
FILTER_TAP = 0.22e-9
#: seconds per output of a running sum, per thread (a dependent add chain
#: along the last axis, vectorised across columns along the others; memory
#: traffic included: W16's float64 2048^2 passes took 7.2 and 6.2 ms on one
#: thread into an existing output)
FILTER_RUN = {True: 1.7e-9, False: 1.5e-9}
#: seconds per element of copying/extending an input (memory-bound)
FILTER_COPY = 0.4e-9


def filter_threads(p):
    return max(1, min(p.workers, _config.CPUS))


def filter_taps(p):
    """Multiply-adds per output of SciPy's sum for ``p``."""
    if p.rule == "line" and p.sym:
        return 1.3 * (p.wshape[0] // 2 + 1)
    return max(1, p.taps)


def filter_direct(p, parallel):
    work = p.size * (filter_taps(p) * FILTER_TAP + FILTER_COPY)
    if not parallel:
        return DIRECT_FIXED + work
    return DIRECT_FIXED + PARALLEL_FIXED + work / filter_threads(p)


def filter_running(p, parallel):
    nd = len(p.shape)
    work = p.size * sum(FILTER_RUN[ax == nd - 1] for ax in p.axes)
    if not parallel:
        return DIRECT_FIXED + work
    return DIRECT_FIXED + PARALLEL_FIXED + work / filter_threads(p)


def filter_separable(p):
    """One 1-d pass per axis longer than 1, float64 in between."""
    passes = [m for m in p.wshape if m > 1]
    work = p.size * sum(passes) * FILTER_TAP
    return DIRECT_FIXED * len(passes) + (work + 2 * p.size * FILTER_COPY * len(passes)) \
        / filter_threads(p)


#: seconds per tap and output of the float32 line passes (fused multiply-adds
#: in float32, ~65 GFLOP/s per thread), and per output for moving the line
#: through memory (read, extend, write: ~0.7 ns per float32 output on one
#: thread, which a second thread shares: memory-bound); measured on W15's
#: passes (2048^2, 33 taps: 6.3 ms along a leading axis, 7.3 along the last)
FILTER32_TAP = 0.032e-9
FILTER32_OUT = 0.65e-9
#: serial fraction of the float passes' thread speed-up (memory traffic)
SERIAL_STREAM = 0.3


def filter_line32(p, parallel):
    work = p.size * (p.wshape[0] * FILTER32_TAP + FILTER32_OUT)
    if not parallel:
        return DIRECT_FIXED + work
    return DIRECT_FIXED + PARALLEL_FIXED + work / speedup(filter_threads(p),
                                                         serial=SERIAL_STREAM)


#: seconds per output of the fused box (both passes of ``uniform_filter``):
#: 6.0 ms for W16's 2048^2 float64 on one thread, memory-bound
FILTER_BOX = 1.4e-9


def filter_box(p, parallel):
    work = p.size * FILTER_BOX
    if not parallel:
        return DIRECT_FIXED + work
    return DIRECT_FIXED + PARALLEL_FIXED + work / speedup(filter_threads(p),
                                                         serial=SERIAL_STREAM)


def filter_fft(p, lengths, batch_):
    """Extension copy, two forward transforms and one inverse of the padded input."""
    vol = math.prod(lengths) * batch_
    logp = sum(math.log2(max(n, 2)) for n in lengths)
    single = p.cdtype == np.float32
    per = 0.5 * FFT_UNIT[single] * vol * logp
    threads = min(p.workers, 2)
    return FFT_FIXED + (3 * per + 3e-10 * vol) / threads + vol * FILTER_COPY


# ------------------------------------------------------------ CNN problems
def threads(p):
    """Threads a CNN candidate can use."""
    return max(1, min(p.workers, _config.CPUS))


def itemsize(p):
    return np.dtype(p.dtype).itemsize


#: multiply-adds per second of the register-tile micro-kernel (``nn-tile``,
#: Winograd products), per thread, by itemsize: measured on one core of the
#: reference machine (115 GFLOP/s on cache-resident data; 94-104 GFLOP/s on
#: W10-W12 with packing and stores)
TILE_MACS = {4: 50e9, 8: 25e9}
#: seconds per element packed by ``nn-tile`` (a strided or contiguous copy)
TILE_COPY = 0.6e-9
#: seconds per (tile position, channel) of the F(4x4, 3x3) input transform
#: (pack, two passes) and per (tile position, output row of a micro-kernel
#: block) of the output transform (two passes, the store), float32, one
#: thread; and per task (its buffers, its loops): measured on W10 and on a
#: depthwise layer
WINO_IN = 30e-9
WINO_OUT = 18e-9
WINO_TASK = 3e-6
