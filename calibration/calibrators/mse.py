"""MSE-optimal: the clipping threshold minimising the expected squared quantization error.

Grid search over every bin edge T of the magnitude histogram: values inside [0, T] cost the rounding error
of a uniform grid, ``step^2 / 12`` with ``step = T / steps`` (exact zeros cost nothing: int8 holds them
exactly); values beyond T cost ``(|x| - T)^2`` at their bin centre. ``steps`` is 255 for unsigned tensors
([0, T] on 256 codes) and 127 for signed ones (each half of [-T, T]).
"""
from __future__ import annotations

import numpy as np

from .histogram import Histogram


def quantization_mse(h: Histogram, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, expected total squared error at each), thresholds = the upper edges of bins 1..n."""
    n = len(h.counts)
    w = h.bin_width
    c = h.counts
    x = (np.arange(n) + 0.5) * w
    t = np.arange(1, n + 1) * w
    # suffix sums over the bins above each threshold: sum c, sum c x, sum c x^2
    def suffix(a: np.ndarray) -> np.ndarray:
        s = np.cumsum(a[::-1])[::-1]
        return np.append(s[1:], 0.0)
    c0, c1, c2 = suffix(c), suffix(c * x), suffix(c * x * x)
    clipped = c2 - 2.0 * t * c1 + t * t * c0
    inside = np.maximum(np.cumsum(c) - h.zeros, 0.0)
    rounding = inside * (t / steps) ** 2 / 12.0
    return t, rounding + clipped


def mse_threshold(h: Histogram, steps: int = 127) -> float:
    """The threshold of least expected quantization MSE (``amax`` for an empty or all-zero tensor)."""
    if h.amax == 0 or h.total == 0:
        return h.amax
    t, err = quantization_mse(h, steps)
    return float(t[int(np.argmin(err))])
