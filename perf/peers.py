"""The peers jitconv is measured against: one function per peer.

Each ``peer(w)`` takes a :class:`workloads.Workload` and returns a zero-argument
callable computing the workload's result (the array is returned so it can be
verified), or ``None`` when the peer does not apply to the workload or its
package is not installed. Returned callables carry a few attributes (set by
``_tag``):

- ``label``: what the table shows, e.g. ``cv2.filter2D (f32)``;
- ``est_s``: a rough time of one call for peers whose direct algorithm may
  take minutes (multiply-adds / a throughput measured on the 2-core benchmark
  VM); ``run.py`` skips the peer when it exceeds ``--max-est``;
- ``eligible``: False for peers that solve a lower-precision variant of the
  workload (e.g. float32 ``matchTemplate`` on the float64 W13): they are
  verified at float32 tolerance and shown, but never "best peer";
- ``tol``: a verification tolerance overriding the workload's (float32 variants);
- ``note``: what the peer does beyond the plain call (crop, pad, shift, round);
- ``skip``: a reason the peer cannot solve the workload (an OpenCV border
  type that does not exist for the mode, 3-D data): reported as "not
  eligible", never run.

Everything a user would have to do to get SciPy's exact result from a peer
(flip the kernel for a correlation-only API, pad for 'full', crop for 'valid',
round a float result of an integer problem, convert the output to NumPy)
happens inside the timed callable. Inputs are passed as they are (float32
workloads are float32 already); only the float32 variants convert outside the
timed call.

Threads: every peer gets 2 (the machine's cores): ``scipy.fft.set_workers(2)``,
``pyfftw.config.NUM_THREADS = 2``, ``torch.set_num_threads(2)``,
``cv2.setNumThreads(2)``; NumPy's BLAS uses its default (all cores).
"""
import os
import pickle

import numpy as np

# --------------------------------------------------------------------------
# rough throughputs (multiply-adds per second) of direct algorithms, used only
# to skip hopeless calls; measured on the 2-core VM (see README.md)
RATE = {
    "numpy.convolve": {"f": 3e9, "c": 1.2e9, "i": 0.8e9},
    "scipy.direct.nd": 0.03e9,        # scipy.signal direct, ndim >= 2 (_correlateND)
    "ndimage": {"f": 0.35e9, "c": 0.1e9, "i": 0.35e9},
    "torch.1d": 0.05e9,               # single-channel conv1d, batch 1
    "torch.1d.batch": 0.5e9,
    "torch.f32": 1.5e9,               # conv2d / conv3d float32 (oneDNN)
    "torch.f64": 0.08e9,
    "torch.c": 0.03e9,
    "scipy.cnn.loop": 0.3e9,
}


def _np_rate(w):
    """numpy.convolve (and SciPy's 1-D direct path, which calls it): fast while the
    shorter input stays in cache, ~10x slower when both are long (W3)."""
    if min(w.a.size, w.b.size) > 16384:
        return 0.3e9
    return RATE["numpy.convolve"][_kind(w)]


def _tag(fn, label, est_s=None, eligible=True, tol=None, note=None, skip=None):
    fn.label, fn.est_s, fn.eligible, fn.tol, fn.note = label, est_s, eligible, tol, note
    fn.skip = skip
    return fn


def _kind(w):
    return w.result_dtype.kind if w.result_dtype.kind in "fc" else "i"


def _flip(x, axes=None):
    axes = range(x.ndim) if axes is None else axes
    idx = [slice(None)] * x.ndim
    for ax in axes:
        idx[ax] = slice(None, None, -1)
    return x[tuple(idx)]


def _conv_kernel(w, b):
    """The kernel to *convolve* with to get the workload's result."""
    if w.op == "correlate":
        return np.conj(_flip(b)) if b.dtype.kind == "c" else _flip(b)
    return b


def _corr_kernel(w, b):
    """The kernel to *cross-correlate* with (no conjugation) to get the workload's result."""
    if w.op == "correlate":
        return np.conj(b) if b.dtype.kind == "c" else b
    return _flip(b)


def _to_int(w):
    """Round a float result of an integer workload back to its dtype (exact while |y| < 2**52)."""
    dt = w.result_dtype
    return (lambda y: np.rint(y).astype(dt)) if w.exact else (lambda y: y)


def _same_and_crop(w):
    """How to get ``w.mode`` from a 'same'-sized correlation centred at index m//2.

    A 'same' correlation with the (flipped, for convolution) kernel centred at
    m//2 along every axis reproduces SciPy's 'same'. 'full' zero-pads the input
    by m-1 on both sides first; 'full' and 'valid' then keep ``[m//2, m//2+L)``
    with L the mode's length. Returns ``(pad_widths or None, crop or None)``.
    """
    ms = w.b.shape
    if w.mode == "same":
        return None, None
    out = w.out_shape()
    crop = tuple(slice(m // 2, m // 2 + L) for m, L in zip(ms, out))
    pad = [(m - 1, m - 1) for m in ms] if w.mode == "full" else None
    return pad, crop


def _signal_only(w):
    return not w.is_cnn and not w.is_ndimage


# ------------------------------------------------------------- scipy.signal
def _scipy_method(w, method):
    if not _signal_only(w):
        return None
    import scipy.signal as ss
    fn = getattr(ss, w.op)
    a, b, mode = w.a, w.b, w.mode
    # W4 (axes=-1 with a (1, m) kernel) is the same problem as the 2-D call without axes
    est = None
    if method == "direct":
        if w.a.ndim == 1:
            est = w.macs / _np_rate(w)
        else:
            est = w.macs / RATE["scipy.direct.nd"] * (4 if _kind(w) == "c" else 1)
    return _tag(lambda: fn(a, b, mode, method=method), f"scipy.signal.{w.op}({method})", est_s=est,
                note="2-D call with the (1, m) kernel (same result as axes=-1)" if w.axes else None)


def scipy_auto(w):
    """scipy.signal.convolve / correlate, method='auto' (the baseline of the speed-ups)."""
    return _scipy_method(w, "auto")


def scipy_auto_all_cpus(w):
    """scipy.signal.convolve / correlate, method='auto', inside
    ``scipy.fft.set_workers(<all CPUs>)``: SciPy's FFT path on every core
    (the second baseline of the speed-ups; its direct path stays single-threaded)."""
    f = _scipy_method(w, "auto")
    if f is None:
        return None
    import scipy.fft
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def call():
        with scipy.fft.set_workers(n):
            return f()
    return _tag(call, f"scipy.signal.{w.op}(auto), set_workers({n})", note=f.note)


def scipy_direct(w):
    """scipy.signal.convolve / correlate, method='direct'."""
    return _scipy_method(w, "direct")


def scipy_fft(w):
    """scipy.signal.convolve / correlate, method='fft'."""
    return _scipy_method(w, "fft")


def scipy_oaconvolve(w):
    """scipy.signal.oaconvolve (correlation: kernel reversed and conjugated)."""
    if not _signal_only(w):
        return None
    import scipy.signal as ss
    a, b, mode, axes, fix = w.a, w.b, w.mode, w.axes, _to_int(w)
    return _tag(lambda: fix(ss.oaconvolve(a, _conv_kernel(w, b), mode, axes=axes)),
                "scipy.signal.oaconvolve", note="rounded to int64" if w.exact else None)


def scipy_fftconvolve_workers(w):
    """scipy.signal.fftconvolve inside ``scipy.fft.set_workers(2)`` (pocketfft, 2 threads)."""
    if not _signal_only(w):
        return None
    import scipy.fft
    import scipy.signal as ss
    a, b, mode, axes, fix = w.a, w.b, w.mode, w.axes, _to_int(w)

    def call():
        with scipy.fft.set_workers(2):
            return fix(ss.fftconvolve(a, _conv_kernel(w, b), mode, axes=axes))
    return _tag(call, "scipy fftconvolve, set_workers(2)",
                note="rounded to int64" if w.exact else None)


# --------------------------------------------------- SciPy with pyFFTW backend
WISDOM = {"path": None, "loaded": False, "entries": 0}
_PYFFTW = {"ready": False}


def _pyfftw_setup():
    if _PYFFTW["ready"]:
        return True
    try:
        import pyfftw
        import pyfftw.interfaces.cache
        import pyfftw.interfaces.scipy_fft  # noqa: F401
    except ImportError:
        return False
    pyfftw.interfaces.cache.enable()
    pyfftw.interfaces.cache.set_keepalive_time(30.0)
    pyfftw.config.NUM_THREADS = 2
    pyfftw.config.PLANNER_EFFORT = "FFTW_MEASURE"
    load_fftw_wisdom()
    _PYFFTW["ready"] = True
    return True


def set_wisdom_path(path):
    """Where the pyFFTW peer keeps its FFTW wisdom between runs (None: not kept)."""
    WISDOM["path"] = path


def load_fftw_wisdom():
    path = WISDOM["path"]
    if not path or not os.path.exists(path):
        return
    import pyfftw
    try:
        with open(path, "rb") as f:
            wis = pickle.load(f)
        ok = pyfftw.import_wisdom(tuple(wis))
        WISDOM["loaded"] = bool(any(ok))
        WISDOM["entries"] = sum(x.count(b"\n") for x in wis)
    except Exception:  # a corrupt cache only costs planning time
        WISDOM["loaded"] = False


def save_fftw_wisdom():
    path = WISDOM["path"]
    if not path or not _PYFFTW["ready"]:
        return
    import pyfftw
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.part"
    with open(tmp, "wb") as f:
        pickle.dump(pyfftw.export_wisdom(), f)
    os.replace(tmp, path)


def scipy_fftconvolve_pyfftw(w):
    """scipy.signal.fftconvolve with pyFFTW as the scipy.fft backend.

    MEASURE plans, 2 threads, pyFFTW's interface cache on; the planning happens
    in the first call (reported as 'first call', excluded from the median).
    """
    if not _signal_only(w) or not _pyfftw_setup():
        return None
    import pyfftw.interfaces.scipy_fft as pfs
    import scipy.fft
    import scipy.signal as ss
    a, b, mode, axes, fix = w.a, w.b, w.mode, w.axes, _to_int(w)

    def call():
        with scipy.fft.set_backend(pfs):
            return fix(ss.fftconvolve(a, _conv_kernel(w, b), mode, axes=axes))
    return _tag(call, "scipy fftconvolve + pyFFTW (MEASURE, 2 thr)",
                note="rounded to int64" if w.exact else None)


# ----------------------------------------------------------------- ndimage
def scipy_ndimage(w):
    """scipy.ndimage.convolve / correlate, mode='constant' (cval 0).

    ndimage centres an even kernel one sample off SciPy's 'same' for convolve:
    ``origin=-1`` on even axes shifts it back. 'full' pads the input with m-1
    zeros per side, 'valid' crops the 'same' result (both inside the timed call).
    """
    if not _signal_only(w):
        return None
    try:
        import scipy.ndimage as nd
    except ImportError:
        return None
    a, b, fix = w.a, w.b, _to_int(w)
    pad, crop = _same_and_crop(w)
    n_work = (np.prod([n + sum(p) for n, p in zip(a.shape, pad)]) if pad else a.size) * b.size
    est = n_work / RATE["ndimage"][_kind(w)]
    if w.op == "convolve":
        origin = [-1 if m % 2 == 0 else 0 for m in b.shape]

        def same(x):
            return nd.convolve(x, b, mode="constant", cval=0.0, origin=origin)
        name = "scipy.ndimage.convolve"
    else:
        def same(x):
            return nd.correlate(x, np.conj(b) if b.dtype.kind == "c" else b, mode="constant",
                                cval=0.0)
        name = "scipy.ndimage.correlate"

    def call():
        x = np.pad(a, pad) if pad else a
        y = same(x)
        return fix(y[crop] if crop else y)
    notes = []
    if w.op == "convolve" and any(m % 2 == 0 for m in b.shape):
        notes.append("origin=-1 on even axes")
    if w.mode == "full":
        notes.append("input zero-padded by m-1, then cropped")
    elif w.mode == "valid":
        notes.append("'same' result cropped to 'valid'")
    return _tag(call, name, est_s=est, note="; ".join(notes) or None)


# ------------------------------------------------------------------- numpy
def numpy_convolve(w):
    """numpy.convolve / numpy.correlate (1-D; 'same' only where numpy centres like SciPy)."""
    if not _signal_only(w) or w.a.ndim != 1:
        return None
    if w.mode == "same" and w.a.size < w.b.size:
        return None
    a, b, mode = w.a, w.b, w.mode
    fn = np.convolve if w.op == "convolve" else np.correlate
    return _tag(lambda: fn(a, b, mode), f"numpy.{w.op}",
                est_s=w.macs / _np_rate(w))


# ------------------------------------------------------------------ OpenCV
def _cv2():
    try:
        import cv2
    except ImportError:
        return None
    cv2.setNumThreads(2)
    return cv2


def _cv2_applicable(w):
    return _signal_only(w) and w.a.ndim <= 2 and _kind(w) != "c"


def _cv2_wrap(w, same_fn):
    """Run a 'same'-centred OpenCV filter on ``w`` (1-D as a 1 x n image), with
    full/valid by pad/crop and an integer workload through float64 + rounding."""
    cv2 = _cv2()
    a = w.a if w.a.ndim == 2 else w.a.reshape(1, -1)
    shape2 = w.b.shape if w.b.ndim == 2 else (1, w.b.size)
    ms = shape2
    out = w.out_shape() if w.a.ndim == 2 else (1, w.out_shape()[0])
    pad = crop = None
    if w.mode != "same":
        crop = tuple(slice(m // 2, m // 2 + L) for m, L in zip(ms, out))
        if w.mode == "full":
            pad = (ms[0] - 1, ms[0] - 1, ms[1] - 1, ms[1] - 1)
    exact, oshape, dt = w.exact, w.out_shape(), w.result_dtype

    def call():
        x = a.astype(np.float64) if exact else a
        if pad:
            x = cv2.copyMakeBorder(x, *pad, cv2.BORDER_CONSTANT, value=0)
        y = same_fn(x)
        if crop:
            y = y[crop]
        if exact:
            y = np.rint(y).astype(dt)
        return y.reshape(oshape)
    return call


def _cv2_notes(w):
    n = ["kernel flipped (correlation API)"] if w.op == "convolve" else []
    if w.mode == "full":
        n.append("copyMakeBorder by m-1, then cropped")
    elif w.mode == "valid":
        n.append("'same' result cropped to 'valid'")
    if w.exact:
        n.append("float64, rounded to int64")
    if w.a.ndim == 1:
        n.append("1-D as a 1 x n image")
    return "; ".join(n)


def opencv_filter2D(w):
    """cv2.filter2D, BORDER_CONSTANT, anchor at the kernel's centre (m//2), which is
    SciPy's 'same' centring for the flipped kernel, also for even sizes."""
    cv2 = _cv2()
    if cv2 is None or not _cv2_applicable(w):
        return None
    b = w.b if w.b.ndim == 2 else w.b.reshape(1, -1)
    kdt = np.float64 if w.exact else w.result_dtype
    anchor = (b.shape[1] // 2, b.shape[0] // 2)  # (x, y)

    def same(x):
        k = np.ascontiguousarray(_corr_kernel(w, b), dtype=kdt)
        return cv2.filter2D(x, -1, k, anchor=anchor, delta=0, borderType=cv2.BORDER_CONSTANT)
    dt = "f64" if (w.exact or w.result_dtype == np.float64) else "f32"
    return _tag(_cv2_wrap(w, same), f"cv2.filter2D ({dt})", note=_cv2_notes(w))


def opencv_sepFilter2D(w):
    """cv2.sepFilter2D for kernels given as an outer product ky x kx (W4, W6)."""
    cv2 = _cv2()
    if cv2 is None or not _cv2_applicable(w) or w.a.ndim != 2:
        return None
    if w.separable is not None:
        ky, kx = w.separable
    elif w.b.shape[0] == 1:  # a (1, m) kernel is trivially separable
        ky, kx = np.ones(1, w.b.dtype), w.b[0]
    else:
        return None
    kdt = np.float64 if w.exact else w.result_dtype
    anchor = (len(kx) // 2, len(ky) // 2)

    def same(x):
        fx = np.ascontiguousarray(_flip(kx) if w.op == "convolve" else kx, dtype=kdt)
        fy = np.ascontiguousarray(_flip(ky) if w.op == "convolve" else ky, dtype=kdt)
        return cv2.sepFilter2D(x, -1, fx, fy, anchor=anchor, delta=0,
                               borderType=cv2.BORDER_CONSTANT)
    dt = "f64" if (w.exact or w.result_dtype == np.float64) else "f32"
    return _tag(_cv2_wrap(w, same), f"cv2.sepFilter2D ({dt})", note=_cv2_notes(w))


def opencv_matchTemplate(w):
    """cv2.matchTemplate(TM_CCORR): 2-D 'valid' cross-correlation, float32 only.

    On a float64 workload (W13) it solves the float32 variant: inputs converted
    outside the timed call, verified at float32 tolerance, not eligible for best.
    """
    cv2 = _cv2()
    if (cv2 is None or not _signal_only(w) or w.op != "correlate" or w.mode != "valid"
            or w.a.ndim != 2 or _kind(w) != "f"):
        return None
    a32 = np.ascontiguousarray(w.a, np.float32)
    b32 = np.ascontiguousarray(w.b, np.float32)
    lower = w.result_dtype != np.float32
    return _tag(lambda: cv2.matchTemplate(a32, b32, cv2.TM_CCORR), "cv2.matchTemplate TM_CCORR (f32)",
                eligible=not lower, tol=1e-4,
                note="float32 variant of a float64 problem: not eligible for best" if lower else None)


# ------------------------------------------------------------------ PyTorch
def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def torch_conv(w):
    """torch.nn.functional.conv1d/2d/3d on the signal workloads (1-3 convolved axes).

    PyTorch cross-correlates: the kernel is flipped for a convolution; padding
    m-1 per side gives 'full', (m//2, m-1-m//2) gives SciPy's 'same' (an
    asymmetric pad goes through F.pad), 0 gives 'valid'. Leading non-convolved
    axes (W4) become the batch. Integers: float64, rounded back.
    """
    torch = _torch()
    if torch is None or not _signal_only(w):
        return None
    import torch.nn.functional as F
    ax = w.conv_axes
    d = len(ax)
    if d > 3 or ax != tuple(range(w.a.ndim - d, w.a.ndim)):
        return None
    if any(w.b.shape[i] != 1 for i in range(w.a.ndim - d)):
        return None
    S, K = w.a.shape[w.a.ndim - d:], w.b.shape[w.a.ndim - d:]
    batch = int(np.prod(w.a.shape[:w.a.ndim - d]))
    exact, kind = w.exact, _kind(w)
    x = torch.from_numpy(np.ascontiguousarray(w.a)).reshape((batch, 1) + S)
    k = torch.from_numpy(np.ascontiguousarray(w.b)).reshape((1, 1) + K)
    if w.mode == "full":
        pads = [(m - 1, m - 1) for m in K]
    elif w.mode == "same":
        pads = [(m // 2, m - 1 - m // 2) for m in K]
    else:
        pads = [(0, 0) for m in K]
    sym = all(lo == hi for lo, hi in pads)
    fpad = [p for lo_hi in reversed(pads) for p in lo_hi]  # F.pad: last axis first
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    flip_dims = list(range(2, 2 + d))
    oshape, dt, op = w.out_shape(), w.result_dtype, w.op

    def call():
        xx, kk = (x.to(torch.float64), k.to(torch.float64)) if exact else (x, k)
        kk = torch.flip(kk, flip_dims) if op == "convolve" else (kk.conj() if kind == "c" else kk)
        if sym:
            y = conv(xx, kk, padding=tuple(lo for lo, _ in pads))
        else:
            y = conv(F.pad(xx, fpad), kk)
        y = y.resolve_conj().numpy().reshape(oshape)
        return np.rint(y).astype(dt) if exact else y
    if kind == "c":
        rate = RATE["torch.c"]
    elif d == 1:
        rate = RATE["torch.1d"] if batch == 1 else RATE["torch.1d.batch"]
    else:
        rate = RATE["torch.f32"] if w.result_dtype == np.float32 else RATE["torch.f64"]
    notes = ["kernel flipped"] if op == "convolve" else []
    if not sym:
        notes.append("asymmetric F.pad for 'same'")
    if batch > 1:
        notes.append("leading axis as batch")
    if exact:
        notes.append("float64, rounded to int64")
    return _tag(call, f"torch conv{d}d", est_s=w.macs / rate, note="; ".join(notes) or None)


def torch_cnn(w):
    """The CNN layer itself: torch.nn.functional.conv1d/conv2d (NCHW) with the given stride/padding."""
    torch = _torch()
    if torch is None or not w.is_cnn:
        return None
    import torch.nn.functional as F
    d = w.a.ndim - 2
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    x, k = torch.from_numpy(w.a), torch.from_numpy(w.b)
    s, p = w.stride, w.padding

    def call():
        with torch.no_grad():
            return conv(x, k, stride=s, padding=p).numpy()
    return _tag(call, f"torch conv{d}d")


def torch_cnn_channels_last(w):
    """torch conv2d with input and weights in channels_last (NHWC) memory format (converted outside the timed call)."""
    torch = _torch()
    if torch is None or not w.is_cnn or w.a.ndim != 4:
        return None
    import torch.nn.functional as F
    x = torch.from_numpy(w.a).contiguous(memory_format=torch.channels_last)
    k = torch.from_numpy(w.b).contiguous(memory_format=torch.channels_last)
    s, p = w.stride, w.padding

    def call():
        with torch.no_grad():
            return F.conv2d(x, k, stride=s, padding=p).numpy()
    return _tag(call, "torch conv2d channels_last",
                note="input/weights converted to NHWC outside the timed call; output NHWC-strided")


def numpy_im2col(w):
    """NumPy reference CNN layer: im2col (sliding_window_view + copy) and one float32 matmul."""
    if not w.is_cnn:
        return None
    from numpy.lib.stride_tricks import sliding_window_view
    x, k, s, p = w.a, w.b, w.stride, w.padding
    d = x.ndim - 2
    N, C = x.shape[:2]
    O, K = k.shape[0], k.shape[2:]
    sp = tuple(range(2, 2 + d))
    perm = (0,) + sp + (1,) + tuple(range(2 + d, 2 + 2 * d))
    kmat = k.reshape(O, -1).T

    def call():
        xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p)] * d)
        win = sliding_window_view(xp, K, axis=sp)[(slice(None), slice(None)) + (slice(None, None, s),) * d]
        out_sp = win.shape[2:2 + d]
        cols = win.transpose(perm).reshape(N * int(np.prod(out_sp)), C * int(np.prod(K)))
        y = cols @ kmat
        return np.ascontiguousarray(np.moveaxis(y.reshape((N,) + out_sp + (O,)), -1, 1))
    return _tag(call, "numpy im2col+matmul (f32)")


def scipy_cnn_loop(w):
    """What SciPy offers for a CNN layer: one N-d scipy.signal.correlate (auto) per
    (image, output channel), 'valid' over the padded input (the channel axis sums), then the stride."""
    if not w.is_cnn:
        return None
    import scipy.signal as ss
    x, k, s, p = w.a, w.b, w.stride, w.padding
    d = x.ndim - 2
    oshape = w.out_shape()

    def call():
        xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p)] * d)
        out = np.empty(oshape, np.result_type(x, k))
        st = (0,) + (slice(None, None, s),) * d
        for n in range(x.shape[0]):
            for o in range(k.shape[0]):
                out[n, o] = ss.correlate(xp[n], k[o], "valid")[st]
        return out
    return _tag(call, "scipy.signal.correlate loop (auto)", est_s=w.macs / RATE["scipy.cnn.loop"])


# ------------------------------------------------- scipy.ndimage workloads
def scipy_ndimage_filter(w):
    """The scipy.ndimage filter itself (W15-W19): the baseline of their speed-ups.

    Never skipped by ``--max-est`` (a speed-up needs it), however long it takes."""
    if not w.is_ndimage:
        return None
    return _tag(w.scipy_call(), f"scipy.ndimage.{w.filter}")


#: ndimage mode -> the OpenCV border type that extends the same way (None: there is none)
CV2_BORDER = {"reflect": "BORDER_REFLECT", "mirror": "BORDER_REFLECT_101",
              "nearest": "BORDER_REPLICATE", "constant": "BORDER_CONSTANT", "wrap": None}


def opencv_ndimage(w):
    """OpenCV's filter for an ndimage workload, with the border type of its mode.

    gaussian_filter -> cv2.GaussianBlur (ksize 2r+1, r = int(4 sigma + 0.5): the
    same kernel), uniform_filter -> cv2.blur, convolve -> cv2.filter2D (flipped
    kernel), correlate1d -> cv2.filter2D with a column/row kernel. Not eligible
    where OpenCV has no border type for the mode (its filters have no
    BORDER_WRAP: ``wrap``) or for 3-D data.
    """
    if not w.is_ndimage:
        return None
    cv2 = _cv2()
    if cv2 is None:
        return None
    label = {"gaussian_filter": "cv2.GaussianBlur", "uniform_filter": "cv2.blur"}.get(
        w.filter, "cv2.filter2D")
    border = CV2_BORDER.get(w.mode)
    if border is None:
        return _tag(lambda: None, label, skip=f"cv2 filters have no border type for mode "
                                               f"{w.mode!r} (BORDER_WRAP is not supported)")
    if w.a.ndim != 2:
        return _tag(lambda: None, label, skip=f"OpenCV filters are 2-D; the input is {w.a.ndim}-D")
    bt = getattr(cv2, border)
    a = w.a
    if w.filter == "gaussian_filter":
        s = w.extra["sigma"]
        k = 2 * int(4.0 * s + 0.5) + 1
        fn = lambda: cv2.GaussianBlur(a, (k, k), s, borderType=bt)  # noqa: E731
    elif w.filter == "uniform_filter":
        k = w.extra["size"]
        fn = lambda: cv2.blur(a, (k, k), borderType=bt)  # noqa: E731
    else:
        kern = np.asarray(w.b, dtype=a.dtype)
        if w.filter == "correlate1d":
            kern = kern.reshape((-1, 1) if w.extra["axis"] == 0 else (1, -1))
        else:
            kern = _flip(kern)
        kern = np.ascontiguousarray(kern)
        fn = lambda: cv2.filter2D(a, -1, kern, borderType=bt)  # noqa: E731
    return _tag(fn, f"{label} ({border})",
                note="kernel flipped (correlation API)" if w.filter == "convolve" else None)


#: (key, peer function), in the order they are run and listed.
PEERS = [
    ("scipy_auto", scipy_auto),
    ("scipy_auto_all_cpus", scipy_auto_all_cpus),
    ("scipy_direct", scipy_direct),
    ("scipy_fft", scipy_fft),
    ("scipy_oaconvolve", scipy_oaconvolve),
    ("scipy_fftconvolve_workers", scipy_fftconvolve_workers),
    ("scipy_fftconvolve_pyfftw", scipy_fftconvolve_pyfftw),
    ("scipy_ndimage", scipy_ndimage),
    ("numpy_convolve", numpy_convolve),
    ("opencv_filter2D", opencv_filter2D),
    ("opencv_sepFilter2D", opencv_sepFilter2D),
    ("opencv_matchTemplate", opencv_matchTemplate),
    ("torch_conv", torch_conv),
    ("torch_cnn", torch_cnn),
    ("torch_cnn_channels_last", torch_cnn_channels_last),
    ("numpy_im2col", numpy_im2col),
    ("scipy_cnn_loop", scipy_cnn_loop),
    ("scipy_ndimage_filter", scipy_ndimage_filter),
    ("opencv_ndimage", opencv_ndimage),
]
PEER_FUNCS = dict(PEERS)
