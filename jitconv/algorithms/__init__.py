"""The one registry of candidate algorithms, for every kind of problem.

The protocol is in ``base``; the cost model in ``cost``; the semantic guards
in ``guards``. Each other module holds one algorithm (its driver and its
candidates). A new algorithm is one module here plus one line in
``REGISTRY``; the order of ``REGISTRY`` breaks ties of the cost model.
"""
from .base import FAMILIES, Candidate, Reduction, Registry
from .boundary import BoundaryDirect
from .direct import DirectParallel, DirectSerial
from .direct_batched import DirectBatched, DirectBatchedParallel
from .direct_lags import DirectLags, DirectLagsParallel
from .fft import FFT
from .fft_blocked import BlockedFFT
from .filter_box import FilterBox, FilterBoxSerial
from .filter_direct import FilterDirect, FilterDirectSerial
from .filter_fft import FilterFFT
from .filter_line32 import FilterLine32, FilterLine32Serial
from .filter_running import FilterRunning, FilterRunningSerial
from .filter_separable import FilterSeparable
from .nn_direct import Direct as NNDirect
from .nn_fft import FFTConv as NNFFT
from .nn_gemm import Gemm as NNGemm, Grid as NNGrid
from .nn_grad import AsConv as NNAsConv, Col2im as NNCol2im, WeightGemm as NNWeightGemm
from .nn_tile import Tile as NNTile
from .nn_winograd import Winograd as NNWinograd
from .nn_winograd4 import Winograd4 as NNWinograd4
from .overlap import OverlapAdd
from .separable import Separable

REGISTRY = Registry([
    # signal: windows of the zero-padded convolution
    DirectSerial(), DirectParallel(), DirectLags(), DirectLagsParallel(), DirectBatched(),
    DirectBatchedParallel(), Separable(),
    FFT(), BlockedFFT(), OverlapAdd(),
    # boundary: convolve2d / correlate2d
    BoundaryDirect(),
    # filter: scipy.ndimage (the exact candidates first: SciPy's own sums)
    FilterDirectSerial(), FilterDirect(), FilterRunningSerial(), FilterRunning(),
    FilterSeparable(), FilterFFT(), FilterLine32Serial(), FilterLine32(), FilterBoxSerial(),
    FilterBox(),
    # CNN ops
    NNGemm(), NNGrid(), NNTile(), NNDirect(), NNWinograd(), NNWinograd4(), NNFFT(),
    NNCol2im(), NNAsConv(), NNWeightGemm(),
])

__all__ = ["REGISTRY", "FAMILIES", "Candidate", "Reduction", "Registry"]
