"""The ops user models bring (unary, mul, max/avg pooling, resize, softmax, matmul, slice): the C++ kernels
against the numpy references (int8 bit-exact, float32 to rounding), the references against their definitions,
and a typed error for each malformed op."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert import reference
from wayvert.build import EngineBuilder, Tensor, ops
from wayvert.errors import BuildError

SEEDS = st.integers(0, 2**31 - 1)


def _run_both(tmp: Path, build: Callable[[EngineBuilder], list[Tensor]], inputs: dict[str, np.ndarray]):
    b = EngineBuilder("ops", "1")
    for y in build(b):
        b.output(y)
    b.write(tmp / "e.wvrt")
    got = wayvert.Engine.load(tmp / "e.wvrt").session().run(inputs)
    want = reference.run(b, inputs)
    return got, want


def _check(got: dict, want: dict) -> None:
    for k in want:
        if want[k].dtype == np.int8:
            np.testing.assert_array_equal(got[k], want[k])
        else:
            np.testing.assert_allclose(got[k], want[k], rtol=2e-5, atol=2e-6)


def _i8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


# ---- unary ------------------------------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(fn=st.sampled_from(sorted(ops.UNARY_FUNCTIONS)), seed=SEEDS, int8=st.booleans())
def test_unary(tmp_path_factory, fn, seed, int8):
    rng = np.random.default_rng(seed)
    if int8:
        x = _i8(rng, (2, 3, 5))
        build = lambda b: [ops.unary(b, b.input("x", "int8", x.shape, 0.05, 3), fn, out_scale=0.02, out_zero_point=-7, name="y")]  # noqa: E731
    else:
        x = rng.normal(0, 3, size=(2, 3, 5)).astype(np.float32)
        build = lambda b: [ops.unary(b, b.input("x", "float32", x.shape), fn, name="y")]  # noqa: E731
    got, want = _run_both(tmp_path_factory.mktemp("u"), build, {"x": x})
    _check(got, want)
    if int8:   # the table is the function between the two quantizations, to half a step (float64: ties are exact)
        real = ops.activation_fn(fn)((x.astype(np.float64) - 3) * 0.05)
        y = (got["y"].astype(np.float64) + 7) * 0.02
        assert np.all(np.abs(y - np.clip(real, -121 * 0.02, 134 * 0.02)) <= 0.01 + 1e-9)


# ---- mul --------------------------------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(seed=SEEDS, bmask=st.lists(st.booleans(), min_size=4, max_size=4), int8=st.booleans())
def test_mul_broadcasts(tmp_path_factory, seed, bmask, int8):
    rng = np.random.default_rng(seed)
    shape = (2, 3, 4, 5)
    bshape = tuple(1 if m else d for m, d in zip(bmask, shape))
    if int8:
        a, c = _i8(rng, shape), _i8(rng, bshape)
        build = lambda b: [ops.mul(b, b.input("a", "int8", shape, 0.03, -4), b.input("c", "int8", bshape, 0.01, 9),  # noqa: E731
                                   out_scale=0.002, out_zero_point=1, name="y")]
    else:
        a, c = rng.normal(size=shape).astype(np.float32), rng.normal(size=bshape).astype(np.float32)
        build = lambda b: [ops.mul(b, b.input("a", "float32", shape), b.input("c", "float32", bshape), name="y")]  # noqa: E731
    got, want = _run_both(tmp_path_factory.mktemp("m"), build, {"a": a, "c": c})
    _check(got, want)
    if not int8:
        np.testing.assert_array_equal(want["y"], a * c)


# ---- pooling ----------------------------------------------------------------------------------------------------

def _naive_pool(x: np.ndarray, k: int, s: int, p: int, ceil: bool, kind: str, include_pad: bool) -> np.ndarray:
    """The definition, straight: every window of the padded plane, PyTorch's output-size rule."""
    n, c, h, w = x.shape
    def size(dim: int) -> int:
        span = dim + 2 * p - k
        o = (-(-span // s) if ceil else span // s) + 1
        return o - 1 if ceil and (o - 1) * s >= dim + p else o
    ho, wo = size(h), size(w)
    y = np.zeros((n, c, ho, wo), np.float64)
    for oy in range(ho):
        for ox in range(wo):
            ys, xs = oy * s - p, ox * s - p
            vals, padded = [], 0
            for ky in range(k):
                for kx in range(k):
                    iy, ix = ys + ky, xs + kx
                    if iy < h + p and ix < w + p:
                        padded += 1
                    if 0 <= iy < h and 0 <= ix < w:
                        vals.append(x[:, :, iy, ix].astype(np.float64))
            v = np.stack(vals)
            y[:, :, oy, ox] = v.max(0) if kind == "max" else v.sum(0) / (padded if include_pad else len(vals))
    return y


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), ceil=st.booleans(),
       kind=st.sampled_from(["max", "avg"]), include_pad=st.booleans(), int8=st.booleans(),
       h=st.integers(3, 9), w=st.integers(3, 9))
def test_pooling(tmp_path_factory, seed, k, s, p, ceil, kind, include_pad, int8, h, w):
    if 2 * p > k:     # PyTorch's rule: padding at most half the kernel
        p = k // 2
    assume(min(h, w) + 2 * p - k >= (1 - s if ceil else 0))   # else no window fits (the builder refuses it)
    rng = np.random.default_rng(seed)
    shape = (1, 3, h, w)
    x = _i8(rng, shape) if int8 else rng.normal(size=shape).astype(np.float32)

    def build(b: EngineBuilder) -> list[Tensor]:
        t = b.input("x", "int8", shape, 0.1, -5) if int8 else b.input("x", "float32", shape)
        if kind == "max":
            return [ops.max_pool2d(b, t, k, s, (p, p, p, p), ceil_mode=ceil, name="y")]
        return [ops.avg_pool2d(b, t, k, s, (p, p, p, p), count_include_pad=include_pad, ceil_mode=ceil, name="y")]

    got, want = _run_both(tmp_path_factory.mktemp("p"), build, {"x": x})
    _check(got, want)
    ref = _naive_pool(x if not int8 else x.astype(np.int64) + 5, k, s, p, ceil, kind, include_pad)
    if int8:
        ref = ref - 5 if kind == "max" else np.clip(np.sign(ref) * np.floor(np.abs(ref) + 0.5) - 5, -128, 127)
        np.testing.assert_array_equal(want["y"], ref.astype(np.int8))
    else:
        np.testing.assert_allclose(want["y"], ref, rtol=1e-5, atol=1e-6)


def test_ceil_mode_window_may_overhang_a_plane_smaller_than_the_kernel(tmp_path):
    """PyTorch gives max_pool2d(3x3 input, kernel 4, stride 2, ceil_mode=True) one output: the whole plane."""
    x = _i8(np.random.default_rng(3), (1, 2, 3, 3))
    got, want = _run_both(tmp_path, lambda b: [ops.max_pool2d(b, b.input("x", "int8", x.shape, 0.1, 0), 4, 2,
                                                              ceil_mode=True, name="y")], {"x": x})
    np.testing.assert_array_equal(got["y"], x.max(axis=(2, 3), keepdims=True))
    np.testing.assert_array_equal(want["y"], got["y"])


def test_pool_window_that_fits_nowhere_is_a_build_error():
    b = EngineBuilder("bad", "1")
    with pytest.raises(BuildError, match="does not fit in 3x3"):
        ops.avg_pool2d(b, b.input("x", "float32", (1, 1, 3, 3)), 4, 2)


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS, kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 3), dw=st.integers(1, 3), pads=st.lists(st.integers(0, 2), min_size=4, max_size=4),
       ceil=st.booleans(), int8=st.booleans())
def test_max_pool_with_dilation_and_uneven_padding(tmp_path_factory, seed, kh, kw, sh, sw, dh, dw, pads, ceil, int8):
    """Every window position o*s - pad + k*d that lands inside the input takes part; padding never wins (shapes
    the builder refuses, a window of padding only among them, are skipped)."""
    pt, pl, pb, pr = (min(p, (k - 1) * d) for p, k, d in zip(pads, (kh, kw, kh, kw), (dh, dw, dh, dw)))
    h, w = 7, 8
    b0 = EngineBuilder("probe", "1")
    try:
        ops.max_pool2d(b0, b0.input("x", "float32", (1, 1, h, w)), (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw), ceil)
    except BuildError:
        assume(False)
    rng = np.random.default_rng(seed)
    x = _i8(rng, (1, 2, h, w)) if int8 else rng.normal(size=(1, 2, h, w)).astype(np.float32)

    def build(b: EngineBuilder) -> list[Tensor]:
        t = b.input("x", "int8", x.shape, 0.1, 7) if int8 else b.input("x", "float32", x.shape)
        return [ops.max_pool2d(b, t, (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw), ceil, name="y")]

    got, want = _run_both(tmp_path_factory.mktemp("d"), build, {"x": x})
    np.testing.assert_array_equal(got["y"], want["y"])
    ho, wo = want["y"].shape[2:]
    for oy in range(ho):
        for ox in range(wo):
            rows = [r for r in (oy * sh - pt + k * dh for k in range(kh)) if 0 <= r < h]
            cols = [c for c in (ox * sw - pl + k * dw for k in range(kw)) if 0 <= c < w]
            np.testing.assert_array_equal(want["y"][:, :, oy, ox], x[:, :, rows][:, :, :, cols].max(axis=(2, 3)))


def test_builders_refuse_what_the_kernels_would():
    b = EngineBuilder("bad", "1")
    f = b.input("f", "float32", (2, 3, 4))
    q = b.input("q", "int8", (2, 3, 4), 0.1, 0)
    with pytest.raises(BuildError, match="step"):
        ops.slice(b, f, 1, 2, 0, -1)
    with pytest.raises(BuildError, match="axis 3"):
        ops.slice(b, f, 3, 0, 1)
    with pytest.raises(BuildError, match="two float32 or two int8"):
        ops.mul(b, q, f, out_scale=0.1)
    with pytest.raises(BuildError, match="runs in float32"):
        ops.softmax(b, q)
    with pytest.raises(BuildError, match="cannot multiply"):
        ops.matmul(b, f, b.input("g", "float32", (2, 3, 4)))
    with pytest.raises(BuildError, match="out_scale"):
        ops.unary(b, q, "tanh")
    with pytest.raises(BuildError, match="covers padding only"):   # rows -1 and 1 of a 1-row plane
        ops.max_pool2d(b, b.input("x1", "float32", (1, 1, 1, 4)), 2, 1, (1, 0, 1, 0), dilation=2)


# ---- resize -----------------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, h=st.integers(1, 7), w=st.integers(1, 7), ho=st.integers(1, 12), wo=st.integers(1, 12),
       mode=st.sampled_from(["nearest", "bilinear"]), align=st.booleans(), int8=st.booleans())
def test_resize(tmp_path_factory, seed, h, w, ho, wo, mode, align, int8):
    align = align and mode == "bilinear"
    rng = np.random.default_rng(seed)
    shape = (1, 2, h, w)
    x = _i8(rng, shape) if int8 else rng.normal(size=shape).astype(np.float32)

    def build(b: EngineBuilder) -> list[Tensor]:
        t = b.input("x", "int8", shape, 0.1, 2) if int8 else b.input("x", "float32", shape)
        return [ops.resize(b, t, (ho, wo), mode, align, name="y")]

    got, want = _run_both(tmp_path_factory.mktemp("r"), build, {"x": x})
    _check(got, want)
    if int8 and mode == "bilinear":   # the fixed-point path is the float interpolation to a step (weights in 1/2048)
        ref = reference_float_bilinear(x.astype(np.float64) - 2, ho, wo, align)
        assert np.max(np.abs(want["y"].astype(np.float64) - 2 - ref)) <= 1.0


def reference_float_bilinear(x: np.ndarray, ho: int, wo: int, align: bool) -> np.ndarray:
    def coords(n_in: int, n_out: int) -> np.ndarray:
        o = np.arange(n_out, dtype=np.float64)
        if align:
            return o * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
        return np.maximum((o + 0.5) * n_in / n_out - 0.5, 0)
    sy, sx = coords(x.shape[2], ho), coords(x.shape[3], wo)
    y0, x0 = np.minimum(np.floor(sy).astype(int), x.shape[2] - 1), np.minimum(np.floor(sx).astype(int), x.shape[3] - 1)
    y1, x1 = np.minimum(y0 + 1, x.shape[2] - 1), np.minimum(x0 + 1, x.shape[3] - 1)
    fy, fx = (sy - y0)[:, None], sx - x0
    top = x[:, :, y0][:, :, :, x0] * (1 - fx) + x[:, :, y0][:, :, :, x1] * fx
    bot = x[:, :, y1][:, :, :, x0] * (1 - fx) + x[:, :, y1][:, :, :, x1] * fx
    return top * (1 - fy) + bot * fy


def test_resize_to_the_same_size_is_the_identity(tmp_path):
    x = _i8(np.random.default_rng(0), (1, 2, 5, 7))
    for mode in ("nearest", "bilinear"):
        got, _ = _run_both(tmp_path, lambda b: [ops.resize(b, b.input("x", "int8", x.shape, 0.1, 0), (5, 7), mode,  # noqa: B023
                                                           name="y")], {"x": x})
        np.testing.assert_array_equal(got["y"], x)


# ---- softmax, matmul, slice -------------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(seed=SEEDS, m=st.integers(1, 6), k=st.integers(1, 9), n=st.integers(1, 6), batch=st.integers(1, 3))
def test_softmax_and_matmul(tmp_path_factory, seed, m, k, n, batch):
    rng = np.random.default_rng(seed)
    a, c = rng.normal(size=(batch, m, k)).astype(np.float32), rng.normal(size=(batch, k, n)).astype(np.float32)
    build = lambda b: [ops.softmax(b, ops.matmul(b, b.input("a", "float32", a.shape), b.input("c", "float32", c.shape),  # noqa: E731
                                                 name="mm"), name="y")]
    got, want = _run_both(tmp_path_factory.mktemp("s"), build, {"a": a, "c": c})
    _check(got, want)
    e = np.exp(a.astype(np.float64) @ c - (a.astype(np.float64) @ c).max(-1, keepdims=True))
    np.testing.assert_allclose(got["y"], e / e.sum(-1, keepdims=True), rtol=1e-4, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS, axis=st.integers(0, 2), start=st.integers(0, 5), stop=st.integers(1, 7), step=st.integers(1, 3),
       dtype=st.sampled_from(["int8", "float32", "uint8"]))
def test_slice(tmp_path_factory, seed, axis, start, stop, step, dtype):
    shape = (4, 6, 7)
    if len(range(*slice(start, stop, step).indices(shape[axis]))) == 0:
        return
    x = np.random.default_rng(seed).integers(0, 100, size=shape).astype(dtype)
    build = lambda b: [ops.slice(b, b.input("x", dtype, shape, 0.5 if dtype != "float32" else 0.0, 0), axis, start,  # noqa: E731
                                 stop, step, name="y")]
    got, want = _run_both(tmp_path_factory.mktemp("sl"), build, {"x": x})
    index = [slice(None)] * 3
    index[axis] = slice(start, stop, step)
    np.testing.assert_array_equal(got["y"], x[tuple(index)])
    np.testing.assert_array_equal(want["y"], x[tuple(index)])


# ---- malformed ops get typed errors -----------------------------------------------------------------------------

def _load_bad(tmp_path: Path, build: Callable[[EngineBuilder], Tensor]) -> str:
    b = EngineBuilder("bad", "1")
    b.output(build(b))
    b.write(tmp_path / "bad.wvrt")
    with pytest.raises(wayvert.EngineFormatError) as e:
        wayvert.Engine.load(tmp_path / "bad.wvrt")
    return str(e.value)


BAD = {
    "int8 unary without its table": (
        lambda b: b.op("unary", [b.input("x", "int8", (4,), 0.1, 0)], [Tensor("y", "int8", (4,), 0.1, 0)], {"function": 1})[0],
        "needs its table"),
    "unknown unary function": (
        lambda b: b.op("unary", [b.input("x", "float32", (4,))], [Tensor("y", "float32", (4,))], {"function": 9})[0],
        "unknown function code 9"),
    "mul that does not broadcast": (
        lambda b: b.op("mul", [b.input("a", "float32", (2, 3)), b.input("c", "float32", (2, 2))],
                       [Tensor("y", "float32", (2, 3))])[0], "does not broadcast"),
    "int8 mul without multiplier": (
        lambda b: b.op("mul", [b.input("a", "int8", (2, 3), 0.1, 0), b.input("c", "int8", (2, 3), 0.1, 0)],
                       [Tensor("y", "int8", (2, 3), 0.1, 0)])[0], "needs multiplier"),
    "pool output of the wrong size": (
        lambda b: b.op("max_pool2d", [b.input("x", "float32", (1, 1, 8, 8))], [Tensor("y", "float32", (1, 1, 5, 5))],
                       {"kernel_h": 2, "kernel_w": 2})[0], "neither the floor- nor the ceil-mode size"),
    "int8 pool changing the scale": (
        lambda b: b.op("avg_pool2d", [b.input("x", "int8", (1, 1, 8, 8), 0.1, 0)], [Tensor("y", "int8", (1, 1, 4, 4), 0.2, 0)],
                       {"kernel_h": 2, "kernel_w": 2})[0], "keeps the input's scale"),
    "pool padding past the kernel": (
        lambda b: b.op("max_pool2d", [b.input("x", "float32", (1, 1, 8, 8))], [Tensor("y", "float32", (1, 1, 11, 11))],
                       {"kernel_h": 2, "kernel_w": 2, "stride_h": 1, "stride_w": 1, "pad_top": 2, "pad_left": 2,
                        "pad_bottom": 2, "pad_right": 2})[0], "below the kernel extent"),
    "resize changing channels": (
        lambda b: b.op("resize", [b.input("x", "float32", (1, 2, 4, 4))], [Tensor("y", "float32", (1, 3, 8, 8))],
                       {"mode": 0})[0], "expects x [N, C, H, W]"),
    "nearest resize with align_corners": (
        lambda b: b.op("resize", [b.input("x", "float32", (1, 2, 4, 4))], [Tensor("y", "float32", (1, 2, 8, 8))],
                       {"mode": 0, "align_corners": 1})[0], "bilinear resizing only"),
    "int8 softmax": (
        lambda b: b.op("softmax", [b.input("x", "int8", (2, 4), 0.1, 0)], [Tensor("y", "int8", (2, 4), 0.1, 0)])[0],
        "runs in float32"),
    "matmul with mismatched inner dims": (
        lambda b: b.op("matmul", [b.input("a", "float32", (2, 3)), b.input("c", "float32", (4, 5))],
                       [Tensor("y", "float32", (2, 5))])[0], "inner dims differ"),
    "slice past the end": (
        lambda b: b.op("slice", [b.input("x", "float32", (2, 6))], [Tensor("y", "float32", (2, 4))],
                       {"axis": 1, "start": 3, "step": 1})[0], "do not fit in extent 6"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_op_is_a_typed_error(tmp_path, case):
    build, message = BAD[case]
    assert message in _load_bad(tmp_path, build)


# ---- threads ----------------------------------------------------------------------------------------------------

def test_new_ops_are_bit_identical_for_every_thread_count(tmp_path):
    """Pools, resizes, unary, softmax and matmul split their output rows across threads: the bytes never change."""
    rng = np.random.default_rng(7)
    b = EngineBuilder("threads", "1")
    xi = b.input("xi", "int8", (1, 16, 96, 96), 0.1, -3)
    xf = b.input("xf", "float32", (1, 16, 96, 96))
    a = b.input("a", "float32", (2, 192, 80))
    c = b.input("c", "float32", (2, 80, 192))
    for t, tag in ((xi, "i"), (xf, "f")):
        b.output(ops.max_pool2d(b, t, 3, 2, (1, 1, 1, 1), ceil_mode=True, name=f"max_{tag}"))
        b.output(ops.avg_pool2d(b, t, 3, 1, (1, 1, 1, 1), name=f"avg_{tag}"))
        b.output(ops.resize(b, t, (160, 128), "bilinear", name=f"bilinear_{tag}"))
        b.output(ops.resize(b, t, (192, 192), "nearest", name=f"nearest_{tag}"))
    b.output(ops.unary(b, xi, "silu", out_scale=0.05, name="silu_i"))
    b.output(ops.unary(b, xf, "gelu", name="gelu_f"))
    b.output(ops.softmax(b, ops.matmul(b, a, c, name="mm"), name="softmax"))
    b.write(tmp_path / "t.wvrt")
    engine = wayvert.Engine.load(tmp_path / "t.wvrt")
    feeds = {"xi": _i8(rng, (1, 16, 96, 96)), "xf": rng.normal(size=(1, 16, 96, 96)).astype(np.float32),
             "a": rng.normal(size=(2, 192, 80)).astype(np.float32), "c": rng.normal(size=(2, 80, 192)).astype(np.float32)}
    want = engine.session(threads=1).run(feeds)
    _check(want, reference.run(b, feeds))
    for threads in (2, 3, 5):
        got = engine.session(threads=threads).run(feeds)
        for name in want:
            assert got[name].tobytes() == want[name].tobytes(), f"{name} differs at {threads} threads"
