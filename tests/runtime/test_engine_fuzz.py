"""Fuzzing the engine reader: mutated engine bytes load or fail with a wayvert error, never anything else.

Mutations (byte flips, truncations, insertions, overwrites of 1-16 bytes) are applied with and without
fixing up the header's file size and CRC-32 afterwards: without the fix-up the container checks
(size, checksum) reject almost everything; with it the graph and kernel validators are exercised.
An engine that loads must also be runnable: a session is created and run on zeros.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import wayvert
from wayvert.build import EngineBuilder, ops

MAX_RUN_ARENA = 256 << 20  # a loaded engine asking for more than this is reported, not run


def int8_engine() -> bytes:
    rng = np.random.default_rng(0)
    b = EngineBuilder("fuzz_int8", "1")
    x = b.input("image", "float32", (1, 2, 4, 4))
    q = ops.quantize(b, x, 0.05, -2, name="q")
    w1 = rng.integers(-127, 128, size=(4, 2, 3, 3)).astype(np.int8)
    h = ops.conv2d(b, q, w1, rng.normal(size=4), padding=1, activation="relu", weight_scales=np.full(4, 0.01),
                   out_scale=0.04, out_zero_point=-128, name="conv")
    w2 = rng.integers(-127, 128, size=(4, 4, 1, 1)).astype(np.int8)
    h2 = ops.conv2d(b, h, w2, None, residual=h, weight_scales=np.full(4, 0.02), out_scale=0.05, name="res")
    p = ops.global_avg_pool(b, h2, out_scale=0.05, name="pool")
    w3 = rng.integers(-127, 128, size=(3, 4)).astype(np.int8)
    y = ops.linear(b, p, w3, rng.normal(size=3), weight_scales=np.full(3, 0.03), out_scale=0.1, name="fc")
    b.output(ops.dequantize(b, y, name="logits"), y)
    return b.to_bytes()


def float_engine() -> bytes:
    rng = np.random.default_rng(1)
    b = EngineBuilder("fuzz_f32", "1")
    t = b.input("tokens", "float32", (1, 3, 4))
    emb = b.constant("pos", rng.normal(size=(1, 3, 4)).astype(np.float32))
    h = ops.add(b, t, emb, name="embed")
    h = ops.layernorm(b, h, np.ones(4), np.zeros(4), name="ln")
    qkv = ops.linear(b, h, rng.normal(size=(4, 4)), rng.normal(size=4), activation="gelu", name="proj")
    a = ops.attention(b, qkv, h, h, num_heads=2, name="attn")
    pm = ops.permute(b, a, (0, 2, 1), name="perm")
    c = ops.concat(b, [pm, pm], axis=1, name="cat")
    b.output(ops.reshape(b, c, (1, -1), name="flat"))
    return b.to_bytes()


def state_engine() -> bytes:
    b = EngineBuilder("fuzz_state", "1")
    x = b.input("x", "int8", (1, 4, 2), scale=0.1, zero_point=1)
    h = b.state("h", "int8", (1, 4, 2), scale=0.1, zero_point=1)
    y = ops.add(b, x, h, activation="relu", out_scale=0.1, out_zero_point=1, name="sum")
    b.update_state(h, y)
    p = ops.permute(b, y, (0, 2, 1), name="perm")
    c = ops.concat(b, [p, p], axis=-1, name="cat")
    b.output(ops.reshape(b, c, (2, 8), name="flat"), y)
    return b.to_bytes()


BASES = [int8_engine(), float_engine(), state_engine()]


def _graph_span(data: bytes) -> tuple[int, int]:
    count, table = struct.unpack_from("<IQ", data, 20)
    for i in range(count):
        kind, _, off, size, _ = struct.unpack_from("<IIQQQ", data, table + 32 * i)
        if kind == 2:
            return off, off + size
    raise AssertionError("no graph section")


GRAPH_SPANS = [_graph_span(d) for d in BASES]


@st.composite
def mutated(draw: Any) -> bytes:
    which = draw(st.integers(0, len(BASES) - 1))
    data = bytearray(BASES[which])
    g0, g1 = GRAPH_SPANS[which]
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        if n == 0:
            break
        # aim at the whole file, the header + section table, or the graph section (most validators live there)
        pos = draw(st.one_of(st.integers(0, n - 1), st.integers(0, min(n, 192) - 1),
                             st.integers(min(g0, n - 1), min(g1, n) - 1)))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            blob = draw(st.one_of(
                st.binary(min_size=1, max_size=16),
                st.sampled_from([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x00\x00\x00\x80", b"\x07", b"\x40",
                                 struct.pack("<Q", 2**63), struct.pack("<f", float("nan"))]),
            ))
            data[pos:pos + len(blob)] = blob
    if draw(st.booleans()) and len(data) >= 64:  # fix-up: the structural validators behind the CRC get the bytes
        data[32:40] = struct.pack("<Q", len(data))
        data[40:44] = struct.pack("<I", zlib.crc32(bytes(data[64:])) & 0xFFFFFFFF)
    return bytes(data)


def test_bases_load_and_run() -> None:
    for data in BASES:
        e = wayvert.Engine.from_bytes(data)
        _run_on_zeros(e)


def _run_on_zeros(e: wayvert.Engine) -> None:
    s = e.session()
    for _ in range(2):  # twice, so recurrent state is carried over once
        out = s.run({spec.name: np.zeros(spec.shape, dtype=spec.dtype) for spec in e.inputs})
        assert [k for k in out] == [spec.name for spec in e.outputs]
        for spec in e.outputs:
            assert out[spec.name].dtype == np.dtype(spec.dtype) and out[spec.name].shape == spec.shape


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated())
def test_mutated_engines_load_or_fail_typed(data: bytes) -> None:
    try:
        e = wayvert.Engine.from_bytes(data)
    except wayvert.WayvertError as err:
        event(f"refused: {type(err).__name__}")
        return
    event("loaded")
    if e.arena_bytes > MAX_RUN_ARENA:
        event("loaded with a huge arena (not run)")
        return
    _run_on_zeros(e)
