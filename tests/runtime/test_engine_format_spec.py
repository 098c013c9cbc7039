"""docs/engine-format.md is sufficient: engines written with struct/zlib/numpy only load and run, and the
bytes EngineBuilder writes parse with a small reader that follows the document.

The writer and reader here deliberately do NOT import wayvert.build or wayvert.quant: every constant,
offset and formula comes from the spec.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import wayvert

# ---- constants from docs/engine-format.md ---------------------------------------------------------
MAGIC = b"WAYVERT\x00"
ALIGN = 64
ABSENT = 0xFFFFFFFF
DTYPE = {"float32": 1, "int8": 2, "int32": 3, "uint8": 4}
NP_DTYPE = {1: "<f4", 2: "i1", 3: "<i4", 4: "u1"}
KIND_ACT, KIND_CONST, KIND_INPUT, KIND_STATE = 0, 1, 2, 3
SEC_META, SEC_GRAPH, SEC_TENSORS, SEC_PROFILE = 1, 2, 3, 4
ATTR_INT, ATTR_FLOAT = 1, 2


def pad_to(buf: bytearray, align: int = ALIGN) -> None:
    buf.extend(b"\0" * (-len(buf) % align))


@dataclass
class V:
    name: str
    dtype: str
    shape: tuple[int, ...]
    kind: int
    scale: float = 0.0
    zero: int = 0
    data: np.ndarray | None = None


@dataclass
class O:
    op: str
    inputs: list[int | None]
    outputs: list[int]
    attrs: dict[str, int | float] = field(default_factory=dict)


def write_engine(values: list[V], ops: list[O], inputs: list[int], outputs: list[int], meta: dict[str, Any],
                 *, states: list[tuple[int, int]] = (), major: int = 1, minor: int = 0) -> bytes:
    """An engine file built from the spec alone (struct + zlib + numpy)."""
    strings = bytearray()
    interned: dict[str, tuple[int, int]] = {}

    def s(text: str) -> tuple[int, int]:
        if text not in interned:
            b = text.encode("utf-8")
            interned[text] = (len(strings), len(b))
            strings.extend(b)
        return interned[text]

    tensors = bytearray()
    vrecs = bytearray()
    for v in values:
        off = size = 0
        if v.kind == KIND_CONST:
            assert v.data is not None
            pad_to(tensors)
            off = len(tensors)
            blob = np.ascontiguousarray(v.data, dtype=NP_DTYPE[DTYPE[v.dtype]]).tobytes()
            size = len(blob)
            tensors += blob
        dims = list(v.shape) + [0] * (6 - len(v.shape))
        no, nl = s(v.name)
        # name off/len u32, dtype u8, rank u8, kind u8, pad u8, pad u32, dims 6 x u32, scale f32, zero i32, off u64, size u64
        vrecs += struct.pack("<IIBBBBI6IfiQQ", no, nl, DTYPE[v.dtype], len(v.shape), v.kind, 0, 0, *dims,
                             v.scale, v.zero, off, size)
    assert len(vrecs) == 64 * len(values)

    pool = list(inputs) + list(outputs) + [i for pair in states for i in pair]
    orecs = bytearray()
    arecs = bytearray()
    nattr = 0
    for o in ops:
        in_first = len(pool)
        pool += [ABSENT if i is None else i for i in o.inputs]
        out_first = len(pool)
        pool += o.outputs
        a_first = nattr
        for key in sorted(o.attrs):
            ko, kl = s(key)
            val = o.attrs[key]
            if isinstance(val, int):
                arecs += struct.pack("<IIIIq", ko, kl, ATTR_INT, 0, val)
            else:
                arecs += struct.pack("<IIIId", ko, kl, ATTR_FLOAT, 0, float(val))
            nattr += 1
        no, nl = s(o.op)
        orecs += struct.pack("<8I", no, nl, in_first, len(o.inputs), out_first, len(o.outputs), a_first, len(o.attrs))

    graph = (struct.pack("<8I", len(values), len(ops), len(inputs), len(outputs), nattr, len(pool), len(strings), len(states))
             + vrecs + orecs + arecs + struct.pack(f"<{len(pool)}I", *pool) + strings)
    sections = [(SEC_META, json.dumps(meta).encode("utf-8")), (SEC_GRAPH, bytes(graph)), (SEC_TENSORS, bytes(tensors))]

    out = bytearray(64 + 32 * len(sections))
    table = bytearray()
    for kind, payload in sections:
        pad_to(out)
        table += struct.pack("<IIQQQ", kind, 0, len(out), len(payload), 0)
        out += payload
    out[64:64 + len(table)] = table
    crc = zlib.crc32(bytes(out[64:])) & 0xFFFFFFFF
    out[0:64] = struct.pack("<8sHHIIIQQII16x", MAGIC, major, minor, 0, 64, len(sections), 64, len(out), crc, 0)
    return bytes(out)


# ---- the spec's arithmetic (section 7), written out independently ----------------------------------
def rescale(x: np.ndarray, m: Any, s: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    p = x * m
    out = np.empty(np.broadcast(p, s).shape, dtype=np.int64)
    pb, sb = np.broadcast_arrays(p, s)
    for idx in np.ndindex(out.shape):
        pv, sv = int(pb[idx]), int(sb[idx])
        out[idx] = pv if sv == 0 else (pv + (1 << (sv - 1)) - (1 if pv < 0 else 0)) >> sv
    return out


def encode_multiplier(real: float) -> tuple[int, int]:
    if real == 0.0:
        return 0, 0
    mant, e = math.frexp(real)
    m, s = int(round(mant * 2**31)), 31 - e
    if m == 2**31:
        m, s = m // 2, s - 1
    assert 0 <= s <= 62
    return m, s


def round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def conv_acc(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    out = np.zeros((n, co, ho, wo), dtype=np.int64)
    for oy in range(ho):
        for ox in range(wo):
            patch = xp[:, :, oy:oy + kh, ox:ox + kw].astype(np.int64)
            out[:, :, oy, ox] = np.einsum("ncij,ocij->no", patch, w.astype(np.int64))
    return out


# ---- engines written by hand ----------------------------------------------------------------------
def test_handwritten_int8_conv_relu_flatten_linear_dequantize() -> None:
    rng = np.random.default_rng(7)
    sx, zx = 0.05, -3
    s1, z1 = 0.08, -128  # conv output, relu through act_min = z1
    s2, z2 = 0.25, 5  # linear output
    w1 = rng.integers(-127, 128, size=(4, 2, 3, 3)).astype(np.int8)
    sw1 = rng.uniform(0.002, 0.01, size=4)
    b1 = rng.integers(-500, 500, size=4).astype(np.int32)
    enc1 = [encode_multiplier(sx * sw / s1) for sw in sw1]
    m1 = np.array([m for m, _ in enc1], dtype=np.int32)
    sh1 = np.array([s for _, s in enc1], dtype=np.int32)
    w2 = rng.integers(-127, 128, size=(3, 100)).astype(np.int8)
    sw2 = rng.uniform(0.001, 0.005, size=3)
    enc2 = [encode_multiplier(s1 * sw / s2) for sw in sw2]
    m2 = np.array([m for m, _ in enc2], dtype=np.int32)
    sh2 = np.array([s for _, s in enc2], dtype=np.int32)

    values = [
        V("image", "int8", (1, 2, 5, 5), KIND_INPUT, sx, zx),                    # 0
        V("conv.w", "int8", w1.shape, KIND_CONST, float(sw1.max()), 0, w1),      # 1
        V("conv.b", "int32", (4,), KIND_CONST, 0.0, 0, b1),                      # 2
        V("conv.m", "int32", (4,), KIND_CONST, 0.0, 0, m1),                      # 3
        V("conv.s", "int32", (4,), KIND_CONST, 0.0, 0, sh1),                     # 4
        V("conv", "int8", (1, 4, 5, 5), KIND_ACT, s1, z1),                       # 5
        V("flat", "int8", (1, 100), KIND_ACT, s1, z1),                           # 6
        V("fc.w", "int8", w2.shape, KIND_CONST, float(sw2.max()), 0, w2),        # 7
        V("fc.m", "int32", (3,), KIND_CONST, 0.0, 0, m2),                        # 8
        V("fc.s", "int32", (3,), KIND_CONST, 0.0, 0, sh2),                       # 9
        V("fc", "int8", (1, 3), KIND_ACT, s2, z2),                               # 10
        V("logits", "float32", (1, 3), KIND_ACT),                                # 11
    ]
    ops = [
        # trailing absent slots (residual, LUT) left off; the linear's bias slot is an explicit ABSENT
        O("conv2d", [0, 1, 2, 3, 4], [5], dict(pad_top=1, pad_left=1, pad_bottom=1, pad_right=1, act_min=z1, act_max=127)),
        O("reshape", [5], [6]),
        O("linear", [6, 7, None, 8, 9], [10]),
        O("dequantize", [10], [11]),
    ]
    data = write_engine(values, ops, inputs=[0], outputs=[10, 11], meta={"model": {"name": "handwritten", "version": "1"}})
    e = wayvert.Engine.from_bytes(data)
    assert [s.name for s in e.inputs] == ["image"]
    assert [s.name for s in e.outputs] == ["fc", "logits"]
    assert e.inputs[0].dtype == "int8" and e.inputs[0].shape == (1, 2, 5, 5)
    assert e.inputs[0].zero_point == zx and e.inputs[0].scale == pytest.approx(sx)
    assert e.op_types == ["conv2d", "reshape", "linear", "dequantize"]
    assert e.meta["model"]["name"] == "handwritten"

    x = rng.integers(-128, 128, size=(1, 2, 5, 5)).astype(np.int8)
    # expected, from the spec: acc over (x - zx) with zero padding, + bias, rescale, + z, clamp(act)
    acc = conv_acc(x.astype(np.int64) - zx, w1, pad=1) + b1.reshape(1, -1, 1, 1)
    v = rescale(acc, m1.reshape(1, -1, 1, 1), sh1.reshape(1, -1, 1, 1)) + z1
    h = np.clip(v, z1, 127).astype(np.int8)
    acc2 = (h.reshape(1, 100).astype(np.int64) - z1) @ w2.astype(np.int64).T
    q = np.clip(rescale(acc2, m2.reshape(1, -1), sh2.reshape(1, -1)) + z2, -128, 127).astype(np.int8)
    f = (q.astype(np.int32) - z2).astype(np.float32) * np.float32(s2)

    sess = e.session()
    out = sess.run({"image": x})
    np.testing.assert_array_equal(out["fc"], q)
    assert out["logits"].dtype == np.float32
    np.testing.assert_array_equal(out["logits"], f)
    out2 = sess.run({"image": x})  # a session runs again with the same result
    np.testing.assert_array_equal(out2["fc"], q)


def test_handwritten_float_graph(tmp_path: Any) -> None:
    rng = np.random.default_rng(3)
    w = rng.normal(size=(6, 8)).astype(np.float32)
    b = rng.normal(size=6).astype(np.float32)
    emb = rng.normal(size=(2, 3, 6)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, size=6).astype(np.float32)
    beta = rng.normal(size=6).astype(np.float32)
    values = [
        V("tokens", "float32", (2, 3, 8), KIND_INPUT),          # 0
        V("w", "float32", (6, 8), KIND_CONST, data=w),          # 1
        V("b", "float32", (6,), KIND_CONST, data=b),            # 2
        V("proj", "float32", (2, 3, 6), KIND_ACT),              # 3
        V("emb", "float32", (2, 3, 6), KIND_CONST, data=emb),   # 4
        V("sum", "float32", (2, 3, 6), KIND_ACT),               # 5
        V("gamma", "float32", (6,), KIND_CONST, data=gamma),    # 6
        V("beta", "float32", (6,), KIND_CONST, data=beta),      # 7
        V("norm", "float32", (2, 3, 6), KIND_ACT),              # 8
        V("t", "float32", (2, 6, 3), KIND_ACT),                 # 9
        V("cat", "float32", (2, 12, 3), KIND_ACT),              # 10
    ]
    ops = [
        O("linear", [0, 1, 2], [3], {"activation": 1}),               # relu
        O("add", [3, 4], [5]),                                         # embedding add: constant b
        O("layernorm", [5, 6, 7], [8], {"eps": 1e-3}),                 # float attribute
        O("permute", [8], [9], {"perm0": 0, "perm1": 2, "perm2": 1}),
        O("concat", [9, 9], [10], {"axis": -2}),
    ]
    data = write_engine(values, ops, inputs=[0], outputs=[10, 8], meta={"model": {"name": "f", "version": "0"}}, minor=3)
    path = tmp_path / "float.wvrt"
    path.write_bytes(data)
    e = wayvert.Engine.load(path)  # a newer minor with only known ops loads
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    out = e.session().run({"tokens": x})

    proj = np.maximum(x.astype(np.float64) @ w.T + b, 0) + emb
    mu = proj.mean(-1, keepdims=True)
    var = ((proj - mu) ** 2).mean(-1, keepdims=True)
    norm = (proj - mu) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(out["norm"], norm, rtol=1e-4, atol=1e-4)
    t = norm.transpose(0, 2, 1)
    np.testing.assert_allclose(out["cat"], np.concatenate([t, t], axis=1), rtol=1e-4, atol=1e-4)


def test_handwritten_int8_add_with_lut_and_pool() -> None:
    """int8 add (8 fraction bits), LUT indexing at q + 128, and int8 global_avg_pool."""
    rng = np.random.default_rng(11)
    sa, za, sb, zb, sy, zy = 0.1, 3, 0.07, -10, 0.12, -4
    ma, sha = encode_multiplier(sa / sy * 256)
    mb, shb = encode_multiplier(sb / sy * 256)
    lut = rng.integers(-128, 128, size=256).astype(np.int8)
    sp, zp = 0.2, 1
    mp, shp = encode_multiplier(sy / (sp * 4 * 4))
    values = [
        V("a", "int8", (1, 3, 4, 4), KIND_INPUT, sa, za),
        V("b", "int8", (1, 3, 4, 4), KIND_INPUT, sb, zb),
        V("lut", "int8", (256,), KIND_CONST, 1.0, 0, lut),
        V("sum", "int8", (1, 3, 4, 4), KIND_ACT, sy, zy),
        V("pool", "int8", (1, 3, 1, 1), KIND_ACT, sp, zp),
    ]
    ops = [
        O("add", [0, 1, 2], [3], dict(a_multiplier=ma, a_shift=sha, b_multiplier=mb, b_shift=shb, act_min=-100, act_max=90)),
        O("global_avg_pool", [3], [4], dict(multiplier=mp, shift=shp)),
    ]
    e = wayvert.Engine.from_bytes(write_engine(values, ops, [0, 1], [3, 4], {"model": {}}))
    a = rng.integers(-128, 128, size=(1, 3, 4, 4)).astype(np.int8)
    bb = rng.integers(-128, 128, size=(1, 3, 4, 4)).astype(np.int8)
    out = e.session().run({"a": a, "b": bb})
    v = rescale(rescale(a.astype(np.int64) - za, ma, sha) + rescale(bb.astype(np.int64) - zb, mb, shb), 1, 8) + zy
    q = np.clip(v, -100, 90)
    y = lut[q + 128]
    np.testing.assert_array_equal(out["sum"], y)
    ssum = (y.astype(np.int64) - zy).reshape(1, 3, 16).sum(-1)
    p = np.clip(rescale(ssum, mp, shp) + zp, -128, 127).astype(np.int8).reshape(1, 3, 1, 1)
    np.testing.assert_array_equal(out["pool"], p)


def test_handwritten_int8_mul_avg_pool_and_bilinear_resize() -> None:
    """Section 7.7 and the resize formula of section 8, written from the document alone."""
    rng = np.random.default_rng(5)
    sa, za, sb, zb, sy, zy = 0.05, -3, 0.02, 4, 0.01, 2
    m, sh = encode_multiplier(sa * sb / sy)
    H, W, Ho, Wo = 5, 4, 7, 9
    values = [
        V("a", "int8", (1, 2, H, W), KIND_INPUT, sa, za),
        V("b", "int8", (1, 2, 1, W), KIND_INPUT, sb, zb),
        V("p", "int8", (1, 2, H, W), KIND_ACT, sy, zy),
        V("avg", "int8", (1, 2, 3, 2), KIND_ACT, sy, zy),
        V("up", "int8", (1, 2, Ho, Wo), KIND_ACT, sy, zy),
    ]
    ops = [
        O("mul", [0, 1], [2], dict(multiplier=m, shift=sh, act_min=-120)),
        # kernel 3, stride 2, pads 1: (5 + 2 - 3) / 2 + 1 = 3 rows, (4 + 2 - 3) / 2 + 1 = 2 columns (floor)
        O("avg_pool2d", [2], [3], dict(kernel_h=3, kernel_w=3, stride_h=2, stride_w=2, pad_top=1, pad_left=1,
                                       pad_bottom=1, pad_right=1)),
        O("resize", [2], [4], dict(mode=1, align_corners=0)),
    ]
    e = wayvert.Engine.from_bytes(write_engine(values, ops, [0, 1], [2, 3, 4], {"model": {}}))
    a = rng.integers(-128, 128, size=(1, 2, H, W)).astype(np.int8)
    bb = rng.integers(-128, 128, size=(1, 2, 1, W)).astype(np.int8)
    out = e.session().run({"a": a, "b": bb})

    p = np.clip(rescale((a.astype(np.int64) - za) * (bb.astype(np.int64) - zb), m, sh) + zy, -120, 127)
    np.testing.assert_array_equal(out["p"], p.astype(np.int8))

    avg = np.zeros((1, 2, 3, 2), np.int64)
    for oy in range(3):
        for ox in range(2):
            rows = [r for r in range(oy * 2 - 1, oy * 2 + 2) if 0 <= r < H]
            cols = [c for c in range(ox * 2 - 1, ox * 2 + 2) if 0 <= c < W]
            total = (p[:, :, rows][:, :, :, cols] - zy).sum(axis=(2, 3))
            count = len(rows) * len(cols)
            avg[:, :, oy, ox] = np.sign(total) * ((2 * np.abs(total) + count) // (2 * count)) + zy
    np.testing.assert_array_equal(out["avg"], np.clip(avg, -128, 127).astype(np.int8))

    def taps(n_in: int, n_out: int) -> list[tuple[int, int, int]]:
        t = []
        for o in range(n_out):
            num, den = max((2 * o + 1) * n_in - n_out, 0), 2 * n_out
            i0, f = num // den, (2 * (num % den) * 2048 + den) // (2 * den)
            if f == 2048:
                i0, f = i0 + 1, 0
            if i0 >= n_in - 1:
                i0, f = n_in - 1, 0
            t.append((i0, min(i0 + 1, n_in - 1), f))
        return t

    v = p - zy
    up = np.zeros((1, 2, Ho, Wo), np.int64)
    for oy, (y0, y1, fy) in enumerate(taps(H, Ho)):
        for ox, (x0, x1, fx) in enumerate(taps(W, Wo)):
            acc = ((v[:, :, y0, x0] * (2048 - fx) + v[:, :, y0, x1] * fx) * (2048 - fy)
                   + (v[:, :, y1, x0] * (2048 - fx) + v[:, :, y1, x1] * fx) * fy)
            up[:, :, oy, ox] = np.sign(acc) * ((np.abs(acc) + (1 << 21)) >> 22) + zy
    np.testing.assert_array_equal(out["up"], np.clip(up, -128, 127).astype(np.int8))


def test_every_registered_op_has_an_op_reference_entry() -> None:
    """Each WV_KERNEL in cpp/src/kernels/cpu/kernel_list.inc has a '### name' heading in section 8."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    registry = root / "cpp" / "src" / "kernels" / "cpu" / "kernel_list.inc"
    doc = root / "docs" / "engine-format.md"
    if not registry.exists() or not doc.exists():
        pytest.skip("needs the source tree")
    kernels = re.findall(r"^WV_KERNEL\((\w+)\)", registry.read_text(), re.M)
    section8 = doc.read_text().split("## 8. Op reference", 1)[1].split("\n## ", 1)[0]
    documented = {name for heading in re.findall(r"^### (.+)$", section8, re.M)
                  for name in re.findall(r"\w+", heading) if name != "and"}
    assert len(kernels) >= 19
    assert sorted(set(kernels) - documented) == []


def test_handwritten_quantize_rounding() -> None:
    values = [V("x", "float32", (1, 8), KIND_INPUT), V("q", "int8", (1, 8), KIND_ACT, 0.5, 2)]
    e = wayvert.Engine.from_bytes(write_engine(values, [O("quantize", [0], [1])], [0], [1], {}))
    x = np.array([[0.25, -0.25, 0.75, -0.75, 100.0, -100.0, 0.0, 1.2]], dtype=np.float32)
    out = e.session().run({"x": x})["q"]
    # x / 0.5 = 0.5, -0.5, 1.5, -1.5 -> half away from zero: 1, -1, 2, -2; then + 2, clamp
    np.testing.assert_array_equal(out, np.array([[3, 1, 4, 0, 127, -128, 2, 4]], dtype=np.int8))
    np.testing.assert_array_equal(out, np.clip(round_half_away(x.astype(np.float64) / 0.5) + 2, -128, 127).astype(np.int8))


def test_handwritten_recurrent_state() -> None:
    """float32 and int8 state: starts at real zero, takes its update's value after each run, reset restores it."""
    sq, zq = 0.5, 3
    values = [
        V("x", "float32", (2,), KIND_INPUT),                 # 0
        V("h", "float32", (2,), KIND_STATE),                 # 1
        V("h_next", "float32", (2,), KIND_ACT),              # 2
        V("xq", "int8", (2,), KIND_INPUT, sq, zq),           # 3
        V("hq", "int8", (2,), KIND_STATE, sq, zq),           # 4
        V("hq_next", "int8", (2,), KIND_ACT, sq, zq),        # 5
    ]
    m, sh = encode_multiplier(256.0)  # both operands at the output scale: M = 1 * 256
    ops = [
        O("add", [0, 1], [2]),
        O("add", [3, 4], [5], dict(a_multiplier=m, a_shift=sh, b_multiplier=m, b_shift=sh)),
    ]
    e = wayvert.Engine.from_bytes(write_engine(values, ops, [0, 3], [2, 5], {}, states=[(1, 2), (4, 5)]))
    s = e.session()
    x = np.array([1.0, -0.5], dtype=np.float32)
    xq = np.array([5, 2], dtype=np.int8)  # real 1.0, -0.5
    for k in range(1, 4):
        out = s.run({"x": x, "xq": xq})
        np.testing.assert_array_equal(out["h_next"], k * x)
        np.testing.assert_array_equal((out["hq_next"].astype(np.float32) - zq) * sq, k * x)
    s.reset()
    out = s.run({"x": x, "xq": xq})
    np.testing.assert_array_equal(out["h_next"], x)
    np.testing.assert_array_equal(out["hq_next"], xq)
    assert e.session().run({"x": x, "xq": xq})["h_next"].tolist() == x.tolist()  # each session owns its state


# ---- a reader written from the spec, applied to EngineBuilder output --------------------------------
def read_engine(data: bytes) -> dict[str, Any]:
    magic, major, minor, flags, header_size, count, table, size, crc = struct.unpack_from("<8sHHIIIQQI", data, 0)
    assert magic == MAGIC and (major, minor, flags, header_size) == (1, 0, 0, 64)
    assert size == len(data)
    assert crc == zlib.crc32(data[64:]) & 0xFFFFFFFF
    assert data[44:64] == b"\0" * 20
    assert 1 <= count <= 64 and table >= 64
    sections: dict[int, bytes] = {}
    spans = [(0, 64), (table, table + 32 * count)]
    for i in range(count):
        kind, r0, off, sz, r1 = struct.unpack_from("<IIQQQ", data, table + 32 * i)
        assert (r0, r1) == (0, 0)
        assert off % 64 == 0 and off + sz <= len(data)
        if sz:
            assert all(off >= e or b >= off + sz for b, e in spans), "sections overlap"
        spans.append((off, off + sz))
        assert kind not in sections
        sections[kind] = data[off:off + sz]
    assert {SEC_META, SEC_GRAPH, SEC_TENSORS} <= set(sections)

    g = sections[SEC_GRAPH]
    nv, nop, nin, nout, nattr, nidx, nstr, nstate = struct.unpack_from("<8I", g, 0)
    assert nin + nout + 2 * nstate <= nidx
    values_at = 32
    ops_at = values_at + 64 * nv
    attrs_at = ops_at + 32 * nop
    idx_at = attrs_at + 24 * nattr
    str_at = idx_at + 4 * nidx
    assert str_at + nstr == len(g)
    pool = struct.unpack_from(f"<{nidx}I", g, idx_at)

    def string(off: int, ln: int) -> str:
        assert off + ln <= nstr
        return g[str_at + off:str_at + off + ln].decode("utf-8")

    tensors = sections[SEC_TENSORS]
    values = []
    for i in range(nv):
        no, nl, dt, rank, kind, p0, p1, *rest = struct.unpack_from("<IIBBBBI6IfiQQ", g, values_at + 64 * i)
        dims, (scale, zero, off, sz) = rest[:6], rest[6:]
        assert dt in NP_DTYPE and rank <= 6 and kind in (0, 1, 2, 3) and (p0, p1) == (0, 0)
        shape = tuple(dims[:rank])
        assert all(d >= 1 for d in shape) and all(d == 0 for d in dims[rank:])
        rec: dict[str, Any] = dict(name=string(no, nl), dtype=dt, shape=shape, kind=kind, scale=scale, zero=zero)
        if kind == KIND_CONST:
            nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(NP_DTYPE[dt]).itemsize
            assert off % 64 == 0 and sz == nbytes and off + sz <= len(tensors)
            rec["data"] = np.frombuffer(tensors, dtype=NP_DTYPE[dt], count=int(np.prod(shape)), offset=off).reshape(shape)
        else:
            assert off == 0 and sz == 0
        values.append(rec)
    ops = []
    for i in range(nop):
        no, nl, inf, inc, outf, outc, af, ac = struct.unpack_from("<8I", g, ops_at + 32 * i)
        assert inf + inc <= nidx and outf + outc <= nidx and af + ac <= nattr
        attrs: dict[str, int | float] = {}
        for k in range(af, af + ac):
            ko, kl, t, pad = struct.unpack_from("<IIII", g, attrs_at + 24 * k)
            assert t in (ATTR_INT, ATTR_FLOAT) and pad == 0
            attrs[string(ko, kl)] = struct.unpack_from("<q" if t == ATTR_INT else "<d", g, attrs_at + 24 * k + 16)[0]
        ins = [None if j == ABSENT else j for j in pool[inf:inf + inc]]
        ops.append(dict(op=string(no, nl), inputs=ins, outputs=list(pool[outf:outf + outc]), attrs=attrs))
    return dict(meta=json.loads(sections[SEC_META].decode("utf-8")), values=values, ops=ops,
                inputs=list(pool[:nin]), outputs=list(pool[nin:nin + nout]),
                states=[tuple(pool[nin + nout + 2 * i:nin + nout + 2 * i + 2]) for i in range(nstate)],
                sections=sections, spans=spans)


def test_builder_output_parses_with_spec_reader() -> None:
    from wayvert.build import EngineBuilder  # the writer under test; the reader above imports nothing
    from wayvert.build import ops as ops_mod

    rng = np.random.default_rng(0)
    b = EngineBuilder("spec_reader", "2")
    x = b.input("image", "int8", (1, 3, 8, 8), scale=1 / 64, zero_point=-3)
    wq = rng.integers(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
    h = ops_mod.conv2d(b, x, wq, rng.normal(size=4), padding=1, activation="relu", weight_scales=np.full(4, 0.01),
                       out_scale=0.05, out_zero_point=-128, name="conv1")
    f = ops_mod.reshape(b, h, (1, -1), name="flat")
    w2 = rng.integers(-127, 128, size=(5, 256)).astype(np.int8)
    y = ops_mod.linear(b, f, w2, None, weight_scales=np.full(5, 0.02), out_scale=0.5, name="fc")
    yf = ops_mod.dequantize(b, y, name="logits")
    prev = b.state("prev", "int8", (1, 5), scale=0.5, zero_point=0)  # running sum of fc, as recurrent state
    total = ops_mod.add(b, y, prev, out_scale=0.5, out_zero_point=0, name="total")
    b.update_state(prev, total)
    b.output(y, yf, total)
    data = b.to_bytes()

    r = read_engine(data)
    names = [v["name"] for v in r["values"]]
    assert names == list(b.values)
    assert [names[i] for i in r["inputs"]] == ["image"]
    assert [names[i] for i in r["outputs"]] == ["fc", "logits", "total"]
    assert [(names[a], names[b_]) for a, b_ in r["states"]] == [("prev", "total")]
    assert r["values"][names.index("prev")]["kind"] == KIND_STATE
    assert [o["op"] for o in r["ops"]] == ["conv2d", "reshape", "linear", "dequantize", "add"]
    # index pool layout: graph inputs, graph outputs, state pairs, then each op's inputs and outputs
    conv = r["ops"][0]
    assert conv["inputs"][0] == names.index("image") and names[conv["outputs"][0]] == "conv1"
    assert conv["inputs"][5:] == [None, None]  # residual and LUT absent
    assert conv["attrs"]["pad_top"] == 1 and conv["attrs"]["act_min"] == -128
    assert isinstance(conv["attrs"]["groups"], int)
    fc = r["ops"][2]
    assert fc["inputs"][2] is None  # no bias
    w_rec = r["values"][names.index("conv1.weight")]
    np.testing.assert_array_equal(w_rec["data"], wq)
    img = r["values"][names.index("image")]
    assert img["kind"] == KIND_INPUT and img["dtype"] == DTYPE["int8"] and img["zero"] == -3
    assert img["scale"] == pytest.approx(1 / 64)
    # every section starts 64-aligned; the writer's order is meta, graph, tensors
    offs = [s for s in r["spans"][2:]]
    assert all(o % 64 == 0 for o, _ in offs) and offs == sorted(offs)
    meta = r["meta"]
    assert meta["model"] == {"name": "spec_reader", "version": "2"}
    assert meta["format"] == {"major": 1, "minor": 0}
    assert meta["inputs"] == [{"name": "image", "dtype": "int8", "shape": [1, 3, 8, 8], "scale": 1 / 64, "zero_point": -3}]
    assert [o["name"] for o in meta["outputs"]] == ["fc", "logits", "total"]
    assert meta["state"] == [{"name": "prev", "dtype": "int8", "shape": [1, 5], "scale": 0.5, "zero_point": 0}]
    assert meta["ops"] == {"conv2d": 1, "reshape": 1, "linear": 1, "dequantize": 1, "add": 1}
    assert meta["producer"]["name"] == "wayvert.build.EngineBuilder"

    # and what the spec-reader decoded round-trips through the spec-writer into an equivalent engine
    vals = [V(v["name"], {1: "float32", 2: "int8", 3: "int32", 4: "uint8"}[v["dtype"]], v["shape"], v["kind"],
              v["scale"], v["zero"], v.get("data")) for v in r["values"]]
    rebuilt = write_engine(vals, [O(o["op"], o["inputs"], o["outputs"], o["attrs"]) for o in r["ops"]],
                           r["inputs"], r["outputs"], meta, states=r["states"])
    xi = rng.integers(-128, 128, size=(1, 3, 8, 8)).astype(np.int8)
    sa = wayvert.Engine.from_bytes(data).session()
    sc = wayvert.Engine.from_bytes(rebuilt).session()
    for _ in range(3):  # several runs, so the state path is compared too
        a, c = sa.run({"image": xi}), sc.run({"image": xi})
        for k in a:
            np.testing.assert_array_equal(a[k], c[k])
