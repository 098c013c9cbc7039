"""Int8 activation calibrators: min-max, percentile, entropy (KL, TensorRT-style) and MSE-optimal.

Each chooses a clipping threshold T from a 2048-bin histogram of |x| (histogram.py); params.py turns T into
(scale, zero point): [0, T] on all 256 codes for post-ReLU tensors, [-T, T] for signed ones.
"""
from .activations import METHODS, calibrate, quantized_values
from .entropy import entropy_threshold
from .histogram import BINS, Histogram
from .minmax import minmax_threshold
from .mse import mse_threshold
from .params import QuantParams
from .percentile import DEFAULT_PERCENTILE, percentile_threshold

__all__ = ["BINS", "DEFAULT_PERCENTILE", "METHODS", "Histogram", "QuantParams", "calibrate", "entropy_threshold",
           "minmax_threshold", "mse_threshold", "percentile_threshold", "quantized_values"]
