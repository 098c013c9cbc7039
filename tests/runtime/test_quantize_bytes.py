"""uint8 bytes -> int8 through a per-channel table (the quantize op with a uint8 input): C++ equals the reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wayvert
from wayvert import reference
from wayvert.build import EngineBuilder, ops


def _engine(tmp_path, shape, a, c, scale=0.02, zero=-3):
    b = EngineBuilder("bytes", "1")
    x = b.input("x", "uint8", shape, 1.0, 0)
    b.output(ops.quantize_bytes(b, x, a, c, scale, zero, name="y"))
    path = tmp_path / "bytes.wvrt"
    b.write(path)
    return b, wayvert.Engine.load(path)


@settings(max_examples=25, deadline=None)
@given(channels=st.integers(1, 4), h=st.integers(1, 5), w=st.integers(1, 6), per_channel=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_table_lookup_matches_the_reference(tmp_path_factory, channels, h, w, per_channel, seed):
    rng = np.random.default_rng(seed)
    n = channels if per_channel else 1
    a, c = rng.uniform(0.001, 0.05, n), rng.uniform(-3, 3, n)
    b, engine = _engine(tmp_path_factory.mktemp("b"), (2, channels, h, w), a, c)
    x = rng.integers(0, 256, size=(2, channels, h, w), dtype=np.uint8)
    got = engine.session().run({"x": x})["y"]
    want = reference.run(b, {"x": x})["y"]
    np.testing.assert_array_equal(got, want)
    real = np.broadcast_to(a, (channels,)).reshape(1, -1, 1, 1) * x + np.broadcast_to(c, (channels,)).reshape(1, -1, 1, 1)
    assert np.all(np.abs((got.astype(np.float64) + 3) * 0.02 - np.clip(real, (-128 + 3) * 0.02, (127 + 3) * 0.02))
                  <= 0.01 + 1e-9)


def test_table_of_the_wrong_size_is_refused(tmp_path):
    from wayvert.build.builder import Tensor

    b = EngineBuilder("bytes", "1")
    x = b.input("x", "uint8", (1, 3, 2, 2), 1.0, 0)
    lut = b.constant("lut", np.zeros(2 * 256, np.int8))     # 2 tables for 3 channels
    (y,) = b.op("quantize", [x, lut], [Tensor("y", "int8", (1, 3, 2, 2), 0.1, 0)])
    b.output(y)
    b.write(tmp_path / "bad.wvrt")
    with pytest.raises(wayvert.EngineFormatError, match="256 per channel"):
        wayvert.Engine.load(tmp_path / "bad.wvrt")


def test_float_quantize_takes_no_table(tmp_path):
    from wayvert.build.builder import Tensor

    b = EngineBuilder("bytes", "1")
    x = b.input("x", "float32", (4,))
    lut = b.constant("lut", np.zeros(256, np.int8))
    (y,) = b.op("quantize", [x, lut], [Tensor("y", "int8", (4,), 0.1, 0)])
    b.output(y)
    b.write(tmp_path / "bad.wvrt")
    with pytest.raises(wayvert.EngineFormatError, match="takes no table"):
        wayvert.Engine.load(tmp_path / "bad.wvrt")


@settings(max_examples=25, deadline=None)
@given(sx=st.floats(0.001, 1.0), zx=st.integers(-128, 127), sy=st.floats(0.001, 1.0), zy=st.integers(-128, 127),
       seed=st.integers(0, 2**31 - 1))
def test_requantize_table_matches_the_reference_and_the_float_path(tmp_path_factory, sx, zx, sy, zy, seed):
    """int8 -> int8 at other parameters in one lookup: C++ = reference, and within one code of dequantize + quantize."""
    from wayvert import quant

    b = EngineBuilder("rq", "1")
    x = b.input("x", "int8", (3, 7), sx, zx)
    b.output(ops.requantize(b, x, sy, zy, name="y"))
    path = tmp_path_factory.mktemp("rq") / "rq.wvrt"
    b.write(path)
    q = np.random.default_rng(seed).integers(-128, 128, size=(3, 7)).astype(np.int8)
    got = wayvert.Engine.load(path).session().run({"x": q})["y"]
    np.testing.assert_array_equal(got, reference.run(b, {"x": q})["y"])
    via_float = quant.quantize(quant.dequantize(q, sx, zx).astype(np.float32), sy, zy)
    assert np.max(np.abs(got.astype(np.int32) - via_float.astype(np.int32))) <= 1


def test_int8_quantize_without_its_table_is_refused(tmp_path):
    from wayvert.build.builder import Tensor

    b = EngineBuilder("rq", "1")
    x = b.input("x", "int8", (4,), 0.1, 0)
    (y,) = b.op("quantize", [x], [Tensor("y", "int8", (4,), 0.2, 0)])
    b.output(y)
    b.write(tmp_path / "bad.wvrt")
    with pytest.raises(wayvert.EngineFormatError, match="needs its table"):
        wayvert.Engine.load(tmp_path / "bad.wvrt")
