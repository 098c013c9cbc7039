"""Each calibrator on distributions whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from wayvert.calibration.calibrators import (BINS, Histogram, QuantParams, entropy_threshold, minmax_threshold,
                                             mse_threshold, percentile_threshold)


@pytest.fixture(scope="module")
def gaussian() -> np.ndarray:
    return np.random.default_rng(0).normal(size=200_000)


def test_histogram_counts_every_value_and_exact_zeros_apart():
    h = Histogram.of(np.array([0.0, 0.0, -1.0, 0.5, 2.0]))
    assert h.amax == 2.0 and h.total == 5 and h.zeros == 2
    assert h.counts[-1] == 1 and h.counts[0] == 2 and h.counts[BINS // 2] == 1   # |-1| lands in the middle bin


def test_minmax_threshold_is_the_largest_magnitude():
    assert minmax_threshold(Histogram.of(np.array([-3.5, 1.0, 2.0]))) == 3.5


@pytest.mark.parametrize("percentile", [50.0, 99.0, 99.99])
def test_percentile_threshold_matches_numpy_to_half_a_bin(gaussian, percentile):
    h = Histogram.of(gaussian)
    expected = np.percentile(np.abs(gaussian), percentile)
    assert abs(percentile_threshold(h, percentile) - expected) < 0.5 * h.bin_width


def test_percentile_threshold_of_evenly_spread_values_is_exact():
    values = np.arange(0, 100_001, dtype=np.float64)     # |x| uniform on [0, 1e5]: the 99th percentile is 99000
    assert percentile_threshold(Histogram.of(values), 99.0) == pytest.approx(99_000.0, abs=1.0)


def test_entropy_threshold_of_a_gaussian_with_an_outlier_is_far_below_the_max():
    rng = np.random.default_rng(1)
    values = np.append(rng.normal(size=100_000), 50.0)
    t = entropy_threshold(Histogram.of(values), levels=128)
    assert 2.5 < t < 10.0, t


def test_entropy_threshold_of_a_relu_output_is_not_pulled_down_by_the_zero_spike(gaussian):
    relu = np.maximum(gaussian, 0.0)          # half the values exactly 0
    h = Histogram.of(relu)
    assert entropy_threshold(h, levels=256) > 0.75 * h.amax


def test_entropy_threshold_falls_back_to_the_max_on_too_few_values():
    values = np.random.default_rng(2).normal(size=100)
    h = Histogram.of(values)
    assert entropy_threshold(h) == h.amax


def test_mse_threshold_of_uniform_data_is_the_max():
    values = np.random.default_rng(3).uniform(0.0, 1.0, size=200_000)
    h = Histogram.of(values)
    # the exact optimum of U(0, 1) on 255 steps is 510/511 of the max: clipping costs more than a coarser grid
    assert mse_threshold(h, steps=255) == pytest.approx(h.amax, rel=5e-3)


def test_mse_threshold_clips_the_tail_of_a_gaussian(gaussian):
    h = Histogram.of(gaussian)
    t = mse_threshold(h, steps=127)
    assert 2.5 < t < 0.95 * h.amax


def test_mse_threshold_minimises_the_measured_quantization_error(gaussian):
    h = Histogram.of(gaussian)
    def measured(t: float) -> float:
        step = t / 127.0
        q = np.clip(np.round(gaussian / step), -127, 127) * step
        return float(np.mean((gaussian - q) ** 2))
    best = mse_threshold(h, steps=127)
    assert measured(best) <= min(measured(best * 0.8), measured(best * 1.25), measured(h.amax))


def test_quant_params_use_all_codes_for_unsigned_and_a_symmetric_range_for_signed():
    u = QuantParams.from_threshold(5.1, unsigned=True)
    assert u.zero_point == -128 and u.range == pytest.approx((0.0, 5.1))
    s = QuantParams.from_threshold(1.27, unsigned=False)
    assert s.zero_point == 0 and s.scale == pytest.approx(0.01)


def test_quant_params_from_a_known_range_cover_both_ends():
    for lo, hi in [(-2.1179, 2.64), (0.0, 5.0), (-3.0, 1.0)]:
        r_lo, r_hi = QuantParams.from_range(lo, hi).range
        assert r_lo <= lo + 1e-12 and r_hi >= hi - 1e-12 and r_hi - r_lo < (hi - lo) * 1.01
