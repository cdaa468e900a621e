"""Problem descriptions and their planner keys, and the calls that carry them.

A *problem* says what is computed, in shapes and dtypes only; its ``key()``
is what the planner remembers a decision under. Three kinds:

- ``SignalProblem`` (``kind='signal'``): windows of the full, zero-padded
  convolution of two operands along some axes, broadcast over the others
  (``convolve``, ``correlate``, ``fftconvolve``, ``oaconvolve``);
- ``BoundaryProblem`` (``kind='boundary'``): a convolution of an image
  extended by a boundary rule (``convolve2d``, ``correlate2d``);
- ``NNProblem`` (``kind='nn-conv'``, ``'nn-input_grad'``, ``'nn-weight_grad'``):
  the CNN ops of ``jitconv.nn``;
- ``FilterProblem`` (``kind='filter'``): ``scipy.ndimage``'s filters, a
  correlation of an input extended by a boundary mode, in the output's shape.

A ``SignalProblem`` key holds what changes the winner: the entry point, the
family allowed (auto, or forced by ``method``/a semantic guard), both operand
shapes and compute dtypes, the convolved axes and output windows, the result
dtype, the thread count, a layout class and whether the kernel is rank-1;
for a piece of a larger call (a dask chunk), how the whole call's direct sums
are laid out.
Left out on purpose: data values (guards are applied per call and restrict
the family instead), byte order and alignment (operands are copied into
native, aligned buffers before any kernel or FFT runs).

An ``NNProblem`` key holds the op, the input and weight shapes (normalised
to three spatial axes), the geometry (kernel, stride, dilation, leading
padding, output size), groups, dtype and thread count. Left out on purpose:
padding modes other than zeros and ``flip`` (applied to the operands before
the problem is made), the bias (added afterwards), data values.

A ``FilterProblem`` key holds the rule (which of SciPy's sums: ``'nd'``,
``'line'``, ``'uniform'``, or ``'box'``: ``uniform_filter``'s passes in
turn), the input shape and dtype, the weights' shape (a box: the size of
each pass), the filtered axis (a box: the axis of each pass, in order), the
boundary mode and origin per axis (per pass), the output dtype,
the thread count, and three properties of the weights that change the
candidates and their cost: how many taps SciPy sums, SciPy's symmetry class
of 1-d weights, whether N-d weights are rank-1. Left out on purpose: weight
values and ``cval`` (guards look at them per call and restrict the family),
the caller's layout and byte order (the drivers take C-contiguous native
copies where needed).

A ``Call`` is a problem with its operands and the rule that turns the raw
result into what the caller gets (``*Finish``); ``Answer`` and ``Fallback``
are calls answered without a planned kernel; ``Chain`` and ``Combine`` run
several filter calls as SciPy's separable and complex filters do. This
module is pure data.
"""
import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from ._dtypes import compute_dtype, fft_single


def scratch(shape, dtype, rng):
    """Random operand of ``shape`` and ``dtype`` for timing (never the caller's data)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0, 3, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


@dataclass(frozen=True)
class SignalProblem:
    kind: ClassVar[str] = "signal"
    op: str          # 'convolve', 'correlate', 'fftconvolve', 'oaconvolve'
    family: str      # 'auto', 'direct', 'fft' (fft or overlap-add), 'oa'
    shape1: tuple    # first operand as the candidates see it
    shape2: tuple    # the convolution kernel (correlate: reversed, conjugated in2)
    dtype1: str
    dtype2: str
    axes: tuple      # convolved axes
    wins: tuple      # (start, length) of the output per convolved axis, in full coordinates
    rt: str          # result dtype of the direct family
    workers: int
    layout: str      # 'C' when both operands are C-contiguous, else 'strided'
    deterministic: bool = False
    separable: bool = False  # the kernel is rank-1 (data-dependent, like the guards)
    #: ``(inner axis, swap)``: how the direct kernels lay out the sums of the
    #: whole call when ``shape1`` is a piece of it (a chunk of ``jitconv.dask``),
    #: so that the piece's outputs are bitwise the whole's; None: as
    #: ``shape1`` and ``shape2`` say (``algorithms.direct.sums_layout``)
    sums_layout: tuple = None

    def key(self):
        key = (self.op, self.family, self.shape1, self.shape2, self.dtype1, self.dtype2,
               self.axes, self.wins, self.rt, self.workers, self.layout, self.deterministic,
               self.separable)
        # keys of whole calls stay as they were (stored wisdom remains valid)
        return key if self.sums_layout is None else key + (("sums", self.sums_layout),)

    def keystr(self):
        return repr(self.key())

    def restricted(self, family):
        """The same problem with only ``family`` allowed (a guard or ``method=``)."""
        return replace(self, family=family)

    @property
    def cdtype(self):
        """dtype the direct kernels compute in."""
        return compute_dtype(self.rt)

    @property
    def single(self):
        """True when the FFT paths run in single precision."""
        return fft_single(self.dtype1, self.dtype2)

    @property
    def complex(self):
        return np.dtype(self.dtype1).kind == "c" or np.dtype(self.dtype2).kind == "c"

    def operands(self, rng):
        """Scratch operands of the problem's shapes, dtypes and layout, for timing.

        A 'strided' key is timed on operands that are both strided (every
        other element of the last axis): the layout the key describes, at
        its costliest (the candidates copy what is not contiguous).
        """
        a = self._layout(scratch(self.shape1, self.dtype1, rng))
        if not self.separable:
            return a, self._layout(scratch(self.shape2, self.dtype2, rng))
        # a separable key needs a rank-1 scratch kernel, else the separable
        # candidate fails on it and is never picked
        k = np.ones(self.shape2, dtype=self.dtype2)
        for ax in self.axes:
            shape = [1] * len(self.shape2)
            shape[ax] = self.shape2[ax]
            k = k * scratch((self.shape2[ax],), self.dtype2, rng).reshape(shape)
        return a, self._layout(k.astype(self.dtype2))

    def _layout(self, x):
        if self.layout == "C" or x.ndim == 0:
            return x
        wide = np.empty(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        view = wide[..., ::2]
        view[...] = x
        return view


@dataclass(frozen=True)
class BoundaryProblem:
    """``convolve2d``/``correlate2d``: the image is extended by ``boundary``
    (``'fill'`` with the call's fill value, ``'wrap'``, ``'symm'``), then
    correlated in SciPy's window of ``mode``. Operands: image, kernel, fill."""
    kind: ClassVar[str] = "boundary"
    op: str          # 'convolve2d' or 'correlate2d'
    shape1: tuple
    shape2: tuple
    dtype1: str
    dtype2: str
    rt: str
    mode: str
    boundary: str
    workers: int
    deterministic: bool = False
    family: str = "direct"

    def key(self):
        return (self.op, self.family, self.shape1, self.shape2, self.dtype1, self.dtype2,
                self.rt, self.mode, self.boundary, self.workers, self.deterministic)

    def keystr(self):
        return repr(self.key())

    def restricted(self, family):
        return replace(self, family=family)

    @property
    def cdtype(self):
        return compute_dtype(self.rt)

    def operands(self, rng):
        return (scratch(self.shape1, self.dtype1, rng), scratch(self.shape2, self.dtype2, rng),
                np.zeros((), self.cdtype))


@dataclass(frozen=True)
class Geo:
    """Geometry of a CNN op on three spatial axes (``(D, H, W)`` order)."""
    kernel: tuple    # kernel size
    stride: tuple
    dilation: tuple
    pad: tuple       # leading zero padding (may be negative: a crop)
    out: tuple       # output size

    def array(self):
        """The int64 array ``kernels.nn`` takes: kernel, stride, dilation, pad, out."""
        return np.array(self.kernel + self.stride + self.dilation + self.pad + self.out,
                        dtype=np.int64)

    def padded_grid(self):
        """Extent of the stride-1 output grid padded to hold every tap's reads."""
        return tuple(o + (k - 1) * d for o, k, d in zip(self.out, self.kernel, self.dilation))


@dataclass(frozen=True)
class NNProblem:
    op: str          # 'conv', 'input_grad', 'weight_grad'
    xshape: tuple    # (N, C, D, H, W) of the input (of dx for input_grad)
    wshape: tuple    # (Cout, Cin/groups, KD, KH, KW)
    geo: Geo
    groups: int
    dtype: str
    workers: int
    deterministic: bool = False

    #: the CNN ops have no ``method=``: every candidate of the op may run
    family: ClassVar[str] = "auto"

    @property
    def kind(self):
        return "nn-" + self.op

    def key(self):
        g = self.geo
        return ("nn-" + self.op, self.xshape, self.wshape,
                (g.kernel, g.stride, g.dilation, g.pad, g.out), self.groups, self.dtype,
                self.workers, self.deterministic)

    def keystr(self):
        return repr(self.key())

    @property
    def oshape(self):
        """Shape of the forward output ``(N, Cout, OD, OH, OW)``."""
        return (self.xshape[0], self.wshape[0]) + self.geo.out

    @property
    def macs(self):
        """Multiply-adds of the direct evaluation."""
        return math.prod(self.oshape) * math.prod(self.wshape[1:])

    def operands(self, rng):
        dt = np.dtype(self.dtype)

        def r(shape):
            return rng.standard_normal(shape).astype(dt)
        if self.op == "conv":
            return r(self.xshape), r(self.wshape)
        if self.op == "input_grad":
            return r(self.oshape), r(self.wshape)
        return r(self.xshape), r(self.oshape)


@dataclass(frozen=True)
class FilterProblem:
    """A ``scipy.ndimage`` filter: the input, extended beyond its edges by a
    boundary mode (``jitconv._extend``), correlated with weights in SciPy's
    arithmetic (``jitconv.kernels.filter``), the output in the input's shape.

    Operands: the input, the float64 weights (already flipped for
    ``convolve``; ``rule='uniform'``: ones), ``cval`` (float).
    """
    kind: ClassVar[str] = "filter"
    rule: str        # 'nd' (correlate), 'line' (correlate1d), 'uniform' (uniform_filter1d),
    #                  'box' (uniform_filter of a real input into a float output, 2+ passes)
    shape: tuple     # input shape (at least 1-d, not empty)
    dtype: str       # input dtype: bool, an integer, float32 or float64
    wshape: tuple    # nd: the weights' shape (one length per axis); line, uniform: (size,);
    #                  box: the size of each pass
    axis: int        # line, uniform: the filtered axis; nd, box: -1
    modes: tuple     # canonical mode per axis (nd), of the axis (line, uniform), of each pass (box)
    origins: tuple   # origin per axis (nd), of the axis (line, uniform), of each pass (box)
    out: str         # output dtype (not complex: complex filters combine real ones)
    workers: int
    taps: int = 0        # terms SciPy sums per output: |w| > DBL_EPSILON (nd); size
    sym: int = 0         # line: SciPy's test of the weights: 1 symmetric, -1 anti, 0
    rank1: bool = False  # nd: the weights are an outer product (data-dependent)
    order: tuple = ()    # box: the axis of each pass, in SciPy's order
    family: str = "auto"  # 'auto', or 'exact': SciPy's arithmetic only (a guard)
    deterministic: bool = False

    def key(self):
        return ("filter", self.rule, self.family, self.shape, self.dtype, self.wshape,
                self.axis, self.modes, self.origins, self.out, self.workers, self.taps,
                self.sym, self.rank1, self.order, self.deterministic)

    def keystr(self):
        return repr(self.key())

    def restricted(self, family):
        return replace(self, family=family)

    @property
    def cdtype(self):
        """dtype of the candidates' raw result: float32 when input and output
        are float32 (one rounding of the float64 sum, as SciPy), else float64."""
        f4 = np.dtype(np.float32)
        if np.dtype(self.dtype) == f4 and np.dtype(self.out) == f4:
            return f4
        return np.dtype(np.float64)

    @property
    def axes(self):
        """The filtered axes (weights longer than 1)."""
        if self.rule == "box":
            return self.order
        if self.rule != "nd":
            return (self.axis,)
        return tuple(i for i, m in enumerate(self.wshape) if m > 1)

    @property
    def size(self):
        return math.prod(self.shape)

    def operands(self, rng):
        """Scratch input, and weights with the key's taps, symmetry and rank."""
        x = scratch(self.shape, self.dtype, rng)
        m = self.wshape
        if self.rule in ("uniform", "box"):
            w = np.ones(max(m))
        elif self.rule == "line":
            w = rng.standard_normal(m) + 2.0
            if self.sym:
                w = w + self.sym * w[::-1]
                w[m[0] // 2] = 1.0
        elif self.rank1:
            w = np.ones(m)
            for i, n in enumerate(m):
                shape = [1] * len(m)
                shape[i] = n
                w = w * (rng.standard_normal(n) + 3.0).reshape(shape)
        else:
            w = np.zeros(math.prod(m))
            w[rng.permutation(w.size)[:self.taps]] = rng.standard_normal(self.taps) + 3.0
            w = w.reshape(m)
        return x, np.ascontiguousarray(w), 0.0


# ------------------------------------------------------------------ calls
@dataclass(frozen=True)
class SignalFinish:
    """``convolve``/``correlate``: SciPy's result dtype ``rt``; FFT results are
    rounded for integer dtypes and warned about when non-finite. ``take``:
    slices applied last (every ``step``-th lag of ``correlate(lags=range(..., step))``)."""
    rt: np.dtype
    take: tuple = None


@dataclass(frozen=True)
class FreqFinish:
    """``fftconvolve``/``oaconvolve``: broadcast to ``shape``, cast to ``rt``."""
    rt: np.dtype
    shape: tuple


@dataclass(frozen=True)
class BoundaryFinish:
    """``convolve2d``/``correlate2d``: cast to ``rt``; ``reverse`` both axes
    (``correlate2d`` with swapped 'valid' operands, as SciPy)."""
    rt: np.dtype
    reverse: bool = False


@dataclass(frozen=True)
class NNFinish:
    """CNN ops: reshape to ``shape`` (batched), add ``bias``, flip the
    result's spatial axes (``flip`` of a weight gradient), drop the batch
    axis of an unbatched call."""
    shape: tuple
    bias: object = None
    flip: bool = False
    unbatched: bool = False


@dataclass(frozen=True)
class FilterFinish:
    """ndimage filters: the raw result written in the output dtype with the
    casts of SciPy's C code, into ``out`` (the caller's array) or a new array;
    ``shape``: the result's shape where the problem's differs (0-d inputs)."""
    dtype: np.dtype
    out: object = None
    shape: tuple = None


@dataclass
class Call:
    """A validated call: the problem, its operands and how to finish the result."""
    problem: object
    operands: tuple
    finish: object
    #: the non-finite guard is not evaluated yet: it only matters when the
    #: planner picks a candidate outside the direct family (a scan of both
    #: inputs is skipped on every direct pick: 2 ms of 31 on W4)
    pending: bool = False
    #: the semantic guard that restricted the family, if one did
    guard: str = None
    #: filters: an array of the problem's shape and raw dtype that the
    #: candidate may write its result into, possibly the input itself (a
    #: separable chain's intermediate result, which nothing else holds);
    #: candidates that use it write it only from their kernels, which never fail
    reuse: object = None


@dataclass(frozen=True)
class Answer:
    """A call answered without a kernel (0-d inputs, empty or broadcast-only FFT calls)."""
    value: object


@dataclass
class Chain:
    """SciPy's separable filters: ``calls`` run in order, each on the result of
    the one before (its first operand is replaced), every result written in
    the output dtype as SciPy writes every pass into the output array. With
    no calls, ``source`` is assigned to the output (``output[...] = input``)."""
    source: object
    calls: list
    finish: FilterFinish


@dataclass
class Combine:
    """Filters built from others with NumPy arithmetic, in SciPy's order:
    ``steps`` of ``(op, part, node)`` applied to the output (``part``:
    'all', 'real', 'imag'; ``node``: a ``Call``, ``Chain`` or ``Combine``).
    ``op``: 'set' (``out[...] = node``), 'add', 'sub' (``out += node``),
    'addsq' (``t = node; t *= t; out += t``), 'square' (``out *= out``),
    'sqrt' (``np.sqrt(out, out, casting='unsafe')``)."""
    steps: list
    finish: FilterFinish


@dataclass(frozen=True)
class Fallback:
    """A call SciPy computes (dtypes numba cannot hold: long double, object, ...);
    its result is cropped by ``crop`` then ``take`` when given (``lags=``)."""
    op: str
    args: tuple
    kwargs: dict
    crop: tuple = None
    take: tuple = None
