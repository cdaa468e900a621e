import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_configure(config):
    # tests never read or write the user's wisdom file; planner tests use tmp paths
    import os
    os.environ["JITCONV_WISDOM"] = "off"
