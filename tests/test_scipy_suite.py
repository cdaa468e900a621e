"""SciPy's own convolution tests, run with jitconv substituted for scipy.signal.

The plugin in ``tests/scipy_suite`` replaces the eight names before collection;
this test runs the selection in a subprocess (SciPy's test module must be
imported after the substitution) and requires every selected test to pass.
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


@pytest.mark.slow
@pytest.mark.scipy_suite
def test_scipy_signaltools_suite_passes_with_jitconv():
    env = dict(os.environ)
    extra = [str(HERE / "scipy_suite"), str(HERE.parent)]
    env["PYTHONPATH"] = os.pathsep.join(extra + [env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "pytest", "-p", "jitconv_scipy_plugin",
           "--pyargs", "scipy.signal.tests.test_signaltools", "-k", SELECTION,
           "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--no-header"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200,
                          cwd=str(HERE.parent))
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    m = re.search(r"(\d+) passed", proc.stdout)
    assert m, tail
    passed = int(m.group(1))
    assert proc.returncode == 0, tail
    assert not re.search(r"\d+ (failed|error)", proc.stdout), tail
    if scipy.__version__ == "1.17.1":
        assert passed == EXPECTED, tail
    else:
        assert passed > 10000, tail


def test_plugin_substitutes_and_registers():
    """The plugin's substitution itself, in a subprocess (it mutates scipy.signal)."""
    code = (
        "import sys; sys.path.insert(0, %r); import jitconv_scipy_plugin as p\n"
        "class C: pass\n"
        "p.pytest_configure(C())\n"
        "import scipy.signal, jitconv\n"
        "from scipy._lib._array_api import xp_capabilities_table as t\n"
        "for n in p.NAMES:\n"
        "    f = getattr(scipy.signal, n)\n"
        "    assert f is getattr(jitconv, n), n\n"
        "    assert f in t, n\n"
        "print('ok')\n" % str(HERE / "scipy_suite"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
