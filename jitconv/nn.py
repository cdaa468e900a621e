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
Winograd, FFT (the ``nn_*`` modules of ``jitconv.algorithms``). float32 is computed and accumulated in
float32 (PyTorch's convention); float64 in float64. Inputs are never modified.
"""
from . import _engine
from ._validate import nn as check

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv1d_input_grad", "conv2d_input_grad", "conv3d_input_grad",
           "conv1d_weight_grad", "conv2d_weight_grad", "conv3d_weight_grad"]


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
    return _engine.execute(check.conv_call(1, x, weight, bias, stride, padding, dilation, groups,
                                           padding_mode, flip, workers))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, *, workers=None):
    return _engine.execute(check.conv_call(2, x, weight, bias, stride, padding, dilation, groups,
                                           padding_mode, flip, workers))


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, *, workers=None):
    return _engine.execute(check.conv_call(3, x, weight, bias, stride, padding, dilation, groups,
                                           padding_mode, flip, workers))


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
    return _engine.execute(check.conv_transpose_call(1, x, weight, bias, stride, padding,
                                                     output_padding, groups, dilation, workers))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, workers=None):
    return _engine.execute(check.conv_transpose_call(2, x, weight, bias, stride, padding,
                                                     output_padding, groups, dilation, workers))


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, workers=None):
    return _engine.execute(check.conv_transpose_call(3, x, weight, bias, stride, padding,
                                                     output_padding, groups, dilation, workers))


for _n, _f in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)):
    _f.__doc__ = _TRANSPOSE_DOC.format(n=_n, sp=("L", "H, W", "D, H, W")[_n - 1],
                                       ks=("k", "kH, kW", "kD, kH, kW")[_n - 1])


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
    return _engine.execute(check.input_grad_call(1, grad_out, weight, input_shape, stride, padding,
                                                 dilation, groups, flip, workers))


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, dilation=1, groups=1,
                      flip=False, *, workers=None):
    return _engine.execute(check.input_grad_call(2, grad_out, weight, input_shape, stride, padding,
                                                 dilation, groups, flip, workers))


def conv3d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, dilation=1, groups=1,
                      flip=False, *, workers=None):
    return _engine.execute(check.input_grad_call(3, grad_out, weight, input_shape, stride, padding,
                                                 dilation, groups, flip, workers))


def conv1d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _engine.execute(check.weight_grad_call(1, x, grad_out, weight_shape, stride, padding,
                                                  dilation, groups, flip, workers))


def conv2d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _engine.execute(check.weight_grad_call(2, x, grad_out, weight_shape, stride, padding,
                                                  dilation, groups, flip, workers))


def conv3d_weight_grad(x, grad_out, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                       flip=False, *, workers=None):
    return _engine.execute(check.weight_grad_call(3, x, grad_out, weight_shape, stride, padding,
                                                  dilation, groups, flip, workers))


for _n in (1, 2, 3):
    _sp = ("L", "H, W", "D, H, W")[_n - 1]
    _ks = ("k", "kH, kW", "kD, kH, kW")[_n - 1]
    globals()[f"conv{_n}d_input_grad"].__doc__ = _IGRAD_DOC.format(n=_n, sp=_sp, ks=_ks)
    globals()[f"conv{_n}d_weight_grad"].__doc__ = _WGRAD_DOC.format(n=_n, sp=_sp, ks=_ks)
