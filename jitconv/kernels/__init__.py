"""numba kernels. Modules here import numpy and numba only; options live in _options."""
