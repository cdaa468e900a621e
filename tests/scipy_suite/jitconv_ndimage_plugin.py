"""pytest plugin: run SciPy's own ndimage filter tests against jitconv.

Loaded with ``-p jitconv_ndimage_plugin``. Before collection it replaces the
eight ``scipy.ndimage`` filter names by ``jitconv.ndimage``'s functions and
registers each replacement under the original's entry of SciPy's array-API
capability table (the test module looks its functions up there when it is
imported).
"""
NAMES = ("convolve", "correlate", "convolve1d", "correlate1d", "gaussian_filter",
         "gaussian_filter1d", "uniform_filter", "uniform_filter1d")


def pytest_configure(config):
    import scipy.ndimage
    from jitconv import ndimage
    from scipy._lib import _array_api

    table = _array_api.xp_capabilities_table
    for name in NAMES:
        orig = getattr(scipy.ndimage, name)
        new = getattr(ndimage, name)
        if orig in table:
            table[new] = table[orig]
        setattr(scipy.ndimage, name, new)
    config._jitconv_substituted = NAMES


def pytest_report_header(config):
    import jitconv
    return (f"jitconv {jitconv.__version__} substituted for scipy.ndimage: "
            f"{', '.join(NAMES)}")
