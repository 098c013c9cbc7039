"""An engine rebuilt with an internal tensor as one more output computes its own outputs bit-identically."""
from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert.build import sample_nets
from wayvert.errors import InvalidArgumentError
from wayvert.graph import engine_ops, producer_input, with_outputs


def _inputs(engine: wayvert.Engine, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for s in engine.inputs:
        if s.dtype == "int8":
            out[s.name] = rng.integers(-128, 128, s.shape).astype(np.int8)
        else:
            out[s.name] = rng.normal(0, 2, s.shape).astype(np.float32)
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_the_reference_engine_with_its_features_tapped_keeps_every_output(threads: int) -> None:
    path = wayvert.reference_engine_path()
    tensor = producer_input(engine_ops(path), "scenario_logits")
    assert tensor == "trunk.2.dequantized"
    original = wayvert.Engine.load(path)
    tapped = wayvert.Engine.from_bytes(with_outputs(path, {"features": tensor}).to_bytes())
    assert [o.name for o in tapped.outputs] == [o.name for o in original.outputs] + ["features"]
    assert tapped.outputs[-1].shape == (1, 256)
    assert tapped.meta["accuracy"] == original.meta["accuracy"]
    a, b = original.session(), tapped.session(threads=threads)
    for seed in range(3):
        x = _inputs(original, seed)
        want, got = a.run(x), b.run(x)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
        # the tap is the heads' input: the scenario head is a float linear of it
        assert np.isfinite(got["features"]).all() and (got["features"] >= 0).all()   # post-ReLU features


def test_an_int8_tensor_is_tapped_with_its_quantization() -> None:
    b = sample_nets.sample_convnet().build_int8()
    ops = engine_ops(b)
    inner = next(v for op in ops for v in op.outputs if v.dtype == "int8")
    tapped = wayvert.Engine.from_bytes(with_outputs(b, {"inner": inner.name}).to_bytes())
    spec = tapped.outputs[-1]
    assert (spec.name, spec.dtype, spec.shape) == ("inner", "int8", inner.shape)
    assert spec.scale == pytest.approx(inner.scale)
    x = _inputs(tapped, 5)
    want = wayvert.Engine.from_bytes(b.to_bytes()).session().run(x)
    got = tapped.session().run(x)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])


def test_bad_taps_are_refused_by_name() -> None:
    path = wayvert.reference_engine_path()
    with pytest.raises(InvalidArgumentError, match="no tensor 'nope'"):
        with_outputs(path, {"features": "nope"})
    with pytest.raises(InvalidArgumentError, match="already a tensor"):
        with_outputs(path, {"mode_logits": "trunk.2.dequantized"})
    with pytest.raises(InvalidArgumentError, match="no op of the engine computes"):
        producer_input(engine_ops(path), "image")
