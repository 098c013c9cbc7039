"""The CUDA kernels of the GEMM family (conv2d, linear, matmul; cpp/src/kernels/cuda/).

Coverage (any machine with a CUDA build, no GPU needed): every configuration the CPU kernels accept is reported
supported by ``Engine.cuda_coverage()`` — drawn shapes, strides, groups, padding, dilation, epilogues, and the
NHWC layouts plan/layout.cpp gives to int8 values flowing between convolutions.

Outputs (a CUDA device only): ``session(device="cuda")`` equals ``session()`` bit for bit for int8, on both inner
loops of the int8 implicit GEMM (tensor-core MMA, the default, and dp4a, chosen by WAYVERT_CUDA_IGEMM=dp4a when the
engine's CUDA kernels are created), with and without split-K. Float32 is checked against the documented bound
everywhere, |y_cuda - y_cpu| <= 1e-5 * (sum_k |x_k w_k| + |bias| + |residual|) + 1e-6 before the activation (slope at
most 1.13 for GELU), and bit for bit where the kernels promise it: conv2d and linear without silu/gelu (exp, erf)
against the CPU's FMA GEMM (any CPU ISA but "scalar"), matmul against an x86-64 CPU (its loop is not contracted).
"""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert.build import EngineBuilder, Tensor, ops

# ops.activation_fn("silu") evaluates exp(-x) for very negative LUT codes; the overflow to inf is harmless (-> -0).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")

COVERAGE = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ON_DEVICE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_gpu = pytest.mark.skipif(wayvert.cuda_device_count() == 0, reason="no CUDA device")

SEED = st.integers(0, 2**32 - 1)
ZERO = st.integers(-128, 127)
INT8_ACTIVATIONS = st.sampled_from(["none", "relu", "relu6", "silu", "gelu"])
FLOAT_ACTIVATIONS = st.sampled_from(["none", "relu", "relu6", "silu", "gelu"])
IGEMM_VARIANTS = st.sampled_from(["mma", "dp4a"])


# ------------------------------------------------------------------------------------------------ helpers
def _engine(b: EngineBuilder) -> wayvert.Engine:
    return wayvert.Engine.from_bytes(b.to_bytes())


def _assert_all_supported(b: EngineBuilder) -> None:
    cov = _engine(b).cuda_coverage()
    if not cov["built"]:
        pytest.skip("this build of wayvert has no CUDA executor")
    assert cov["unsupported_ops"] == [], cov["unsupported_ops"]


@contextlib.contextmanager
def _igemm_variant(name: str) -> Iterator[None]:
    """The int8 implicit GEMM's inner loop for engines whose CUDA kernels are created inside the block."""
    old = os.environ.get("WAYVERT_CUDA_IGEMM")
    os.environ["WAYVERT_CUDA_IGEMM"] = name
    try:
        yield
    finally:
        if old is None:
            del os.environ["WAYVERT_CUDA_IGEMM"]
        else:
            os.environ["WAYVERT_CUDA_IGEMM"] = old


def _run_both(b: EngineBuilder, inputs: dict[str, np.ndarray], variant: str = "mma") -> tuple[dict, dict]:
    """(CPU outputs, CUDA outputs) of one engine; the CUDA session is created with the given int8 inner loop."""
    engine = _engine(b)
    cpu = engine.session().run(inputs)
    with _igemm_variant(variant):
        gpu_session = engine.session(device="cuda")
    gpu = gpu_session.run(inputs)
    return cpu, gpu


def _assert_bit_identical(b: EngineBuilder, inputs: dict[str, np.ndarray], variant: str = "mma") -> None:
    cpu, gpu = _run_both(b, inputs, variant)
    assert list(cpu) == list(gpu)
    for name, want in cpu.items():
        got = gpu[name]
        assert got.dtype == want.dtype and got.shape == want.shape, name
        diff = np.argwhere(got != want)
        assert len(diff) == 0, (f"{name} ({variant}): {len(diff)} of {want.size} elements differ; first at "
                                f"{tuple(diff[0])}: cuda {got[tuple(diff[0])]}, cpu {want[tuple(diff[0])]}")


FMA_CPU = wayvert.cpu_isa() != "scalar"  # the CPU's float GEMM chains FMAs along k, as the CUDA kernels do
X86_64 = platform.machine() in ("x86_64", "AMD64")  # kernels/cpu/matmul.cpp's loop is compiled without FMA there


def _assert_within_bound(got: np.ndarray, want: np.ndarray, magnitude: np.ndarray, exact: bool = False) -> None:
    """|got - want| <= 1.13e-5 * magnitude + 1e-6 + 4 ulp(|want|): the float bound of the module docstring."""
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
    tol = 1.13e-5 * magnitude.astype(np.float64) + 1e-6 + 4 * np.finfo(np.float32).eps * np.abs(want.astype(np.float64))
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), f"at {worst}: cuda {got[worst]}, cpu {want[worst]}, bound {tol[worst]}"
    if exact:
        diff = np.argwhere(got.view(np.uint32) != want.view(np.uint32))
        assert len(diff) == 0, (f"{len(diff)} of {want.size} float outputs are not bit-identical; first at "
                                f"{tuple(diff[0])}: cuda {got[tuple(diff[0])]!r}, cpu {want[tuple(diff[0])]!r}")


def _int8(rng: np.random.Generator, shape: tuple[int, ...], extremes: float = 0.1) -> np.ndarray:
    """Uniform int8 values with a share ``extremes`` of them forced to -128 or 127."""
    a = rng.integers(-128, 128, size=shape)
    mask = rng.random(shape) < extremes
    return np.where(mask, rng.choice(np.array([-128, 127]), size=shape), a).astype(np.int8)


def _int8_epilogue(data: st.DataObject, rng: np.random.Generator, x: Tensor, co: int, k: int,
                   activation: str | None = None) -> dict:
    """Per-channel weight scales, an out_scale that keeps typical outputs off the rails, the activation."""
    w_scales = rng.uniform(0.002, 0.05, size=co)
    typical = np.sqrt(k) * 74.0 * np.sqrt(74.0**2 + x.zero_point**2) * x.scale * float(w_scales.mean())
    out_scale = float(typical / 40.0 * data.draw(st.floats(0.25, 4.0), label="out_scale_factor"))
    act = activation if activation is not None else data.draw(INT8_ACTIVATIONS, label="activation")
    kw: dict = dict(weight_scales=w_scales, out_scale=out_scale, out_zero_point=data.draw(ZERO, label="out_zero"),
                    activation=act)
    if act in ("silu", "gelu"):  # the activation is a LUT on the pre-activation code
        kw["pre_scale"] = out_scale * data.draw(st.floats(0.3, 3.0), label="pre_scale_factor")
        kw["pre_zero_point"] = data.draw(ZERO, label="pre_zero")
    return kw


def _int8_bias(data: st.DataObject, rng: np.random.Generator, co: int, k: int, x_zero: int) -> np.ndarray | None:
    if not data.draw(st.booleans(), label="bias"):
        return None
    bound = int(2 * np.sqrt(k) * 74.0 * np.sqrt(74.0**2 + x_zero**2))
    return rng.integers(-bound, bound + 1, size=co).astype(np.int32)


def _draw_int8_conv(data: st.DataObject, rng: np.random.Generator) -> tuple[EngineBuilder, dict[str, np.ndarray]]:
    """One int8 conv2d (NCHW in and out, as graph input and output) of any configuration the CPU accepts."""
    n = data.draw(st.integers(1, 2), label="batch")
    kind = data.draw(st.sampled_from(["depthwise", "grouped", "dense", "wide"]), label="kind")
    if kind == "depthwise":
        c = data.draw(st.integers(1, 70), label="channels")
        groups, cig, cog = c, 1, data.draw(st.integers(1, 2), label="multiplier")
    elif kind == "grouped":
        groups = data.draw(st.integers(2, 4), label="groups")
        cig, cog = data.draw(st.integers(1, 12), label="cig"), data.draw(st.integers(1, 40), label="cog")
    elif kind == "dense":
        groups, cig, cog = 1, data.draw(st.integers(1, 20), label="cin"), data.draw(st.integers(1, 80), label="cout")
    else:  # more than one tile of output channels and of K
        groups, cig, cog = 1, data.draw(st.integers(60, 96), label="cin"), data.draw(st.integers(65, 140), label="cout")
    c, co = groups * cig, groups * cog
    kh, kw = data.draw(st.integers(1, 5), label="kh"), data.draw(st.integers(1, 5), label="kw")
    sh, sw = data.draw(st.integers(1, 4), label="sh"), data.draw(st.integers(1, 4), label="sw")
    dh, dw = data.draw(st.integers(1, 2), label="dh"), data.draw(st.integers(1, 2), label="dw")
    pt, pb = (data.draw(st.integers(0, min(kh * dh - 1, 4)), label=l) for l in ("pad_top", "pad_bottom"))
    pl, pr = (data.draw(st.integers(0, min(kw * dw - 1, 4)), label=l) for l in ("pad_left", "pad_right"))
    hmin, wmin = max(1, dh * (kh - 1) + 1 - pt - pb), max(1, dw * (kw - 1) + 1 - pl - pr)
    h = data.draw(st.integers(hmin, hmin + 12), label="H")
    w = data.draw(st.integers(wmin, wmin + 20), label="W")
    ho, wo = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1

    b = EngineBuilder("cuda_conv")
    x = b.input("x", "int8", (n, c, h, w), scale=float(rng.uniform(0.005, 0.1)), zero_point=data.draw(ZERO, label="x_zero"))
    kwargs = _int8_epilogue(data, rng, x, co, cig * kh * kw)
    res = None
    if data.draw(st.booleans(), label="residual"):
        scale = kwargs["out_scale"] * data.draw(st.floats(0.1, 10.0), label="residual_scale_factor")
        res = b.input("res", "int8", (n, co, ho, wo), scale=scale, zero_point=data.draw(ZERO, label="residual_zero"))
    y = ops.conv2d(b, x, _int8(rng, (co, cig, kh, kw)), _int8_bias(data, rng, co, cig * kh * kw, x.zero_point),
                   stride=(sh, sw), padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=groups, residual=res, **kwargs)
    b.output(y)
    inputs = {"x": _int8(rng, x.shape)}
    if res is not None:
        inputs["res"] = _int8(rng, res.shape)
    return b, inputs


def _draw_int8_chain(data: st.DataObject, rng: np.random.Generator,
                     epilogue: str | None = None) -> tuple[EngineBuilder, dict[str, np.ndarray]]:
    """x -> conv (NCHW in, NHWC out) -> conv with a residual (NHWC in, out and residual; depthwise at times)
    -> conv (NHWC in, NCHW out): the layouts plan/layout.cpp chooses for int8 values between convolutions."""
    n = data.draw(st.integers(1, 3), label="batch")
    c = data.draw(st.sampled_from([3, 4, 5, 8]), label="image_channels")
    h, w = data.draw(st.integers(4, 20), label="H"), data.draw(st.integers(4, 24), label="W")
    c1 = data.draw(st.sampled_from([4, 8, 12, 16, 24, 32, 48, 64, 72]), label="c1")
    b = EngineBuilder("cuda_chain")
    x = b.input("x", "int8", (n, c, h, w), scale=0.02, zero_point=data.draw(ZERO, label="x_zero"))
    k0, s0 = data.draw(st.sampled_from([1, 3, 5, 7]), label="stem_kernel"), data.draw(st.integers(1, 2), label="stem_stride")
    a = ops.conv2d(b, x, _int8(rng, (c1, c, k0, k0)), _int8_bias(data, rng, c1, c * k0 * k0, x.zero_point),
                   stride=s0, padding=k0 // 2, name="stem", **_int8_epilogue(data, rng, x, c1, c * k0 * k0, "relu"))
    depthwise = data.draw(st.booleans(), label="middle_depthwise")
    k1, d1 = data.draw(st.sampled_from([1, 3, 5]), label="middle_kernel"), data.draw(st.integers(1, 2), label="middle_dilation")
    g1 = c1 if depthwise else data.draw(st.sampled_from([1, 2, 4]), label="middle_groups")
    k_mid = (c1 // g1) * k1 * k1
    mid_kw = _int8_epilogue(data, rng, a, c1, k_mid, epilogue)
    mid_kw["out_scale"] = a.scale * data.draw(st.floats(0.5, 2.0), label="middle_scale")
    if "pre_scale" in mid_kw:
        mid_kw["pre_scale"] = mid_kw["out_scale"]
    m = ops.conv2d(b, a, _int8(rng, (c1, c1 // g1, k1, k1)), _int8_bias(data, rng, c1, k_mid, a.zero_point),
                   padding=d1 * (k1 // 2), dilation=d1, groups=g1, residual=a, name="middle", **mid_kw)
    c2 = data.draw(st.integers(1, 70), label="c2")
    k2 = data.draw(st.sampled_from([1, 3]), label="head_kernel")
    y = ops.conv2d(b, m, _int8(rng, (c2, c1, k2, k2)), _int8_bias(data, rng, c2, c1 * k2 * k2, m.zero_point),
                   stride=data.draw(st.integers(1, 2), label="head_stride"), padding=k2 // 2, name="head",
                   **_int8_epilogue(data, rng, m, c2, c1 * k2 * k2))
    b.output(y)
    return b, {"x": _int8(rng, x.shape)}


def _draw_int8_linear(data: st.DataObject, rng: np.random.Generator) -> tuple[EngineBuilder, dict[str, np.ndarray]]:
    k = data.draw(st.integers(1, 300), label="K")
    co = data.draw(st.integers(1, 150), label="Co")
    lead = data.draw(st.sampled_from([(1,), (2,), (7,), (65,), (1, 3), (2, 5), (3, 50)]), label="leading_dims")
    b = EngineBuilder("cuda_linear")
    x = b.input("x", "int8", (*lead, k), scale=float(rng.uniform(0.005, 0.1)), zero_point=data.draw(ZERO, label="x_zero"))
    kwargs = _int8_epilogue(data, rng, x, co, k)
    res = None
    if data.draw(st.booleans(), label="residual"):
        res = b.input("res", "int8", (*lead, co), scale=kwargs["out_scale"] * 2.0, zero_point=data.draw(ZERO, label="rz"))
    y = ops.linear(b, x, _int8(rng, (co, k)), _int8_bias(data, rng, co, k, x.zero_point), residual=res, **kwargs)
    b.output(y)
    inputs = {"x": _int8(rng, x.shape)}
    if res is not None:
        inputs["res"] = _int8(rng, res.shape)
    return b, inputs


def _float_conv(x_shape: tuple[int, ...], weight: np.ndarray, bias: np.ndarray | None, residual: bool,
                geometry: dict, activation: str) -> tuple[EngineBuilder, tuple[int, ...]]:
    """A float32 conv2d engine (inputs "x" and, with a residual, "res") and its output shape."""
    probe = EngineBuilder("shape")
    yshape = tuple(ops.conv2d(probe, probe.input("x", "float32", x_shape), weight, **geometry).shape)
    b = EngineBuilder("cuda_float_conv")
    x = b.input("x", "float32", x_shape)
    res = b.input("res", "float32", yshape) if residual else None
    b.output(ops.conv2d(b, x, weight, bias, residual=res, activation=activation, **geometry))
    return b, yshape


def _resnet_like(rng: np.random.Generator, n: int = 3, h: int = 32, w: int = 64) -> tuple[EngineBuilder, dict]:
    """A 3-camera ResNet-style int8 backbone (scaled down): every value between its convolutions is NHWC."""
    b = EngineBuilder("cuda_resnet_like")
    x = b.input("x", "int8", (n, 3, h, w), scale=0.02, zero_point=-3)

    def conv(t, co, k, stride=1, groups=1, residual=None, act="relu", name="conv"):
        ci = t.shape[1] // groups
        acc = np.sqrt(ci * k * k) * 74.0 * 74.0 * t.scale * 0.02
        return ops.conv2d(b, t, _int8(rng, (co, ci, k, k)), rng.integers(-2000, 2000, size=co).astype(np.int32),
                          stride=stride, padding=k // 2, groups=groups, residual=residual, activation=act,
                          weight_scales=np.full(co, 0.02), out_scale=float(acc / 40.0), out_zero_point=-10, name=name)

    t = conv(x, 32, 7, stride=2, name="stem")
    for i in range(2):
        u = conv(t, 32, 3, name=f"block{i}.a")
        t = conv(u, 32, 3, residual=t, name=f"block{i}.b")
    t = conv(t, 32, 3, groups=32, residual=t, name="depthwise")
    for stage, co in enumerate((64, 128, 256)):  # the deep, narrow stages are where split-K starts
        t = conv(t, co, 3, stride=2, name=f"down{stage}")
        t = conv(t, co, 3, residual=t, name=f"stage{stage}")
    t = conv(t, 256, 1, residual=t, name="pointwise")
    b.output(conv(t, 16, 1, act="none", name="head"))
    return b, {"x": _int8(rng, x.shape)}


# ------------------------------------------------------------------------------------------------ coverage
@COVERAGE
@given(data=st.data(), seed=SEED)
def test_cuda_supports_every_int8_conv2d_configuration(data, seed):
    b, _ = _draw_int8_conv(data, np.random.default_rng(seed))
    _assert_all_supported(b)


@COVERAGE
@given(data=st.data(), seed=SEED)
def test_cuda_supports_int8_conv_chains_in_nhwc_with_residual(data, seed):
    b, _ = _draw_int8_chain(data, np.random.default_rng(seed))
    _assert_all_supported(b)


@COVERAGE
@given(data=st.data(), seed=SEED)
def test_cuda_supports_int8_linear(data, seed):
    b, _ = _draw_int8_linear(data, np.random.default_rng(seed))
    _assert_all_supported(b)


@COVERAGE
@given(data=st.data(), seed=SEED, activation=FLOAT_ACTIVATIONS)
def test_cuda_supports_float_conv2d_linear_and_matmul(data, seed, activation):
    rng = np.random.default_rng(seed)
    groups = data.draw(st.integers(1, 3), label="groups")
    cig, cog = data.draw(st.integers(1, 6), label="cig"), data.draw(st.integers(1, 6), label="cog")
    k = data.draw(st.integers(1, 4), label="kernel")
    geometry = dict(stride=data.draw(st.integers(1, 3), label="stride"), padding=data.draw(st.integers(0, k - 1), label="pad"),
                    groups=groups)
    conv, _ = _float_conv((1, groups * cig, 9, 9), rng.normal(size=(groups * cog, cig, k, k)).astype(np.float32), None,
                          data.draw(st.booleans(), label="residual"), geometry, activation)
    _assert_all_supported(conv)
    b = EngineBuilder("cuda_float_linear")
    x = b.input("x", "float32", (3, 5, 17))
    h = ops.linear(b, x, rng.normal(size=(9, 17)).astype(np.float32), rng.normal(size=9).astype(np.float32),
                   activation=activation)
    c = b.input("c", "float32", (3, 9, 4))
    b.output(ops.matmul(b, h, c))
    _assert_all_supported(b)


def test_cuda_supports_every_conv_of_a_resnet_like_backbone():
    """Stem, residual blocks, a depthwise stage, a strided projection and pointwise convs: all on the GPU."""
    rng = np.random.default_rng(7)
    b, _ = _resnet_like(rng)
    _assert_all_supported(b)


# ------------------------------------------------------------------------------------------------ outputs on a GPU
@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED, variant=IGEMM_VARIANTS)
def test_cuda_int8_conv2d_is_bit_identical_to_cpu(data, seed, variant):
    b, inputs = _draw_int8_conv(data, np.random.default_rng(seed))
    _assert_bit_identical(b, inputs, variant)


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED, variant=IGEMM_VARIANTS, epilogue=st.sampled_from(["silu", "gelu", "relu", "none"]))
def test_cuda_int8_nhwc_chain_with_residual_and_lut_is_bit_identical_to_cpu(data, seed, variant, epilogue):
    """The middle conv adds an NHWC residual and, for silu/gelu, maps through the activation LUT."""
    b, inputs = _draw_int8_chain(data, np.random.default_rng(seed), epilogue)
    _assert_bit_identical(b, inputs, variant)


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED, variant=IGEMM_VARIANTS)
def test_cuda_int8_linear_is_bit_identical_to_cpu(data, seed, variant):
    b, inputs = _draw_int8_linear(data, np.random.default_rng(seed))
    _assert_bit_identical(b, inputs, variant)


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED)
def test_cuda_int8_depthwise_with_residual_and_lut_is_bit_identical_to_cpu(data, seed):
    rng = np.random.default_rng(seed)
    c = data.draw(st.integers(1, 100), label="channels")
    k = data.draw(st.sampled_from([3, 5]), label="kernel")
    stride, dil = data.draw(st.integers(1, 2), label="stride"), data.draw(st.integers(1, 2), label="dilation")
    h, w = data.draw(st.integers(k * dil, 24), label="H"), data.draw(st.integers(k * dil, 24), label="W")
    b = EngineBuilder("cuda_depthwise")
    x = b.input("x", "int8", (2, c, h, w), scale=0.03, zero_point=data.draw(ZERO, label="x_zero"))
    ep = _int8_epilogue(data, rng, x, c, k * k, data.draw(st.sampled_from(["silu", "gelu"]), label="lut"))
    yshape = (2, c, (h + 2 * dil * (k // 2) - dil * (k - 1) - 1) // stride + 1,
              (w + 2 * dil * (k // 2) - dil * (k - 1) - 1) // stride + 1)
    res = b.input("res", "int8", yshape, scale=ep["out_scale"] * 1.5, zero_point=data.draw(ZERO, label="res_zero"))
    y = ops.conv2d(b, x, _int8(rng, (c, 1, k, k)), _int8_bias(data, rng, c, k * k, x.zero_point), stride=stride,
                   padding=dil * (k // 2), dilation=dil, groups=c, residual=res, **ep)
    b.output(y)
    _assert_bit_identical(b, {"x": _int8(rng, x.shape), "res": _int8(rng, yshape)})


@needs_gpu
@pytest.mark.parametrize("variant", ["mma", "dp4a"])
def test_cuda_int8_conv_at_the_accumulator_extremes_is_bit_identical_to_cpu(variant):
    """K = 512 x 3 x 3 products (-128 - 127) x (-128 or 127), biases at the +-2^30 limit; 2 tiles of channels and
    1 of pixels, so the K stages are split (split-K) and summed by the second kernel."""
    b = EngineBuilder("cuda_extremes")
    x = b.input("x", "int8", (1, 512, 6, 6), scale=0.01, zero_point=127)
    w = np.full((70, 512, 3, 3), -128, dtype=np.int8)
    w[1::2] = 127
    bias = np.where(np.arange(70) % 3 == 0, 2**30 - 1, -(2**30) + 1).astype(np.int32)
    # |acc + bias| reaches ~1.2e9; this scale keeps most outputs inside int8 rather than on the rails
    y = ops.conv2d(b, x, w, bias, padding=1, weight_scales=np.full(70, 3e-7), out_scale=0.05, out_zero_point=0)
    b.output(y)
    _assert_bit_identical(b, {"x": np.full(x.shape, -128, dtype=np.int8)}, variant)


@needs_gpu
@pytest.mark.parametrize("variant", ["mma", "dp4a"])
def test_cuda_resnet_like_backbone_is_bit_identical_to_cpu(variant):
    b, inputs = _resnet_like(np.random.default_rng(11), n=3, h=128, w=256)
    _assert_bit_identical(b, inputs, variant)


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED, activation=FLOAT_ACTIVATIONS)
def test_cuda_float_conv2d_is_within_the_bound_and_bit_identical_without_exp_or_erf(data, seed, activation):
    rng = np.random.default_rng(seed)
    n = data.draw(st.integers(1, 2), label="batch")
    groups = data.draw(st.integers(1, 3), label="groups")
    cig, cog = data.draw(st.integers(1, 40), label="cig"), data.draw(st.integers(1, 80), label="cog")
    kh, kw = data.draw(st.integers(1, 4), label="kh"), data.draw(st.integers(1, 4), label="kw")
    dh, dw = data.draw(st.integers(1, 2), label="dh"), data.draw(st.integers(1, 2), label="dw")
    pt, pl = data.draw(st.integers(0, kh * dh - 1), label="pt"), data.draw(st.integers(0, kw * dw - 1), label="pl")
    geometry = dict(stride=(data.draw(st.integers(1, 3), label="sh"), data.draw(st.integers(1, 3), label="sw")),
                    padding=(pt, pl, pt, pl), dilation=(dh, dw), groups=groups)
    h = data.draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * pt), 14), label="H")
    w = data.draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pl), 14), label="W")
    x_shape = (n, groups * cig, h, w)
    weight = rng.normal(size=(groups * cog, cig, kh, kw)).astype(np.float32)
    bias = rng.normal(size=groups * cog).astype(np.float32) if data.draw(st.booleans(), label="bias") else None
    residual = data.draw(st.booleans(), label="residual")
    b, yshape = _float_conv(x_shape, weight, bias, residual, geometry, activation)
    inputs = {"x": rng.normal(size=x_shape).astype(np.float32)}
    if residual:
        inputs["res"] = rng.normal(size=yshape).astype(np.float32)
    cpu, gpu = _run_both(b, inputs)
    (name,) = cpu
    # sum_k |x_k w_k| per output: the same convolution of |x| and |w| on the CPU, no bias, residual or activation
    m, _ = _float_conv(x_shape, np.abs(weight), None, False, geometry, "none")
    (magnitude,) = _engine(m).session().run({"x": np.abs(inputs["x"])}).values()
    magnitude = magnitude.astype(np.float64)
    if bias is not None:
        magnitude += np.abs(bias).reshape(1, -1, 1, 1)
    if residual:
        magnitude += np.abs(inputs["res"])
    _assert_within_bound(gpu[name], cpu[name], magnitude, exact=FMA_CPU and activation not in ("silu", "gelu"))


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED, activation=FLOAT_ACTIVATIONS)
def test_cuda_float_linear_is_within_the_bound_and_bit_identical_without_exp_or_erf(data, seed, activation):
    rng = np.random.default_rng(seed)
    k, co = data.draw(st.integers(1, 600), label="K"), data.draw(st.integers(1, 150), label="Co")
    lead = data.draw(st.sampled_from([(1,), (5,), (70,), (2, 3)]), label="leading_dims")
    b = EngineBuilder("cuda_float_linear")
    x = b.input("x", "float32", (*lead, k))
    res = b.input("res", "float32", (*lead, co)) if data.draw(st.booleans(), label="residual") else None
    weight = rng.normal(size=(co, k)).astype(np.float32)
    bias = rng.normal(size=co).astype(np.float32) if data.draw(st.booleans(), label="bias") else None
    b.output(ops.linear(b, x, weight, bias, residual=res, activation=activation))
    inputs = {"x": rng.normal(size=x.shape).astype(np.float32)}
    if res is not None:
        inputs["res"] = rng.normal(size=res.shape).astype(np.float32)
    cpu, gpu = _run_both(b, inputs)
    (name,) = cpu
    magnitude = np.abs(inputs["x"]).astype(np.float64) @ np.abs(weight).T.astype(np.float64)
    if bias is not None:
        magnitude += np.abs(bias)
    if res is not None:
        magnitude += np.abs(inputs["res"])
    _assert_within_bound(gpu[name], cpu[name], magnitude, exact=FMA_CPU and activation not in ("silu", "gelu"))


@needs_gpu
@ON_DEVICE
@given(data=st.data(), seed=SEED)
def test_cuda_matmul_is_within_the_bound_and_bit_identical_on_x86_64(data, seed):
    rng = np.random.default_rng(seed)
    batch = data.draw(st.sampled_from([(), (1,), (3,), (2, 4)]), label="batch")
    m, k, n = (data.draw(st.integers(1, 150), label=l) for l in ("M", "K", "N"))
    b = EngineBuilder("cuda_matmul")
    a = b.input("a", "float32", (*batch, m, k))
    if data.draw(st.booleans(), label="constant_b"):
        c_value = rng.normal(size=(*batch, k, n)).astype(np.float32)
        c = b.constant("c", c_value)
        inputs = {"a": rng.normal(size=a.shape).astype(np.float32)}
    else:
        c = b.input("c", "float32", (*batch, k, n))
        inputs = {"a": rng.normal(size=a.shape).astype(np.float32)}
        c_value = inputs["c"] = rng.normal(size=c.shape).astype(np.float32)
    b.output(ops.matmul(b, a, c))
    cpu, gpu = _run_both(b, inputs)
    (name,) = cpu
    magnitude = np.abs(inputs["a"]).astype(np.float64) @ np.abs(c_value).astype(np.float64)
    _assert_within_bound(gpu[name], cpu[name], magnitude, exact=X86_64)


@needs_gpu
def test_cuda_float_linear_head_over_a_long_k_is_bit_identical_to_an_fma_cpu():
    """One row, K = 16384, 8 outputs: too few output tiles for the tiled kernel, so the direct one runs."""
    rng = np.random.default_rng(5)
    b = EngineBuilder("cuda_float_head")
    x = b.input("x", "float32", (1, 16384))
    weight, bias = rng.normal(size=(8, 16384)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    b.output(ops.linear(b, x, weight, bias))
    inputs = {"x": rng.normal(size=x.shape).astype(np.float32)}
    cpu, gpu = _run_both(b, inputs)
    (name,) = cpu
    magnitude = np.abs(inputs["x"]).astype(np.float64) @ np.abs(weight).T.astype(np.float64)
    _assert_within_bound(gpu[name], cpu[name], magnitude + np.abs(bias), exact=FMA_CPU)


@needs_gpu
@pytest.mark.parametrize("activation", ["relu", "silu"])
def test_cuda_large_float_conv2d_on_the_tiled_kernel_matches_the_cpu(activation):
    """2 x 96 x 96 output pixels: enough output tiles for the tiled kernel (smaller problems run the direct one)."""
    rng = np.random.default_rng(9)
    weight, bias = rng.normal(size=(40, 16, 3, 3)).astype(np.float32), rng.normal(size=40).astype(np.float32)
    geometry = dict(stride=1, padding=1, dilation=1, groups=1)
    b, yshape = _float_conv((2, 16, 96, 96), weight, bias, True, geometry, activation)
    inputs = {"x": rng.normal(size=(2, 16, 96, 96)).astype(np.float32), "res": rng.normal(size=yshape).astype(np.float32)}
    cpu, gpu = _run_both(b, inputs)
    (name,) = cpu
    m, _ = _float_conv((2, 16, 96, 96), np.abs(weight), None, False, geometry, "none")
    (magnitude,) = _engine(m).session().run({"x": np.abs(inputs["x"])}).values()
    magnitude = magnitude.astype(np.float64) + np.abs(bias).reshape(1, -1, 1, 1) + np.abs(inputs["res"])
    _assert_within_bound(gpu[name], cpu[name], magnitude, exact=FMA_CPU and activation == "relu")
