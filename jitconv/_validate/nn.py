"""PyTorch's checks of the CNN ops (``jitconv.nn``), before any work; then the
call: operands normalised to three spatial axes, the ``NNProblem`` and the
finishing rule.

PyTorch's ``RuntimeError`` conditions raise ``ValueError`` here (with the
same conditions and similar messages), its type errors ``TypeError``.
Padding modes other than zeros are applied to the input here (a padded
copy), so that every problem has implicit zero padding only.
"""
import math
import operator

import numpy as np

from .. import _config
from .._problem import Answer, Call, Geo, NNFinish, NNProblem
from . import workers as check_workers

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
    return Geo(one + tuple(ksize), one + tuple(stride), one + tuple(dilation),
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


def _problem(op, xshape, wshape, geo, groups, dtype, workers):
    return NNProblem(op, tuple(xshape), tuple(wshape), geo, int(groups),
                     np.dtype(dtype).str, int(workers), bool(_config.SETTINGS.deterministic))


def conv_call(nd, x, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
              workers):
    """``conv{nd}d``: a cross-correlation (``flip``: convolution) of a batch."""
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
    workers = check_workers(workers)
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
    shape = (N, Cout) + tuple(out)
    finish = NNFinish(shape, None if bias is None else bias.astype(dt), unbatched=unbatched)
    if N == 0 or Cout == 0 or x.shape[1] == 0:
        return Answer(_finish_empty(shape, dt, finish))
    x5, w5 = _as5(x, dt), _as5(w, dt)
    geo = _geo(w.shape[2:], stride, dilation, [lo for lo, _ in pads], out)
    p = _problem("conv", x5.shape, w5.shape, geo, groups, dt, workers)
    return Call(p, (x5, w5), finish)


def _finish_empty(shape, dt, finish):
    """The result of a call with nothing to compute (zeros, plus the bias)."""
    y = np.zeros(shape, dt)
    if finish.bias is not None:
        y += finish.bias.reshape((shape[1],) + (1,) * (len(shape) - 2))
    return y[0] if finish.unbatched else y


def conv_transpose_call(nd, x, weight, bias, stride, padding, output_padding, groups, dilation,
                        workers):
    """``conv_transpose{nd}d``: the input gradient of ``conv{nd}d``."""
    name = f"conv_transpose{nd}d"
    x, w = np.asarray(x), np.asarray(weight)
    bias = None if bias is None else np.asarray(bias)
    dt = _dtype(name, x, w, bias)
    unbatched = _batched(name, x, nd)
    _weight(name, w, nd)
    groups = _groups(name, groups)
    workers = check_workers(workers)
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
    xshape = (x.shape[0], Cout) + tuple(out)
    finish = NNFinish(xshape, None if bias is None else bias.astype(dt), unbatched=unbatched)
    return _input_grad(x, w, xshape, stride, padding, dilation, groups, dt, workers, finish)


def _input_grad(dy, w, xshape, stride, pads_lo, dilation, groups, dt, workers, finish):
    """dx of shape ``xshape`` (batched) for ``y = conv(x, w)`` with leading pads ``pads_lo``."""
    nd = len(xshape) - 2
    if xshape[0] == 0 or math.prod(xshape) == 0 or dy.shape[1] == 0:
        return Answer(_finish_empty(xshape, dt, finish))
    dy5, w5 = _as5(dy, dt), _as5(w, dt)
    x5shape = tuple(xshape[:2]) + (1,) * (3 - nd) + tuple(xshape[2:])
    geo = _geo(w.shape[2:], stride, dilation, pads_lo, dy.shape[2:])
    p = _problem("input_grad", x5shape, w5.shape, geo, groups, dt, workers)
    return Call(p, (dy5, w5), finish)


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


def input_grad_call(nd, grad_out, weight, input_shape, stride, padding, dilation, groups, flip,
                    workers):
    """``conv{nd}d_input_grad``."""
    name = f"conv{nd}d_input_grad"
    dy, w = np.asarray(grad_out), np.asarray(weight)
    dt = _dtype(name, dy, w)
    _weight(name, w, nd)
    workers = check_workers(workers)
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
    return _input_grad(dy, w, xshape, stride, [lo for lo, _ in pads], dilation, groups, dt,
                       workers, NNFinish(xshape, unbatched=unbatched))


def weight_grad_call(nd, x, grad_out, weight_shape, stride, padding, dilation, groups, flip,
                     workers):
    """``conv{nd}d_weight_grad``."""
    name = f"conv{nd}d_weight_grad"
    x, dy = np.asarray(x), np.asarray(grad_out)
    dt = _dtype(name, x, dy)
    workers = check_workers(workers)
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
        return Answer(np.zeros(wshape, dt))
    x5, dy5 = _as5(x, dt), _as5(dy, dt)
    w5shape = wshape[:2] + (1,) * (3 - nd) + wshape[2:]
    geo = _geo(wshape[2:], stride, dilation, [lo for lo, _ in pads], out)
    p = _problem("weight_grad", x5.shape, w5shape, geo, groups, dt, workers)
    return Call(p, (x5, dy5), NNFinish(wshape, flip=flip))
