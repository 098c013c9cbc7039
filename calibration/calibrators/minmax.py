"""Min-max: the threshold is the largest magnitude seen (nothing clipped, the coarsest grid)."""
from __future__ import annotations

from .histogram import Histogram


def minmax_threshold(h: Histogram) -> float:
    """``max |x|`` over the calibration data."""
    return h.amax
