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
