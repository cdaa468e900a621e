"""Frozen problem descriptions and their planner keys.

A key holds what changes the winner: the entry point, the family allowed
(auto, or forced by ``method``/a semantic guard), both operand shapes and
compute dtypes, the convolved axes and output windows, the result dtype,
the thread count and a layout class.

Left out on purpose: data values (guards are applied per call and restrict
the family instead), byte order and alignment (inputs are copied into
native, aligned buffers before any kernel or FFT runs).
"""
from dataclasses import dataclass

import numpy as np

from ._config import PLANNER


@dataclass(frozen=True)
class Problem:
    op: str          # 'convolve', 'correlate', 'fftconvolve', 'oaconvolve'
    family: str      # 'auto', 'direct', 'fft' (fft or overlap-add), 'oa'
    shape1: tuple    # first operand as the core sees it
    shape2: tuple    # the convolution kernel (correlate: reversed, conjugated in2)
    dtype1: str
    dtype2: str
    axes: tuple      # convolved axes
    wins: tuple      # (start, length) of the output per convolved axis
    rt: str          # result dtype of the direct family
    workers: int
    layout: str      # 'C' when both operands are C-contiguous, else 'strided'
    deterministic: bool = False
    separable: bool = False  # the kernel is rank-1 (data-dependent, like the guards)

    def key(self):
        return (self.op, self.family, self.shape1, self.shape2, self.dtype1, self.dtype2,
                self.axes, self.wins, self.rt, self.workers, self.layout, self.deterministic,
                self.separable)

    def keystr(self):
        return repr(self.key())

    def candidates(self):
        from ._algorithms import candidates
        return candidates(self)

    def admits(self, cid):
        """Whether ``jitconv.force(cid)`` applies to this problem."""
        from ._algorithms import BY_ID, FAMILIES
        c = BY_ID.get(cid)
        return c is not None and c.family in FAMILIES[self.family] and c.supports(self)

    def operands(self, rng):
        """Scratch operands of the problem's shapes and dtypes, for timing."""
        from ._planner import _scratch
        a = _scratch(self.shape1, self.dtype1, rng)
        if not self.separable:
            return a, _scratch(self.shape2, self.dtype2, rng)
        # a separable key needs a rank-1 scratch kernel, else the separable
        # candidate fails on it and is never picked
        k = np.ones(self.shape2, dtype=self.dtype2)
        for ax in self.axes:
            shape = [1] * len(self.shape2)
            shape[ax] = self.shape2[ax]
            k = k * _scratch((self.shape2[ax],), self.dtype2, rng).reshape(shape)
        return a, k.astype(self.dtype2)


def _native(dt):
    return dt.str if dt.isnative else dt.newbyteorder("=").str


def make(op, family, a, k, axes, wins, rt, workers, separable=False):
    layout = "C" if a.flags.c_contiguous and k.flags.c_contiguous else "strided"
    return Problem(op, family, a.shape, k.shape, _native(a.dtype), _native(k.dtype),
                   tuple(axes), tuple(tuple(w) for w in wins), _native(rt),
                   int(workers), layout, bool(PLANNER.deterministic), bool(separable))
