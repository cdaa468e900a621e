"""The benchmark workloads W1-W19, defined once: ``python -m jitconv bench``
and ``perf/run.py`` (``perf/README.md`` describes each) both use this module.
W1-W14 are ``scipy.signal``/CNN problems; W15-W19 are ``scipy.ndimage``
filters (``jitconv.ndimage``), whose SciPy baseline is ``scipy.ndimage``.

Each workload is rebuilt on demand from its id and a fixed seed, so the main
process, the peer process and the fresh-process (cold start) children all see
the same inputs without passing arrays around. This module imports NumPy only
(SciPy and jitconv are imported inside the functions that need them), so that
``perf/`` can load it by path, without the package, and a cold-start child
can time ``import jitconv`` / ``import scipy.signal`` itself.

Every workload carries:

- ``jitconv_expr`` / ``jitconv()``: the jitconv call (``jitconv.nn.conv1d`` /
  ``conv2d`` for the CNN layers W10-W12, ``jitconv.ndimage.*`` for W15-W19);
- ``scipy_call()``: SciPy's own call (``scipy.signal`` 'auto', or the
  ``scipy.ndimage`` filter): the baseline of the speed-ups;
- ``ref_expr`` / ``reference()``: the reference every output is verified
  against: float64 SciPy direct or FFT, a float64 FFT formulation of the CNN
  layer, exact integers (W14), ``scipy.ndimage`` on float64 data, or for
  the large ndimage kernels the boundary extension (``np.pad``) followed by
  a float64 ``fftconvolve``;
- a ``--quick`` scale-down (``make(wid, quick=True)``): same structure, smaller
  sizes.
"""
from dataclasses import dataclass, field
from math import prod

import numpy as np

IDS = [f"W{i}" for i in range(1, 20)]
CNN_IDS = ("W10", "W11", "W12")
#: The workloads whose speed-ups over scipy.signal (auto) enter the geometric mean.
GEOMEAN_IDS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9", "W13", "W14")
#: The scipy.ndimage workloads: their geometric mean is over scipy.ndimage.
NDIMAGE_IDS = ("W15", "W16", "W17", "W18", "W19")

#: ndimage mode -> numpy.pad mode (the same extension)
NP_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
          "constant": "constant"}


@dataclass
class Workload:
    id: str
    desc: str
    op: str                      # 'convolve' | 'correlate' | 'cnn' | 'ndimage.<filter>'
    a: np.ndarray                # signal / image / volume (CNN: x, N C *S)
    b: np.ndarray                # kernel (CNN: weights, O C *K; ndimage: weights or None)
    mode: str = "full"           # 'full' | 'same' | 'valid' (not for CNN)
    axes: tuple = None           # convolution axes (None: all)
    separable: tuple = None      # (ky, kx): 1-D factors of a rank-1 2-D kernel
    stride: int = 1              # CNN only
    padding: int = 0             # CNN only
    quick: bool = False
    ref_kind: str = "fft"        # 'direct' | 'fft' | 'exact' | 'cnn-fft' | 'ndimage' | 'pad-fft'
    extra: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- facts
    @property
    def is_cnn(self):
        return self.op == "cnn"

    @property
    def is_ndimage(self):
        return self.op.startswith("ndimage.")

    @property
    def filter(self):
        """The ndimage function's name (W15-W19)."""
        return self.op.split(".", 1)[1]

    def filter_args(self):
        """``(args, kwargs)`` of the ndimage call after the input."""
        e = self.extra
        kw = {"mode": self.mode}
        if self.filter == "gaussian_filter":
            return (e["sigma"],), kw
        if self.filter == "uniform_filter":
            return (e["size"],), kw
        if self.filter == "correlate1d":
            return (self.b,), dict(kw, axis=e["axis"])
        return (self.b,), kw

    @property
    def result_dtype(self):
        """The dtype SciPy returns (the CNN layers keep float32; ndimage: the input's)."""
        if self.is_ndimage:
            return self.a.dtype
        return np.result_type(self.a, self.b)

    @property
    def exact(self):
        return self.result_dtype.kind in "iub"

    @property
    def tol(self):
        """Relative max error allowed: 1e-4 single, 1e-9 double, 0 (exact) integers."""
        if self.exact:
            return 0.0
        return 1e-4 if self.result_dtype in (np.float32, np.complex64) else 1e-9

    @property
    def conv_axes(self):
        if self.axes is None:
            return tuple(range(self.a.ndim))
        return tuple(ax % self.a.ndim for ax in self.axes)

    def out_shape(self):
        if self.is_ndimage:
            return self.a.shape
        if self.is_cnn:
            s, p = self.stride, self.padding
            sp = tuple((n + 2 * p - k) // s + 1 for n, k in zip(self.a.shape[2:], self.b.shape[2:]))
            return (self.a.shape[0], self.b.shape[0]) + sp
        out = []
        for ax, (n, m) in enumerate(zip(self.a.shape, self.b.shape)):
            if ax not in self.conv_axes:
                out.append(max(n, m))
            elif self.mode == "full":
                out.append(n + m - 1)
            elif self.mode == "same":
                out.append(n)
            else:
                out.append(max(n, m) - min(n, m) + 1)
        return tuple(out)

    @property
    def macs(self):
        """Multiply-adds of a direct evaluation (complex ones counted once).

        Used only to skip peers whose direct algorithm would take minutes."""
        if self.is_ndimage:
            return self.a.size * self.extra["taps"]
        if self.is_cnn:
            return prod(self.out_shape()) * prod(self.b.shape[1:])
        if self.mode == "full":
            return self.a.size * self.b.size
        return prod(self.out_shape()) * self.b.size

    # ------------------------------------------------------------- calls
    @property
    def jitconv_expr(self):
        if self.is_ndimage:
            args, kw = self.filter_args()
            arg = {"gaussian_filter": f"{args[0]}", "uniform_filter": f"{args[0]}"}.get(
                self.filter, "w")
            kws = "".join(f", {k}={v!r}" for k, v in kw.items())
            return f"jitconv.ndimage.{self.filter}(a, {arg}{kws})"
        if self.is_cnn:
            fn = "conv1d" if self.a.ndim == 3 else "conv2d"
            st = f", stride={self.stride}" if self.stride != 1 else ""
            return f"jitconv.nn.{fn}(x, w, padding={self.padding}{st})"
        ax = f", axes={self.axes[0] if len(self.axes) == 1 else self.axes}" if self.axes else ""
        return f"jitconv.{self.op}(a, b, mode={self.mode!r}{ax})"

    def jitconv(self):
        """Zero-argument callable running jitconv on this workload, or None."""
        if self.is_ndimage:
            from jitconv import ndimage
            fn = getattr(ndimage, self.filter)
            a, (args, kw) = self.a, self.filter_args()
            return lambda: fn(a, *args, **kw)
        if self.is_cnn:
            from jitconv import nn
            fn = nn.conv1d if self.a.ndim == 3 else nn.conv2d
            x, w, s, p = self.a, self.b, self.stride, self.padding
            return lambda: fn(x, w, stride=s, padding=p)
        import jitconv
        fn = getattr(jitconv, self.op)
        a, b, mode = self.a, self.b, self.mode
        if self.axes is not None:
            axes = self.axes
            return lambda: fn(a, b, mode, axes=axes)
        return lambda: fn(a, b, mode)

    def scipy_call(self):
        """Zero-argument callable of SciPy's own function: scipy.signal's (auto) or
        scipy.ndimage's (imports SciPy)."""
        a, b = self.a, self.b
        if self.is_ndimage:
            import scipy.ndimage
            fn = getattr(scipy.ndimage, self.filter)
            args, kw = self.filter_args()
            return lambda: fn(a, *args, **kw)
        import scipy.signal
        fn, mode = getattr(scipy.signal, self.op), self.mode
        return lambda: fn(a, b, mode)

    @property
    def ref_expr(self):
        if self.is_ndimage:
            if self.ref_kind == "pad-fft":
                return (f"np.pad(float64 a, m//2, mode={NP_PAD[self.mode]!r}) then "
                        "scipy.signal.fftconvolve(..., w, 'valid')")
            return f"scipy.ndimage.{self.filter} on float64 a"
        if self.is_cnn:
            return ("float64 scipy.fft: rfftn of the padded input and flipped weights, "
                    "per-frequency channel matmul, irfftn, valid crop, stride")
        if self.ref_kind == "exact":
            return f"scipy.signal.{self.op}(a, b, {self.mode!r}, method='direct') on int64 (exact)"
        if self.ref_kind == "direct":
            return f"scipy.signal.{self.op}(float64 a, b, {self.mode!r}, method='direct')"
        ax = f", axes={self.axes}" if self.axes else ""
        k = "reverse-conj(b)" if self.op == "correlate" else "b"
        return f"scipy.signal.fftconvolve(float64 a, {k}, {self.mode!r}{ax})"

    def reference(self):
        """The float64 (complex128, exact int64) result every output is checked against."""
        if self.is_ndimage:
            return ndimage_reference(self)
        if self.is_cnn:
            return cnn_reference(self.a, self.b, self.stride, self.padding)
        import scipy.signal as ss
        if self.ref_kind == "exact":
            return getattr(ss, self.op)(self.a, self.b, self.mode, method="direct")
        hi = np.complex128 if self.result_dtype.kind == "c" else np.float64
        a, b = self.a.astype(hi), self.b.astype(hi)
        if self.ref_kind == "direct":
            return getattr(ss, self.op)(a, b, self.mode, method="direct")
        if self.op == "correlate":
            b = np.conj(b[(slice(None, None, -1),) * b.ndim])
        return ss.fftconvolve(a, b, self.mode, axes=self.axes)


def cnn_reference(x, w, stride, padding):
    """float64 cross-correlation layer (PyTorch's conv semantics), through scipy.fft.

    out[n, o, i] = sum_c sum_k xpad[n, c, i*stride + k] * w[o, c, k]: circular
    convolution of the zero-padded input with the flipped weights over the
    padded length (no wrap-around in the valid part), channels summed in the
    frequency domain.
    """
    import scipy.fft as sf
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    d = x.ndim - 2
    N, C = x.shape[:2]
    O = w.shape[0]
    K = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(padding, padding)] * d)
    S = xp.shape[2:]
    ax = tuple(range(2, 2 + d))
    X = sf.rfftn(xp, s=S, axes=ax, workers=2)
    Wf = sf.rfftn(w[(Ellipsis,) + (slice(None, None, -1),) * d], s=S, axes=ax, workers=2)
    F = X.shape[2:]
    Y = X.reshape(N, C, -1).transpose(2, 0, 1) @ Wf.reshape(O, C, -1).transpose(2, 1, 0)
    del X, Wf
    Y = np.ascontiguousarray(Y.transpose(1, 2, 0)).reshape((N, O) + F)
    y = sf.irfftn(Y, s=S, axes=ax, workers=2)
    return np.ascontiguousarray(y[(slice(None), slice(None)) + tuple(
        slice(k - 1, s, stride) for k, s in zip(K, S))])


def ndimage_reference(w):
    """float64 result of an ndimage workload: SciPy's filter on float64 data, or
    (``ref_kind='pad-fft'``, large kernels) the extension by the mode followed by
    a 'valid' float64 FFT convolution (``convolve`` with odd kernels, origin 0)."""
    a = w.a.astype(np.float64)
    if w.ref_kind == "pad-fft":
        import scipy.signal as ss
        k = np.asarray(w.b, np.float64)
        pad = [(m // 2, m // 2) for m in k.shape]
        return ss.fftconvolve(np.pad(a, pad, mode=NP_PAD[w.mode]), k, "valid")
    import scipy.ndimage as nd
    args, kw = w.filter_args()
    args = tuple(np.asarray(x, np.float64) if isinstance(x, np.ndarray) else x for x in args)
    return getattr(nd, w.filter)(a, *args, **kw)


def _gaussian(n=31, sigma=5.0):
    return np.exp(-0.5 * ((np.arange(n) - n // 2) / sigma) ** 2)


def make(wid, quick=False):
    """Build workload ``wid`` ('W1'..'W19'); ``quick`` gives the scaled-down version."""
    wid = wid.upper()
    if wid not in IDS:
        raise KeyError(f"unknown workload {wid!r}; known: {', '.join(IDS)}")
    r = np.random.default_rng(int(wid[1:]))  # fixed seed per workload: W5 -> 5
    q = quick
    f32 = np.float32

    def sz(full, small):
        return small if q else full

    if wid == "W1":
        n = sz(1_000_000, 100_000)
        return Workload(wid, f"1-D {n:,} * 31, full", "convolve", r.standard_normal(n),
                        r.standard_normal(31), "full", ref_kind="direct", quick=q)
    if wid == "W2":
        n, m = sz(1_000_000, 100_000), sz(4097, 1025)
        return Workload(wid, f"1-D {n:,} * {m:,}, same", "convolve", r.standard_normal(n),
                        r.standard_normal(m), "same", ref_kind="direct", quick=q)
    if wid == "W3":
        p = sz(20, 16)
        return Workload(wid, f"1-D 2^{p} * 2^{p}, full", "convolve", r.standard_normal(2**p),
                        r.standard_normal(2**p), "full", quick=q)
    if wid == "W4":
        rows = sz(256, 32)
        return Workload(wid, f"f32 ({rows}, 16384) * (1, 129) along the last axis, same",
                        "convolve", r.standard_normal((rows, 16384)).astype(f32),
                        r.standard_normal((1, 129)).astype(f32), "same", axes=(-1,), quick=q)
    if wid == "W5":
        n = sz(2048, 512)
        return Workload(wid, f"f32 {n}^2 * 5x5 random, same", "convolve",
                        r.standard_normal((n, n)).astype(f32),
                        r.standard_normal((5, 5)).astype(f32), "same", quick=q)
    if wid == "W6":
        n = sz(2048, 512)
        g = _gaussian().astype(f32)
        return Workload(wid, f"f32 {n}^2 * 31x31 Gaussian (separable), same", "convolve",
                        r.standard_normal((n, n)).astype(f32), np.outer(g, g).astype(f32), "same",
                        separable=(g, g), quick=q)
    if wid == "W7":
        n, m = sz(1024, 256), sz(129, 65)
        return Workload(wid, f"{n}^2 * {m}x{m}, same", "convolve", r.standard_normal((n, n)),
                        r.standard_normal((m, m)), "same", quick=q)
    if wid == "W8":
        n = sz(128, 48)
        return Workload(wid, f"f32 {n}^3 * 7^3, same", "convolve",
                        r.standard_normal((n, n, n)).astype(f32),
                        r.standard_normal((7, 7, 7)).astype(f32), "same", quick=q)
    if wid == "W9":
        p, k = sz(18, 15), sz(12, 9)
        a = r.standard_normal(2**p) + 1j * r.standard_normal(2**p)
        b = r.standard_normal(2**k) + 1j * r.standard_normal(2**k)
        return Workload(wid, f"complex128 1-D 2^{p} * 2^{k}, full", "convolve", a, b, "full",
                        ref_kind="direct", quick=q)
    if wid == "W10":
        n, s = sz(32, 4), sz(56, 28)
        x = r.standard_normal((n, 64, s, s)).astype(f32)
        w = (r.standard_normal((64, 64, 3, 3)) / 24).astype(f32)
        return Workload(wid, f"CNN f32 x({n},64,{s},{s}) w(64,64,3,3) padding 1", "cnn",
                        x, w, padding=1, ref_kind="cnn-fft", quick=q)
    if wid == "W11":
        n, s = sz(8, 2), sz(224, 112)
        x = r.standard_normal((n, 3, s, s)).astype(f32)
        w = (r.standard_normal((64, 3, 7, 7)) / 12).astype(f32)
        return Workload(wid, f"CNN f32 x({n},3,{s},{s}) w(64,3,7,7) stride 2 padding 3", "cnn",
                        x, w, stride=2, padding=3, ref_kind="cnn-fft", quick=q)
    if wid == "W12":
        n, s = sz(16, 2), sz(16000, 4000)
        x = r.standard_normal((n, 32, s)).astype(f32)
        w = (r.standard_normal((32, 32, 9)) / 17).astype(f32)
        return Workload(wid, f"CNN-1D f32 x({n},32,{s}) w(32,32,9) padding 4", "cnn",
                        x, w, padding=4, ref_kind="cnn-fft", quick=q)
    if wid == "W13":
        n, m = sz(1024, 256), sz(64, 32)
        return Workload(wid, f"correlate {n}^2 with a {m}x{m} template, valid", "correlate",
                        r.standard_normal((n, n)), r.standard_normal((m, m)), "valid", quick=q)
    if wid == "W15":
        n = sz(4096, 1024)
        return Workload(wid, f"f32 {n}^2 gaussian_filter, sigma 4, reflect", "ndimage.gaussian_filter",
                        r.standard_normal((n, n)).astype(f32), None, "reflect",
                        extra={"sigma": 4.0, "taps": 2 * 33}, ref_kind="ndimage", quick=q)
    if wid == "W16":
        n = sz(2048, 512)
        return Workload(wid, f"{n}^2 uniform_filter, size 31, nearest", "ndimage.uniform_filter",
                        r.standard_normal((n, n)), None, "nearest",
                        extra={"size": 31, "taps": 2 * 31}, ref_kind="ndimage", quick=q)
    if wid == "W17":
        n = sz(256, 64)
        return Workload(wid, f"f32 {n}^3 convolve * 5^3, mirror", "ndimage.convolve",
                        r.standard_normal((n, n, n)).astype(f32),
                        r.standard_normal((5, 5, 5)).astype(f32), "mirror",
                        extra={"taps": 125}, ref_kind="pad-fft", quick=q)
    if wid == "W18":
        n = sz(4096, 1024)
        return Workload(wid, f"f32 ({n}, {n}) correlate1d axis 0, 33 taps, wrap",
                        "ndimage.correlate1d", r.standard_normal((n, n)).astype(f32),
                        r.standard_normal(33), "wrap", extra={"axis": 0, "taps": 33},
                        ref_kind="ndimage", quick=q)
    if wid == "W19":
        n = sz(2048, 512)
        return Workload(wid, f"{n}^2 convolve * 63^2, reflect", "ndimage.convolve",
                        r.standard_normal((n, n)), r.standard_normal((63, 63)), "reflect",
                        extra={"taps": 63 * 63}, ref_kind="pad-fft", quick=q)
    # W14
    n, m = sz(100_000, 20_000), sz(1000, 500)
    return Workload(wid, f"int64 1-D {n:,} * {m:,}, values in [-1000, 1000], full", "convolve",
                    r.integers(-1000, 1001, n, dtype=np.int64),
                    r.integers(-1000, 1001, m, dtype=np.int64), "full", ref_kind="exact", quick=q)


def verify(out, ref, tol):
    """Compare ``out`` with ``ref``: ``(ok, rel_err, message)``.

    rel_err = max|out - ref| / max|ref| (in float64 / complex128); ``tol == 0``
    asks for exact equality (integers).
    """
    out = np.asarray(out)
    if out.shape != ref.shape:
        return False, None, f"shape {out.shape} != reference {ref.shape}"
    if tol == 0:
        if out.dtype.kind not in "iub":
            return False, None, f"dtype {out.dtype}: not an integer result"
        diff = int(np.count_nonzero(out != ref))
        err = float(np.max(np.abs(out.astype(np.float64) - ref))) if diff else 0.0
        return diff == 0, err, ("exact" if diff == 0 else f"{diff} elements differ (max abs {err:g})")
    hi = np.complex128 if (out.dtype.kind == "c" or ref.dtype.kind == "c") else np.float64
    num = float(np.max(np.abs(out.astype(hi, copy=False) - ref))) if out.size else 0.0
    den = float(np.max(np.abs(ref))) if ref.size else 0.0
    err = num / den if den > 0 else num
    if not np.isfinite(err):
        return False, err, "non-finite output"
    return err <= tol, err, f"rel err {err:.1e} (tol {tol:g})"
