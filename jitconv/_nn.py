"""Drivers, candidates and planner keys of the CNN ops (``jitconv.nn``).

Everything here works on the normalised 3-spatial-axis form of
``kernels.nn``: ``x (N, C, D, H, W)``, ``w (Cout, Cin/groups, KD, KH, KW)`` and
a ``Geo`` (kernel, stride, dilation, leading zero padding, output size).
Zero padding is implicit (never materialised); other padding modes are
applied by ``jitconv.nn`` before a problem reaches this module.

Three ops, each with candidates the planner times per key:

- ``conv`` (forward cross-correlation): ``gemm`` (im2col into cache-sized
  chunks + BLAS), ``grid`` (stride 1: the same on the padded output grid,
  where every im2col row is one contiguous copy), ``direct`` (numba loops:
  depthwise and few channels), ``winograd`` (F(2x2, 3x3) for 3x3 stride-1 2-d layers: 2.25x fewer
  multiplies, batched BLAS in the transformed domain) and ``fft`` (large
  kernels);
- ``input_grad`` (= transposed convolution): ``col2im`` (BLAS then the
  adjoint scatter) and, for stride 1, ``as-conv`` (a forward convolution with
  the flipped, channel-swapped kernel: where the flip of the mathematics
  reappears, and where the forward candidates are reused);
- ``weight_grad``: im2col + BLAS.

Float32 problems are computed and accumulated in float32 (like PyTorch and
BLAS sgemm), float64 in float64.
"""
import math
from dataclasses import dataclass

import numpy as np

from . import _config, _direct, _fftw, _trace
from ._methods import DIRECT_MAC, FFT_UNIT
from ._shapes import next_fast_len
from .kernels import nn as _k

_direct.register_kernels(*_k.KERNELS)

#: bytes of one im2col chunk: big enough for BLAS to run near its peak (the
#: GEMMs' width grows with it), small enough to stay in the 35 MiB L3 between
#: im2col and the GEMM. End to end (ms, 1/2/4/8 MiB): W10 grid 92/89/85/83,
#: W11 43/41/38/37, W12 98/76/69/70
COLS_BYTES = 4 << 20


@dataclass(frozen=True)
class Geo:
    K: tuple
    S: tuple
    Dl: tuple
    P: tuple   # leading zero padding (may be negative: a crop)
    O: tuple   # output size

    def array(self):
        return np.array(self.K + self.S + self.Dl + self.P + self.O, dtype=np.int64)

    def tup(self):
        return self.K + self.S + self.Dl + self.P + self.O


# ------------------------------------------------------------------ helpers
_readonly = _direct._readonly


def _chunks(N, R, P, item):
    """Yield ``(n0, B, p0, Pt)`` chunks of images and output positions whose
    im2col matrix ``(B, R, Pt)`` takes about ``COLS_BYTES``."""
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


def _buffer(buf, shape, dtype):
    """A C-contiguous ``shape`` array in ``buf``'s memory (a new one if too small):
    smaller last chunks keep the kernels' contiguous signature."""
    n = math.prod(shape)
    if buf is None or buf.size < n:
        buf = np.empty(n, dtype)
    return buf, buf[:n].reshape(shape)


def _work(N, R, P):
    return N * R * P >= _config.SERIAL_WORK


def _im2col_chunks(x, Cg, groups, geo):
    """``(n0, B, p0, Pt, g, cols)`` for every chunk (``_chunks``) and group:
    the im2col matrix ``(B, Cg*KV, Pt)``, in one reused buffer.

    im2col runs on the calling thread on purpose: the GEMM that follows runs
    on OpenBLAS's threads, which spin for a while after each call; a numba
    parallel region in between fights them for the cores (W10 per image:
    parallel im2col + GEMM 8.6 ms, serial 4.9 ms).
    """
    R = Cg * math.prod(geo.K)
    P = math.prod(geo.O)
    g_arr, xr = geo.array(), _readonly(x)
    buf = None
    for n0, B, p0, Pt in _chunks(x.shape[0], R, P, x.itemsize):
        buf, cols = _buffer(buf, (B, R, Pt), x.dtype)
        for g in range(groups):
            _direct._call(_k.im2col, xr, cols, n0, g * Cg, g_arr, p0)
            yield n0, B, p0, Pt, g, cols


def _region(src, starts, dst):
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


# ------------------------------------------------------------------ forward
def conv_gemm(x, w, groups, geo, workers):
    N = x.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.K)
    P = math.prod(geo.O)
    y = np.empty((N, Cout, P), x.dtype)
    wm = w.reshape(groups, cog, R)
    _trace.record("nn-gemm")
    for n0, B, p0, Pt, g, cols in _im2col_chunks(x, Cg, groups, geo):
        np.matmul(wm[g], cols, out=y[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt])
    return y.reshape((N, Cout) + geo.O)


def conv_direct(x, w, groups, geo, workers):
    N = x.shape[0]
    Cout = w.shape[0]
    y = np.empty((N, Cout) + geo.O, x.dtype)
    if y.size:
        _direct.launch(_k.direct_parallel, _k.direct_serial,
                       (_readonly(x), _readonly(w), y, groups, geo.array()), workers,
                       _work(y.size, w[0].size, 1), "nn-direct")
    return y


def grid_supports(geo):
    return geo.S == (1, 1, 1)


def conv_grid(x, w, groups, geo, workers):
    """Stride-1 convolution as GEMMs on the padded output grid (see
    ``kernels.nn.grid_cols``): one contiguous copy per im2col row."""
    N = x.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    KD, KH, KW = geo.K
    OD, OH, OW = geo.O
    KV = KD * KH * KW
    R = Cg * KV
    y = np.empty((N, Cout) + geo.O, x.dtype)
    wm = w.reshape(groups, cog, R)
    _trace.record("nn-grid")
    # grid dims (padded) and each tap's flat offset
    Dp, Hp, Wp = [o + (k - 1) * d for o, k, d in zip(geo.O, geo.K, geo.Dl)]
    offs = np.array([(i * geo.Dl[0] * Hp + j * geo.Dl[1]) * Wp + l * geo.Dl[2]
                     for i in range(KD) for j in range(KH) for l in range(KW)], np.int64)
    slack = (KH - 1) * geo.Dl[1] * Wp + (KW - 1) * geo.Dl[2] + Wp
    Q = OD * Hp * Wp                               # grid positions
    Pt = min(Q, max(256, COLS_BYTES // (R * x.itemsize)))
    cbuf = np.empty(R * Pt, x.dtype)
    tbuf = np.empty(cog * Pt, x.dtype)
    # one image's input region, the reads of stride-1 outputs: per axis
    # [-P, -P + O + (K-1)*DIL), flattened per channel, ``slack`` zeros after
    # it for the reads of the dropped grid columns
    starts = [-p for p in geo.P]
    for n in range(N):
        flat = np.zeros((x.shape[1], Dp * Hp * Wp + slack), x.dtype)
        _region(x[n], starts, flat[:, :Dp * Hp * Wp].reshape(x.shape[1], Dp, Hp, Wp))
        xp = _readonly(flat)
        for g in range(groups):
            for q0 in range(0, Q, Pt):
                pt = min(Pt, Q - q0)
                c, t = cbuf[:R * pt].reshape(R, pt), tbuf[:cog * pt].reshape(cog, pt)
                _direct._call(_k.grid_cols, xp, c, g * Cg, offs, q0)
                np.matmul(wm[g], c, out=t)
                _direct._call(_k.grid_store, _readonly(t), y[n], g * cog, q0, Hp, Wp, OH, OW)
    return y


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
            for s, k, d in zip(spatial, geo.K, geo.Dl)]


def conv_fft(x, w, groups, geo, workers):
    """Correlation via the convolution theorem: full convolution of ``x`` with
    the flipped, dilated kernel, then the strided window the geometry asks for."""
    N, C = x.shape[:2]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    S = x.shape[2:]
    keff = [(k - 1) * d + 1 for k, d in zip(geo.K, geo.Dl)]
    wd = np.zeros((Cout, Cg) + tuple(keff), w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in geo.Dl)] = w
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
    y = np.zeros((N, Cout) + geo.O, x.dtype)
    crop, dst = [slice(None), slice(None)], [slice(None), slice(None)]
    for o, s, p, k, f in zip(geo.O, geo.S, geo.P, keff, full):
        start = k - 1 - p
        lo, hi = _out_index(o, s, start, f)
        if hi <= lo:
            return y
        crop.append(slice(lo * s + start, (hi - 1) * s + start + 1, s))
        dst.append(slice(lo, hi))
    y[tuple(dst)] = _fftw.irfft_cropped(Y, (2, 3, 4), F, tuple(crop), workers)
    return y


#: Winograd F(2x2, 3x3) transforms of the kernel: U = G g G^T
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: bytes of one chunk of transformed input (16 x channels x tiles)
WINO_BYTES = 4 << 20


def winograd_supports(geo):
    return (geo.K == (1, 3, 3) and geo.S == (1, 1, 1) and geo.Dl == (1, 1, 1))


def conv_winograd(x, w, groups, geo, workers):
    """F(2x2, 3x3) Winograd: 16 multiplies per 2x2 outputs and channel pair
    instead of 36 (2.25x fewer), as 16 BLAS GEMMs per chunk of images."""
    N, C = x.shape[:2]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    OH, OW = geo.O[1], geo.O[2]
    PH, PW = geo.P[1], geo.P[2]
    TH, TW = -(-OH // 2), -(-OW // 2)
    dt = x.dtype
    # U[ab, co, c], per group: (16, cog, Cg), computed in float64 then rounded
    U = np.einsum("ai,ocij,bj->aboc", _G, w[:, :, 0].astype(np.float64), _G)
    U = np.ascontiguousarray(U.reshape(16, groups, cog, Cg).transpose(1, 0, 2, 3), dtype=dt)
    y = np.empty((N, Cout, 1, OH, OW), dt)
    per_image = 16 * max(Cg, cog) * TH * TW * x.itemsize
    B = max(1, min(N, WINO_BYTES // max(per_image, 1)))
    _trace.record("nn-winograd")
    for n0 in range(0, N, B):
        b = min(B, N - n0)
        # the input region the tiles read: rows -PH .. 2TH+1-PH (zero outside x)
        xp = _region(x[n0:n0 + b, :, 0], (-PH, -PW), np.zeros((b, C, 2 * TH + 2, 2 * TW + 2), dt))
        V = np.empty((16, Cg, b * TH * TW), dt)
        M = np.empty((16, cog, b * TH * TW), dt)
        Yb = np.empty((b, cog, 2 * TH, 2 * TW), dt)
        for g in range(groups):
            _direct._call(_k.winograd_input, _readonly(xp[:, g * Cg:(g + 1) * Cg]), V)
            np.matmul(U[g], V, out=M)
            _direct._call(_k.winograd_output, _readonly(M), Yb)
            y[n0:n0 + b, g * cog:(g + 1) * cog, 0] = Yb[:, :, :OH, :OW]
    return y


# ------------------------------------------------------------ gradients
def input_grad_col2im(dy, w, groups, geo, xshape, workers):
    N = dy.shape[0]
    Cout, Cg = w.shape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.K)
    P = math.prod(geo.O)
    dx = np.zeros(xshape, dy.dtype)
    wt = np.ascontiguousarray(w.reshape(groups, cog, R).transpose(0, 2, 1))  # (G, R, cog)
    dyr = dy.reshape(N, Cout, P)
    g_arr = geo.array()
    _trace.record("nn-col2im")
    buf = None
    for n0, B, p0, Pt in _chunks(N, R, P, dy.itemsize):
        buf, cols = _buffer(buf, (B, R, Pt), dy.dtype)
        for g in range(groups):
            np.matmul(wt[g], dyr[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt], out=cols)
            _direct._call(_k.col2im, _readonly(cols), dx, n0, g * Cg, g_arr, p0)
    return dx


def transpose_weight(w, groups):
    """``(Cout, Cg, *k)`` -> ``(groups*Cg, Cout/groups, *k)`` flipped: the
    kernel that turns a forward convolution into its input gradient."""
    Cout, Cg = w.shape[:2]
    k = w.shape[2:]
    wt = w.reshape((groups, Cout // groups, Cg) + k).swapaxes(1, 2)
    wt = wt.reshape((groups * Cg, Cout // groups) + k)
    return np.ascontiguousarray(wt[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k)])


def input_grad_geo(geo, xshape):
    """Geometry of the stride-1 input gradient as a forward convolution."""
    P = tuple((k - 1) * d - p for k, d, p in zip(geo.K, geo.Dl, geo.P))
    return Geo(geo.K, (1, 1, 1), geo.Dl, P, tuple(xshape[2:]))


def weight_grad_gemm(x, dy, wshape, groups, geo, workers):
    N = x.shape[0]
    Cout, Cg = wshape[:2]
    cog = Cout // groups
    R = Cg * math.prod(geo.K)
    P = math.prod(geo.O)
    dw = np.zeros((groups, cog, R), x.dtype)
    dyr = dy.reshape(N, Cout, P)
    _trace.record("nn-wgrad-gemm")
    for n0, B, p0, Pt, g, cols in _im2col_chunks(x, Cg, groups, geo):
        part = np.matmul(dyr[n0:n0 + B, g * cog:(g + 1) * cog, p0:p0 + Pt],
                         cols.transpose(0, 2, 1))
        dw[g] += part.sum(axis=0) if B > 1 else part[0]
    return dw.reshape(wshape)


# -------------------------------------------------------------- planning
@dataclass(frozen=True)
class NNProblem:
    op: str          # 'conv', 'input_grad', 'weight_grad'
    xshape: tuple    # (N, C, D, H, W) of the input (of dx for input_grad)
    wshape: tuple    # (Cout, Cin/groups, KD, KH, KW)
    geo: tuple       # Geo.tup()
    groups: int
    dtype: str
    workers: int
    deterministic: bool = False
    family: str = "auto"

    def key(self):
        return ("nn-" + self.op, self.xshape, self.wshape, self.geo, self.groups, self.dtype,
                self.workers, self.deterministic)

    def keystr(self):
        return repr(self.key())

    def g(self):
        t = self.geo
        return Geo(t[0:3], t[3:6], t[6:9], t[9:12], t[12:15])

    def oshape(self):
        return (self.xshape[0], self.wshape[0]) + self.geo[12:15]

    def candidates(self):
        return [c for c in REGISTRY if c.op == self.op and c.supports(self)]

    def admits(self, cid):
        c = BY_ID.get(cid)
        return c is not None and c.op == self.op and c.supports(self)

    def operands(self, rng):
        dt = np.dtype(self.dtype)

        def r(shape):
            return rng.standard_normal(shape).astype(dt)
        if self.op == "conv":
            return r(self.xshape), r(self.wshape)
        if self.op == "input_grad":
            return r(self.oshape()), r(self.wshape)
        return r(self.xshape), r(self.oshape())

    def macs(self):
        return math.prod(self.oshape()) * math.prod(self.wshape[1:])


def make(op, xshape, wshape, geo, groups, dtype, workers):
    return NNProblem(op, tuple(xshape), tuple(wshape), geo.tup(), int(groups),
                     np.dtype(dtype).str, int(workers), bool(_config.PLANNER.deterministic))


#: multiply-adds per second of BLAS GEMM on im2col chunks (measured on the
#: reference machine: ~80 GFLOP/s float32 with 2 threads, half in float64)
GEMM_MACS = {4: 40e9, 8: 20e9}
#: bytes per second written by im2col / col2im
COPY_BYTES = 6e9


def _par(p):
    return max(1, min(p.workers, _config.CPUS))


class _Cand:
    op = "conv"

    def supports(self, p):
        return True


class Gemm(_Cand):
    id = "nn-gemm"

    def estimate(self, p):
        item = np.dtype(p.dtype).itemsize
        cog = p.wshape[0] // p.groups
        # BLAS is far from its peak with few output channels per group (a
        # depthwise layer is a matrix-vector product per group)
        rate = GEMM_MACS[item] * min(_par(p), 2) / 2 * min(1.0, cog / 32)
        R, P = math.prod(p.wshape[1:]), math.prod(p.geo[12:15])
        calls = sum(1 for _ in _chunks(p.xshape[0], R, P, item)) * p.groups
        return 30e-6 + 40e-6 * calls + p.macs() / rate + p.xshape[0] * R * P * item / COPY_BYTES

    def run(self, p, x, w):
        return conv_gemm(x, w, p.groups, p.g(), p.workers)


class Grid(Gemm):
    """im2col + GEMM for stride 1 on the padded output grid."""
    id = "nn-grid"

    def supports(self, p):
        return grid_supports(p.g())

    def estimate(self, p):
        Hp, Wp = (p.geo[13] + (p.geo[1] - 1) * p.geo[7]), (p.geo[14] + (p.geo[2] - 1) * p.geo[8])
        waste = Hp * Wp / max(1, p.geo[13] * p.geo[14])
        # the copies are contiguous: a third of im2col's cost (measured on W10)
        return (Gemm.estimate(self, p) - 30e-6) * waste * 0.85 + 30e-6

    def run(self, p, x, w):
        return conv_grid(x, w, p.groups, p.g(), p.workers)


class Direct(_Cand):
    id = "nn-direct"

    def estimate(self, p):
        # float32 accumulates in float32 here: twice the float64 rate of the signal kernels
        mac = DIRECT_MAC["f8"] / (2 if np.dtype(p.dtype).itemsize == 4 else 1)
        if p.geo[5] > 1:
            mac *= 2   # strided rows do not vectorise
        # each (output row chunk, tap) pair costs ~25 ns of loop set-up: short
        # rows (W10: 56 outputs) are dominated by it (measured)
        OD, OH, OW = p.geo[12:15]
        rows = p.xshape[0] * p.wshape[0] * OD * OH * -(-OW // _k.CHUNK)
        return 20e-6 + (p.macs() * mac + rows * math.prod(p.wshape[1:]) * 25e-9) / _par(p)

    def run(self, p, x, w):
        return conv_direct(x, w, p.groups, p.g(), p.workers)


class FFTConv(_Cand):
    id = "nn-fft"

    def supports(self, p):
        F = fft_lengths(p.xshape[2:], p.g())
        nbytes = 8 * math.prod(F) * (2 * p.xshape[0] * p.xshape[1] + p.wshape[0] * p.wshape[1]
                                     + 2 * p.xshape[0] * p.wshape[0])
        return nbytes <= _config.PLANNER.memory_budget

    def estimate(self, p):
        F = fft_lengths(p.xshape[2:], p.g())
        vol = math.prod(F)
        logp = sum(math.log2(max(n, 2)) for n in F)
        single = np.dtype(p.dtype).itemsize == 4
        N, C = p.xshape[:2]
        Cout, Cg = p.wshape[:2]
        ffts = 0.5 * FFT_UNIT[single] * vol * logp * (N * C + Cout * Cg + N * Cout)
        prod = 4 * (vol / 2) * N * Cout * Cg / GEMM_MACS[4 if single else 8]
        # x2.5: batched small 2-d transforms and the transposes around the
        # per-frequency products run well below the model (measured on W10)
        return 200e-6 + 2.5 * ((ffts + prod) / min(_par(p), 2)
                               + 4 * vol * (N * C + N * Cout) * 8 / COPY_BYTES)

    def run(self, p, x, w):
        return conv_fft(x, w, p.groups, p.g(), p.workers)


class Col2im(_Cand):
    id = "nn-col2im"
    op = "input_grad"

    def estimate(self, p):
        return Gemm.estimate(self, p) * 1.2

    def run(self, p, dy, w):
        return input_grad_col2im(dy, w, p.groups, p.g(), p.xshape, p.workers)


class AsConv(_Cand):
    """Stride-1 input gradient as a (planned) forward convolution."""
    id = "nn-as-conv"
    op = "input_grad"

    def supports(self, p):
        return p.geo[3:6] == (1, 1, 1)

    def _sub(self, p):
        g = input_grad_geo(p.g(), p.xshape)
        G = p.groups
        Cout, Cg = p.wshape[:2]
        wt = (G * Cg, Cout // G) + p.wshape[2:]
        return NNProblem("conv", p.oshape(), wt, g.tup(), G, p.dtype, p.workers,
                         p.deterministic)

    def estimate(self, p):
        sub = self._sub(p)
        return min(c.estimate(sub) for c in sub.candidates())

    def run(self, p, dy, w):
        sub = self._sub(p)
        _trace.record("nn-as-conv")
        return solve(sub, dy, transpose_weight(w, p.groups))


class WeightGemm(_Cand):
    id = "nn-wgrad-gemm"
    op = "weight_grad"

    def estimate(self, p):
        return Gemm.estimate(self, p)

    def run(self, p, x, dy):
        return weight_grad_gemm(x, dy, p.wshape, p.groups, p.g(), p.workers)


class Winograd(_Cand):
    id = "nn-winograd"

    def supports(self, p):
        return winograd_supports(p.g())

    def estimate(self, p):
        item = np.dtype(p.dtype).itemsize
        cog = p.wshape[0] // p.groups
        rate = GEMM_MACS[item] * min(_par(p), 2) / 2 * min(1.0, cog / 32)
        N, C = p.xshape[:2]
        tiles = N * -(-p.geo[13] // 2) * -(-p.geo[14] // 2)
        macs = 16 * tiles * p.wshape[0] * p.wshape[1]
        # transforms: ~16 values written and read per tile and channel, twice
        moved = 2 * 16 * tiles * (C + p.wshape[0]) * item
        return 50e-6 + macs / rate + moved / COPY_BYTES

    def run(self, p, x, w):
        return conv_winograd(x, w, p.groups, p.g(), p.workers)


REGISTRY = [Gemm(), Grid(), Direct(), Winograd(), FFTConv(), Col2im(), AsConv(), WeightGemm()]
BY_ID = {c.id: c for c in REGISTRY}


def solve(p, a, b):
    """Run problem ``p`` on operands ``a, b`` with the planner's choice."""
    from ._planner import PLANNER
    d, _ = PLANNER.choose(p)
    return BY_ID[d.chosen].run(p, a, b)
