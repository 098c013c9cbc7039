"""The int8 arithmetic of wayvert, in numpy: the twin of ``cpp/src/kernels/cpu/requantize.hpp``.

Every quantized kernel in the C++ runtime and every reference in :mod:`wayvert.reference` uses
these functions' exact integer semantics, so int8 results are bit-identical across the two.

* ``rescale(x, m, s) = round_half_away_from_zero(x * m / 2**s)`` with a 64-bit product,
  ``0 <= m < 2**31`` and ``0 <= s <= 62``.
* A real multiplier ``M > 0`` is encoded as ``(m, s)`` with ``m`` in ``[2**30, 2**31)`` when possible.
* Rounding of floats (quantize) is also half away from zero, like C's ``roundf``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

#: Extra fraction bits carried by both terms of a two-input sum (residual add, add) before the final rounding.
SUM_FRACTION_BITS = 8


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Encode a positive real multiplier as ``(m, s)`` with ``real ~= m / 2**s`` (31 significant bits)."""
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"multiplier must be finite and >= 0, got {real}")
    if real == 0.0:
        return 0, 0
    mant, exp = math.frexp(real)  # real = mant * 2**exp, mant in [0.5, 1)
    m = int(round(mant * (1 << 31)))
    s = 31 - exp
    if m == 1 << 31:
        m //= 2
        s -= 1
    if s < 0:
        raise ValueError(f"multiplier {real} is too large to encode (needs a left shift)")
    if s > 62:  # tiny multiplier: keep s at the cap and let m lose bits
        m = int(round(real * 2.0**62))
        s = 62
    return m, s


def rescale(x: npt.ArrayLike, m: npt.ArrayLike, s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """``round_half_away(x * m / 2**s)`` elementwise in int64 (broadcasting ``m`` and ``s``)."""
    x64 = np.asarray(x, dtype=np.int64)
    m64 = np.asarray(m, dtype=np.int64)
    s64 = np.asarray(s, dtype=np.int64)
    p = x64 * m64
    half = np.where(s64 > 0, np.left_shift(np.int64(1), np.maximum(s64 - 1, 0)), 0)
    adj = np.where((s64 > 0) & (p < 0), 1, 0)
    return np.asarray(np.right_shift(p + half - adj, s64), dtype=np.int64)


def round_half_away(v: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """Round to nearest, ties away from zero, exactly (no ``floor(x + 0.5)`` double rounding)."""
    t = np.trunc(v)
    frac = v - t
    return np.asarray(t + np.where(np.abs(frac) >= 0.5, np.sign(v), 0), dtype=v.dtype)


def quantize(x: npt.ArrayLike, scale: float, zero_point: int) -> npt.NDArray[np.int8]:
    """float32 -> int8 as the ``quantize`` op does: ``clamp(round_half_away(x / scale) + zero)``."""
    xf = np.asarray(x, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = round_half_away(xf / np.float32(scale)).astype(np.float64) + zero_point
    q = np.where(np.isnan(q), zero_point, q)
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q: npt.ArrayLike, scale: float, zero_point: int) -> npt.NDArray[np.float32]:
    """int8 -> float32 as the ``dequantize`` op does: ``float32(q - zero) * scale``."""
    qi = np.asarray(q, dtype=np.int32)
    return (qi - np.int32(zero_point)).astype(np.float32) * np.float32(scale)


def choose_scale_zero_point(lo: float, hi: float, symmetric: bool = False) -> tuple[float, int]:
    """Affine int8 parameters covering ``[lo, hi]`` (widened to include 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if symmetric:
        bound = max(abs(lo), abs(hi)) or 1.0
        return bound / 127.0, 0
    if hi - lo == 0.0:
        return 1.0, 0
    scale = (hi - lo) / 255.0
    zero = int(round(-128 - lo / scale))
    return scale, int(np.clip(zero, -128, 127))


def quantize_weights_per_channel(w: npt.ArrayLike) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    """Symmetric int8 weights per output channel (axis 0), values in [-127, 127]; returns (q, scales)."""
    wf = np.asarray(w, dtype=np.float64)
    flat = wf.reshape(wf.shape[0], -1)
    amax = np.abs(flat).max(axis=1)
    scales = np.where(amax > 0, amax / 127.0, 1.0)
    q = np.clip(round_half_away(flat / scales[:, None]), -127, 127).astype(np.int8)
    return q.reshape(wf.shape), scales
