"""The PyTorch bench peer runs engines with the ops user models bring: the eager twin of a float engine gives the
engine's outputs (to float rounding)."""
from __future__ import annotations

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, ops
from wayvert.graph.dequantized import float_network

torch_peer = pytest.importorskip("wayvert.calibration.torch_peer")


@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (0, 1, 2, 1)])
def test_torch_twin_of_the_new_ops_matches_the_engine(tmp_path, pads):
    b = EngineBuilder("zoo", "1")
    x = b.input("x", "float32", (1, 4, 9, 9))
    w = b.input("w", "float32", (1, 4, 1, 1))
    g = ops.unary(b, w, "sigmoid", name="gate")
    h = ops.mul(b, x, g, name="gated")
    h = ops.unary(b, h, "gelu", name="gelu")
    m = ops.max_pool2d(b, h, 3, 2, pads, ceil_mode=True, name="maxp")
    a = ops.avg_pool2d(b, h, 3, 2, pads, count_include_pad=pads == (1, 1, 1, 1), name="avgp")
    up = ops.resize(b, ops.resize(b, a, (7, 9), "bilinear", name="bil"), (14, 18), "nearest", name="near")
    s = ops.slice(b, up, 1, 1, 4, 2, name="sl")
    t = ops.reshape(b, s, (1, 2, 14 * 18), name="flat")
    tt = ops.permute(b, t, (0, 2, 1), name="tt")
    mm = ops.matmul(b, t, tt, name="mm")
    b.output(m, ops.softmax(b, mm, name="probs"))
    b.write(tmp_path / "zoo.wvrt")
    rng = np.random.default_rng(0)
    feeds = {"x": rng.normal(size=(1, 4, 9, 9)).astype(np.float32), "w": rng.normal(size=(1, 4, 1, 1)).astype(np.float32)}
    want = wayvert.Engine.load(tmp_path / "zoo.wvrt").session().run(feeds)
    got = torch_peer.TorchRunner(float_network(b)).run(feeds)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)
