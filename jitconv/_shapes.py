"""Pure shape arithmetic: output windows per mode, FFT lengths, overlap-add blocks.

A convolution of lengths ``n`` and ``m`` along one axis has a *full* result of
length ``n + m - 1``. Every mode is a window ``[start, start + length)`` of it.
"""
import math
from functools import lru_cache


def broadcast(s1, s2):
    """Broadcast two equal-length shapes whose sizes are equal or 1 (checked before)."""
    return tuple(a if b == 1 else b for a, b in zip(s1, s2))


def window(mode, n, m):
    """``(start, length)`` of ``mode``'s output in the full result of lengths ``n``, ``m``.

    'same' is SciPy's: the centred ``n`` outputs (start ``(full - n) // 2``);
    'valid' the outputs that do not touch the zero padding, whichever is longer.
    """
    if mode == "full":
        return 0, n + m - 1
    if mode == "same":
        return (m - 1) // 2, n
    return min(n, m) - 1, abs(n - m) + 1


def crop(nd, axes, wins):
    """Index tuple selecting windows ``wins`` along ``axes`` of an ``nd``-d full result."""
    idx = [slice(None)] * nd
    for ax, (s, l) in zip(axes, wins):
        idx[ax] = slice(s, s + l)
    return tuple(idx)


def out_shape(s1, s2, axes, wins):
    """Result shape: batch axes broadcast, convolved axes their window's length."""
    shape = [b if a == 1 else a for a, b in zip(s1, s2)]  # batch axes broadcast
    for ax, (_, length) in zip(axes, wins):
        shape[ax] = length
    return tuple(shape)


def fft_length_for_window(n, m, start, length):
    """Smallest circular length whose wrap-around leaves the window intact.

    A circular convolution of length P equals the sum of the full result
    shifted by multiples of P. Indices in ``[start, start+length)`` are clean
    when ``P >= start + length`` and ``P >= full - start``.
    """
    full = n + m - 1
    return max(start + length, full - start, n, m, 1)


def fft_axes_lengths(s1, s2, axes, wins):
    """Transform axes and FFT lengths for windows ``wins`` of the convolution.

    Axes where an operand has length 1 need no transform (the convolution is
    a broadcast product there); the others get the shortest FFTW-friendly
    length whose wrap-around leaves the window intact, an even one on the
    last transformed axis (see `next_fast_even`).
    """
    tx, lengths = [], []
    for ax, (start, length) in zip(axes, wins):
        if s1[ax] > 1 and s2[ax] > 1:
            tx.append(ax)
            lengths.append(next_fast_len(fft_length_for_window(s1[ax], s2[ax], start, length)))
    if lengths:
        lengths[-1] = next_fast_even(lengths[-1])
    return tx, lengths


def next_fast_even(target):
    """Smallest even FFTW-friendly length >= ``target``.

    Used for the last axis of real transforms: FFTW 3.3.5's threaded
    real-to-complex plans of an odd last axis are pathological (measured,
    2 threads, float32 batch of 4096: 40x39 took 4.7 s against 25 ms for
    39x40 and 14 ms for 40x40; 1-d 3^12 points 24 ms against 0.9 ms for
    2^19), where even lengths cost at most a few per cent more points.
    """
    return 2 * next_fast_len(max(1, -(-int(target) // 2)))


@lru_cache(maxsize=4096)
def next_fast_len(target):
    """Smallest 2^a 3^b 5^c 7^d 11^e 13^f >= target with e + f <= 1 (FFTW's fast sizes)."""
    if target <= 16:
        return max(int(target), 1)
    best = 2 ** int(math.ceil(math.log2(target)))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p357 = p35
            while p357 < best:
                for extra in (1, 11, 13):
                    q = p357 * extra
                    if q >= best:
                        continue
                    # smallest power of two that lifts q to target
                    while q < target:
                        q *= 2
                    if q < best:
                        best = q
                p357 *= 7
            p35 *= 3
        p5 *= 5
    return best


@lru_cache(maxsize=4096)
def next_smooth_len(target):
    """Smallest 2^a 3^b 5^c >= target: the lengths FFTW_ESTIMATE plans handle
    best (measured on 2-d float64 transforms, one thread: 2112 = 2^6*3*11 took
    103 ms where 2160 = 2^4*3^3*5 took 81 ms and 2304 = 2^8*3^2 72 ms)."""
    if target <= 1:
        return 1
    best = 2 ** int(math.ceil(math.log2(target)))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = p35
            while q < target:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


def _smooth_upto(limit):
    """Every ``2^a 3^b 5^c <= limit``, ascending."""
    out = []
    p5 = 1
    while p5 <= limit:
        p35 = p5
        while p35 <= limit:
            q = p35
            while q <= limit:
                out.append(q)
                q *= 2
            p35 *= 3
        p5 *= 5
    return sorted(out)


#: extra cost of FFTW_ESTIMATE transforms per factor 3 and 5 of a length (by
#: their exponents), and when the factors mix; fitted to the transform pairs
#: of 2-d float64 blocks of every 2^a 3^b 5^c length from 160 to 1080 (one
#: thread): 384 = 2^7 3 ran at a power of two's speed, 324 = 2^2 3^4 at 1.7x
#: its cost per point, 576 = 2^6 3^2 at 1.2x, 360 = 2^3 3^2 5 at 1.6x
_PEN3 = (0.0, 0.05, 0.22, 0.6, 0.7, 0.75)
_PEN5 = (0.0, 0.05, 0.1, 0.4, 0.5)


def _exponent(n, p):
    e = 0
    while n % p == 0 and n > 1:
        n //= p
        e += 1
    return e


def _block_cost(length, dims=1):
    """Relative seconds of one FFTW_ESTIMATE transform pair per point of
    ``length`` (measured on 2-d float64 blocks: powers of two fastest, factors
    3 slower than 5, mixed ones slower still). A block of ``dims`` axes
    beyond 2^17 values leaves L2 in the overlap-save pipeline (gather,
    transforms, product, crop: W19's 2048^2 with 63^2 taps took 44 ms in
    blocks of 320^2, 49-51 in 512^2 or 768^2, one thread), beyond 2^19
    the transforms themselves slow down (800^2: 1.5-1.9x per point), beyond
    2^22 values they slow down again (float32 3-d pairs, one thread: 144^3 in
    19.5 ms, 288^3 in 382, twice the time per point)."""
    e3, e5 = _exponent(length, 3), _exponent(length, 5)
    pen = (1.0 + _PEN3[min(e3, len(_PEN3) - 1)] + _PEN5[min(e5, len(_PEN5) - 1)]
           + 0.15 * (e3 > 0 and e5 > 0) + 0.25 * (length ** dims > 1 << 17)
           + 0.5 * (length ** dims > 1 << 19) + 1.0 * (length ** dims > 1 << 22))
    return length * math.log2(max(length, 2)) * pen + BLOCK_OVERHEAD


#: the fixed cost of a block (gathering it, a smaller transform's overheads), in
#: the units of ``_block_cost``
BLOCK_OVERHEAD = 2000


@lru_cache(maxsize=4096)
def save_block(n, m, dims=1):
    """``(fft_length, outputs_per_block)`` of an overlap-save along one axis:
    ``n`` outputs, ``m`` taps, blocks of ``F`` extended inputs giving ``F - m + 1``
    outputs each, ``F`` a ``2^a 3^b 5^c`` length minimising the blocks' total
    cost (``_block_cost``, blocks of ``dims`` such axes); one block (``F >= n +
    m - 1``, possibly longer than needed when a smoother length is cheaper:
    144^3 transforms in half the time of 135^3) when that is cheapest. W19
    (2048 outputs, 63 taps, 2-d): 320, eight blocks of 258."""
    k = m - 1
    full = next_smooth_len(n + k)
    best, choice = _block_cost(full, dims), (full, n)
    if k < 1:
        return choice
    for f in _smooth_upto(min(2 * full, 4096)):
        if f < max(2 * k + 2, 16):
            continue
        if f >= n + k:
            c, t = _block_cost(f, dims), n
        else:
            c, t = -(-n // (f - k)) * _block_cost(f, dims), f - k
        if c < best:
            best, choice = c, (f, t)
    return choice
    for f in _smooth_upto(min(full - 1, 4096)):
        if f < max(2 * k + 2, 16):
            continue
        c = -(-n // (f - k)) * _block_cost(f, dims)
        if c < best:
            best, choice = c, (f, f - k)
    return choice


#: overlap-add blocks are capped at this length (or 4x the overlap, if larger)
OA_BLOCK_CAP = 32768


def oa_lengths(s1, s2):
    """Overlap-add block sizes along one axis, following SciPy's cost model.

    Returns ``(block, overlap, step1, step2)``; ``overlap is None`` means one
    block (plain FFT convolution) along this axis.
    """
    fallback = (s1 + s2 - 1, None, s1, s2)
    if s1 == s2 or s1 == 1 or s2 == 1:
        return fallback
    swapped = s2 > s1
    if swapped:
        s1, s2 = s2, s1
    if s2 >= s1 / 2:
        return fallback
    overlap = s2 - 1
    # optimum block N minimises N log N / (N - K): N = -K W_{-1}(-1/(2eK))
    opt = -overlap * _lambertw_m1(-1.0 / (2.0 * math.e * overlap))
    # ... but cache-bound: blocks beyond ~32k points leave L2 and lose more
    # than the flop count gains (W2, 1e6 * 4097: the optimum 51450 ran in
    # 24 ms, 24576..40960 in 19.4 ms)
    opt = min(opt, max(4 * overlap, OA_BLOCK_CAP))
    block = next_fast_len(math.ceil(opt))
    if block >= s1:
        return fallback
    if not swapped:
        return block, overlap, block - s2 + 1, s2
    return block, overlap, s2, block - s2 + 1


def _lambertw_m1(y):
    """Lower real branch W_{-1}(y) for y in [-1/e, 0) by Halley iteration."""
    if y >= 0 or y < -1.0 / math.e:
        raise ValueError("W_{-1} defined on [-1/e, 0)")
    # initial guess from the series around 0^-: W ~ log(-y) - log(-log(-y))
    L1 = math.log(-y)
    w = L1 - math.log(-L1) if L1 < -1 else -1.0 - math.sqrt(2.0 * (1.0 + math.e * y))
    for _ in range(50):
        ew = math.exp(w)
        f = w * ew - y
        wp1 = w + 1.0
        if wp1 == 0:
            break
        dw = f / (ew * wp1 - (wp1 + 1.0) * f / (2.0 * wp1))
        w -= dw
        if abs(dw) <= 1e-15 * (1.0 + abs(w)):
            break
    return w
