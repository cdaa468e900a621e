import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def estimate_planner():
    """Planning effort changes speed, never values: modules that check values
    over hundreds of fresh shapes let the cost model decide (no timing,
    FFTW_ESTIMATE) instead of measuring each shape."""
    import jitconv
    prev = jitconv.set_planner(effort="estimate")
    try:
        yield
    finally:
        jitconv.set_planner(**prev)


@pytest.fixture
def child_env():
    """``child_env(**vars)``: os.environ plus ``vars`` and a PYTHONPATH that
    makes a child interpreter import this checkout's jitconv."""
    import os
    import jitconv

    def make(**extra):
        env = dict(os.environ, **extra)
        env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(jitconv.__file__)),
                                             env.get("PYTHONPATH", "")])
        return env
    return make


@pytest.fixture
def run_python(child_env):
    """``run_python(code, **vars)``: run ``code`` in a fresh interpreter (see
    ``child_env``) and return the JSON it printed on its last stdout line."""
    import json
    import subprocess
    import sys

    def run(code, **extra):
        out = subprocess.run([sys.executable, "-c", code], env=child_env(**extra),
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        return json.loads(out.stdout.strip().splitlines()[-1])
    return run
