"""The ONNX benchmark peer runs the float twin of engines with the new ops (unary, mul, pools, resize, softmax,
matmul, slice) and agrees with it (skipped without onnx and onnxruntime, the bench extra)."""
from __future__ import annotations

import numpy as np
import pytest

from wayvert.build import EngineBuilder, ops
from wayvert.graph.dequantized import float_network

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from wayvert.benchmark.peers.onnx_model import OrtSession, onnx_model  # noqa: E402


def _check(b: EngineBuilder, feeds: dict[str, np.ndarray]) -> None:
    twin = float_network(b)
    want = twin.run(feeds)
    got = OrtSession(onnx_model(twin)).run(feeds)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("ceil", [False, True])
def test_onnx_peer_runs_pools_resizes_and_unary_functions(ceil):
    b = EngineBuilder("vision", "1")
    x = b.input("x", "float32", (1, 3, 9, 10))
    for fn in sorted(ops.UNARY_FUNCTIONS):
        b.output(ops.unary(b, x, fn, name=fn))
    b.output(ops.max_pool2d(b, x, 3, 2, (1, 0, 1, 0), dilation=(1, 2), ceil_mode=ceil, name="maxp"))
    b.output(ops.avg_pool2d(b, x, 3, 2, (1, 1, 1, 1), count_include_pad=False, ceil_mode=ceil, name="avgp"))
    b.output(ops.avg_pool2d(b, x, 3, 2, (1, 1, 1, 1), count_include_pad=True, ceil_mode=ceil, name="avgp_pad"))
    for size in ((4, 3), (17, 23), (1, 1)):
        tag = "x".join(map(str, size))
        b.output(ops.resize(b, x, size, "nearest", name=f"near_{tag}"))
        b.output(ops.resize(b, x, size, "bilinear", name=f"bil_{tag}"))
        if size != (1, 1):
            b.output(ops.resize(b, x, size, "bilinear", align_corners=True, name=f"bil_ac_{tag}"))
    b.output(ops.slice(b, ops.mul(b, x, b.constant("g", np.linspace(0.5, 2, 3, dtype=np.float32).reshape(1, 3, 1, 1)),
                                  name="mul"), 3, 1, 10, 3, name="sl"))
    _check(b, {"x": np.random.default_rng(0).normal(0, 2, (1, 3, 9, 10)).astype(np.float32)})


def test_onnx_peer_runs_softmax_of_matmul():
    b = EngineBuilder("mm", "1")
    a = b.input("a", "float32", (2, 5, 7))
    b.output(ops.softmax(b, ops.matmul(b, a, b.input("c", "float32", (2, 7, 4)), name="mm"), name="y"))
    rng = np.random.default_rng(1)
    _check(b, {"a": rng.normal(size=(2, 5, 7)).astype(np.float32), "c": rng.normal(size=(2, 7, 4)).astype(np.float32)})
