"""Float32 kernels and the data-movement ops agree with the numpy reference.

Arithmetic (conv2d, linear, add, layernorm, attention) within rtol/atol 1e-4, atol scaled by the output's
magnitude; data movement (concat, reshape, permute) exactly, byte for byte, for float32 and int8.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wayvert.build import EngineBuilder, ops

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED = st.integers(0, 2**32 - 1)
ACTIVATIONS = ["none", "relu", "relu6", "silu", "gelu"]


def _normal(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    return (rng.normal(size=shape) * scale).astype(np.float32)


# ------------------------------------------------------------------------------------------------ conv2d
@PROPERTY
@given(data=st.data(), seed=SEED, activation=st.sampled_from(ACTIVATIONS))
def test_float_conv2d_matches_reference(kit, data, seed, activation):
    rng = np.random.default_rng(seed)
    n = data.draw(st.integers(1, 2), label="batch")
    if data.draw(st.booleans(), label="depthwise"):
        c = data.draw(st.integers(1, 8), label="channels")
        groups, cig, cog = c, 1, data.draw(st.integers(1, 2), label="multiplier")
    else:
        groups = data.draw(st.integers(1, 3), label="groups")
        cig, cog = data.draw(st.integers(1, 6), label="cig"), data.draw(st.integers(1, 6), label="cog")
    c, co = groups * cig, groups * cog
    kh, kw = data.draw(st.integers(1, 5), label="kh"), data.draw(st.integers(1, 5), label="kw")
    sh, sw = data.draw(st.integers(1, 3), label="sh"), data.draw(st.integers(1, 3), label="sw")
    dh, dw = data.draw(st.integers(1, 2), label="dh"), data.draw(st.integers(1, 2), label="dw")
    pt, pb = (data.draw(st.integers(0, min(kh * dh - 1, 4)), label=l) for l in ("pad_top", "pad_bottom"))
    pl, pr = (data.draw(st.integers(0, min(kw * dw - 1, 4)), label=l) for l in ("pad_left", "pad_right"))
    hmin, wmin = max(1, dh * (kh - 1) + 1 - pt - pb), max(1, dw * (kw - 1) + 1 - pl - pr)
    h, w = data.draw(st.integers(hmin, hmin + 9), label="H"), data.draw(st.integers(wmin, wmin + 9), label="W")
    ho, wo = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    b = EngineBuilder("fconv")
    x = b.input("x", "float32", (n, c, h, w))
    with_res = data.draw(st.booleans(), label="residual")
    res = b.input("res", "float32", (n, co, ho, wo)) if with_res else None
    bias = _normal(rng, co) if data.draw(st.booleans(), label="bias") else None
    y = ops.conv2d(b, x, _normal(rng, (co, cig, kh, kw), 0.3), bias, stride=(sh, sw), padding=(pt, pl, pb, pr),
                   dilation=(dh, dw), groups=groups, activation=activation, residual=res)
    b.output(y)
    inputs = {"x": _normal(rng, x.shape)}
    if res is not None:
        inputs["res"] = _normal(rng, res.shape)
    kit.assert_close(b, inputs)


def test_float_conv2d_1x1_direct_path_and_large_k_match_reference(kit, rng):
    """The 1x1/stride-1 conv reads its input as the column matrix; K = 576 crosses the 256-deep panels."""
    b = EngineBuilder("fconv_paths")
    x = b.input("x", "float32", (2, 64, 7, 9))
    y1 = ops.conv2d(b, x, _normal(rng, (37, 64, 1, 1), 0.2), _normal(rng, 37), activation="gelu", name="pw")
    y3 = ops.conv2d(b, x, _normal(rng, (21, 64, 3, 3), 0.05), None, padding=1, activation="silu", name="k3")
    b.output(y1, y3)
    kit.assert_close(b, {"x": _normal(rng, x.shape)})


def test_float_conv2d_spanning_several_column_tiles_matches_reference(kit, rng):
    """K = 1152 gives 32-pixel column tiles: a 10x10 output takes four, the last partial, each starting mid-row."""
    b = EngineBuilder("fconv_tiles")
    x = b.input("x", "float32", (1, 128, 10, 10))
    b.output(ops.conv2d(b, x, _normal(rng, (24, 128, 3, 3), 0.03), _normal(rng, 24), padding=1, activation="relu6"))
    kit.assert_close(b, {"x": _normal(rng, x.shape)})


@pytest.mark.parametrize("keepdims", [False, True])
def test_float_global_avg_pool_matches_reference(kit, rng, keepdims):
    b = EngineBuilder("fpool")
    x = b.input("x", "float32", (2, 5, 13, 11))
    b.output(ops.global_avg_pool(b, x, keepdims=keepdims))
    kit.assert_close(b, {"x": _normal(rng, x.shape, 3.0) + 1.0})


# ------------------------------------------------------------------------------------------------ linear
@PROPERTY
@given(data=st.data(), seed=SEED, activation=st.sampled_from(ACTIVATIONS))
def test_float_linear_rank2_and_rank3_matches_reference(kit, data, seed, activation):
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, 300), label="K")
    co = data.draw(st.integers(1, 40), label="Co")
    lead = data.draw(st.sampled_from([(1,), (3,), (8,), (1, 4), (2, 7)]), label="leading_dims")
    b = EngineBuilder("flinear")
    x = b.input("x", "float32", lead + (k,))
    res = b.input("res", "float32", lead + (co,)) if data.draw(st.booleans(), label="residual") else None
    bias = _normal(rng, co) if data.draw(st.booleans(), label="bias") else None
    b.output(ops.linear(b, x, _normal(rng, (co, k), 1 / np.sqrt(k)), bias, activation=activation, residual=res))
    inputs = {"x": _normal(rng, x.shape, 2.0)}
    if res is not None:
        inputs["res"] = _normal(rng, res.shape)
    kit.assert_close(b, inputs)


# ------------------------------------------------------------------------------------------------ add
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float_add_with_each_activation_matches_reference(kit, rng, activation):
    b = EngineBuilder("fadd")
    a = b.input("a", "float32", (2, 3, 17))
    c = b.input("c", "float32", (2, 3, 17))
    b.output(ops.add(b, a, c, activation=activation))
    av = _normal(rng, a.shape, 4.0)
    av.ravel()[:4] = [-7.0, 7.0, 0.0, 5.5]  # relu6 clamps on both sides
    kit.assert_close(b, {"a": av, "c": _normal(rng, c.shape, 4.0)})


# ------------------------------------------------------------------------------------------------ layernorm
@PROPERTY
@given(seed=SEED, shape=st.lists(st.integers(1, 9), min_size=1, max_size=3).map(tuple),
       d=st.integers(1, 200), offset=st.floats(-50, 50), spread=st.floats(0.01, 20),
       eps=st.sampled_from([1e-5, 1e-3, 1e-6]))
def test_layernorm_matches_reference(kit, seed, shape, d, offset, spread, eps):
    rng = np.random.default_rng(seed)
    b = EngineBuilder("ln")
    x = b.input("x", "float32", shape + (d,))
    b.output(ops.layernorm(b, x, _normal(rng, d) + 1.0, _normal(rng, d), eps=eps))
    # The kernel sums in float32: the mean's rounding error, relative to the spread, is about
    # D * 2^-24 * (|offset| + spread) / spread. Well-conditioned rows get 1e-4; an offset far above the
    # spread widens the tolerance by that conditioning and no more.
    cond = (abs(offset) + spread) / spread
    tol = max(1e-4, 4 * d * 2.0**-24 * cond)
    kit.assert_close(b, {"x": (offset + _normal(rng, x.shape, spread)).astype(np.float32)}, rtol=1e-4, atol=tol)


# ------------------------------------------------------------------------------------------------ attention
@PROPERTY
@given(seed=SEED, heads=st.integers(1, 4), dh=st.integers(1, 16), batch=st.integers(1, 2),
       lq=st.integers(1, 9), ls=st.integers(1, 12), temp=st.floats(0.1, 3.0))
def test_attention_matches_reference(kit, seed, heads, dh, batch, lq, ls, temp):
    rng = np.random.default_rng(seed)
    d = heads * dh
    b = EngineBuilder("attn")
    q = b.input("q", "float32", (batch, lq, d))
    k = b.input("k", "float32", (batch, ls, d))
    v = b.input("v", "float32", (batch, ls, d))
    b.output(ops.attention(b, q, k, v, num_heads=heads))
    inputs = {"q": _normal(rng, q.shape, temp), "k": _normal(rng, k.shape, temp), "v": _normal(rng, v.shape)}
    kit.assert_close(b, inputs)


def test_attention_heads_are_independent(kit, rng):
    """Two heads: changing head 1's keys leaves head 0's output columns untouched (exactly)."""
    b = EngineBuilder("attn_heads")
    q = b.input("q", "float32", (1, 3, 8))
    k = b.input("k", "float32", (1, 5, 8))
    v = b.input("v", "float32", (1, 5, 8))
    y = ops.attention(b, q, k, v, num_heads=2)
    b.output(y)
    ins = {"q": _normal(rng, q.shape), "k": _normal(rng, k.shape), "v": _normal(rng, v.shape)}
    first = kit.assert_close(b, ins)[y.name]
    ins["k"] = ins["k"].copy()
    ins["k"][..., 4:] = _normal(rng, (1, 5, 4), 3.0)
    second = kit.assert_close(b, ins)[y.name]
    assert np.array_equal(first[..., :4], second[..., :4])
    assert not np.array_equal(first[..., 4:], second[..., 4:])


# ------------------------------------------------------------------------------------------------ data movement
def _data(rng: np.random.Generator, dtype: str, shape) -> np.ndarray:
    if dtype == "int8":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    return _normal(rng, shape, 10.0)


@PROPERTY
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["float32", "int8"]))
def test_concat_is_exact_along_any_axis(kit, data, seed, dtype):
    rng = np.random.default_rng(seed)
    base = list(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=5), label="shape"))
    axis = data.draw(st.integers(-len(base), len(base) - 1), label="axis")
    count = data.draw(st.integers(1, 4), label="inputs")
    b = EngineBuilder("concat")
    xs, inputs = [], {}
    for i in range(count):
        shp = list(base)
        shp[axis] = data.draw(st.integers(1, 4), label=f"len{i}")
        t = b.input(f"x{i}", dtype, shp, scale=0.05 if dtype == "int8" else 0.0, zero_point=3 if dtype == "int8" else 0)
        xs.append(t)
        inputs[t.name] = _data(rng, dtype, tuple(shp))
    y = ops.concat(b, xs, axis=axis)
    b.output(y)
    got = kit.assert_bitexact(b, inputs)[y.name]
    assert np.array_equal(got, np.concatenate([inputs[t.name] for t in xs], axis=axis))


@PROPERTY
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["float32", "int8"]))
def test_reshape_is_exact(kit, data, seed, dtype):
    rng = np.random.default_rng(seed)
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=6), label="shape"))
    total = int(np.prod(shape))
    # a random factorisation of the element count, one entry possibly -1
    dims, left = [], total
    while left > 1 and len(dims) < 5:
        divisors = [f for f in range(1, left + 1) if left % f == 0]
        f = data.draw(st.sampled_from(divisors), label="factor")
        dims.append(f)
        left //= f
    dims.append(left)
    if data.draw(st.booleans(), label="infer"):
        dims[data.draw(st.integers(0, len(dims) - 1), label="infer_at")] = -1
    b = EngineBuilder("reshape")
    x = b.input("x", dtype, shape, scale=0.1 if dtype == "int8" else 0.0, zero_point=-5 if dtype == "int8" else 0)
    y = ops.reshape(b, x, dims)
    b.output(y)
    xv = _data(rng, dtype, shape)
    got = kit.assert_bitexact(b, {"x": xv})[y.name]
    assert np.array_equal(got, xv.reshape(dims))


@PROPERTY
@given(data=st.data(), seed=SEED, dtype=st.sampled_from(["float32", "int8"]))
def test_permute_is_exact_for_random_permutations(kit, data, seed, dtype):
    rng = np.random.default_rng(seed)
    rank = data.draw(st.integers(2, 5), label="rank")
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank), label="shape"))
    perm = data.draw(st.permutations(range(rank)), label="perm")
    b = EngineBuilder("permute")
    x = b.input("x", dtype, shape, scale=0.1 if dtype == "int8" else 0.0, zero_point=7 if dtype == "int8" else 0)
    y = ops.permute(b, x, perm)
    b.output(y)
    xv = _data(rng, dtype, shape)
    got = kit.assert_bitexact(b, {"x": xv})[y.name]
    assert np.array_equal(got, xv.transpose(perm))


def test_permute_rank6_round_trip_is_identity(kit, rng):
    b = EngineBuilder("permute6")
    x = b.input("x", "float32", (2, 3, 1, 4, 2, 3))
    perm = [4, 0, 5, 2, 3, 1]
    y = ops.permute(b, x, perm, name="p")
    inv = list(np.argsort(perm))
    z = ops.permute(b, y, inv, name="back")
    b.output(y, z)
    xv = _normal(rng, x.shape)
    got = kit.assert_bitexact(b, {"x": xv})
    assert np.array_equal(got["back"], xv)
