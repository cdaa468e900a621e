"""CNN convolutions on NumPy arrays with PyTorch's semantics, planned by measurement.

``conv1d/2d/3d`` compute what ``torch.nn.functional.conv*d`` computes: a
*cross-correlation* (no kernel flip) of a batch ``(N, C, *spatial)`` with a
weight ``(Cout, C/groups, *k)``, with stride, zero padding (int, tuple,
``'same'``, ``'valid'``), dilation, groups, and the padding modes of
``torch.nn.Conv*d`` (``'zeros'``, ``'reflect'``, ``'replicate'``, ``'circular'``).
``flip=True`` flips the kernel first: the true convolution of mathematics.

``conv_transpose1d/2d/3d`` are ``torch.nn.functional.conv_transpose*d``. The
gradients ``conv*d_input_grad`` / ``conv*d_weight_grad`` are plain functions
(like ``torch.nn.grad.conv*d_input`` / ``conv*d_weight``) for NumPy training
loops. The input gradient is the transposed convolution, i.e. a correlation
with the *flipped* kernel: the flip CNN libraries skip in the forward pass
comes back in backpropagation.

Every op is planned per problem key (shapes, geometry, dtype, threads) by the
same planner as ``jitconv.convolve``: im2col + BLAS, direct numba loops,
Winograd, FFT (see ``jitconv._nn``). float32 is computed and accumulated in
float32 (PyTorch's convention); float64 in float64. Inputs are never modified.
"""
import math
import operator

import numpy as np

from . import _config, _nn

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv1d_input_grad", "conv2d_input_grad", "conv3d_input_grad",
           "conv1d_weight_grad", "conv2d_weight_grad", "conv3d_weight_grad"]

_PAD_MODES = {"zeros": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


# ------------------------------------------------------------------ checks
def _dtype(name, *arrays):
    for a in arrays:
        if a is not None and a.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name}: expected float32 or float64 arrays, got {a.dtype}")
    return np.result_type(*[a for a in arrays if a is not None])


def _tuple(name, value, nd, what, minimum):
    """An int or a sequence of ``nd`` ints, each >= minimum (PyTorch's ``_ntuple``)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an int or a tuple of ints, not {value!r}")
    if isinstance(value, (int, np.integer)):
        vals = (int(value),) * nd
    else:
        try:
            vals = tuple(operator.index(v) for v in value)
        except TypeError:
            raise TypeError(f"{what} must be an int or a tuple of ints, not {value!r}") from None
        if len(vals) == 1:
            vals = vals * nd
        if len(vals) != nd:
            raise ValueError(f"{name}: expected {what} to be a single integer value or a list "
                             f"of {nd} values to match the convolution dimensions, but got "
                             f"{what}={list(vals)}")
    for v in vals:
        if v < minimum:
            msg = {"stride": "non-positive stride is not supported",
                   "dilation": "dilation should be greater than zero",
                   "padding": "negative padding is not supported",
                   "output_padding": "negative output_padding is not supported"}[what]
            raise ValueError(f"{name}: {msg}, got {what}={list(vals)}")
    return vals


def _groups(name, groups):
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{name}: groups must be an int, not {groups!r}")
    if groups < 1:
        raise ValueError(f"{name}: non-positive groups is not supported, got groups={groups}")
    return int(groups)


def _batched(name, x, nd):
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, "
                         f"but got input of size {list(x.shape)}")
    return x.ndim == nd + 1


def _weight(name, w, nd):
    if w.ndim != nd + 2:
        raise ValueError(f"{name}: expected a {nd + 2}D weight (out_channels, in_channels/groups"
                         f", *kernel), but got weight of size {list(w.shape)}")
    if any(k == 0 for k in w.shape[2:]):
        raise ValueError(f"{name}: kernel sizes must be positive, got weight of size "
                         f"{list(w.shape)}")


def _pads(name, padding, nd, stride, dilation, ksize):
    """``[(lo, hi)]`` per spatial axis (PyTorch puts the odd extra of 'same' at the end)."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            out = []
            for d, k in zip(dilation, ksize):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return out
        raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                         "{'valid', 'same'}")
    return [(p, p) for p in _tuple(name, padding, nd, "padding", 0)]


def _check_channels(name, x, w, groups, transposed=False):
    """``x``, ``w``: the arrays or their shapes."""
    xs, ws = getattr(x, "shape", x), getattr(w, "shape", w)
    _check_channel_shapes(name, tuple(xs), tuple(ws), groups, transposed)


def _check_channel_shapes(name, xs, ws, groups, transposed):
    C = xs[1]
    if transposed:
        if ws[0] != C:
            raise ValueError(f"{name}: given transposed=1, weight of size {list(ws)}, "
                             f"expected input{list(xs)} to have {ws[0]} channels, "
                             f"but got {C} channels instead")
        if C % groups:
            raise ValueError(f"{name}: given groups={groups}, expected weight to be divisible "
                             f"by {groups} at dimension 0, but got weight of size "
                             f"{list(ws)} instead")
        return
    if ws[0] % groups:
        raise ValueError(f"{name}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of size {list(ws)} "
                         "instead")
    if C != ws[1] * groups:
        raise ValueError(f"{name}: given groups={groups}, weight of size {list(ws)}, "
                         f"expected input{list(xs)} to have {ws[1] * groups} "
                         f"channels, but got {C} channels instead")


def _check_bias(name, bias, n):
    if bias is None:
        return None
    bias = np.asarray(bias)
    if bias.shape != (n,):
        raise ValueError(f"{name}: expected bias of shape ({n},), got {bias.shape}")
    return bias


def _as5(a, dtype):
    """``(N, C, *spatial)`` as a C-contiguous ``(N, C, D, H, W)`` array of ``dtype``."""
    nd = a.ndim - 2
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(a.shape[:2] + (1,) * (3 - nd) + a.shape[2:])


def _geo(ksize, stride, dilation, lo, out):
    pad = 3 - len(ksize)
    one, zero = (1,) * pad, (0,) * pad
    return _nn.Geo(one + tuple(ksize), one + tuple(stride), one + tuple(dilation),
                   zero + tuple(lo), one + tuple(out))


def _flip(w):
    return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]


def _forward_geometry(name, nd, xshape, ksize, stride, padding, dilation):
    stride = _tuple(name, stride, nd, "stride", 1)
    dilation = _tuple(name, dilation, nd, "dilation", 1)
    pads = _pads(name, padding, nd, stride, dilation, ksize)
    spatial = xshape[2:]
    padded = [s + lo + hi for s, (lo, hi) in zip(spatial, pads)]
    keff = [d * (k - 1) + 1 for d, k in zip(dilation, ksize)]
    if any(p < k for p, k in zip(padded, keff)):
        raise ValueError(f"{name}: calculated padded input size per channel: "
                         f"({' x '.join(map(str, padded))}). Kernel size: "
                         f"({' x '.join(map(str, keff))}). Kernel size can't be greater than "
                         "actual input size")
    out = [(p - k) // s + 1 for p, k, s in zip(padded, keff, stride)]
    return stride, dilation, pads, out


# ------------------------------------------------------------------ forward
def _conv(nd, x, weight, bias, stride, padding, dilation, groups, padding_mode, flip, workers):
    name = f"conv{nd}d"
    x, w = np.asarray(x), np.asarray(weight)
    bias = None if bias is None else np.asarray(bias)
    dt = _dtype(name, x, w, bias)
    unbatched = _batched(name, x, nd)
    _weight(name, w, nd)
    groups = _groups(name, groups)
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"{name}: padding_mode must be one of {sorted(_PAD_MODES)}, but got "
                         f"padding_mode={padding_mode!r}")
    workers = _config.check_workers(workers)
    if unbatched:
        x = x[None]
    _check_channels(name, x, w, groups)
    bias = _check_bias(name, bias, w.shape[0])
    stride, dilation, pads, out = _forward_geometry(name, nd, x.shape, w.shape[2:], stride,
                                                    padding, dilation)
    if _PAD_MODES[padding_mode] is not None and any(p != (0, 0) for p in pads):
        for s, (lo, hi) in zip(x.shape[2:], pads):
            if padding_mode == "reflect" and max(lo, hi) >= s:
                raise ValueError(f"{name}: padding ({lo}, {hi}) must be smaller than the input "
                                 f"size {s} for padding_mode='reflect'")
            if padding_mode == "circular" and max(lo, hi) > s:
                raise ValueError(f"{name}: padding ({lo}, {hi}) wraps around more than once "
                                 f"(input size {s}) for padding_mode='circular'")
        x = np.pad(x, [(0, 0), (0, 0)] + pads, mode=_PAD_MODES[padding_mode])
        pads = [(0, 0)] * nd
    if flip:
        w = _flip(w)
    N, Cout = x.shape[0], w.shape[0]
    if N == 0 or Cout == 0 or x.shape[1] == 0:
        y = np.zeros((N, Cout) + tuple(out), dt)
    else:
        x5, w5 = _as5(x, dt), _as5(w, dt)
        geo = _geo(w.shape[2:], stride, dilation, [lo for lo, _ in pads], out)
        p = _nn.make("conv", x5.shape, w5.shape, geo, groups, dt, workers)
        y = _nn.solve(p, x5, w5).reshape((N, Cout) + tuple(out))
    if bias is not None:
        y += bias.astype(dt).reshape((Cout,) + (1,) * nd)
    return y[0] if unbatched else y


_CONV_DOC = """{n}-d cross-correlation of a batch (PyTorch's ``conv{n}d``).

    Parameters
    ----------
    x : array_like, float32 or float64
        Input ``(N, C, {sp})`` or unbatched ``(C, {sp})``.
    weight : array_like
        ``(Cout, C/groups, {ks})``.
    bias : array_like, optional
        ``(Cout,)``, added to every output position.
    stride, dilation : int or tuple of {n} ints
        Positive.
    padding : int, tuple of {n} ints, 'same' or 'valid'
        Implicit padding on both sides of each spatial axis. 'same' keeps the
        input size (stride 1 only; an odd total puts the extra at the end).
    groups : int
        Input and output channels are split into ``groups`` independent blocks
        (``groups == C`` is a depthwise convolution).
    padding_mode : {{'zeros', 'reflect', 'replicate', 'circular'}}
        How the padding is filled (``torch.nn.Conv{n}d``'s ``padding_mode``).
    flip : bool
        Flip the kernel along its spatial axes first: true convolution.
    workers : int, optional, keyword-only
        Threads (default: ``jitconv.set_workers`` / all CPUs).

    Returns
    -------
    ndarray
        ``(N, Cout, {out})`` (no batch axis for an unbatched input), where
        ``out = (in + pad_lo + pad_hi - dilation*(k-1) - 1) // stride + 1``;
        the result dtype of the inputs (float32 with float64 gives float64).

    Raises
    ------
    ValueError
        Channel counts that do not match the weight and ``groups``, ``groups``
        not dividing the channels, non-positive stride/dilation/groups, negative
        padding, a kernel larger than the padded input, 'same' with a stride
        above 1, an unknown padding string or mode, a bias of the wrong shape.
    TypeError
        Inputs other than float32/float64, non-integer parameters.
    {example}"""


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, *, workers=None):
    return _conv(1, x, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
                 workers)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, *, workers=None):
    return _conv(2, x, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
                 workers)


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, *, workers=None):
    return _conv(3, x, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
                 workers)


conv1d.__doc__ = _CONV_DOC.format(n=1, sp="L", ks="k", out="Lout", example="""
    Examples
    --------
    >>> import numpy as np
    >>> from jitconv import nn
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> nn.conv1d(x, np.array([[[1.0, 0.0, -1.0]]]))      # no flip: x[i] - x[i+2]
    array([[[-2., -2., -2.]]])
    >>> nn.conv1d(x, np.array([[[1.0, 0.0, -1.0]]]), flip=True)
    array([[[2., 2., 2.]]])
""")
conv2d.__doc__ = _CONV_DOC.format(n=2, sp="H, W", ks="kH, kW", out="Hout, Wout", example="""
    Examples
    --------
    >>> import numpy as np
    >>> from jitconv import nn
    >>> x = np.ones((2, 3, 8, 8), np.float32)
    >>> nn.conv2d(x, np.ones((4, 3, 3, 3), np.float32), padding=1, stride=2).shape
    (2, 4, 4, 4)
""")
conv3d.__doc__ = _CONV_DOC.format(n=3, sp="D, H, W", ks="kD, kH, kW", out="Dout, Hout, Wout",
                                  example="")


# ---------------------------------------------------------- transposed
def _conv_transpose(nd, x, weight, bias, stride, padding, output_padding, groups, dilation,
                    workers):
    name = f"conv_transpose{nd}d"
    x, w = np.asarray(x), np.asarray(weight)
    bias = None if bias is None else np.asarray(bias)
    dt = _dtype(name, x, w, bias)
    unbatched = _batched(name, x, nd)
    _weight(name, w, nd)
    groups = _groups(name, groups)
    workers = _config.check_workers(workers)
    if unbatched:
        x = x[None]
    _check_channels(name, x, w, groups, transposed=True)
    Cout = w.shape[1] * groups
    bias = _check_bias(name, bias, Cout)
    stride = _tuple(name, stride, nd, "stride", 1)
    dilation = _tuple(name, dilation, nd, "dilation", 1)
    if isinstance(padding, str):
        raise TypeError(f"{name}: padding must be an int or a tuple of ints, not {padding!r}")
    padding = _tuple(name, padding, nd, "padding", 0)
    opad = _tuple(name, output_padding, nd, "output_padding", 0)
    for o, s, d in zip(opad, stride, dilation):
        if o >= s and o >= d:
            raise ValueError(f"{name}: output padding must be smaller than either stride or "
                             f"dilation, but got output_padding={list(opad)}, "
                             f"stride={list(stride)}, dilation={list(dilation)}")
    S = x.shape[2:]
    out = [(s - 1) * st - 2 * p + d * (k - 1) + o + 1
           for s, st, p, d, k, o in zip(S, stride, padding, dilation, w.shape[2:], opad)]
    if any(o < 0 for o in out):   # PyTorch returns an empty result for 0
        raise ValueError(f"{name}: given input size per channel ({' x '.join(map(str, S))}), "
                         f"the calculated output size per channel "
                         f"({' x '.join(map(str, out))}) is too small")
    y = _input_grad(x, w, [x.shape[0], Cout] + out, stride, padding, dilation, groups, dt,
                    workers)
    if bias is not None:
        y += bias.astype(dt).reshape((Cout,) + (1,) * nd)
    return y[0] if unbatched else y


def _input_grad(dy, w, xshape, stride, pads_lo, dilation, groups, dt, workers):
    """dx of shape ``xshape`` (batched) for ``y = conv(x, w)`` with leading pads ``pads_lo``."""
    nd = len(xshape) - 2
    N = xshape[0]
    if N == 0 or math.prod(xshape) == 0 or dy.shape[1] == 0:
        return np.zeros(xshape, dt)
    dy5, w5 = _as5(dy, dt), _as5(w, dt)
    x5shape = tuple(xshape[:2]) + (1,) * (3 - nd) + tuple(xshape[2:])
    geo = _geo(w.shape[2:], stride, dilation, pads_lo, dy.shape[2:])
    p = _nn.make("input_grad", x5shape, w5.shape, geo, groups, dt, workers)
    return _nn.solve(p, dy5, w5).reshape(xshape)


_TRANSPOSE_DOC = """{n}-d transposed convolution (PyTorch's ``conv_transpose{n}d``).

    The adjoint of ``conv{n}d`` with the same parameters: the gradient of a
    convolution with respect to its input, a correlation with the flipped
    kernel. Output size per axis:
    ``(in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.

    Parameters
    ----------
    x : array_like, float32 or float64
        ``(N, Cin, {sp})`` or unbatched ``(Cin, {sp})``.
    weight : array_like
        ``(Cin, Cout/groups, {ks})``.
    bias : array_like, optional
        ``(Cout,)``.
    stride, padding, output_padding, dilation : int or tuple of {n} ints
        ``output_padding`` (extra size at the end of each axis) must be
        smaller than the stride or the dilation.
    groups : int
    workers : int, optional, keyword-only

    Returns
    -------
    ndarray
        ``(N, Cout, *out)``.

    Raises
    ------
    ValueError
        As for ``conv{n}d``; also an output size below 1 and a too large
        ``output_padding``.
    TypeError
        Non-float inputs, a string padding.
    """


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, workers=None):
    return _conv_transpose(1, x, weight, bias, stride, padding, output_padding, groups,
                           dilation, workers)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, workers=None):
    return _conv_transpose(2, x, weight, bias, stride, padding, output_padding, groups,
                           dilation, workers)


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, workers=None):
    return _conv_transpose(3, x, weight, bias, stride, padding, output_padding, groups,
                           dilation, workers)


for _n, _f in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)):
    _f.__doc__ = _TRANSPOSE_DOC.format(n=_n, sp=("L", "H, W", "D, H, W")[_n - 1],
                                       ks=("k", "kH, kW", "kD, kH, kW")[_n - 1])


# ------------------------------------------------------------ gradients
def _grad_setup(name, nd, xshape, wshape, stride, padding, dilation, groups):
    """Validate the forward geometry ``conv(x of xshape, w of wshape)``."""
    xshape = tuple(operator.index(s) for s in xshape)
    wshape = tuple(operator.index(s) for s in wshape)
    unbatched = len(xshape) == nd + 1
    if len(xshape) not in (nd + 1, nd + 2):
        raise ValueError(f"{name}: expected an input shape of {nd + 1} (unbatched) or {nd + 2} "
                         f"(batched) sizes, got {list(xshape)}")
    if unbatched:
        xshape = (1,) + xshape
    if len(wshape) != nd + 2:
        raise ValueError(f"{name}: expected a weight shape of {nd + 2} sizes, got "
                         f"{list(wshape)}")
    groups = _groups(name, groups)
    if any(k <= 0 for k in wshape[2:]):
        raise ValueError(f"{name}: kernel sizes must be positive, got weight of size "
                         f"{list(wshape)}")
    _check_channels(name, xshape, wshape, groups)
    stride, dilation, pads, out = _forward_geometry(name, nd, xshape, wshape[2:], stride,
                                                    padding, dilation)
    return xshape, wshape, unbatched, groups, stride, dilation, pads, out


def _conv_input_grad(nd, grad_out, weight, input_shape, stride, padding, dilation, groups, flip,
                     workers):
    name = f"conv{nd}d_input_grad"
    dy, w = np.asarray(grad_out), np.asarray(weight)
    dt = _dtype(name, dy, w)
    _weight(name, w, nd)
    workers = _config.check_workers(workers)
    xshape, _, unbatched, groups, stride, dilation, pads, out = _grad_setup(
        name, nd, input_shape, w.shape, stride, padding, dilation, groups)
    if unbatched:
        dy = dy[None]
    want = (xshape[0], w.shape[0]) + tuple(out)
    if dy.shape != want:
        raise ValueError(f"{name}: grad_out has shape {list(dy.shape)}, the convolution's "
                         f"output has shape {list(want)}")
    if flip:
        w = _flip(w)
    dx = _input_grad(dy, w, xshape, stride, [lo for lo, _ in pads], dilation, groups, dt,
                     workers)
    return dx[0] if unbatched else dx


def _conv_weight_grad(nd, x, grad_out, weight_shape, stride, padding, dilation, groups, flip,
                      workers):
    name = f"conv{nd}d_weight_grad"
    x, dy = np.asarray(x), np.asarray(grad_out)
    dt = _dtype(name, x, dy)
    workers = _config.check_workers(workers)
    unb = _batched(name, x, nd)
    xshape, wshape, _, groups, stride, dilation, pads, out = _grad_setup(
        name, nd, x.shape, weight_shape, stride, padding, dilation, groups)
    if unb:
        x, dy = x[None], dy[None]
    want = (xshape[0], wshape[0]) + tuple(out)
    if dy.shape != want:
        raise ValueError(f"{name}: grad_out has shape {list(dy.shape)}, the convolution's "
                         f"output has shape {list(want)}")
    if math.prod(xshape) == 0 or math.prod(wshape) == 0:
        return np.zeros(wshape, dt)
    x5, dy5 = _as5(x, dt), _as5(dy, dt)
    w5shape = wshape[:2] + (1,) * (3 - nd) + wshape[2:]
    geo = _geo(wshape[2:], stride, dilation, [lo for lo, _ in pads], out)
    p = _nn.make("weight_grad", x5.shape, w5shape, geo, groups, dt, workers)
    dw = _nn.solve(p, x5, dy5).reshape(wshape)
    return _flip(dw).copy() if flip else dw


_IGRAD_DOC = """Gradient of ``conv{n}d(x, weight, ...)`` with respect to ``x``.

    ``dL/dx`` given ``grad_out = dL/dy`` (``torch.nn.grad.conv{n}d_input``):
    the transposed convolution of ``grad_out``, i.e. its correlation with the
    flipped kernel.

    Parameters
    ----------
    grad_out : array_like
        ``(N, Cout, *out)`` (or unbatched ``(Cout, *out)``).
    weight : array_like
        ``(Cout, C/groups, {ks})``.
    input_shape : tuple of int
        Shape of ``x``: ``(N, C, {sp})`` or ``(C, {sp})``.
    stride, padding, dilation, groups, flip
        As in the forward ``conv{n}d`` (zero padding; 'same' and 'valid' allowed).
    workers : int, optional, keyword-only

    Returns
    -------
    ndarray of shape ``input_shape``.

    Raises
    ------
    ValueError
        As for ``conv{n}d``, and when ``grad_out`` is not the forward output's shape.
    """

_WGRAD_DOC = """Gradient of ``conv{n}d(x, weight, ...)`` with respect to ``weight``.

    ``dL/dweight`` given ``grad_out = dL/dy`` (``torch.nn.grad.conv{n}d_weight``):
    the correlation of the input with ``grad_out``, summed over the batch.

    Parameters
    ----------
    x : array_like
        ``(N, C, {sp})`` or ``(C, {sp})``.
    grad_out : array_like
        ``(N, Cout, *out)`` (or unbatched).
    weight_shape : tuple of int
        ``(Cout, C/groups, {ks})``.
    stride, padding, dilation, groups, flip
        As in the forward ``conv{n}d`` (zero padding).
    workers : int, optional, keyword-only

    Returns
    -------
    ndarray of shape ``weight_shape``.
    """


def conv1d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, dilation=1, groups=1,
                      flip=False, *, workers=None):
    return _conv_input_grad(1, grad_out, weight, input_shape, stride, padding, dilation, groups,
                            flip, workers)


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, dilation=1, groups=1,
                      flip=False, *, workers=None):
    return _conv_input_grad(2, grad_out, weight, input_shape, stride, padding, dilation, groups,
                            flip, workers)


def conv3d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, dilation=1, groups=1,
                      flip=False, *, workers=None):
    return _conv_input_grad(3, grad_out, weight, input_shape, stride, padding, dilation, groups,
                            flip, workers)


def conv1d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _conv_weight_grad(1, x, grad_out, weight_shape, stride, padding, dilation, groups,
                             flip, workers)


def conv2d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _conv_weight_grad(2, x, grad_out, weight_shape, stride, padding, dilation, groups,
                             flip, workers)


def conv3d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _conv_weight_grad(3, x, grad_out, weight_shape, stride, padding, dilation, groups,
                             flip, workers)


for _n in (1, 2, 3):
    _sp = ("L", "H, W", "D, H, W")[_n - 1]
    _ks = ("k", "kH, kW", "kD, kH, kW")[_n - 1]
    globals()[f"conv{_n}d_input_grad"].__doc__ = _IGRAD_DOC.format(n=_n, sp=_sp, ks=_ks)
    globals()[f"conv{_n}d_weight_grad"].__doc__ = _WGRAD_DOC.format(n=_n, sp=_sp, ks=_ks)
