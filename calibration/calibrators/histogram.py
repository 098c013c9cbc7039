"""Magnitude histograms of activation tensors: what every calibrator chooses its threshold from.

Two passes over the calibration data, as TensorRT does: the first finds each tensor's largest magnitude
``amax``, the second bins ``|x|`` into 2048 equal bins on [0, amax]. Exact zeros (most of a post-ReLU
tensor) are counted apart as well: int8 represents them without error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 2048


@dataclass
class Histogram:
    """``counts[i]`` values with ``|x|`` in bin i of [0, amax] (the last bin closed), ``zeros`` of them exactly 0."""

    counts: np.ndarray
    amax: float
    zeros: int = 0

    @property
    def bin_width(self) -> float:
        return self.amax / len(self.counts) if self.amax > 0 else 0.0

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    @classmethod
    def empty(cls, amax: float, bins: int = BINS) -> "Histogram":
        return cls(np.zeros(bins, dtype=np.float64), float(amax))

    @classmethod
    def of(cls, values: np.ndarray, bins: int = BINS) -> "Histogram":
        """The histogram of one array (tests, and calibrating a single tensor)."""
        v = np.abs(np.asarray(values, dtype=np.float64).reshape(-1))
        h = cls.empty(float(v.max()) if v.size else 0.0, bins)
        h.add(v)
        return h

    def add(self, values: np.ndarray) -> None:
        """Bin more values (magnitudes above ``amax`` land in the last bin)."""
        v = np.abs(np.asarray(values, dtype=np.float64).reshape(-1))
        self.zeros += int(np.count_nonzero(v == 0))
        if self.amax <= 0:
            self.counts[0] += v.size
            return
        idx = np.minimum((v * (len(self.counts) / self.amax)).astype(np.int64), len(self.counts) - 1)
        self.counts += np.bincount(idx, minlength=len(self.counts))
