"""Sample convnet, one benchmark group per input size (conftest.SIZES), every peer in the same run.

Peers: wayvert int8 and float32 engines (Session.run, float32 image in, float32 logits out, 1 thread),
numpy float32 (im2col + matmul, 1 BLAS thread), ONNX Runtime float32 and int8 static QDQ at 1 and 2
intra-op threads (skipped without onnx/onnxruntime).

``extra_info`` of every benchmark carries the accuracy of the peer's logits against the numpy float32
reference on a fixed input (``max_abs_err``, ``rel_l2_err``), its thread count, and for wayvert the
planned and naive arena bytes and the engine file size. benches/report.py turns the JSON into a table.
Timings are never asserted; accuracy is, loosely, so a broken peer cannot report a number.
"""

from __future__ import annotations

from typing import Any

import pytest

PEERS = ["wayvert_int8", "wayvert_f32", "numpy_f32", "ort_f32_t1", "ort_f32_t2", "ort_int8_t1", "ort_int8_t2"]


@pytest.mark.parametrize("peer", PEERS)
def test_convnet(benchmark: Any, convnet_cases: Any, convnet_size: str, peer: str) -> None:
    case = convnet_cases[convnet_size]
    p = case.peer(peer)
    for _ in range(3):  # warm-up: first-run allocations, ORT's lazy kernel setup, caches
        out = p.run()
    err = case.accuracy(out)
    benchmark.group = f"convnet {convnet_size}"
    benchmark.extra_info.update({"peer": peer, "input_shape": list(case.net.input_shape), **case.info, **p.info, **err})
    assert out.shape == case.ref.shape
    assert err["rel_l2_err"] < p.rel_l2_bound, f"{peer} logits far from the float reference: {err}"
    benchmark(p.run)
