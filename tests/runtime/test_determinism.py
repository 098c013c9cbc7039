"""One engine and one set of inputs give bit-identical outputs: across sessions, across repeated runs of a
session (whose arena is reused and shared between values), and from threads sharing the Engine."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from wayvert import quant
from wayvert.build import EngineBuilder, ops


def _mixed_graph(rng: np.random.Generator) -> tuple[EngineBuilder, dict[str, np.ndarray]]:
    """Int8 CNN trunk + float transformer-ish head, so every kernel family writes into the shared arena."""
    b = EngineBuilder("determinism")
    img = b.input("image", "int8", (2, 8, 12, 12), scale=0.03, zero_point=-11)
    tok = b.input("tokens", "float32", (2, 6, 16))
    w1, s1 = quant.quantize_weights_per_channel(rng.normal(size=(16, 8, 3, 3)))
    c1 = ops.conv2d(b, img, w1, rng.normal(size=16), padding=1, stride=2, activation="relu", weight_scales=s1,
                    out_scale=0.05, out_zero_point=-128, name="c1")
    w2, s2 = quant.quantize_weights_per_channel(rng.normal(size=(16, 1, 3, 3)))
    c2 = ops.conv2d(b, c1, w2, None, padding=1, groups=16, activation="silu", weight_scales=s2, out_scale=0.04,
                    out_zero_point=0, pre_scale=0.05, residual=c1, name="c2")
    p = ops.global_avg_pool(b, c2, out_scale=0.02, out_zero_point=-3, name="pool")
    w3, s3 = quant.quantize_weights_per_channel(rng.normal(size=(16, 16)))
    l3 = ops.linear(b, p, w3, rng.normal(size=16), weight_scales=s3, out_scale=0.1, out_zero_point=5, name="fc")
    feat = ops.reshape(b, ops.dequantize(b, l3, name="fc_f"), (2, 1, 16), name="feat")
    seq = ops.concat(b, [feat, tok], axis=1, name="seq")
    ln = ops.layernorm(b, seq, rng.normal(size=16) + 1.0, rng.normal(size=16), name="ln")
    q = ops.linear(b, ln, rng.normal(size=(16, 16)).astype(np.float32) * 0.25, rng.normal(size=16), name="q")
    att = ops.attention(b, q, ln, ln, num_heads=4, name="att")
    h = ops.add(b, att, seq, activation="gelu", name="h")
    hp = ops.permute(b, h, (0, 2, 1), name="hp")
    out = ops.quantize(b, hp, 0.05, 2, name="out")
    b.output(l3, h, out)
    inputs = {"image": rng.integers(-128, 128, size=img.shape).astype(np.int8),
              "tokens": rng.normal(size=tok.shape).astype(np.float32)}
    return b, inputs


@pytest.fixture(scope="module")
def graph():
    return _mixed_graph(np.random.default_rng(2024))


def _bytes(outputs: dict[str, np.ndarray]) -> dict[str, bytes]:
    return {k: np.ascontiguousarray(v).tobytes() for k, v in outputs.items()}


def test_outputs_are_bit_identical_across_three_sessions(kit, graph):
    b, inputs = graph
    engine = kit.engine_of(b)
    results = [_bytes(engine.session().run(inputs)) for _ in range(3)]
    assert results[0] == results[1] == results[2]


def test_outputs_are_bit_identical_across_engines_loaded_from_the_same_bytes(kit, graph):
    b, inputs = graph
    assert _bytes(kit.engine_of(b).session().run(inputs)) == _bytes(kit.engine_of(b).session().run(inputs))


def test_repeated_runs_of_one_session_are_bit_identical(kit, graph):
    b, inputs = graph
    s = kit.engine_of(b).session()
    first = _bytes(s.run(inputs))
    for _ in range(10):
        assert _bytes(s.run(inputs)) == first


def test_a_run_does_not_depend_on_the_inputs_of_an_earlier_run(kit, graph):
    """Arena slots reused between runs: running other inputs in between leaves no trace."""
    b, inputs = graph
    s = kit.engine_of(b).session()
    first = _bytes(s.run(inputs))
    other = {"image": np.full_like(inputs["image"], 127), "tokens": np.full_like(inputs["tokens"], -3.0)}
    assert _bytes(s.run(other)) != first
    assert _bytes(s.run(inputs)) == first
    s.reset()
    assert _bytes(s.run(inputs)) == first


def test_returned_outputs_are_not_overwritten_by_the_next_run(kit, graph):
    b, inputs = graph
    s = kit.engine_of(b).session()
    out1 = s.run(inputs)
    snapshot = _bytes(out1)
    s.run({"image": np.zeros_like(inputs["image"]), "tokens": np.zeros_like(inputs["tokens"])})
    assert _bytes(out1) == snapshot


def test_two_threads_with_own_sessions_sharing_one_engine_are_bit_identical(kit, graph):
    b, inputs = graph
    engine = kit.engine_of(b)
    want = _bytes(engine.session().run(inputs))
    other = {"image": np.flip(inputs["image"], axis=0).copy(), "tokens": -inputs["tokens"]}
    want_other = _bytes(engine.session().run(other))
    results: dict[int, list[dict[str, bytes]]] = {0: [], 1: []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(tid: int) -> None:
        try:
            session = engine.session()
            barrier.wait()
            for i in range(20):
                # thread 1 alternates inputs so the two sessions never hold the same data at the same time
                ins = other if (tid == 1 and i % 2) else inputs
                results[tid].append(_bytes(session.run(ins)))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results[0]) == len(results[1]) == 20
    assert all(r == want for r in results[0])
    for i, r in enumerate(results[1]):
        assert r == (want_other if i % 2 else want), f"thread 1, run {i}"
