"""The C++ int8 kernels agree bit for bit with the numpy reference (wayvert.reference / wayvert.quant).

Properties draw shapes, strides, groups, padding, dilation, zero points, scales and fused epilogues;
explicit cases pin the accumulator extremes and the scalar-vs-SIMD dispatch.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert import quant, reference
from wayvert.build import EngineBuilder, Tensor, ops

# ops.activation_fn("silu") evaluates exp(-x) for very negative LUT codes; the overflow to inf is harmless (-> -0).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ZERO = st.integers(-128, 127)
SEED = st.integers(0, 2**32 - 1)
ACTIVATIONS = st.sampled_from(["none", "relu", "relu6", "silu", "gelu"])


def _typical_acc(k: int, x_zero: int) -> float:
    """RMS of a sum of k products (x - x_zero) * w for uniform int8 x and w."""
    return math.sqrt(k) * 74.0 * math.sqrt(74.0**2 + x_zero**2)


def _epilogue_kwargs(data: st.DataObject, rng: np.random.Generator, x: Tensor, co: int, k: int) -> dict:
    """Per-channel weight scales, an out_scale that keeps typical outputs off the rails, activation params."""
    x_scale = x.scale
    w_scales = rng.uniform(0.002, 0.05, size=co)
    typical = _typical_acc(k, x.zero_point) * x_scale * float(w_scales.mean())
    out_scale = typical / 40.0 * data.draw(st.floats(0.25, 4.0), label="out_scale_factor")
    act = data.draw(ACTIVATIONS, label="activation")
    kw: dict = dict(weight_scales=w_scales, out_scale=out_scale, out_zero_point=data.draw(ZERO, label="out_zero"),
                    activation=act)
    if act in ("silu", "gelu"):
        kw["pre_scale"] = out_scale * data.draw(st.floats(0.3, 3.0), label="pre_scale_factor")
        kw["pre_zero_point"] = data.draw(ZERO, label="pre_zero")
    return kw


def _bias(data: st.DataObject, rng: np.random.Generator, co: int, k: int, x_zero: int) -> np.ndarray | None:
    if not data.draw(st.booleans(), label="bias"):
        return None
    bound = int(2 * _typical_acc(k, x_zero))
    return rng.integers(-bound, bound + 1, size=co).astype(np.int32)


def _residual(data: st.DataObject, b: EngineBuilder, shape: tuple[int, ...], out_scale: float):
    if not data.draw(st.booleans(), label="residual"):
        return None
    scale = out_scale * data.draw(st.floats(0.1, 10.0), label="residual_scale_factor")
    return b.input("res", "int8", shape, scale=scale, zero_point=data.draw(ZERO, label="residual_zero"))


# ------------------------------------------------------------------------------------------------ conv2d
@PROPERTY
@given(data=st.data(), seed=SEED)
def test_int8_conv2d_matches_reference_bit_for_bit(kit, data, seed):
    rng = np.random.default_rng(seed)
    n = data.draw(st.integers(1, 2), label="batch")
    if data.draw(st.booleans(), label="depthwise"):
        c = data.draw(st.integers(1, 8), label="channels")
        groups, cig, cog = c, 1, data.draw(st.integers(1, 2), label="multiplier")
    else:
        groups = data.draw(st.integers(1, 3), label="groups")
        cig = data.draw(st.integers(1, 6), label="cin_per_group")
        cog = data.draw(st.integers(1, 6), label="cout_per_group")
    c, co = groups * cig, groups * cog
    kh, kw = data.draw(st.integers(1, 5), label="kh"), data.draw(st.integers(1, 5), label="kw")
    sh, sw = data.draw(st.integers(1, 4), label="sh"), data.draw(st.integers(1, 4), label="sw")
    dh, dw = data.draw(st.integers(1, 2), label="dh"), data.draw(st.integers(1, 2), label="dw")
    pt, pb = (data.draw(st.integers(0, min(kh * dh - 1, 4)), label=l) for l in ("pad_top", "pad_bottom"))
    pl, pr = (data.draw(st.integers(0, min(kw * dw - 1, 4)), label=l) for l in ("pad_left", "pad_right"))
    hmin = max(1, dh * (kh - 1) + 1 - pt - pb)
    wmin = max(1, dw * (kw - 1) + 1 - pl - pr)
    h = data.draw(st.integers(hmin, hmin + 9), label="H")
    # wide enough, at times, for the SIMD widening of strided rows (8 outputs at a time, e.g. the stride-4 stem)
    w = data.draw(st.integers(wmin, wmin + 9 + 12 * sw), label="W")
    ho, wo = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1

    b = EngineBuilder("conv")
    x_scale = float(rng.uniform(0.005, 0.1))
    x = b.input("x", "int8", (n, c, h, w), scale=x_scale, zero_point=data.draw(ZERO, label="x_zero"))
    kwargs = _epilogue_kwargs(data, rng, x, co, cig * kh * kw)
    res = _residual(data, b, (n, co, ho, wo), kwargs["out_scale"])
    weight = kit.int8_array(rng, (co, cig, kh, kw))
    bias = _bias(data, rng, co, cig * kh * kw, x.zero_point)
    y = ops.conv2d(b, x, weight, bias, stride=(sh, sw), padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=groups,
                   residual=res, **kwargs)
    assert y.shape == (n, co, ho, wo)
    b.output(y)
    inputs = {"x": kit.int8_array(rng, x.shape)}
    if res is not None:
        inputs["res"] = kit.int8_array(rng, res.shape)
    kit.assert_bitexact(b, inputs)


# ------------------------------------------------------------------------------------------------ linear
@PROPERTY
@given(data=st.data(), seed=SEED)
def test_int8_linear_rank2_and_rank3_matches_reference_bit_for_bit(kit, data, seed):
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, 80), label="K")
    co = data.draw(st.integers(1, 40), label="Co")
    lead = data.draw(st.sampled_from([(1,), (2,), (7,), (1, 3), (2, 5)]), label="leading_dims")
    b = EngineBuilder("linear")
    x_scale = float(rng.uniform(0.005, 0.1))
    x = b.input("x", "int8", lead + (k,), scale=x_scale, zero_point=data.draw(ZERO, label="x_zero"))
    kwargs = _epilogue_kwargs(data, rng, x, co, k)
    res = _residual(data, b, lead + (co,), kwargs["out_scale"])
    y = ops.linear(b, x, kit.int8_array(rng, (co, k)), _bias(data, rng, co, k, x.zero_point), residual=res, **kwargs)
    b.output(y)
    inputs = {"x": kit.int8_array(rng, x.shape)}
    if res is not None:
        inputs["res"] = kit.int8_array(rng, res.shape)
    kit.assert_bitexact(b, inputs)


# ------------------------------------------------------------------------------------------------ add
@PROPERTY
@given(data=st.data(), seed=SEED)
def test_int8_add_matches_reference_bit_for_bit(kit, data, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4), label="shape"))
    b = EngineBuilder("add")
    sa, sb = (float(rng.uniform(0.005, 0.2)) for _ in range(2))
    a = b.input("a", "int8", shape, scale=sa, zero_point=data.draw(ZERO, label="a_zero"))
    c = b.input("c", "int8", shape, scale=sb, zero_point=data.draw(ZERO, label="c_zero"))
    out_scale = max(sa, sb) * data.draw(st.floats(0.25, 4.0), label="out_scale_factor")
    act = data.draw(st.sampled_from(["none", "relu", "relu6", "silu", "gelu"]), label="activation")
    out_zero = data.draw(ZERO, label="out_zero")
    y = ops.add(b, a, c, activation=act if act in ("none", "relu", "relu6") else "none", out_scale=out_scale,
                out_zero_point=out_zero)
    if act in ("silu", "gelu"):
        # ops.add has no LUT option, but the kernel and the reference take one in slot 2.
        lut = b.constant("add.lut", ops.activation_lut(act, out_scale, out_zero, out_scale * 0.7, out_zero // 2))
        b.ops[-1].inputs.append(lut.name)
    b.output(y)
    kit.assert_bitexact(b, {"a": kit.int8_array(rng, shape), "c": kit.int8_array(rng, shape)})


def test_int8_add_with_constant_operand_matches_reference(kit, rng):
    b = EngineBuilder("add_const")
    a = b.input("a", "int8", (2, 3, 5), scale=0.03, zero_point=-7)
    c = b.constant("emb", kit.int8_array(rng, (2, 3, 5)), scale=0.05, zero_point=11)
    b.output(ops.add(b, a, c, out_scale=0.06, out_zero_point=3, activation="relu"))
    kit.assert_bitexact(b, {"a": kit.int8_array(rng, (2, 3, 5))})


# ------------------------------------------------------------------------------------------------ pool
@PROPERTY
@given(data=st.data(), seed=SEED)
def test_int8_global_avg_pool_matches_reference_bit_for_bit(kit, data, seed):
    rng = np.random.default_rng(seed)
    shape = (data.draw(st.integers(1, 2), label="N"), data.draw(st.integers(1, 8), label="C"),
             data.draw(st.integers(1, 20), label="H"), data.draw(st.integers(1, 20), label="W"))
    keepdims = data.draw(st.booleans(), label="keepdims")
    b = EngineBuilder("pool")
    x = b.input("x", "int8", shape, scale=float(rng.uniform(0.005, 0.2)), zero_point=data.draw(ZERO, label="x_zero"))
    out_scale = data.draw(st.one_of(st.none(), st.floats(0.001, 0.5)), label="out_scale")
    y = ops.global_avg_pool(b, x, out_scale=out_scale, out_zero_point=data.draw(ZERO, label="out_zero"),
                            keepdims=keepdims)
    assert y.shape == (shape[:2] + (1, 1) if keepdims else shape[:2])
    b.output(y)
    got = kit.assert_bitexact(b, {"x": kit.int8_array(rng, shape, extremes=0.3)})
    assert got[y.name].shape == y.shape


def test_int8_global_avg_pool_of_a_constant_plane_is_that_value(kit):
    """Exact averages: a plane of one code pools to the same code when scales match (rounding free)."""
    b = EngineBuilder("pool_const")
    x = b.input("x", "int8", (1, 4, 7, 9), scale=0.1, zero_point=-20)
    b.output(ops.global_avg_pool(b, x, out_zero_point=-20, keepdims=True))
    xi = np.broadcast_to(np.array([-128, -20, 50, 127], dtype=np.int8).reshape(1, 4, 1, 1), (1, 4, 7, 9)).copy()
    got = kit.assert_bitexact(b, {"x": xi})
    assert got[b.outputs[0]].ravel().tolist() == [-128, -20, 50, 127]


# ------------------------------------------------------------------------------------------------ quantize
@PROPERTY
@given(data=st.data(), seed=SEED)
def test_quantize_and_dequantize_match_reference_bit_for_bit(kit, data, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(data.draw(st.lists(st.integers(1, 7), min_size=1, max_size=3), label="shape"))
    pow2 = data.draw(st.booleans(), label="power_of_two_scale")
    if pow2:
        scale = 2.0 ** data.draw(st.integers(-8, 3), label="exp")
    else:
        scale = data.draw(st.floats(1e-3, 10.0), label="scale")
    zero = data.draw(ZERO, label="zero")
    size = int(np.prod(shape))
    # exact ties (k + 0.5) * scale, values past the int8 range, signed zeros, and plain noise
    ties = (rng.integers(-200, 200, size=size) + 0.5) * scale
    noise = rng.normal(scale=200 * scale, size=size)
    vals = np.where(rng.random(size) < 0.5, ties, noise).astype(np.float32)
    pick = rng.random(size) < 0.15
    vals[pick] = rng.choice(np.array([0.0, -0.0, 1e30, -1e30, 3e38, -3e38], dtype=np.float32), size=int(pick.sum()))
    b = EngineBuilder("q")
    x = b.input("x", "float32", shape)
    q = ops.quantize(b, x, scale, zero)
    dq = ops.dequantize(b, q, name="dq")
    qi = b.input("qi", "int8", shape, scale=scale * 1.37, zero_point=data.draw(ZERO, label="qi_zero"))
    dqi = ops.dequantize(b, qi, name="dqi")
    b.output(q, dq, dqi)
    got = kit.assert_bitexact(b, {"x": vals.reshape(shape), "qi": kit.int8_array(rng, shape)})
    qv = got[q.name].ravel()
    assert np.all(qv[vals >= 1e30] == 127) and np.all(qv[vals <= -1e30] == -128)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_quantize_saturates_infinities_and_maps_nan_to_zero_point(kit):
    """Non-finite graph inputs are rejected, so infinities and NaN are made inside the graph by float adds
    that overflow (3e38 + 3e38 = inf; inf + -inf = NaN) and then quantized."""
    b = EngineBuilder("q_special")
    a = b.input("a", "float32", (6,))
    c = b.input("c", "float32", (6,))
    s1 = ops.add(b, a, a, name="s1")
    s2 = ops.add(b, c, c, name="s2")
    s3 = ops.add(b, s1, s2, name="s3")
    q1 = ops.quantize(b, s1, 0.1, -17, name="q1")
    q3 = ops.quantize(b, s3, 0.1, -17, name="q3")
    b.output(q1, q3)
    av = np.array([3e38, 3e38, -3e38, 1.0, 2.5, -0.05], dtype=np.float32)
    cv = np.array([-3e38, 1.0, -1.0, 3e38, -2.5, 0.0], dtype=np.float32)
    got = kit.assert_bitexact(b, {"a": av, "c": cv})
    # s1 = [inf, inf, -inf, 2, 5, -0.1]; s3 = [nan, inf, -inf, inf, 0, -0.1]
    assert got["q1"].tolist() == [127, 127, -128, 3, 33, -18]
    assert got["q3"].tolist() == [-17, 127, -128, 127, -17, -18]


def test_session_rejects_non_finite_float_inputs(kit):
    b = EngineBuilder("q_nan")
    x = b.input("x", "float32", (3,))
    b.output(ops.quantize(b, x, 0.5, 0))
    with pytest.raises(wayvert.InputError, match="non-finite"):
        kit.run_engine(b, {"x": np.array([0.0, np.nan, 1.0], dtype=np.float32)})


# ------------------------------------------------------------------------------------------------ extremes
def _exact_rescale(x: int, m: int, s: int) -> int:
    """round_half_away(x * m / 2**s) with Python integers (independent of wayvert.quant)."""
    f = Fraction(x * m, 2**s)
    mag = math.floor(abs(f) + Fraction(1, 2))
    return mag if f >= 0 else -mag


@pytest.mark.parametrize("hw", [(5, 6), (3, 3)], ids=["tiled", "one_pixel"])
@pytest.mark.parametrize("w_val", [127, -128])
@pytest.mark.parametrize("x_val,x_zero", [(127, -128), (-128, 127)])
def test_int8_conv2d_extreme_codes_with_long_reduction_are_exact(kit, w_val, x_val, x_zero, hw):
    """K = 3x3x64 products of +-255 and 127/-128: a saturating int16 pair add (vpmaddubsw) would clip here.
    A 3x3 input gives one output pixel, the GEMM's N == 1 dot-product path."""
    c, co, k = 64, 3, 64 * 9
    acc = k * (x_val - x_zero) * w_val  # every output pixel sees the full window (no padding)
    assert abs(acc) == k * 255 * abs(w_val)
    b = EngineBuilder("conv_extreme")
    x = b.input("x", "int8", (1, c) + hw, scale=0.02, zero_point=x_zero)
    w_scales = np.array([0.01, 0.013, 0.02])
    out_scale = 0.02 * 0.02 * k * 255 * 128 / 100.0  # the largest |acc| lands near +-100 codes
    weight = np.full((co, c, 3, 3), w_val, dtype=np.int8)
    y = ops.conv2d(b, x, weight, weight_scales=w_scales, out_scale=out_scale, out_zero_point=5, name="conv")
    b.output(y)
    got = kit.assert_bitexact(b, {"x": np.full(x.shape, x_val, dtype=np.int8)})[y.name]
    mult = b.values["conv.multiplier"].data
    shift = b.values["conv.shift"].data
    for ch in range(co):
        want = _exact_rescale(acc, int(mult[ch]), int(shift[ch])) + 5
        assert -128 < want < 127, "test setup: the expected value must not saturate"
        assert np.all(got[0, ch] == want), (ch, got[0, ch].ravel()[:4], want)


@pytest.mark.parametrize("w_val", [127, -128])
@pytest.mark.parametrize("x_val,x_zero", [(127, -128), (-128, 127)])
@pytest.mark.parametrize("k", [576, 4099])
def test_int8_linear_extreme_codes_with_long_reduction_are_exact(kit, w_val, x_val, x_zero, k):
    co = 21  # a 16-wide SIMD block plus a column tail
    acc = k * (x_val - x_zero) * w_val
    b = EngineBuilder("linear_extreme")
    x = b.input("x", "int8", (5, k), scale=0.01, zero_point=x_zero)
    out_scale = 0.01 * 0.01 * k * 255 * 128 / 100.0
    y = ops.linear(b, x, np.full((co, k), w_val, dtype=np.int8), weight_scales=np.full(co, 0.01),
                   out_scale=out_scale, out_zero_point=-3, name="fc")
    b.output(y)
    got = kit.assert_bitexact(b, {"x": np.full(x.shape, x_val, dtype=np.int8)})[y.name]
    m, s = int(b.values["fc.multiplier"].data[0]), int(b.values["fc.shift"].data[0])
    want = _exact_rescale(acc, m, s) - 3
    assert -128 < want < 127
    assert np.all(got == want)


def test_int8_conv2d_extreme_codes_with_padding_bias_and_residual_match_reference(kit, rng):
    """Mixed +-255 activations against all-extreme weights, with padding, bias, residual and a LUT."""
    b = EngineBuilder("conv_extreme_mix")
    x = b.input("x", "int8", (2, 64, 6, 5), scale=0.02, zero_point=-128)
    res = b.input("res", "int8", (2, 20, 6, 5), scale=0.5, zero_point=127)
    weight = np.where(rng.random((20, 64, 3, 3)) < 0.5, 127, -128).astype(np.int8)
    out_scale = 0.02 * 0.02 * 576 * 255 * 128 / 300.0
    y = ops.conv2d(b, x, weight, np.full(20, 2**20, dtype=np.int32), padding=1, residual=res,
                   weight_scales=np.full(20, 0.02), out_scale=out_scale, out_zero_point=0, activation="silu",
                   pre_scale=out_scale, pre_zero_point=-10)
    b.output(y)
    xi = np.where(rng.random(x.shape) < 0.8, 127, -128).astype(np.int8)
    kit.assert_bitexact(b, {"x": xi, "res": np.where(rng.random(res.shape) < 0.5, 127, -128).astype(np.int8)})


def test_int8_conv2d_and_linear_spanning_several_tiles_match_reference(kit, rng):
    """Conv: Kp = 1152 gives 80-pixel column tiles, so 10x10 outputs take a full and a partial tile whose start
    is mid-row. Linear: 150 rows of K = 300 take two row tiles."""
    b = EngineBuilder("tiles")
    x = b.input("x", "int8", (1, 128, 10, 10), scale=0.02, zero_point=17)
    w, s = _weights(rng, (24, 128, 3, 3))
    y = ops.conv2d(b, x, w, rng.integers(-10**5, 10**5, 24).astype(np.int32), padding=1, weight_scales=s,
                   out_scale=4.0, out_zero_point=-2, name="conv")
    t = b.input("t", "int8", (3, 50, 300), scale=0.05, zero_point=-100)
    w2, s2 = _weights(rng, (19, 300))
    z = ops.linear(b, t, w2, None, weight_scales=s2, out_scale=2.0, out_zero_point=0, name="fc")
    b.output(y, z)
    got = kit.assert_bitexact(b, {"x": kit.int8_array(rng, x.shape), "t": kit.int8_array(rng, t.shape)})
    assert len(np.unique(got["conv"])) > 50 and len(np.unique(got["fc"])) > 50  # outputs are not saturated


# ------------------------------------------------------------------------------------------------ scalar vs SIMD
_RUNNER = r"""
import json, sys
import numpy as np
import wayvert
engine_path, inputs_path, out_dir, threads = sys.argv[1:5]
e = wayvert.Engine.load(engine_path)
with np.load(inputs_path) as z:
    inputs = {k: z[k] for k in z.files}
out = e.session(threads=int(threads)).run(inputs)
for i, (name, arr) in enumerate(out.items()):
    np.save(f"{out_dir}/{i}.npy", arr)
print(json.dumps({"isa": wayvert.cpu_isa(), "outputs": list(out)}))
"""


def _int8_dispatch_graph(rng: np.random.Generator) -> tuple[EngineBuilder, dict[str, np.ndarray]]:
    """Int8 graph touching the GEMM's paths: 16-column blocks plus tails, row tails, K panels above 256
    pairs, the direct small-M path, the N == 1 dot-product path (1x1 output), strided, grouped and
    depthwise conv, residuals, LUTs, pool and add."""
    b = EngineBuilder("dispatch")
    x = b.input("x", "int8", (2, 64, 9, 7), scale=0.02, zero_point=-128)
    r = b.input("r", "int8", (2, 37, 9, 7), scale=0.04, zero_point=9)
    w1, s1 = _weights(rng, (37, 64, 3, 3))  # Kp = 576: crosses the 256-pair panel
    c1 = ops.conv2d(b, x, w1, rng.integers(-5000, 5000, 37).astype(np.int32), padding=(2, 1, 0, 3),
                    dilation=(1, 2), weight_scales=s1, out_scale=2.0, out_zero_point=-3, activation="relu", name="c1")
    w2, s2 = _weights(rng, (37, 1, 3, 3))
    c2 = ops.conv2d(b, c1, w2, None, padding=1, groups=37, weight_scales=s2, out_scale=1.5, out_zero_point=4,
                    activation="gelu", pre_scale=2.0, pre_zero_point=0, name="c2")
    w3, s3 = _weights(rng, (37, 37, 1, 1))
    c3 = ops.conv2d(b, c2, w3, None, residual=r, weight_scales=s3, out_scale=1.0, out_zero_point=0, name="c3")
    w4, s4 = _weights(rng, (12, 37, 9, 7))  # whole-plane kernel: one output pixel, the N == 1 path
    c4 = ops.conv2d(b, c3, w4, None, weight_scales=s4, out_scale=3.0, out_zero_point=1, name="c4")
    w5, s5 = _weights(rng, (20, 16, 5, 5))  # grouped (4 groups), stride 2
    c5 = ops.conv2d(b, x, w5, None, stride=2, padding=2, groups=4, weight_scales=s5, out_scale=2.5,
                    out_zero_point=-9, activation="relu6", name="c5")
    f = ops.reshape(b, c3, (2, 37, 63), name="flat")
    w6, s6 = _weights(rng, (33, 63))
    l6 = ops.linear(b, f, w6, rng.integers(-900, 900, 33).astype(np.int32), weight_scales=s6, out_scale=0.9,
                    out_zero_point=-60, activation="silu", pre_scale=0.8, name="l6")
    p = ops.global_avg_pool(b, c3, out_scale=0.2, out_zero_point=2, name="pool")
    w7, s7 = _weights(rng, (16, 37))  # 2 rows: the direct (unpacked) small-M path
    l7 = ops.linear(b, p, w7, None, weight_scales=s7, out_scale=0.5, out_zero_point=0, name="l7")
    a = ops.add(b, c3, r, out_scale=0.3, out_zero_point=-1, activation="relu6", name="sum")
    # image stems (3 channels): taps gathered into dense rows; one strided and dilated with padding, one patchify
    im = b.input("im", "int8", (2, 3, 17, 21), scale=0.03, zero_point=-14)
    w8, s8 = _weights(rng, (24, 3, 3, 3))
    c8 = ops.conv2d(b, im, w8, rng.integers(-3000, 3000, 24).astype(np.int32), stride=2, padding=(1, 2, 2, 1),
                    dilation=(2, 1), weight_scales=s8, out_scale=2.0, out_zero_point=-128, activation="relu", name="stem")
    w9, s9 = _weights(rng, (16, 3, 4, 4))
    c9 = ops.conv2d(b, im, w9, None, stride=4, weight_scales=s9, out_scale=1.5, out_zero_point=3, name="patchify")
    b.output(c4, c5, l6, l7, a, ops.dequantize(b, a, name="sum_f"), c8, c9)
    inputs = {"x": rng.integers(-128, 128, x.shape).astype(np.int8),
              "r": rng.integers(-128, 128, r.shape).astype(np.int8),
              "im": rng.integers(-128, 128, im.shape).astype(np.int8)}
    return b, inputs


def _weights(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    w = np.clip(np.round(rng.normal(scale=60.0, size=shape)), -128, 127).astype(np.int8)
    w.reshape(shape[0], -1)[:, 0] = -128  # every channel has a -128 weight
    return w, rng.uniform(0.002, 0.02, size=shape[0])


def _run_in_subprocess(tmp: Path, engine: Path, inputs: Path, isa: str | None,
                       threads: int = 1) -> tuple[str, list[bytes]]:
    out_dir = tmp / f"{isa or 'native'}-t{threads}"
    out_dir.mkdir()
    env = dict(os.environ)
    env.pop("WAYVERT_ISA", None)
    if isa is not None:
        env["WAYVERT_ISA"] = isa
    # cwd elsewhere: a repository-root cwd would import the source tree's wayvert, which has no _core
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(engine), str(inputs), str(out_dir), str(threads)], env=env,
                          cwd=str(tmp), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    files = [(out_dir / f"{i}.npy").read_bytes() for i in range(len(info["outputs"]))]
    return info["isa"], files


def test_int8_outputs_are_identical_bytes_under_forced_scalar_isa(kit, tmp_path):
    rng = np.random.default_rng(7)
    b, inputs = _int8_dispatch_graph(rng)
    kit.assert_bitexact(b, inputs)  # the graph itself is right in this process
    engine, inp = tmp_path / "e.wvrt", tmp_path / "in.npz"
    b.write(engine)
    np.savez(inp, **inputs)
    native_isa, native = _run_in_subprocess(tmp_path, engine, inp, None)
    scalar_isa, scalar = _run_in_subprocess(tmp_path, engine, inp, "scalar")
    assert scalar_isa == "scalar"
    if native_isa == "scalar":
        pytest.skip("this CPU has no SIMD GEMM to compare against")
    assert len(native) == len(scalar) == len(b.outputs)
    for i, (a, s) in enumerate(zip(native, scalar)):
        assert a == s, f"output {b.outputs[i]} differs between {native_isa} and scalar"
    # and both equal the reference (bytes of np.save of the reference arrays)
    ref = reference.run(b, inputs)
    for i, name in enumerate(b.outputs):
        p = tmp_path / f"ref{i}.npy"
        np.save(p, ref[name])
        assert p.read_bytes() == scalar[i], name


KNOWN_ISAS = ("avx512vnni", "avx2", "i8mm", "neondot", "neon", "scalar")


def test_process_reports_a_known_isa():
    assert wayvert.cpu_isa() in KNOWN_ISAS


@pytest.mark.parametrize("isa,threads", [("avx512vnni", 1), ("avx512vnni", 3), ("avx2", 1), ("avx2", 2),
                                         ("scalar", 2), (None, 4)])
def test_int8_outputs_are_identical_bytes_for_every_isa_and_thread_count(kit, tmp_path, isa, threads):
    """Each micro-kernel family this CPU runs, at several thread counts, gives the reference's bytes."""
    rng = np.random.default_rng(11)
    b, inputs = _int8_dispatch_graph(rng)
    engine, inp = tmp_path / "e.wvrt", tmp_path / "in.npz"
    b.write(engine)
    np.savez(inp, **inputs)
    got_isa, got = _run_in_subprocess(tmp_path, engine, inp, isa, threads)
    if isa is not None and got_isa != isa:
        pytest.skip(f"this CPU cannot run the {isa} micro-kernels (it ran {got_isa})")
    ref = reference.run(b, inputs)
    for i, name in enumerate(b.outputs):
        p = tmp_path / f"ref{i}.npy"
        np.save(p, ref[name])
        assert p.read_bytes() == got[i], f"output {name} differs from the reference ({got_isa}, {threads} threads)"


def test_reference_epilogue_helper_agrees_with_quant_on_one_channel():
    """Sanity of the spec twin itself: int8_epilogue == hand composition of quant.rescale."""
    acc = np.array([[-(2**20), -1, 0, 1, 77777]], dtype=np.int64)
    m, s = quant.quantize_multiplier(0.0123)
    got = reference.int8_epilogue(acc, 0, None, np.array([m]), np.array([s]), 4, {}, None, 0, None)
    want = np.clip(quant.rescale(acc, m, s) + 4, -128, 127).astype(np.int8)
    assert np.array_equal(got, want)
