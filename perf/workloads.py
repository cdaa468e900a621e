"""The workloads W1-W14: ``jitconv/_workloads.py``, the one definition, shared
with ``python -m jitconv bench``.

Loaded from the working tree by path, without importing the jitconv package:
the peer process and the cold-start children time ``import jitconv`` /
``import scipy.signal`` themselves, and the peers' process must not hold
jitconv's FFTW state.
"""
import importlib.util
import os
import sys

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "jitconv",
                     "_workloads.py")
_NAME = "jitconv_workloads_by_path"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _mod
    _spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(sys.modules[_NAME]).items() if not k.startswith("__")})
