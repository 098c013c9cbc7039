"""Properties of wayvert.quant, the numpy twin of requantize.hpp, checked against exact integer/rational
arithmetic and against C's roundf/round from libm."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wayvert import quant

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INT64_MAX = 2**63 - 1


def exact_round_half_away(f: Fraction) -> int:
    mag = math.floor(abs(f) + Fraction(1, 2))
    return mag if f >= 0 else -mag


def exact_rescale(x: int, m: int, s: int) -> int:
    return exact_round_half_away(Fraction(x * m, 2**s))


# ------------------------------------------------------------------------------------------------ multiplier
@PROPERTY
@given(log10=st.floats(-6.0, 3.0))
def test_quantize_multiplier_round_trips_within_2_pow_minus_30(log10):
    real = 10.0**log10
    m, s = quant.quantize_multiplier(real)
    assert 0 <= m < 2**31 and 0 <= s <= 62
    assert 2**30 <= m, "31 significant bits whenever the shift cap is not reached"
    err = abs(Fraction(m, 2**s) - Fraction(real)) / Fraction(real)
    assert err <= Fraction(1, 2**30)


@PROPERTY
@given(real=st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False))
def test_quantize_multiplier_is_the_nearest_31_bit_encoding(real):
    m, s = quant.quantize_multiplier(real)
    # nearest: neither neighbour m +- 1 at the same shift is closer
    for other in (m - 1, m + 1):
        assert abs(Fraction(m, 2**s) - Fraction(real)) <= abs(Fraction(other, 2**s) - Fraction(real))


@pytest.mark.parametrize("real", [1.0, 0.5, 2.0**-20, 2.0**30, 1 - 2.0**-40, 0.999999999999])
def test_quantize_multiplier_edge_values(real):
    m, s = quant.quantize_multiplier(real)
    assert 2**30 <= m < 2**31 and m == exact_round_half_away(Fraction(real) * 2**s)
    assert abs(Fraction(m, 2**s) - Fraction(real)) / Fraction(real) <= Fraction(1, 2**31)


def test_quantize_multiplier_rejects_negative_nan_and_too_large():
    for bad in (-1.0, float("nan"), float("inf"), 2.0**31):
        with pytest.raises(ValueError):
            quant.quantize_multiplier(bad)
    assert quant.quantize_multiplier(0.0) == (0, 0)


# ------------------------------------------------------------------------------------------------ rescale
@st.composite
def rescale_args(draw):
    """(x, m, s) with x * m + 2^(s-1) inside int64, as the C++ spec requires."""
    m = draw(st.one_of(st.integers(0, 2**31 - 1), st.integers(2**30, 2**31 - 1), st.sampled_from([0, 1, 2**31 - 1])))
    s = draw(st.integers(0, 62))
    bound = (INT64_MAX - 2**61) // max(m, 1)
    x = draw(st.one_of(st.integers(-bound, bound), st.integers(-(2**20), 2**20)))
    return x, m, s


@PROPERTY
@given(args=rescale_args())
def test_rescale_matches_exact_rational_rounding_half_away(args):
    x, m, s = args
    got = quant.rescale(x, m, s)
    assert got.dtype == np.int64
    assert int(got) == exact_rescale(x, m, s)


@PROPERTY
@given(s=st.integers(1, 62), k=st.integers(-(2**20), 2**20))
def test_rescale_rounds_exact_ties_away_from_zero(s, k):
    """x * m = (2k + 1) * 2^(s-1) is exactly halfway between k and k + 1 (times 2^s)."""
    x = (2 * k + 1) * 2 ** (s - 1)
    assume(abs(x) <= INT64_MAX - 2**61)
    want = k + 1 if x > 0 else k  # (k + 0.5) rounds to k + 1 for k >= 0 and to k for k < 0
    assert int(quant.rescale(x, 1, s)) == want
    assert want == exact_rescale(x, 1, s)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 64))
def test_rescale_vectorised_broadcast_matches_elementwise_exact(seed, n):
    rng = np.random.default_rng(seed)
    m = rng.integers(0, 2**31, size=(1, n))
    s = rng.integers(0, 63, size=(1, n))
    x = rng.integers(-(2**31), 2**31, size=(5, 1)) + rng.integers(-(2**31), 2**31, size=(5, 1)) // 3
    got = quant.rescale(x, m, s)
    assert got.shape == (5, n) and got.dtype == np.int64
    for i in range(5):
        for j in range(n):
            assert int(got[i, j]) == exact_rescale(int(x[i, 0]), int(m[0, j]), int(s[0, j]))


def test_rescale_with_shift_zero_is_the_plain_product():
    assert quant.rescale(-12345, 678, 0) == -12345 * 678
    assert quant.rescale(2**31 - 1, 2**31 - 1, 0) == (2**31 - 1) ** 2


def test_rescale_small_negative_ties():
    # -0.5 -> -1, -1.5 -> -2, -0.25 -> 0, -0.75 -> -1
    assert quant.rescale([-1, -3, -1, -3], 1, [1, 1, 2, 2]).tolist() == [-1, -2, 0, -1]
    assert quant.rescale([1, 3, 1, 3], 1, [1, 1, 2, 2]).tolist() == [1, 2, 0, 1]


# ------------------------------------------------------------------------------------------------ rounding
_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_LIBM.roundf.restype = ctypes.c_float
_LIBM.roundf.argtypes = [ctypes.c_float]
_LIBM.round.restype = ctypes.c_double
_LIBM.round.argtypes = [ctypes.c_double]


def c_roundf(v: np.float32) -> np.float32:
    return np.float32(_LIBM.roundf(float(v)))


@pytest.mark.parametrize("v,want", [(0.5, 1.0), (-0.5, -1.0), (1.5, 2.0), (-1.5, -2.0), (2.5, 3.0), (-2.5, -3.0),
                                    (0.49999997, 0.0), (-0.49999997, -0.0), (8388609.0, 8388609.0),
                                    (0.0, 0.0), (-0.0, -0.0), (1e-45, 0.0)])
def test_round_half_away_ties_match_c_roundf(v, want):
    f = np.float32(v)
    got = quant.round_half_away(np.array([f], dtype=np.float32))
    assert got.dtype == np.float32
    # Values only: the sign of a zero result is not kept (-0.3 rounds to +0.0 where roundf gives -0.0), which
    # no int8 result can observe since a zero point is always added before the cast.
    assert got[0] == np.float32(want) == c_roundf(f)


def test_round_half_away_of_0_49999997f_is_not_double_rounded():
    """floor(x + 0.5) gives 1 for the float just below 0.5 (x + 0.5 rounds up to 1.0 in float32)."""
    below_half = np.nextafter(np.float32(0.5), np.float32(0))
    assert below_half == np.float32(0.49999997)
    assert np.floor(below_half + np.float32(0.5)) == 1.0  # the naive formula's failure
    assert quant.round_half_away(np.array([below_half]))[0] == 0.0


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@PROPERTY
@given(v=st.floats(width=32, allow_nan=False, allow_infinity=True))
def test_round_half_away_matches_c_roundf_for_any_float32(v):
    f = np.float32(v)
    got = quant.round_half_away(np.array([f], dtype=np.float32))[0]
    assert got == c_roundf(f)


@PROPERTY
@given(k=st.integers(-(2**22), 2**22))
def test_round_half_away_matches_c_roundf_on_every_half_integer(k):
    f = np.float32(k + 0.5)
    assert quant.round_half_away(np.array([f]))[0] == c_roundf(f)


@PROPERTY
@given(v=st.floats(allow_nan=False, allow_infinity=False))
def test_round_half_away_matches_c_round_for_float64(v):
    got = quant.round_half_away(np.array([v], dtype=np.float64))[0]
    assert got == _LIBM.round(v)


# ------------------------------------------------------------------------------------------------ quantize
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@PROPERTY
@given(v=st.floats(width=32, allow_nan=True, allow_infinity=True),
       scale=st.floats(1e-4, 100.0), zero=st.integers(-128, 127))
def test_quantize_is_clamped_rounded_division_and_nan_maps_to_zero_point(v, scale, zero):
    f = np.float32(v)
    q = quant.quantize(np.array([f], dtype=np.float32), scale, zero)
    assert q.dtype == np.int8
    with np.errstate(all="ignore"):
        ratio = np.float32(f / np.float32(scale))  # the op divides in float32
    if math.isnan(ratio):
        assert q[0] == zero
    else:
        want = max(-128, min(127, float(c_roundf(ratio)) + zero))
        assert q[0] == want


def test_quantize_saturates_and_maps_nan_to_the_zero_point():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 3.4e38, -3.4e38, 0.0, -0.0], dtype=np.float32)
    for zero in (-128, -5, 0, 127):
        q = quant.quantize(x, 0.1, zero)
        assert q.tolist() == [zero, 127, -128, 127, -128, 127, -128, zero, zero]


def test_quantize_rounds_ties_away_from_zero_before_adding_the_zero_point():
    x = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5], dtype=np.float32)
    assert quant.quantize(x, 1.0, 10).tolist() == [11, 9, 12, 8, 13, 7]


def test_dequantize_is_float32_difference_times_scale():
    q = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    got = quant.dequantize(q, 0.1, 3)
    assert got.dtype == np.float32
    assert got.tolist() == [np.float32(np.float32(v - 3) * np.float32(0.1)) for v in (-128, -1, 0, 1, 127)]
