"""The CUDA kernels of the non-GEMM ops (cpp/src/kernels/cuda/: add, mul, unary, quantize, dequantize, concat,
reshape, permute, slice, global_avg_pool, max_pool2d, avg_pool2d, resize, layernorm, softmax, attention).

Two kinds of tests:
- coverage (no GPU needed, only a CUDA build): every configuration these kernels support is reported supported by
  ``Engine.cuda_coverage()``, and the one they do not (attention whose scores need more than 256 MiB of device
  scratch) is listed with its reason;
- device (skipped without a CUDA device): ``session(device="cuda")`` against the CPU session on hypothesis-drawn
  shapes; int8 outputs and pure copies bit-identical, float outputs within the bound documented next to each kernel.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert import quant
from wayvert.build import EngineBuilder, Tensor, ops
from wayvert.errors import BuildError

SEED = st.integers(0, 2**32 - 1)
GPU = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_gpu = pytest.mark.skipif(wayvert.cuda_device_count() == 0, reason="no CUDA device")

# The bounds documented in each kernel's header (rtol, atol relative to max(1, max |y|)).
EXACT = (0.0, 0.0)
ELEMENTWISE_FLOAT = (1e-5, 1e-6)    # add/unary with expf, tanhf, erff, erfcf
POOL_FLOAT = (1e-6, 1e-7)           # avg_pool2d float: same order, expected bit-identical
GAP_FLOAT = (1e-5, 1e-6)            # global_avg_pool float
RESIZE_FLOAT = (1e-6, 1e-6)         # bilinear float: uncontracted, expected bit-identical on x86-64
LAYERNORM = (1e-5, 1e-5)
SOFTMAX = (1e-5, 1e-6)
ATTENTION = (1e-5, 1e-5)


def _engine(b: EngineBuilder) -> wayvert.Engine:
    return wayvert.Engine.from_bytes(b.to_bytes())


def _i8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def _f32(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return (rng.normal(size=shape) * scale).astype(np.float32)


def _u8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def _data(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return {"int8": _i8, "float32": _f32, "uint8": _u8}[dtype](rng, shape)


def _assert_cuda_matches_cpu(b: EngineBuilder, inputs: dict[str, np.ndarray], bound: tuple[float, float] = EXACT) -> None:
    """The CUDA session's outputs equal the CPU session's: integer outputs bit for bit, float outputs within
    ``bound`` = (rtol, atol as a fraction of max(1, max |y|)); ``EXACT`` compares float bits too."""
    engine = _engine(b)
    assert engine.cuda_coverage()["unsupported_ops"] == []
    want = engine.session().run(inputs)
    gpu = engine.session(device="cuda")
    # A first run on other inputs leaves stale, nonzero values behind: an output element the kernel fails to write
    # (or an input the replayed graph fails to re-read) then shows up even where the right answer is 0.
    other = np.random.default_rng(12345)
    gpu.run({k: {"int8": _i8, "uint8": _u8, "float32": lambda r, s: _f32(r, s, 3.0)}[np.asarray(v).dtype.name](other, np.shape(v))
             for k, v in inputs.items()})
    got = gpu.run(inputs)
    assert list(got) == list(want)
    for name, w in want.items():
        g = got[name]
        assert g.dtype == w.dtype and g.shape == w.shape, name
        if w.dtype.kind != "f" or bound == EXACT:
            np.testing.assert_array_equal(g.view(np.uint8) if w.dtype.kind == "f" else g,
                                          w.view(np.uint8) if w.dtype.kind == "f" else w, err_msg=name)
            continue
        finite = w[np.isfinite(w)]
        mag = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
        np.testing.assert_allclose(g, w, rtol=bound[0], atol=bound[1] * mag, err_msg=name)


# ------------------------------------------------------------------------------------------------ builders
# Each returns (builder, inputs) for one op in one configuration; the coverage tests and the device tests share them.

def build_add(rng, shape, dtype, *, activation="none", lut=False, constant_b=False):
    b = EngineBuilder("add")
    if dtype == "float32":
        x = b.input("a", dtype, shape)
        c = b.constant("c", _f32(rng, shape)) if constant_b else b.input("c", dtype, shape)
        y = ops.add(b, x, c, activation=activation, name="y")
    else:
        x = b.input("a", dtype, shape, 0.05, int(rng.integers(-20, 20)))
        cdata = _i8(rng, shape)
        c = b.constant("c", cdata, 0.03, -3) if constant_b else b.input("c", dtype, shape, 0.03, -3)
        if lut:   # the sum at (0.04, 5) indexes a tanh table whose output is at (0.01, -2)
            f = 2**quant.SUM_FRACTION_BITS
            ma, sa = quant.quantize_multiplier(x.scale / 0.04 * f)
            mb, sb = quant.quantize_multiplier(c.scale / 0.04 * f)
            table = b.constant("lut", ops.activation_lut("tanh", 0.04, 5, 0.01, -2))
            (y,) = b.op("add", [x, c, table], [Tensor("y", "int8", shape, 0.01, -2)],
                        dict(a_multiplier=ma, a_shift=sa, b_multiplier=mb, b_shift=sb, lut_zero_point=5))
        else:
            y = ops.add(b, x, c, activation=activation, out_scale=0.06, out_zero_point=4, name="y")
    b.output(y)
    inputs = {"a": _data(rng, dtype, shape)}
    if not constant_b:
        inputs["c"] = _data(rng, dtype, shape)
    return b, inputs


def build_mul(rng, shape, bshape, dtype, constant_b=False):
    b = EngineBuilder("mul")
    cdata = _data(rng, dtype, bshape)
    if dtype == "float32":
        c = b.constant("c", cdata) if constant_b else b.input("c", dtype, bshape)
        y = ops.mul(b, b.input("a", dtype, shape), c, name="y")
    else:
        c = b.constant("c", cdata, 0.01, 9) if constant_b else b.input("c", dtype, bshape, 0.01, 9)
        y = ops.mul(b, b.input("a", dtype, shape, 0.03, -4), c, out_scale=0.002, out_zero_point=1, name="y")
    b.output(y)
    inputs = {"a": _data(rng, dtype, shape)}
    if not constant_b:
        inputs["c"] = cdata
    return b, inputs


def build_unary(rng, shape, dtype, function):
    b = EngineBuilder("unary")
    if dtype == "float32":
        y = ops.unary(b, b.input("x", dtype, shape), function, name="y")
    else:
        y = ops.unary(b, b.input("x", dtype, shape, 0.05, 3), function, out_scale=0.02, out_zero_point=-7, name="y")
    b.output(y)
    return b, {"x": _f32(rng, shape, 3.0) if dtype == "float32" else _i8(rng, shape)}


def build_quantize(rng, shape, scale=0.05, zero=-3):
    b = EngineBuilder("quantize")
    b.output(ops.quantize(b, b.input("x", "float32", shape), scale, zero, name="y"))
    x = _f32(rng, shape, 4.0)
    flat = x.reshape(-1)   # ties at half steps and saturation both ways (sessions refuse non-finite inputs)
    special = np.array([0.5 * scale, -0.5 * scale, 2.5 * scale, -1.5 * scale, 1e9, -1e9, 1024.5 * scale], dtype=np.float32)
    flat[: min(flat.size, special.size)] = special[: flat.size]
    return b, {"x": x}


def build_dequantize(rng, shape):
    b = EngineBuilder("dequantize")
    b.output(ops.dequantize(b, b.input("x", "int8", shape, 0.037, 11), name="y"))
    return b, {"x": _i8(rng, shape)}


def build_quantize_bytes(rng, shape, per_channel):
    b = EngineBuilder("quantize_bytes")
    channels = shape[1] if per_channel else 1
    a = rng.uniform(0.005, 0.02, size=channels)
    c = rng.uniform(-1.5, 1.5, size=channels)
    b.output(ops.quantize_bytes(b, b.input("x", "uint8", shape, 1.0), a, c, 0.02, -5, name="y"))
    return b, {"x": _u8(rng, shape)}


def build_requantize(rng, shape):
    b = EngineBuilder("requantize")
    b.output(ops.requantize(b, b.input("x", "int8", shape, 0.05, 7), 0.031, -9, name="y"))
    return b, {"x": _i8(rng, shape)}


def build_concat(rng, shapes, axis, dtype):
    b = EngineBuilder("concat")
    xs = [b.input(f"x{i}", dtype, s, 0.1 if dtype != "float32" else 0.0) for i, s in enumerate(shapes)]
    b.output(ops.concat(b, xs, axis, name="y"))
    return b, {f"x{i}": _data(rng, dtype, s) for i, s in enumerate(shapes)}


def build_reshape(rng, shape, new_shape, dtype):
    b = EngineBuilder("reshape")
    b.output(ops.reshape(b, b.input("x", dtype, shape, 0.1 if dtype != "float32" else 0.0), new_shape, name="y"))
    return b, {"x": _data(rng, dtype, shape)}


def build_permute(rng, shape, perm, dtype):
    b = EngineBuilder("permute")
    b.output(ops.permute(b, b.input("x", dtype, shape, 0.1 if dtype != "float32" else 0.0), perm, name="y"))
    return b, {"x": _data(rng, dtype, shape)}


def build_slice(rng, shape, axis, start, stop, step, dtype):
    b = EngineBuilder("slice")
    b.output(ops.slice(b, b.input("x", dtype, shape, 0.1 if dtype != "float32" else 0.0), axis, start, stop, step, name="y"))
    return b, {"x": _data(rng, dtype, shape)}


def build_global_avg_pool(rng, shape, dtype, keepdims):
    b = EngineBuilder("gap")
    if dtype == "float32":
        y = ops.global_avg_pool(b, b.input("x", dtype, shape), keepdims=keepdims, name="y")
    else:
        y = ops.global_avg_pool(b, b.input("x", dtype, shape, 0.05, 6), out_scale=0.02, out_zero_point=-3,
                                keepdims=keepdims, name="y")
    b.output(y)
    return b, {"x": _data(rng, dtype, shape)}


def build_pool(rng, op, shape, dtype, **kw):
    b = EngineBuilder(op)
    x = b.input("x", dtype, shape, 0.05 if dtype == "int8" else 0.0, 9 if dtype == "int8" else 0)
    b.output((ops.max_pool2d if op == "max_pool2d" else ops.avg_pool2d)(b, x, name="y", **kw))
    return b, {"x": _data(rng, dtype, shape)}


def build_resize(rng, shape, size, dtype, mode, align_corners=False):
    b = EngineBuilder("resize")
    x = b.input("x", dtype, shape, 0.05 if dtype != "float32" else 0.0, -6 if dtype == "int8" else 0)
    b.output(ops.resize(b, x, size, mode, align_corners, name="y"))
    return b, {"x": _data(rng, dtype, shape)}


def build_layernorm(rng, shape, eps=1e-5):
    b = EngineBuilder("layernorm")
    d = shape[-1]
    b.output(ops.layernorm(b, b.input("x", "float32", shape), _f32(rng, d) + 1, _f32(rng, d, 0.5), eps, name="y"))
    return b, {"x": _f32(rng, shape, 2.0) + np.float32(rng.normal())}


def build_softmax(rng, shape, spread=3.0):
    b = EngineBuilder("softmax")
    b.output(ops.softmax(b, b.input("x", "float32", shape), name="y"))
    return b, {"x": _f32(rng, shape, spread)}


def build_attention(rng, batch, queries, keys, heads, head_dim):
    b = EngineBuilder("attention")
    d = heads * head_dim
    q, k, v = (b.input(n, "float32", (batch, s, d)) for n, s in (("q", queries), ("k", keys), ("v", keys)))
    b.output(ops.attention(b, q, k, v, heads, name="y"))
    return b, {"q": _f32(rng, (batch, queries, d)), "k": _f32(rng, (batch, keys, d)), "v": _f32(rng, (batch, keys, d))}


def build_nhwc_add(rng):
    """conv -> add <- conv -> conv on int8 images: plan/layout.cpp keeps the add's operands and result NHWC."""
    b = EngineBuilder("nhwc_add")
    x = b.input("x", "int8", (1, 4, 6, 5), 0.05, 2)

    def conv(t, co, name):
        w = _i8(rng, (co, t.shape[1], 3, 3))
        return ops.conv2d(b, t, w, None, padding=1, weight_scales=np.full(co, 0.01), out_scale=0.1, name=name)

    s = ops.add(b, conv(x, 8, "c1"), conv(x, 8, "c2"), out_scale=0.15, out_zero_point=-1, name="s")
    b.output(conv(s, 4, "c3"))
    return b, {"x": _i8(rng, x.shape)}


R = np.random.default_rng(7)
# Every op these kernels run, in every configuration the CPU accepts (the coverage catalogue).
SUPPORTED: dict[str, Callable[[], tuple[EngineBuilder, dict[str, Any]]]] = {
    "add_int8": lambda: build_add(R, (2, 3, 4, 5), "int8"),
    "add_int8_relu": lambda: build_add(R, (2, 3, 4, 5), "int8", activation="relu"),
    "add_int8_lut": lambda: build_add(R, (3, 7), "int8", lut=True),
    "add_int8_constant": lambda: build_add(R, (1, 6, 8), "int8", constant_b=True),
    **{f"add_float32_{a}": (lambda a=a: build_add(R, (2, 9), "float32", activation=a))
       for a in ("none", "relu", "relu6", "silu", "gelu")},
    "mul_int8": lambda: build_mul(R, (2, 3, 4), (1, 3, 1), "int8"),
    "mul_float32": lambda: build_mul(R, (2, 3, 4), (2, 1, 4), "float32"),
    "mul_int8_constant_per_channel": lambda: build_mul(R, (1, 5, 3, 7), (1, 5, 1, 1), "int8", constant_b=True),
    **{f"unary_{d}_{f}": (lambda d=d, f=f: build_unary(R, (2, 5), d, f))
       for d in ("int8", "float32") for f in sorted(ops.UNARY_FUNCTIONS)},
    "quantize_float32": lambda: build_quantize(R, (2, 11)),
    "quantize_uint8": lambda: build_quantize_bytes(R, (1, 3, 4, 4), False),
    "quantize_uint8_per_channel": lambda: build_quantize_bytes(R, (2, 3, 4, 4), True),
    "quantize_int8": lambda: build_requantize(R, (5, 5)),
    "dequantize": lambda: build_dequantize(R, (3, 4)),
    **{f"concat_{d}": (lambda d=d: build_concat(R, [(2, 3, 4), (2, 5, 4)], 1, d)) for d in ("int8", "float32", "uint8")},
    **{f"reshape_{d}": (lambda d=d: build_reshape(R, (2, 3, 4), (6, 4), d)) for d in ("int8", "float32")},
    **{f"permute_{d}": (lambda d=d: build_permute(R, (2, 3, 4, 5), (0, 2, 3, 1), d)) for d in ("int8", "float32")},
    **{f"slice_{d}": (lambda d=d: build_slice(R, (2, 9, 4), 1, 1, 8, 3, d)) for d in ("int8", "float32", "uint8")},
    **{f"global_avg_pool_{d}_{k}": (lambda d=d, k=k: build_global_avg_pool(R, (2, 3, 5, 7), d, k))
       for d in ("int8", "float32") for k in (False, True)},
    **{f"{op}_{d}": (lambda op=op, d=d: build_pool(R, op, (1, 2, 7, 7), d, kernel=3, stride=2, padding=(1, 1, 1, 1),
                                                   ceil_mode=True))
       for op in ("max_pool2d", "avg_pool2d") for d in ("int8", "float32")},
    "max_pool2d_dilated": lambda: build_pool(R, "max_pool2d", (1, 2, 9, 9), "int8", kernel=3, dilation=2),
    "avg_pool2d_include_pad": lambda: build_pool(R, "avg_pool2d", (1, 2, 6, 6), "float32", kernel=3, stride=1,
                                                 padding=(1, 1, 1, 1), count_include_pad=True),
    **{f"resize_nearest_{d}": (lambda d=d: build_resize(R, (1, 2, 3, 5), (7, 4), d, "nearest"))
       for d in ("int8", "float32", "uint8")},
    **{f"resize_bilinear_{d}_{a}": (lambda d=d, a=a: build_resize(R, (1, 2, 3, 5), (7, 4), d, "bilinear", a))
       for d in ("int8", "float32") for a in (False, True)},
    "layernorm": lambda: build_layernorm(R, (3, 16)),
    "softmax": lambda: build_softmax(R, (3, 10)),
    "attention": lambda: build_attention(R, 1, 4, 6, 2, 8),
    "attention_scores_in_scratch": lambda: build_attention(R, 1, 2, 12300, 1, 8),
}


# ------------------------------------------------------------------------------------------------ coverage

def _coverage(b: EngineBuilder) -> dict[str, Any]:
    cov = _engine(b).cuda_coverage()
    if not cov["built"]:
        pytest.skip("this build of wayvert has no CUDA executor")
    return cov


@pytest.mark.parametrize("config", sorted(SUPPORTED))
def test_cuda_coverage_reports_every_supported_configuration_as_supported(config):
    b, _ = SUPPORTED[config]()
    assert _coverage(b)["unsupported_ops"] == []


def test_cuda_coverage_reports_the_add_between_nhwc_convolutions_as_supported():
    b, _ = build_nhwc_add(np.random.default_rng(1))
    gaps = _coverage(b)["unsupported_ops"]
    assert [g for g in gaps if g["op"] == "add"] == []


def test_cuda_coverage_lists_attention_whose_scores_overflow_the_scratch_with_its_reason():
    # 12300 keys overflow shared memory; 5500 x 12300 scores need 271 MB of scratch
    b, _ = build_attention(np.random.default_rng(0), 1, 5500, 12300, 1, 1)
    gaps = _coverage(b)["unsupported_ops"]
    assert [(g["index"], g["op"]) for g in gaps] == [(0, "attention")]
    assert "256 MiB" in gaps[0]["reason"] and "12300 keys" in gaps[0]["reason"]


# ------------------------------------------------------------------------------------------------ device

@needs_gpu
@pytest.mark.parametrize("config", sorted(SUPPORTED))
def test_cuda_matches_cpu_on_each_supported_configuration(config):
    b, inputs = SUPPORTED[config]()
    name = config.split("_")[0]
    float_bound = {"add": ELEMENTWISE_FLOAT, "unary": ELEMENTWISE_FLOAT, "avg": POOL_FLOAT, "global": GAP_FLOAT,
                   "resize": RESIZE_FLOAT, "layernorm": LAYERNORM, "softmax": SOFTMAX, "attention": ATTENTION}
    _assert_cuda_matches_cpu(b, inputs, float_bound.get(name, EXACT))


def _shape(data, rank_min=1, rank_max=4, dim_max=9):
    rank = data.draw(st.integers(rank_min, rank_max), label="rank")
    return tuple(data.draw(st.lists(st.integers(1, dim_max), min_size=rank, max_size=rank), label="shape"))


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]),
       activation=st.sampled_from(["none", "relu", "relu6", "silu", "gelu"]), lut=st.booleans(), constant_b=st.booleans())
def test_cuda_add_matches_cpu(data, seed, dtype, activation, lut, constant_b):
    if dtype == "int8" and activation in ("silu", "gelu"):
        activation = "relu6"
    b, inputs = build_add(np.random.default_rng(seed), _shape(data, dim_max=40), dtype, activation=activation,
                          lut=lut and dtype == "int8", constant_b=constant_b)
    _assert_cuda_matches_cpu(b, inputs, ELEMENTWISE_FLOAT)


@needs_gpu
def test_cuda_add_between_nhwc_convolutions_matches_cpu():
    b, inputs = build_nhwc_add(np.random.default_rng(3))
    if _engine(b).cuda_coverage()["unsupported_ops"]:
        pytest.skip("the convolutions of this engine have no CUDA kernel in this build")
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]), constant_b=st.booleans())
def test_cuda_mul_broadcasts_like_cpu(data, seed, dtype, constant_b):
    shape = _shape(data, 1, 6, 7)
    mask = data.draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)), label="broadcast")
    bshape = tuple(1 if m else d for m, d in zip(mask, shape))
    b, inputs = build_mul(np.random.default_rng(seed), shape, bshape, dtype, constant_b)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]),
       function=st.sampled_from(sorted(ops.UNARY_FUNCTIONS)))
def test_cuda_unary_matches_cpu(data, seed, dtype, function):
    b, inputs = build_unary(np.random.default_rng(seed), _shape(data, dim_max=50), dtype, function)
    _assert_cuda_matches_cpu(b, inputs, ELEMENTWISE_FLOAT)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, kind=st.sampled_from(["float32", "uint8", "uint8_per_channel", "int8", "dequantize"]))
def test_cuda_quantize_and_dequantize_are_bit_identical(data, seed, kind):
    rng = np.random.default_rng(seed)
    if kind.startswith("uint8"):
        shape = _shape(data, 2, 4, 20)
        b, inputs = build_quantize_bytes(rng, shape, kind == "uint8_per_channel")
    else:
        shape = _shape(data, dim_max=40)
        build = {"float32": build_quantize, "int8": build_requantize, "dequantize": build_dequantize}[kind]
        b, inputs = build(rng, shape)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32", "uint8"]))
def test_cuda_concat_is_a_byte_copy(data, seed, dtype):
    shape = _shape(data, 1, 4, 6)
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    extents = data.draw(st.lists(st.integers(1, 7), min_size=1, max_size=5), label="extents")
    shapes = [tuple(e if d == axis else s for d, s in enumerate(shape)) for e in extents]
    b, inputs = build_concat(np.random.default_rng(seed), shapes, axis, dtype)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]))
def test_cuda_reshape_is_a_byte_copy(data, seed, dtype):
    shape = _shape(data, 1, 4, 8)
    b, inputs = build_reshape(np.random.default_rng(seed), shape, (-1,), dtype)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]))
def test_cuda_permute_is_a_byte_copy(data, seed, dtype):
    shape = _shape(data, 1, 6, 6)
    perm = data.draw(st.permutations(range(len(shape))), label="perm")
    b, inputs = build_permute(np.random.default_rng(seed), shape, perm, dtype)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]))
def test_cuda_permute_transposes_large_planes_through_tiles(data, seed, dtype):
    """Dims past the 32 x 32 tile, with batch dims around the transposed pair (the tiled path)."""
    shape = (data.draw(st.integers(1, 3), label="batch"), data.draw(st.integers(1, 80), label="C"),
             data.draw(st.integers(1, 70), label="H"), data.draw(st.integers(1, 3), label="W"))
    perm = data.draw(st.sampled_from([(0, 2, 3, 1), (0, 3, 1, 2), (2, 1, 0, 3), (1, 0, 3, 2), (3, 2, 1, 0)]), label="perm")
    b, inputs = build_permute(np.random.default_rng(seed), shape, perm, dtype)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32", "uint8"]))
def test_cuda_slice_is_a_byte_copy(data, seed, dtype):
    shape = _shape(data, 1, 4, 12)
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    n = shape[axis]
    start = data.draw(st.integers(0, n - 1), label="start")
    stop = data.draw(st.integers(start + 1, n), label="stop")
    step = data.draw(st.integers(1, 4), label="step")
    b, inputs = build_slice(np.random.default_rng(seed), shape, axis, start, stop, step, dtype)
    _assert_cuda_matches_cpu(b, inputs)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32"]), keepdims=st.booleans())
def test_cuda_global_avg_pool_matches_cpu(data, seed, dtype, keepdims):
    n, c = data.draw(st.integers(1, 3), label="N"), data.draw(st.integers(1, 40), label="C")
    h, w = data.draw(st.integers(1, 40), label="H"), data.draw(st.integers(1, 40), label="W")
    b, inputs = build_global_avg_pool(np.random.default_rng(seed), (n, c, h, w), dtype, keepdims)
    _assert_cuda_matches_cpu(b, inputs, GAP_FLOAT)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, op=st.sampled_from(["max_pool2d", "avg_pool2d"]),
       dtype=st.sampled_from(["int8", "float32"]))
def test_cuda_pool2d_matches_cpu(data, seed, op, dtype):
    kh, kw = data.draw(st.integers(1, 4), label="kh"), data.draw(st.integers(1, 4), label="kw")
    sh, sw = data.draw(st.integers(1, 3), label="sh"), data.draw(st.integers(1, 3), label="sw")
    dh, dw = (data.draw(st.integers(1, 2), label=l) for l in ("dh", "dw")) if op == "max_pool2d" else (1, 1)
    pads = tuple(data.draw(st.integers(0, k * d - 1), label=l) for k, d, l in
                 ((kh, dh, "pt"), (kw, dw, "pl"), (kh, dh, "pb"), (kw, dw, "pr")))
    shape = (data.draw(st.integers(1, 2), label="N"), data.draw(st.integers(1, 4), label="C"),
             data.draw(st.integers(1, 14), label="H"), data.draw(st.integers(1, 14), label="W"))
    kw_args: dict[str, Any] = dict(kernel=(kh, kw), stride=(sh, sw), padding=pads, ceil_mode=data.draw(st.booleans()))
    if op == "max_pool2d":
        kw_args["dilation"] = (dh, dw)
    else:
        kw_args["count_include_pad"] = data.draw(st.booleans(), label="count_include_pad")
    try:
        b, inputs = build_pool(np.random.default_rng(seed), op, shape, dtype, **kw_args)
    except BuildError:
        assume(False)
    _assert_cuda_matches_cpu(b, inputs, POOL_FLOAT)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["int8", "float32", "uint8"]),
       mode=st.sampled_from(["nearest", "bilinear"]), align_corners=st.booleans())
def test_cuda_resize_matches_cpu(data, seed, dtype, mode, align_corners):
    if mode == "bilinear" and dtype == "uint8":
        dtype = "int8"
    shape = (data.draw(st.integers(1, 2), label="N"), data.draw(st.integers(1, 3), label="C"),
             data.draw(st.integers(1, 12), label="H"), data.draw(st.integers(1, 12), label="W"))
    size = (data.draw(st.integers(1, 30), label="Ho"), data.draw(st.integers(1, 30), label="Wo"))
    b, inputs = build_resize(np.random.default_rng(seed), shape, size, dtype, mode, align_corners and mode == "bilinear")
    _assert_cuda_matches_cpu(b, inputs, RESIZE_FLOAT)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, eps=st.sampled_from([1e-5, 1e-3]))
def test_cuda_layernorm_within_documented_bound(data, seed, eps):
    shape = _shape(data, 1, 3, 6)[:-1] + (data.draw(st.integers(1, 300), label="D"),)
    b, inputs = build_layernorm(np.random.default_rng(seed), shape, eps)
    _assert_cuda_matches_cpu(b, inputs, LAYERNORM)


@needs_gpu
@GPU
@given(data=st.data(), seed=SEED, spread=st.sampled_from([0.1, 3.0, 30.0]))
def test_cuda_softmax_within_documented_bound(data, seed, spread):
    shape = _shape(data, 1, 3, 6)[:-1] + (data.draw(st.integers(1, 400), label="D"),)
    b, inputs = build_softmax(np.random.default_rng(seed), shape, spread)
    _assert_cuda_matches_cpu(b, inputs, SOFTMAX)


@needs_gpu
@GPU
@given(seed=SEED, batch=st.integers(1, 2), queries=st.integers(1, 20), keys=st.integers(1, 70),
       heads=st.sampled_from([1, 2, 4, 8]), head_dim=st.sampled_from([1, 8, 16, 32, 64, 33]))
def test_cuda_attention_within_documented_bound(seed, batch, queries, keys, heads, head_dim):
    b, inputs = build_attention(np.random.default_rng(seed), batch, queries, keys, heads, head_dim)
    _assert_cuda_matches_cpu(b, inputs, ATTENTION)


@needs_gpu
def test_cuda_session_replays_with_fresh_inputs():
    """The captured graph reads the staged inputs of every run, not those of the first."""
    rng = np.random.default_rng(5)
    b, _ = build_softmax(rng, (4, 33))
    engine = _engine(b)
    cpu, gpu = engine.session(), engine.session(device="cuda")
    for _ in range(3):
        x = {"x": _f32(rng, (4, 33), 3.0)}
        np.testing.assert_allclose(gpu.run(x)["y"], cpu.run(x)["y"], rtol=SOFTMAX[0], atol=SOFTMAX[1])
