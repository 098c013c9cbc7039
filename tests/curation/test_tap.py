"""An engine rebuilt with an internal tensor as one more output computes its own outputs bit-identically."""
from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert.benchmark.inputs import engine_feeds
from wayvert.build import sample_nets
from wayvert.errors import InvalidArgumentError
from wayvert.graph import engine_ops, producer_input, with_outputs


@pytest.mark.parametrize("threads", [1, 2])
def test_the_reference_engine_with_its_features_tapped_keeps_every_output(threads: int) -> None:
    path = wayvert.reference_engine_path()
    tensor = producer_input(engine_ops(path), "mode_logits")
    assert tensor == "trunk.2.dequantized"
    # the shipped engine's scenario head reads its scenario branch, not the trunk (training/models/scenario.py)
    assert producer_input(engine_ops(path), "scenario_logits") == "scenario_branch.mlp.0.dequantized"
    original = wayvert.Engine.load(path)
    tapped = wayvert.Engine.from_bytes(with_outputs(path, {"features": tensor}).to_bytes())
    assert [o.name for o in tapped.outputs] == [o.name for o in original.outputs] + ["features"]
    assert tapped.outputs[-1].shape == (1, 256)
    assert tapped.meta["accuracy"] == original.meta["accuracy"]
    a, b = original.session(), tapped.session(threads=threads)
    for x in engine_feeds(original, count=3, seed=4).engine:   # world frames through the adapter
        want, got = a.run(x), b.run(x)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
        # the tap is the driving heads' input: the mode head is a float linear of it
        assert np.isfinite(got["features"]).all() and (got["features"] >= 0).all()   # post-ReLU features


def test_an_int8_tensor_is_tapped_with_its_quantization() -> None:
    b = sample_nets.sample_convnet().build_int8()
    ops = engine_ops(b)
    inner = next(v for op in ops for v in op.outputs if v.dtype == "int8")
    tapped = wayvert.Engine.from_bytes(with_outputs(b, {"inner": inner.name}).to_bytes())
    spec = tapped.outputs[-1]
    assert (spec.name, spec.dtype, spec.shape) == ("inner", "int8", inner.shape)
    assert spec.scale == pytest.approx(inner.scale)
    x = engine_feeds(tapped, count=1, seed=5).engine[0]
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
