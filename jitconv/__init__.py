"""jitconv: fast, trustworthy convolution for Python on CPUs.

A drop-in for ``scipy.signal``'s convolution functions computed by numba
direct kernels and FFTW (pyFFTW) frequency-domain paths.
"""
from ._config import set_workers
from .signal import (choose_conv_method, convolve, convolve2d, correlate, correlate2d,
                     correlation_lags, fftconvolve, oaconvolve)
from . import signal
from .planner import (Plan, plan, explain, export_wisdom, force, forget_wisdom, get_planner, import_wisdom,
                      planner_stats, set_planner, wisdom_path)

__version__ = "0.1.0"


def __getattr__(name):
    # ``jitconv.nn`` is imported on first use: its kernels need not cost the
    # signal functions' cold start
    if name == "nn":
        import importlib
        return importlib.import_module(".nn", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
           "correlate2d", "choose_conv_method", "correlation_lags", "set_workers",
           "signal", "plan", "Plan", "explain", "planner_stats", "set_planner", "get_planner", "force",
           "export_wisdom", "import_wisdom", "forget_wisdom", "wisdom_path", "nn"]
