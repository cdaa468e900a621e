"""How a call on a dask array becomes tasks: halos, output chunks, one task per block.

Along each axis, a *block* is an input chunk with a halo: the points before
and after it that its outputs read. The task of an output chunk takes its
own chunk and its neighbours' edges (copied out by small tasks as soon as a
neighbour exists; at most three pieces per axis, since chunks are at least
as large as the halo) and assembles the block before it computes. A chunk is
freed once its own block ran: a worker holds the chunks whose blocks wait
for a neighbour, one block and one output chunk per running task. (dask's
``overlap`` slices neighbours into views, which keep whole chunks alive until
every neighbour's block ran, and adds a concatenation task per block.)

Two kinds of call:

- ``signal_windows`` (the ``scipy.signal`` functions): the output is a
  window of the full, zero-padded convolution (``_shapes``). Each task asks
  the engine for the window of its block's convolution that is its output
  chunk. Zero padding beyond the array is implied by the window, never
  materialised.
- ``map_filter`` (filters that extend their input by a boundary mode, like
  ``scipy.ndimage``'s): the output has the input's chunks; each task runs the
  filter on its block, whose halo holds the true neighbours, and keeps its
  chunk. At the array's true edges the filter's own mode does the extension
  on the block that holds the edge (every mode but 'wrap' reads only points
  near its edge); for 'wrap', the halo of an edge block is the other end of
  the array.

Chunks smaller than the halo are merged with their neighbours first; an axis
that cannot hold two such chunks becomes one chunk (exact, whatever the
kernel's size).
"""
import itertools
import math
from dataclasses import dataclass

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.delayed import Delayed, delayed
from dask.highlevelgraph import HighLevelGraph

from .. import _engine
from .._validate import signal as check
from ..algorithms.direct import sums_layout

#: threads per task unless ``workers=`` says otherwise (dask runs one task
#: per worker thread: more would oversubscribe the cores)
TASK_WORKERS = 1


@dataclass(frozen=True)
class Cut:
    """How one axis is cut into blocks and output chunks.

    ``chunks``: the input chunks (after merging those smaller than the
    halo). Per block ``i`` (one per chunk): ``span[i]``, the positions of the
    input it holds, ``[start, stop)`` (beyond ``[0, n)`` only with 'wrap':
    taken modulo ``n``); ``out[i]``, its output chunk, ``(start, stop)`` in
    the coordinates of the full convolution (signal) or of the array
    (filters).
    """
    chunks: tuple
    span: tuple
    out: tuple

    @property
    def out_chunks(self):
        return tuple(b - a for a, b in self.out)

    def pieces(self, i):
        """``(position in block i, chunk, start, stop in that chunk)`` of the
        input pieces block ``i`` is made of, in order."""
        p = np.cumsum((0,) + self.chunks).tolist()
        n = p[-1]
        start, stop = self.span[i]
        out, pos = [], start
        while pos < stop:
            q = pos % n
            j = int(np.searchsorted(p, q, side="right")) - 1
            take = min(stop - pos, p[j + 1] - q)
            out.append((pos - start, j, q - p[j], q - p[j] + take))
            pos += take
        return tuple(out)


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
    at the inner chunk boundaries ``p_i`` (and the window's ends at the two
    ends); its block holds the inputs it reads, ``[b_i - m + 1, b_i+1)``
    within the array: ``m // 2`` points before its chunk and ``(m - 1) // 2``
    after it. The first and last output chunks must not be empty ('valid'
    mode takes the kernel's overhang from them).

    Examples
    --------
    >>> c = cut_window((4, 4, 2), 10, 3, 1, 10)    # 'same'
    >>> c.out_chunks, c.span
    ((4, 4, 2), ((0, 5), (3, 9), (7, 10)))
    >>> cut_window((4, 4, 2), 10, 3, 2, 8).out_chunks   # 'valid'
    (3, 4, 1)
    """
    s = (m - 1) // 2
    before, after = m - 1 - s, s
    stop = start + length
    chunks = merge_chunks(chunks, max(before, after), first=start - s, last=n + s - stop)
    p = np.cumsum((0,) + chunks).tolist()
    b = [start] + [p[i] + s for i in range(1, len(chunks))] + [stop]
    out = tuple(zip(b[:-1], b[1:]))
    span = tuple((max(0, b0 - m + 1), min(n, b1)) for b0, b1 in out)
    return Cut(chunks, span, out)


#: chunks of this many bytes or more lend their halos through small copy tasks
#: (see ``_graph``)
SLIVER_BYTES = 1 << 20


def _graph(name, x, cuts, task, args, out_chunks, dtype, deps=()):
    """The dask array whose block ``I`` is ``task(block, *args, index=I)``,
    ``block`` assembled from the pieces of ``x``'s chunks the cuts name (the
    axes without a cut: the chunk itself).

    A piece that is a whole chunk is the chunk's own key. A piece of a
    neighbour (a halo, at most ``halo`` thick) is, for chunks of
    ``SLIVER_BYTES`` or more, a small task that copies it out: a chunk is
    then needed by its own block and its slivers only (they run as soon as
    it exists), and is freed when its own block ran, without waiting for its
    neighbours' blocks. Smaller chunks are read whole by their neighbours'
    tasks (fewer tasks, where memory does not matter).
    """
    x_name = x.name
    sliver = "sliver-" + name
    slivers = max(math.prod(max(c) for c in x.chunks), 1) * x.dtype.itemsize >= SLIVER_BYTES
    args_keys = [a.key if hasattr(a, "key") else a for a in args]
    dsk = {}
    for idx in itertools.product(*(range(len(c)) for c in out_chunks)):
        per_axis = []
        for ax, i in enumerate(idx):
            c = cuts.get(ax)
            if c is None:
                per_axis.append(((0, i, 0, x.chunks[ax][i]),))
            else:
                per_axis.append(c.pieces(i))
        shape = tuple(sum(p[3] - p[2] for p in pa) for pa in per_axis)
        keys, where = [], []
        for combo in itertools.product(*per_axis):
            chunk = tuple(p[1] for p in combo)
            whole = all(p[2] == 0 and p[3] == x.chunks[ax][p[1]] for ax, p in enumerate(combo))
            if whole or not slivers:
                keys.append((x_name,) + chunk)
                where.append(tuple((p[0], p[2], p[3]) for p in combo))
            else:
                part = tuple((p[2], p[3]) for p in combo)
                key = (sliver,) + chunk + (part,)
                dsk[key] = (_copy, (x_name,) + chunk, part)
                keys.append(key)
                where.append(tuple((p[0], 0, p[3] - p[2]) for p in combo))
        dsk[(name,) + idx] = (_assemble_and_run, keys, tuple(where), shape, task, idx,
                              *args_keys)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x, *deps])
    return da.Array(graph, name, out_chunks, meta=np.empty((0,) * x.ndim, dtype))


def _copy(chunk, part):
    """A halo piece of a chunk, copied (a view would keep the whole chunk alive)."""
    return np.array(chunk[tuple(slice(lo, hi) for lo, hi in part)])


def _assemble_and_run(blocks, where, shape, task, index, *args):
    """One task: the block from its pieces (no copy when it is one chunk whole),
    then ``task``."""
    if len(blocks) == 1 and blocks[0].shape == shape:
        block = blocks[0]
    else:
        block = np.empty(shape, dtype=blocks[0].dtype)
        for b, w in zip(blocks, where):
            block[tuple(slice(d, d + (hi - lo)) for d, lo, hi in w)] = \
                b[tuple(slice(lo, hi) for _, lo, hi in w)]
    return task(block, *args, index=index)


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
    sums: tuple          # how the whole call's direct sums are laid out


def signal_windows(op, family, x, k, axes, wins, rt, workers, layout=None):
    """The lazy result of a checked signal call: windows ``wins`` (one per axis
    of ``axes``) of the full convolution of dask array ``x`` with the
    convolution kernel ``k``, one engine call per block. ``layout``: the
    whole call's ``sums_layout`` when ``x`` is a part of its data."""
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
    new = {ax: c.chunks for ax, c in cuts.items() if c.chunks != x.chunks[ax]}
    if new:
        x = x.rechunk(new)
    out_chunks = list(x.chunks)
    for ax, c in cuts.items():
        out_chunks[ax] = c.out_chunks
    ksplit = tuple(tuple(np.cumsum((0,) + x.chunks[i]).tolist())
                   if i not in axes and k.shape[i] > 1 else None for i in range(nd))
    spec = _Spec(op, family, tuple(axes), tuple(cuts[ax] for ax in axes), ksplit,
                 np.dtype(rt).str, int(workers),
                 sums_layout(x.shape, k.shape, axes) if layout is None else layout)
    # the kernel is one key of the graph, which every task refers to
    kd = delayed(k, pure=True)
    name = f"jitconv-{op}-" + tokenize(x, kd.key, spec)
    return _graph(name, x, cuts, _signal_task, (kd, spec), tuple(out_chunks), rt, deps=(kd,))


def _signal_task(x, k, spec, index):
    """The window of this block's convolution that is its output chunk."""
    if any(s is not None for s in spec.ksplit):
        k = k[tuple(slice(None) if s is None else slice(s[i], s[i + 1])
                    for s, i in zip(spec.ksplit, index))]
    wins = []
    for ax, c in zip(spec.axes, spec.cuts):
        i = index[ax]
        a, b = c.out[i]
        wins.append((a - c.span[i][0], b - a))
    call = check.window_call(spec.op, spec.family, x, k, spec.axes, wins, spec.rt, spec.workers,
                             spec.sums)
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
    hold every point the extension reads ('mirror' reads one point more than
    its depth). With 'wrap' the edge blocks' halos are the other end of the
    array (their spans reach beyond ``[0, n)``).
    """
    extra = 1 if mode == "mirror" else 0
    chunks = merge_chunks(chunks, max(before, after), first=before + extra - 1,
                          last=after + extra - 1)
    p = np.cumsum((0,) + chunks).tolist()
    out = tuple(zip(p[:-1], p[1:]))
    if len(chunks) == 1:
        return Cut(chunks, ((0, n),), out)
    if mode == "wrap":
        span = tuple((a - before, b + after) for a, b in out)
    else:
        span = tuple((max(0, a - before), min(n, b + after)) for a, b in out)
    return Cut(chunks, span, out)


def map_filter(fn, x, depth, modes, dtype, args=(), name="filter"):
    """The lazy result of filter ``fn`` on dask array ``x``, exact at every seam.

    Parameters
    ----------
    fn : callable
        ``fn(block, *args) -> ndarray`` of the block's shape and dtype
        ``dtype``: the filter, extending its block at the block's edges by
        the boundary mode (``jitconv.ndimage``'s functions with their
        ``mode``).
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
    args : tuple, optional
        More arguments of ``fn``; a ``dask.delayed`` object (the weights) is
        one key of the graph, which every task refers to.
    name : str, optional
        What the tasks' keys are named after.

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
    keep = tuple((ax, tuple((o0 - s0, o1 - o0) for (o0, o1), (s0, _) in zip(c.out, c.span)))
                 for ax, c in cuts.items())
    deps = tuple(a for a in args if isinstance(a, Delayed))
    token = tokenize(x, fn, keep, [a.key if isinstance(a, Delayed) else a for a in args])
    return _graph(f"jitconv-{name}-{token}", x, cuts, _filter_task, (fn, keep, *args), x.chunks,
                  dtype, deps=deps)


def _filter_task(x, fn, keep, *args, index):
    """The filter on the block, cut to the block's own chunk."""
    y = fn(x, *args)
    idx = [slice(None)] * x.ndim
    for ax, starts in keep:
        s, n = starts[index[ax]]
        idx[ax] = slice(s, s + n)
    return y[tuple(idx)]
