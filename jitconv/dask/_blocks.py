"""How a call on a dask array becomes blocks: halos, output chunks, one task per block.

Two graphs, one idea: along each axis, a block is its chunk plus ``before``
points of the previous chunk and ``after`` points of the next one (dask's
asymmetric overlap, without boundary), and the task computes exactly its
output chunk from it.

- ``signal_windows`` (the ``scipy.signal`` functions): the output is a
  window of the full, zero-padded convolution (``_shapes``); each task asks
  the engine for the window of its block's convolution that is its output
  chunk. Zero padding beyond the array is implied by the window, never
  materialised.
- ``map_filter`` (filters that extend their input by a boundary mode, like
  ``scipy.ndimage``'s): the output has the input's chunks; each task runs the
  filter on its block, whose halo holds the true neighbours, and keeps its
  chunk. At the array's true edges the filter's own mode does the extension,
  on the block that holds the edge (every mode but ``wrap`` reads only points
  near its edge); ``wrap`` reads the other end, which is added to the edge
  blocks explicitly.

Chunks smaller than the halo are merged with their neighbours first; an axis
that cannot hold two such chunks becomes one chunk (exact, whatever the
kernel's size).
"""
import math
from dataclasses import dataclass

import dask.array as da
import numpy as np
from dask.delayed import delayed

from .. import _engine
from .._validate import signal as check


@dataclass(frozen=True)
class Cut:
    """How one axis is cut into halo'd blocks and output chunks.

    ``chunks``: the input chunks (after merging those smaller than the
    halo); ``before``/``after``: points taken from the previous/next chunk
    (0 when the axis is one chunk); ``lo``: where each halo'd block starts in
    the array; ``out``: ``(start, stop)`` of each output chunk, in the
    coordinates of the full convolution (signal) or of the array (filters).
    """
    chunks: tuple
    before: int
    after: int
    lo: tuple
    out: tuple

    @property
    def out_chunks(self):
        return tuple(b - a for a, b in self.out)


def merge_chunks(chunks, need, first=-1, last=-1):
    """Chunks of an axis merged with their neighbours until each holds at
    least ``need`` points, the first more than ``first`` and the last more
    than ``last`` (one chunk when the axis cannot hold two such chunks).

    Chunks that already qualify are kept as they are.

    Examples
    --------
    >>> merge_chunks((4, 4, 4, 1), 3)
    (4, 4, 5)
    >>> merge_chunks((2, 2, 2, 2), 3)
    (4, 4)
    >>> merge_chunks((5, 5), 6)
    (10,)
    """
    out, acc = [], 0
    for c in chunks:
        acc += c
        if acc > 0 and acc >= need and (out or acc > first):
            out.append(acc)
            acc = 0
    if acc or not out:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    while len(out) > 1 and out[-1] <= last:
        tail = out.pop()
        out[-1] += tail
    return tuple(out)


def cut_window(chunks, n, m, start, length):
    """The ``Cut`` of an axis of length ``n`` whose output is the window
    ``[start, start + length)`` of the full convolution with a kernel of
    length ``m``.

    Output chunk ``i`` covers ``[b_i, b_i+1)`` with ``b_i = p_i + (m - 1) // 2``
    at the inner chunk boundaries ``p_i``; it reads the inputs
    ``[b_i - m + 1, b_i+1)``: ``m // 2`` points before its chunk and
    ``(m - 1) // 2`` after it. The first and last output chunks must not be
    empty ('valid' mode takes the kernel's overhang from them).

    Examples
    --------
    >>> c = cut_window((4, 4, 2), 10, 3, 1, 10)    # 'same'
    >>> c.out_chunks, c.before, c.after, c.lo
    ((4, 4, 2), 1, 1, (0, 3, 7))
    >>> cut_window((4, 4, 2), 10, 3, 2, 8).out_chunks   # 'valid'
    (3, 4, 1)
    """
    s = (m - 1) // 2
    before, after = m - 1 - s, s
    stop = start + length
    chunks = merge_chunks(chunks, max(before, after), first=start - s, last=n + s - stop)
    if len(chunks) == 1:
        return Cut(chunks, 0, 0, (0,), ((start, stop),))
    p = np.cumsum((0,) + chunks).tolist()
    b = [start] + [p[i] + s for i in range(1, len(chunks))] + [stop]
    lo = (0,) + tuple(p[i] - before for i in range(1, len(chunks)))
    return Cut(chunks, before, after, lo, tuple(zip(b[:-1], b[1:])))


def _halo(x, cuts):
    """``x`` rechunked to the cuts' chunks, with their halos (dask's overlap)."""
    new = {ax: c.chunks for ax, c in cuts.items() if c.chunks != x.chunks[ax]}
    if new:
        x = x.rechunk(new)
    depth = {ax: (c.before, c.after) for ax, c in cuts.items() if c.before or c.after}
    return x, (da.overlap.overlap(x, depth=depth, boundary="none") if depth else x)


# --------------------------------------------------------- signal functions
@dataclass(frozen=True)
class _Spec:
    """What every task of one signal call needs besides its block and the kernel."""
    op: str
    family: str
    axes: tuple          # convolved axes
    cuts: tuple          # their ``Cut``s
    ksplit: tuple        # per axis: output chunk bounds where the kernel is sliced, or None
    rt: str
    workers: int
    extent: tuple        # the whole data's shape (the direct sums are laid out by it)


def signal_windows(op, family, x, k, axes, wins, rt, workers):
    """The lazy result of a checked signal call: windows ``wins`` (one per axis
    of ``axes``) of the full convolution of dask array ``x`` with the
    convolution kernel ``k``, one engine call per block."""
    nd = x.ndim
    # batch axes: the data broadcast where the kernel is longer (one output
    # chunk per kernel slice); the kernel sliced per block where both have
    # the axis' length
    bshape = tuple(max(x.shape[i], k.shape[i]) if i not in axes else x.shape[i]
                   for i in range(nd))
    if bshape != x.shape:
        chunks = tuple((1,) * bshape[i] if x.shape[i] == 1 and bshape[i] > 1 else x.chunks[i]
                       for i in range(nd))
        x = da.broadcast_to(x, bshape, chunks=chunks)
    # data smaller than the kernel (along the convolved axes): the direct
    # kernels take the data as the taps, grouped by its extent, which a cut
    # would change; it stays whole there (it is smaller than the kernel,
    # which is in memory anyway)
    whole = math.prod(x.shape[ax] for ax in axes) < math.prod(k.shape[ax] for ax in axes)
    cuts = {ax: cut_window((x.shape[ax],) if whole else x.chunks[ax], x.shape[ax], k.shape[ax],
                           s, ln) for ax, (s, ln) in zip(axes, wins)}
    x, xo = _halo(x, cuts)
    out_chunks = list(x.chunks)
    for ax, c in cuts.items():
        out_chunks[ax] = c.out_chunks
    ksplit = tuple(tuple(np.cumsum((0,) + x.chunks[i]).tolist())
                   if i not in axes and k.shape[i] > 1 else None for i in range(nd))
    spec = _Spec(op, family, tuple(axes), tuple(cuts[ax] for ax in axes), ksplit,
                 np.dtype(rt).str, int(workers), x.shape)
    # the kernel is one key of the graph, which every task refers to
    return da.map_blocks(_signal_block, xo, delayed(k, pure=True), spec=spec,
                         chunks=tuple(out_chunks), dtype=rt, meta=np.empty((0,) * nd, rt),
                         token=f"jitconv-{op}")


def _signal_block(x, k, spec, block_id=None):
    """One task: the window of this block's convolution that is its output chunk."""
    if any(s is not None for s in spec.ksplit):
        k = k[tuple(slice(None) if s is None else slice(s[i], s[i + 1])
                    for s, i in zip(spec.ksplit, block_id))]
    wins = []
    for ax, c in zip(spec.axes, spec.cuts):
        i = block_id[ax]
        a, b = c.out[i]
        wins.append((a - c.lo[i], b - a))
    call = check.window_call(spec.op, spec.family, x, k, spec.axes, wins, spec.rt, spec.workers,
                             spec.extent)
    return _engine.execute(call)


# ------------------------------------------------- filters with boundary modes
#: the boundary modes of ``scipy.ndimage``'s filters (canonical names) and
#: dask's ``map_overlap`` boundaries that extend an array the same way, as far
#: as they reach (one chunk, at most the axis' length): 'reflect' is ndimage's
#: 'reflect' (d c b a | a b c d), 'periodic' its 'wrap', 'nearest' its
#: 'nearest', a number its 'constant' (cast to the array's dtype, where
#: ndimage computes with the float ``cval``); ndimage's 'mirror'
#: (d c b | a b c d) has no dask counterpart. ``map_filter`` uses none of
#: them: the filter extends its own edge blocks.
DASK_BOUNDARY = {"reflect": "reflect", "wrap": "periodic", "nearest": "nearest",
                 "constant": "<cval>", "mirror": None}


def cut_filter(chunks, n, before, after, mode):
    """The ``Cut`` of an axis of length ``n`` filtered with a halo of
    ``before``/``after`` points and boundary ``mode``: output chunks are the
    (merged) input chunks.

    The filter extends the edge blocks itself: a block holding an edge must
    hold every point the extension reads (``mirror`` reads one point more
    than its depth); ``wrap`` reads the other end, added by ``map_filter``.
    """
    extra = 1 if mode == "mirror" else 0
    chunks = merge_chunks(chunks, max(before, after), first=before + extra - 1,
                          last=after + extra - 1)
    p = np.cumsum((0,) + chunks).tolist()
    out = tuple(zip(p[:-1], p[1:]))
    if len(chunks) == 1:
        return Cut(chunks, 0, 0, (0,), out)
    if mode == "wrap":
        lo = tuple(p[i] - before for i in range(len(chunks)))
    else:
        lo = (0,) + tuple(p[i] - before for i in range(1, len(chunks)))
    return Cut(chunks, before, after, lo, out)


def map_filter(fn, x, depth, modes, dtype):
    """The lazy result of filter ``fn`` on dask array ``x``, exact at every seam.

    Parameters
    ----------
    fn : callable
        ``fn(block) -> ndarray`` of the block's shape and dtype ``dtype``: the
        filter, extending its block at the block's edges by the boundary
        mode (``jitconv.ndimage``'s functions with their ``mode``).
    x : dask.array.Array
    depth : dict
        ``{axis: (before, after)}``: how far an output reads before and after
        its position along each filtered axis (``m // 2 + origin`` and
        ``(m - 1) // 2 - origin`` for ``m`` taps).
    modes : dict
        ``{axis: mode}`` with canonical ``scipy.ndimage`` mode names
        ('reflect', 'mirror', 'nearest', 'wrap', 'constant').
    dtype : dtype
        The output's dtype.

    Returns
    -------
    dask.array.Array
        Lazy, with the input's chunks (merged where smaller than the halo).
    """
    cuts = {ax: cut_filter(x.chunks[ax], x.shape[ax], b, a, modes[ax])
            for ax, (b, a) in depth.items()}
    new = {ax: c.chunks for ax, c in cuts.items() if c.chunks != x.chunks[ax]}
    if new:
        x = x.rechunk(new)
    out_chunks = x.chunks
    # 'wrap' across several chunks: the other end of the array, added to the
    # edge chunks (then dask's overlap gives every block its halo)
    for ax, c in cuts.items():
        if modes[ax] == "wrap" and len(c.chunks) > 1:
            n = x.shape[ax]
            sl = [slice(None)] * x.ndim
            head, tail = list(sl), list(sl)
            tail[ax] = slice(n - c.before, n)
            head[ax] = slice(0, c.after)
            x = da.concatenate([x[tuple(tail)], x, x[tuple(head)]], axis=ax)
            ch = list(c.chunks)
            ch[0] += c.before
            ch[-1] += c.after
            x = x.rechunk({ax: tuple(ch)})
    depth = {ax: (c.before, c.after) for ax, c in cuts.items() if c.before or c.after}
    xo = da.overlap.overlap(x, depth=depth, boundary="none") if depth else x
    keep = {ax: tuple(c.out[i][0] - c.lo[i] for i in range(len(c.chunks)))
            for ax, c in cuts.items()}
    return da.map_blocks(_filter_block, xo, fn=fn, keep=keep, chunks=out_chunks, dtype=dtype,
                         meta=np.empty((0,) * x.ndim, dtype), token="jitconv-filter")


def _filter_block(x, fn, keep, block_id=None, block_info=None):
    """One task: the filter on the halo'd block, cut to the block's own chunk."""
    y = fn(x)
    out = block_info[None]["chunk-shape"]
    idx = [slice(None)] * x.ndim
    for ax, starts in keep.items():
        s = starts[block_id[ax]]
        idx[ax] = slice(s, s + out[ax])
    return y[tuple(idx)]
