"""Percentile: clip the rarest magnitudes (default: keep 99.99 % of the values inside the range)."""
from __future__ import annotations

import numpy as np

from .histogram import Histogram

DEFAULT_PERCENTILE = 99.99


def percentile_threshold(h: Histogram, percentile: float = DEFAULT_PERCENTILE) -> float:
    """The ``percentile``-th percentile of ``|x|``, interpolated linearly inside its bin (exact to a fraction of
    a bin width, amax / 2048)."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    total = h.total
    if total == 0 or h.amax == 0:
        return h.amax
    target = percentile / 100.0 * total
    cdf = np.cumsum(h.counts)
    i = int(np.searchsorted(cdf, target, side="left"))
    i = min(i, len(cdf) - 1)
    before = cdf[i - 1] if i > 0 else 0.0
    inside = (target - before) / h.counts[i] if h.counts[i] > 0 else 1.0
    return float(min(h.amax, (i + inside) * h.bin_width))
