"""Per-tensor int8 activation parameters from a calibrated clipping threshold."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuantParams:
    """``real = (q - zero_point) * scale`` for q in -128..127."""

    scale: float
    zero_point: int

    @classmethod
    def from_threshold(cls, threshold: float, unsigned: bool) -> "QuantParams":
        """Unsigned (post-ReLU) tensors get [0, T] on all 256 codes (zero point -128); signed ones the symmetric
        [-T, T] (zero point 0). An all-zero tensor (T = 0) gets an arbitrary scale of 1/127."""
        t = float(threshold) if threshold > 0 else 1.0
        return cls(t / 255.0, -128) if unsigned else cls(t / 127.0, 0)

    @classmethod
    def from_range(cls, lo: float, hi: float) -> "QuantParams":
        """Affine parameters whose codes cover all of [lo, hi] (widened to include 0), e.g. a sensor's known
        output range. The zero point is an integer, so the grid spends one step more than the span needs
        (scale = span / 254) and no end of the range clips."""
        lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
        if hi - lo == 0:
            return cls(1.0, 0)
        scale = (hi - lo) / 254.0
        zero = int(np.clip(math.ceil(-128.0 - lo / scale - 1e-9), -128, 127))
        return cls(scale, zero)

    @property
    def range(self) -> tuple[float, float]:
        """The real interval the 256 codes cover."""
        return (-128 - self.zero_point) * self.scale, (127 - self.zero_point) * self.scale
