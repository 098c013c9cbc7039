"""Recurrent state: each session owns it, it persists across runs, reset() restores the zero point."""

from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert import reference
from wayvert.build import EngineBuilder, ops


def _accumulator(dtype: str) -> EngineBuilder:
    """y = x + previous y (the running sum), kept in a state value."""
    b = EngineBuilder("accumulator", "1")
    q = dict(scale=0.5, zero_point=3) if dtype == "int8" else {}
    x = b.input("x", dtype, (2, 4), **q)
    s = b.state("sum_state", dtype, (2, 4), **q)
    y = ops.add(b, x, s, out_scale=0.5, out_zero_point=3, name="sum") if dtype == "int8" else ops.add(b, x, s, name="sum")
    b.update_state(s, y)
    b.output(y)
    return b


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_state_accumulates_across_runs_and_reset_restores_it(dtype: str) -> None:
    b = _accumulator(dtype)
    engine = wayvert.Engine.from_bytes(b.to_bytes())
    session = engine.session()
    x = np.full((2, 4), 5 if dtype == "int8" else 1.0, dtype=dtype)  # int8: real value (5 - 3) * 0.5 = 1.0
    ref_state = reference.initial_state(b)
    for _ in range(3):
        got = session.run({"x": x})["sum"]
        want = reference.run(b, {"x": x}, ref_state)["sum"]
        np.testing.assert_array_equal(got, want)
    real = (got.astype(np.float32) - 3) * 0.5 if dtype == "int8" else got
    np.testing.assert_array_equal(real, np.full((2, 4), 3.0, dtype=np.float32))
    session.reset()
    first = session.run({"x": x})["sum"]
    np.testing.assert_array_equal(first, reference.run(b, {"x": x})["sum"])


def test_each_session_owns_its_state() -> None:
    engine = wayvert.Engine.from_bytes(_accumulator("float32").to_bytes())
    a, b = engine.session(), engine.session()
    x = np.ones((2, 4), dtype=np.float32)
    for _ in range(4):
        a.run({"x": x})
    assert b.run({"x": x})["sum"][0, 0] == 1.0
    assert a.run({"x": x})["sum"][0, 0] == 5.0


def test_state_and_update_must_agree() -> None:
    b = EngineBuilder()
    x = b.input("x", "float32", (4,))
    s = b.state("s", "float32", (3,))
    with pytest.raises(wayvert.BuildError, match="differ"):
        b.update_state(s, x)
