"""pytest plugin: run SciPy's own convolution tests against jitconv.

Loaded with ``-p jitconv_scipy_plugin``. Before collection it replaces the
eight ``scipy.signal`` names by jitconv's functions and registers each
replacement under the original's entry of SciPy's array-API capability table
(the test module looks its functions up there at import time).
"""
NAMES = ("convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
         "correlate2d", "choose_conv_method", "correlation_lags")


def pytest_configure(config):
    import scipy.signal
    import jitconv
    from scipy._lib import _array_api

    table = _array_api.xp_capabilities_table
    for name in NAMES:
        orig = getattr(scipy.signal, name)
        new = getattr(jitconv, name)
        if orig in table:
            table[new] = table[orig]
        setattr(scipy.signal, name, new)
    config._jitconv_substituted = NAMES


def pytest_report_header(config):
    import jitconv
    return f"jitconv {jitconv.__version__} substituted for scipy.signal: {', '.join(NAMES)}"
