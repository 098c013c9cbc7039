"""The float32 kernels of the new ops against PyTorch's own (skipped where PyTorch is not installed: the runtime
needs numpy only). PyTorch is the definition the lowering maps onto these ops, so its corner cases are the ones
that matter: ceil-mode windows that overhang the padding, count_include_pad, half-pixel bilinear, nearest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert.build import EngineBuilder, ops
from wayvert.errors import BuildError

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _engine_run(tmp: Path, build, x: np.ndarray) -> np.ndarray:
    b = EngineBuilder("vs_torch", "1")
    b.output(build(b, b.input("x", "float32", x.shape)))
    b.write(tmp / "e.wvrt")
    return wayvert.Engine.load(tmp / "e.wvrt").session().run({"x": x})[b.outputs[0]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), ceil=st.booleans(), kind=st.sampled_from(["max", "avg"]), include_pad=st.booleans(),
       h=st.integers(2, 9), w=st.integers(2, 9))
def test_pooling_matches_torch(tmp_path_factory, seed, k, s, p, d, ceil, kind, include_pad, h, w):
    d = d if kind == "max" else 1
    assume(2 * p <= (k - 1) * d + 1)          # torch: padding at most half the effective kernel
    x = np.random.default_rng(seed).normal(size=(1, 2, h, w)).astype(np.float32)
    t = torch.from_numpy(x)
    try:
        if kind == "max":
            want = F.max_pool2d(t, k, s, p, d, ceil_mode=ceil)
        else:
            want = F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=include_pad)
    except RuntimeError:                        # torch: output size too small
        assume(False)
    assume(bool(torch.isfinite(want).all()))   # torch's -inf for a window of padding only: refused here

    def build(b, xt):
        if kind == "max":
            return ops.max_pool2d(b, xt, k, s, (p, p, p, p), d, ceil, name="y")
        return ops.avg_pool2d(b, xt, k, s, (p, p, p, p), include_pad, ceil, name="y")

    got = _engine_run(tmp_path_factory.mktemp("p"), build, x)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), h=st.integers(1, 8), w=st.integers(1, 8), ho=st.integers(1, 17),
       wo=st.integers(1, 17), mode=st.sampled_from(["nearest", "bilinear"]), align=st.booleans())
def test_resize_matches_torch_interpolate(tmp_path_factory, seed, h, w, ho, wo, mode, align):
    align = align and mode == "bilinear"
    x = np.random.default_rng(seed).normal(size=(1, 3, h, w)).astype(np.float32)
    kwargs = {"align_corners": align} if mode == "bilinear" else {}
    want = F.interpolate(torch.from_numpy(x), size=(ho, wo), mode=mode, **kwargs).numpy()
    got = _engine_run(tmp_path_factory.mktemp("r"), lambda b, xt: ops.resize(b, xt, (ho, wo), mode, align, name="y"), x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("fn", sorted(ops.UNARY_FUNCTIONS))
def test_unary_matches_torch(tmp_path, fn):
    x = np.linspace(-9, 9, 4001, dtype=np.float32).reshape(1, -1)
    torch_fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu, "gelu": F.gelu,
                "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid}[fn]
    want = torch_fn(torch.from_numpy(x)).numpy()
    got = _engine_run(tmp_path, lambda b, xt: ops.unary(b, xt, fn, name="y"), x)
    # atol: torch's float32 gelu loses ~1e-6 to 1 + erf(x) cancelling for x << 0; the engine's erfc form does not
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)
    exact = ops.activation_fn(fn)(x.astype(np.float64))
    np.testing.assert_allclose(got, exact, rtol=2e-6, atol=2e-7)


def test_softmax_and_matmul_match_torch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 7)).astype(np.float32)
    c = rng.normal(size=(2, 7, 3)).astype(np.float32)

    def build(b, xt):
        return ops.softmax(b, ops.matmul(b, xt, b.constant("c", c), name="mm"), name="y")

    want = torch.softmax(torch.from_numpy(x) @ torch.from_numpy(c), dim=-1).numpy()
    np.testing.assert_allclose(_engine_run(tmp_path, build, x), want, rtol=1e-5, atol=1e-6)


def test_pool_builder_refuses_what_torch_refuses():
    b = EngineBuilder("bad", "1")
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 3, 3), 4, 1)
    with pytest.raises(BuildError):
        ops.max_pool2d(b, b.input("x", "float32", (1, 1, 3, 3)), 4, 1)
