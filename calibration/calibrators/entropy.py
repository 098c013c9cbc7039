"""Entropy: the threshold whose quantized distribution loses the least information (KL divergence).

TensorRT's IInt8EntropyCalibrator2 algorithm on the 2048-bin magnitude histogram: for each candidate of
``i`` bins (``levels`` to 2048), the reference P is the first ``i`` bins with every larger value added to the
last one (clipping); the candidate Q merges those ``i`` bins into ``levels`` groups and spreads each group's
count evenly over its non-empty bins (quantization); the threshold is the upper edge of the best ``i``,
``(i + 0.5) * bin width`` as TensorRT takes it.

``levels`` is 128 for signed tensors (the positive half of the symmetric int8 range, as TensorRT has it) and
256 for unsigned post-ReLU tensors, which use all 256 codes on [0, T]. As in NVIDIA's pytorch-quantization
(``_compute_amax_entropy``), the first bin's count is replaced by the second's before the search: the spike of
exact zeros a ReLU leaves (often half the values) would otherwise dominate the divergence of the first group
and pull the threshold far down (to a third of the range on a ReLU'd Gaussian).

A histogram of fewer values than bins is no density to compare (a head's scalar output over a few dozen
calibration samples): there the threshold is the max, as min-max has it.
"""
from __future__ import annotations

import numpy as np

from .histogram import Histogram

SMOOTHING = 1e-4   # probability given to bins P has and Q lacks (only the clipped outlier bin can be one)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(P || Q) of two count vectors (normalised here), in nats."""
    ps, qs = p.sum(), q.sum()
    if ps == 0:
        return 0.0
    if qs == 0:
        return float("inf")
    p, q = p / ps, q / qs
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / np.maximum(q[mask], SMOOTHING / len(p)))))


def quantized_candidate(counts: np.ndarray, levels: int) -> np.ndarray:
    """Q: ``counts`` merged into ``levels`` groups, each group's sum spread evenly over its non-empty bins."""
    n = len(counts)
    edges = (np.arange(levels + 1) * n) // levels
    nonzero = counts > 0
    sums = np.add.reduceat(counts, edges[:-1])
    filled = np.add.reduceat(nonzero.astype(np.float64), edges[:-1])
    per_bin = np.repeat(sums / np.maximum(filled, 1), np.diff(edges))
    return np.where(nonzero, per_bin, 0.0)


def entropy_threshold(h: Histogram, levels: int = 128) -> float:
    """The KL-optimal clipping threshold of ``h`` for ``levels`` quantization levels."""
    counts = h.counts.copy()
    n = len(counts)
    if h.amax == 0 or h.total < n or n <= levels:
        return h.amax
    counts[0] = counts[1]                    # neutralise the zero spike (see the module docstring)
    tail = np.cumsum(counts[::-1])[::-1]     # tail[i] = sum(counts[i:])
    best_i, best = n, float("inf")
    for i in range(levels, n + 1):
        p = counts[:i].copy()
        if i < n:
            p[i - 1] += tail[i]
        kl = kl_divergence(p, quantized_candidate(counts[:i], levels))
        if kl < best:
            best_i, best = i, kl
    return float(min(h.amax, (best_i + 0.5) * h.bin_width))
