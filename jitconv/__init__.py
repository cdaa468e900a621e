"""jitconv: fast, trustworthy convolution for Python on CPUs.

A drop-in for ``scipy.signal``'s convolution functions (and, in
``jitconv.nn``, PyTorch's CNN convolutions) computed by numba direct kernels
and FFTW (pyFFTW) frequency-domain paths, chosen by a measuring planner.
This module only re-exports.
"""
from ._config import VERSION as __version__
from . import signal
from .signal import (choose_conv_method, convolve, convolve2d, correlate, correlate2d,
                     correlation_lags, fftconvolve, oaconvolve)
from .planner import (Explanation, Plan, explain, export_wisdom, force, forget_wisdom,
                      get_planner, import_wisdom, plan, planner_stats, set_planner, set_workers,
                      wisdom_path)


def __getattr__(name):
    # ``jitconv.nn``, ``jitconv.ndimage`` and ``jitconv.dask`` are imported on
    # first use: their kernels (and dask) need not cost the signal functions'
    # cold start
    if name in ("nn", "ndimage", "dask"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# not ``dask``: a star import must not need the optional dask
__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
           "correlate2d", "choose_conv_method", "correlation_lags", "set_workers",
           "signal", "plan", "Plan", "explain", "Explanation", "planner_stats", "set_planner",
           "get_planner", "force", "export_wisdom", "import_wisdom", "forget_wisdom",
           "wisdom_path", "nn", "ndimage"]
