"""SciPy's own tests, run with jitconv substituted for scipy.signal and scipy.ndimage.

The plugins in ``tests/scipy_suite`` replace the eight names of each module
before collection; these tests run the selections in subprocesses (SciPy's
test modules must be imported after the substitution) and require every
selected test to pass.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import scipy

HERE = Path(__file__).resolve().parent
SELECTION = "onvolve or orrelat or choose_conv"
#: SciPy 1.17.1 selects this many tests with SELECTION
EXPECTED = 11728


#: scipy.ndimage's filter tests: SciPy 1.17.1 selects this many with ND_SELECTION
ND_SELECTION = "onvolve or orrelate or gaussian or uniform"
ND_EXPECTED = 1625


def _run_suite(plugin, module, selection):
    """``(passed, stdout tail)`` of SciPy's ``module`` tests with ``plugin`` loaded."""
    env = dict(os.environ)
    extra = [str(HERE / "scipy_suite"), str(HERE.parent)]
    env["PYTHONPATH"] = os.pathsep.join(extra + [env.get("PYTHONPATH", "")])
    # SciPy's threading tests compare a key's first call with its later ones
    # bit for bit: the first call must run the measured winner too (README,
    # "The planner": with measure_on=2 it runs the model's pick)
    env["JITCONV_MEASURE_ON"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-p", plugin,
           "--pyargs", module, "-k", selection,
           "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--no-header"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200,
                          cwd=str(HERE.parent))
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    m = re.search(r"(\d+) passed", proc.stdout)
    assert m, tail
    assert proc.returncode == 0, tail
    assert not re.search(r"\d+ (failed|error)", proc.stdout), tail
    return int(m.group(1)), tail


@pytest.mark.slow
@pytest.mark.scipy_suite
def test_scipy_signaltools_suite_passes_with_jitconv():
    passed, tail = _run_suite("jitconv_scipy_plugin", "scipy.signal.tests.test_signaltools",
                              SELECTION)
    if scipy.__version__ == "1.17.1":
        assert passed == EXPECTED, tail
    else:
        assert passed > 10000, tail


@pytest.mark.slow
@pytest.mark.scipy_suite
def test_scipy_ndimage_filter_suite_passes_with_jitconv():
    """No test of the selection is excluded (README, "jitconv.ndimage")."""
    passed, tail = _run_suite("jitconv_ndimage_plugin", "scipy.ndimage.tests.test_filters",
                              ND_SELECTION)
    if scipy.__version__ == "1.17.1":
        assert passed == ND_EXPECTED, tail
    else:
        assert passed > 1400, tail


@pytest.mark.parametrize("plugin,module,face", [
    ("jitconv_scipy_plugin", "scipy.signal", "jitconv"),
    ("jitconv_ndimage_plugin", "scipy.ndimage", "jitconv.ndimage")])
def test_plugin_substitutes_and_registers(plugin, module, face):
    """The plugin's substitution itself, in a subprocess (it mutates SciPy)."""
    code = (
        f"import sys; sys.path.insert(0, {str(HERE / 'scipy_suite')!r}); import {plugin} as p\n"
        "class C: pass\n"
        "p.pytest_configure(C())\n"
        f"import {module} as m, importlib\n"
        f"face = importlib.import_module({face!r})\n"
        "from scipy._lib._array_api import xp_capabilities_table as t\n"
        "for n in p.NAMES:\n"
        "    f = getattr(m, n)\n"
        "    assert f is getattr(face, n), n\n"
        "    assert f in t, n\n"
        "print('ok')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
