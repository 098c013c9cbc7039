"""int8 SiLU/GELU through a LUT: the table is indexed at the pre-activation zero point, so the result tracks
the float activation even when the pre-activation and output zero points differ (this failed before the
lut_zero_point attribute existed: the kernel indexed the table at the output's zero point)."""

from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert import quant, reference
from wayvert.build import EngineBuilder, ops


@pytest.mark.parametrize("activation", ["silu", "gelu"])
@pytest.mark.parametrize("pre_zero,out_zero", [(0, -100), (-60, 40), (17, 17)])
def test_lut_activation_tracks_float_with_distinct_zero_points(activation: str, pre_zero: int, out_zero: int) -> None:
    rng = np.random.default_rng(0)
    b = EngineBuilder()
    x = b.input("x", "int8", (64, 16), scale=0.05, zero_point=0)
    w = rng.normal(size=(8, 16)) * 0.3
    wq, ws = quant.quantize_weights_per_channel(w)
    y = ops.linear(b, x, wq, None, activation=activation, weight_scales=ws, out_scale=5 / 127, out_zero_point=out_zero,
                   pre_scale=5 / 127, pre_zero_point=pre_zero, name="y")
    b.output(y)
    xi = rng.integers(-100, 100, size=(64, 16)).astype(np.int8)
    got = wayvert.Engine.from_bytes(b.to_bytes()).session().run({"x": xi})["y"]
    np.testing.assert_array_equal(got, reference.run(b, {"x": xi})["y"])
    pre = (xi.astype(np.float64) * 0.05) @ (wq.astype(np.float64) * ws[:, None]).T
    want = ops.activation_fn(activation)(np.clip(pre, (-128 - pre_zero) * 5 / 127, (127 - pre_zero) * 5 / 127))
    want = np.clip(want, (-128 - out_zero) * 5 / 127, (127 - out_zero) * 5 / 127)  # what the output can represent
    real = (got.astype(np.float64) - out_zero) * 5 / 127
    assert np.abs(real - want).max() < 3 * 5 / 127  # two roundings and a LUT step
