"""The engine's float twin run by PyTorch and ONNX Runtime computes what the numpy twin computes, op for op."""
import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, ops, sample_nets
from wayvert.graph.dequantized import float_network

pytest.importorskip("onnxruntime")
from wayvert.benchmark.peers.onnx_model import OrtSession, onnx_model  # noqa: E402
from wayvert.benchmark.peers.ort_int8 import quantize_qdq  # noqa: E402
from wayvert.calibration.torch_peer import TorchRunner  # noqa: E402


def _float_ops_net():
    """Every float op the twin knows: conv (+residual, relu6), permute, reshape, layernorm, attention, linear
    (gelu), add, concat, global pool."""
    rng = np.random.default_rng(1)
    b = EngineBuilder("float_ops", "1")
    x = b.input("x", "float32", (1, 4, 6, 8))
    c1 = ops.conv2d(b, x, rng.normal(size=(4, 4, 3, 3)).astype(np.float32) * 0.3, rng.normal(size=4), padding=1,
                    activation="relu6", name="c1")
    c2 = ops.conv2d(b, c1, rng.normal(size=(4, 1, 3, 3)).astype(np.float32), None, padding=1, groups=4, residual=x,
                    stride=1, name="c2")
    tokens = ops.reshape(b, ops.permute(b, c2, (0, 2, 3, 1), name="perm"), (1, 48, 4), name="tokens")
    n = ops.layernorm(b, tokens, rng.normal(size=4), rng.normal(size=4), name="ln")
    a = ops.attention(b, n, n, n, num_heads=2, name="att")
    lin = ops.linear(b, a, rng.normal(size=(4, 4)).astype(np.float32), rng.normal(size=4), activation="gelu", name="lin")
    s = ops.add(b, lin, a, name="sum")
    pooled = ops.global_avg_pool(b, c2, name="pool")
    b.output(ops.concat(b, [ops.reshape(b, s, (1, 192), name="flat"), ops.reshape(b, pooled, (1, 4), name="pf")], axis=1,
                        name="out"))
    return b


@pytest.mark.parametrize("make", ["convnet", "float_ops", "reference"])
def test_peers_match_the_numpy_twin(make, tmp_path):
    if make == "convnet":
        net = sample_nets.sample_convnet()
        source = net.build_int8()
    elif make == "float_ops":
        source = _float_ops_net()
    else:
        source = wayvert.reference_engine_path()
    if not isinstance(source, str):
        path = tmp_path / "e.wvrt"
        source.write(str(path))
        source = str(path)
    twin = float_network(source)
    rng = np.random.default_rng(0)
    feeds = {n: rng.uniform(-1, 1, s).astype(np.float32) for n, s in twin.inputs}
    ref = twin.run(feeds)
    for peer in (TorchRunner(twin), OrtSession(onnx_model(twin))):
        out = peer.run(feeds)
        for name in twin.outputs:
            assert out[name].shape == ref[name].shape
            np.testing.assert_allclose(out[name], ref[name], rtol=1e-4, atol=1e-4 * (np.abs(ref[name]).max() + 1e-6))


def test_ort_int8_qdq_is_quantized_and_close(tmp_path):
    twin = float_network(wayvert.reference_engine_path())
    rng = np.random.default_rng(0)
    feeds = [{n: rng.uniform(-1, 1, s).astype(np.float32) for n, s in twin.inputs} for _ in range(3)]
    path = quantize_qdq(onnx_model(twin), feeds, tmp_path / "q.onnx")
    import onnx

    types = {n.op_type for n in onnx.load(path).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= types
    out, ref = OrtSession(path).run(feeds[0]), twin.run(feeds[0])
    t, r = out["trajectories"].astype(np.float64), ref["trajectories"].astype(np.float64)
    assert 10 * np.log10((r ** 2).sum() / ((r - t) ** 2).sum()) > 20.0
