"""wayvert.graph: the engine's graph read back from the file, op costs, and the dequantized float twin."""
import math

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, ops, sample_nets
from wayvert.errors import InvalidArgumentError
from wayvert.graph import engine_constants, engine_ops, op_costs
from wayvert.graph.dequantized import float_network
from wayvert.inspect import engine_summary
from wayvert.reference import run as reference_run


@pytest.fixture(scope="module")
def convnet(tmp_path_factory):
    net = sample_nets.sample_convnet()
    b = net.build_int8()
    path = tmp_path_factory.mktemp("g") / "convnet.wvrt"
    b.write(str(path))
    return net, b, str(path)


def test_constants_read_from_the_file_equal_the_builders(convnet):
    _, b, path = convnet
    from_file, from_builder = engine_constants(path), engine_constants(b)
    assert set(from_file) == set(from_builder) and len(from_file) > 10
    for name, value in from_builder.items():
        assert from_file[name].dtype == value.dtype and np.array_equal(from_file[name], value), name


def test_scales_and_zero_points_are_read(convnet):
    _, b, path = convnet
    for a, c in zip(engine_ops(path), engine_ops(b)):
        assert [(v.scale, v.zero_point) for v in a.outputs] == [(v.scale, v.zero_point) for v in c.outputs]


def test_float_twin_recovers_the_float_network(convnet):
    """Dequantized int8 weights are the float weights to within half a quantization step, so the twin's logits are
    close to the float model's, and closer to it than the int8 engine's own (which also rounds activations)."""
    net, _, path = convnet
    twin = float_network(path)
    conv0 = next(op for op in twin.ops if op.op == "conv2d")
    step = np.abs(net.convs[0].weight).reshape(16, -1).max(axis=1) / 127
    assert np.all(np.abs(conv0.weight - net.convs[0].weight) <= step[:, None, None, None] / 2 + 1e-7)
    lo, hi = conv0.clamp  # the fused ReLU, recovered from the int8 bounds (and the int8 range above)
    assert lo == 0.0 and math.isfinite(hi) and hi > 0
    x = np.random.default_rng(3).uniform(-1, 1, net.input_shape).astype(np.float32)
    ref = net.forward_f32(x)["head"].ravel()
    ours = twin.run({"image": x})["logits"].ravel()
    engine = wayvert.Engine.load(path).session().run({"image": x})["logits"].ravel()
    err = lambda a: np.linalg.norm(a - ref) / np.linalg.norm(ref)  # noqa: E731
    assert err(ours) < 0.05  # weights within half a step; saturating where the engine does
    assert err(ours) < err(engine) + 0.01


def test_float_twin_of_the_reference_engine_tracks_the_engine():
    path = wayvert.reference_engine_path()
    engine = wayvert.Engine.load(path)
    twin = float_network(path)
    assert [n for n, _ in twin.inputs] == [s.name for s in engine.inputs]
    assert twin.outputs == [s.name for s in engine.outputs]
    spec = engine.inputs[0]
    img = np.random.default_rng(0).integers(-80, 80, spec.shape).astype(np.int8)
    ego, cmd = np.array([[8.0, 0.02]], np.float32), np.eye(1, 4, dtype=np.float32)
    out = engine.session().run({"image": img, "ego": ego, "command": cmd})
    f = twin.run({"image": (img.astype(np.float32) - spec.zero_point) * spec.scale, "ego": ego, "command": cmd})
    t = out["trajectories"].astype(np.float64)
    sqnr = 10 * np.log10((f["trajectories"] ** 2).sum() / ((f["trajectories"] - t) ** 2).sum())
    assert sqnr > 30.0


def test_lut_activations_are_refused():
    b = EngineBuilder("lut", "1")
    x = b.input("x", "int8", (1, 4), scale=0.1, zero_point=0)
    w = np.ones((4, 4), np.int8)
    y = ops.linear(b, x, w, np.zeros(4, np.float32), activation="silu", weight_scales=np.full(4, 0.01),
                   out_scale=0.05, out_zero_point=0, pre_scale=0.05)
    b.output(ops.dequantize(b, y))
    with pytest.raises(InvalidArgumentError, match="lookup-table"):
        float_network(b)


def test_inspect_op_table_counts_work(convnet):
    net, _, path = convnet
    s = engine_summary(wayvert.Engine.load(path))
    rows = s["ops"]
    assert [r["op"] for r in rows] == s["plan"]
    conv0 = next(r for r in rows if r["op"] == "conv2d")
    n, co, ho, wo = conv0["shape"]
    assert conv0["macs"] == n * co * ho * wo * 3 * 3 * 3
    assert conv0["ops"] == 2 * conv0["macs"]
    assert sum(r["macs"] for r in rows) == sum(c.macs for c in op_costs(path))
    assert all(r["bytes"] > 0 for r in rows if r["op"] != "reshape")


def test_twin_keeps_a_relu6_whose_range_ends_at_the_int8_maximum():
    """A ReLU6 calibrated to [0, 6] has act_max = 127: the twin must still cap at 6 (it once read it as a ReLU)."""
    b = EngineBuilder("relu6", "1")
    x = b.input("x", "int8", (1, 4), scale=0.1, zero_point=0)
    y = ops.linear(b, x, np.full((2, 4), 127, np.int8), None, activation="relu6", weight_scales=np.full(2, 0.05),
                   out_scale=6 / 255, out_zero_point=-128)
    b.output(ops.dequantize(b, y))
    feeds = {"x": np.full((1, 4), 12.0, np.float32)}  # far above 6 before the activation

    x_int8 = {"x": np.full((1, 4), 120, np.int8)}
    assert float(reference_run(b, x_int8)[b.outputs[0]].max()) == pytest.approx(6.0, abs=0.03)
    assert float(float_network(b).run(feeds)[b.outputs[0]].max()) == pytest.approx(6.0, abs=0.03)


def test_reference_twin_caps_the_lead_distance_like_the_engine():
    path = wayvert.reference_engine_path()
    engine = wayvert.Engine.load(path)
    spec = engine.inputs[0]
    img = np.random.default_rng(5).integers(-80, 80, spec.shape).astype(np.int8)
    feeds = {"image": img, "ego": np.array([[90.0, 0.0]], np.float32), "command": np.eye(1, 4, dtype=np.float32)}
    out = engine.session().run(feeds)["lead_distance"]
    twin = float_network(path).run({**feeds, "image": (img.astype(np.float32) - spec.zero_point) * spec.scale})
    assert float(twin["lead_distance"][0]) <= 80.0 + 1e-3
    assert float(twin["lead_distance"][0]) == pytest.approx(float(out[0]), abs=0.5)


def test_twin_lists_every_engine_input_even_unused():
    b = EngineBuilder("unused", "1")
    x = b.input("x", "float32", (1, 3))
    b.input("spare", "float32", (1, 2))
    b.output(ops.linear(b, x, np.ones((2, 3), np.float32), None))
    assert [n for n, _ in float_network(b).inputs] == ["x", "spare"]


def test_inspect_reports_the_weights_packed_at_load(convnet):
    _, _, path = convnet
    engine = wayvert.Engine.load(path)
    s = engine_summary(engine)
    consts = engine_constants(path)
    # every int8 conv/linear weight is held once more, repacked (int8 or widened int16, padded to the tile)
    int8_weights = sum(consts[op.inputs[1].name].size for op in engine_ops(path)
                       if op.op_type in ("conv2d", "linear") and op.inputs[1] is not None
                       and consts[op.inputs[1].name].dtype == np.int8)
    assert int8_weights > 0
    assert s["packed_weight_bytes"] == engine.packed_weight_bytes
    assert int8_weights <= engine.packed_weight_bytes <= 4 * int8_weights + 64 * 1024


def _vision_chain(b: EngineBuilder, x, int8: bool):
    """unary, max and avg pooling, bilinear and nearest resizes, a broadcast mul by a constant, a slice."""
    q = {"out_scale": 1 / 255, "out_zero_point": -128} if int8 else {}
    y = ops.unary(b, x, "sigmoid", name="sig", **q)
    y = ops.max_pool2d(b, y, 2, name="maxp")
    y = ops.avg_pool2d(b, y, 3, 1, (1, 1, 1, 1), name="avgp")
    y = ops.resize(b, y, (7, 6), "bilinear", name="bil")
    y = ops.resize(b, y, (14, 12), "nearest", name="near")
    gain = np.linspace(0.5, 2.0, 4).reshape(1, 4, 1, 1)
    c = b.constant("gain", np.round(gain / 0.01).astype(np.int8), 0.01, 0) if int8 else b.constant("gain", gain.astype(np.float32))
    y = ops.mul(b, y, c, name="mul", **({"out_scale": 2 / 255, "out_zero_point": -128} if int8 else {}))
    return ops.slice(b, y, 1, 1, 4, 2, name="sl")


def test_float_twin_of_the_new_ops_is_the_float_engine():
    b = EngineBuilder("vision", "1")
    b.output(_vision_chain(b, b.input("x", "float32", (1, 4, 8, 8)), int8=False))
    x = np.random.default_rng(1).normal(0, 2, (1, 4, 8, 8)).astype(np.float32)
    want = reference_run(b, {"x": x})["sl"]
    twin = float_network(b)
    assert [op.op for op in twin.ops] == ["unary", "max_pool2d", "avg_pool2d", "resize", "resize", "mul", "slice"]
    np.testing.assert_allclose(twin.run({"x": x})["sl"], want, rtol=1e-5, atol=1e-6)
    assert all(c.modelled for c in op_costs(b))   # each has a cost model, not the one-op-per-element fallback


def test_float_twin_of_the_new_int8_ops_tracks_the_engine(tmp_path):
    """The int8 unary's table becomes the function its code names; pools, resizes and slices keep the quantization."""
    b = EngineBuilder("vision8", "1")
    b.output(ops.dequantize(b, _vision_chain(b, b.input("x", "int8", (1, 4, 8, 8), 0.05, 0), int8=True), name="y"))
    b.write(tmp_path / "v.wvrt")
    x = np.random.default_rng(2).integers(-128, 128, (1, 4, 8, 8)).astype(np.int8)
    got = wayvert.Engine.load(tmp_path / "v.wvrt").session().run({"x": x})["y"]
    f = float_network(str(tmp_path / "v.wvrt")).run({"x": x.astype(np.float32) * 0.05})["y"]
    assert got.shape == f.shape == (1, 2, 14, 12)
    assert np.max(np.abs(got - f)) <= 4 * (2 / 255)   # a few output steps: each int8 op rounds once
    assert 10 * np.log10((f**2).sum() / ((f - got) ** 2).sum()) > 30.0


def test_inspect_and_the_float_twin_of_an_engine_with_recurrent_state(tmp_path):
    # a running sum: y = x + s, and s takes y after each run
    b = EngineBuilder("running_sum", "1")
    x = b.input("x", "float32", (1, 4))
    s = b.state("s", "float32", (1, 4))
    y = ops.add(b, x, s, name="y")
    b.output(y)
    nxt = ops.reshape(b, y, (1, 4), name="s.next")
    b.update_state(s, nxt)
    path = tmp_path / "sum.wvrt"
    b.write(path)
    from wayvert.inspect import describe_engine

    text = describe_engine(str(path))
    assert "state    (kept by each session" in text and "  s                float32  [1, 4]" in text
    assert engine_summary(wayvert.Engine.load(path))["state"] == [{"name": "s", "dtype": "float32", "shape": [1, 4]}]
    session = wayvert.Engine.load(path).session()
    ones = np.ones((1, 4), np.float32)
    assert session.run({"x": ones})["y"].tolist() == [[1.0] * 4]
    assert session.run({"x": ones})["y"].tolist() == [[2.0] * 4]
    # the float twin is a new session's first run: the state reads as zero
    assert float_network(path).run({"x": ones})["y"].tolist() == [[1.0] * 4]
