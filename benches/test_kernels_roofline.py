"""The hot ops of the reference network, one at a time, against this machine's roofline measured in the same run.

Group "machine peaks (1 thread)" measures what one core can do:

* ``int8_gemm_wayvert``: a 256x1024x1024 int8 ``linear`` engine (wayvert's own AVX2/NEON GEMM);
* ``int8_gemm_ort``: ONNX Runtime ``MatMulInteger`` (u8 x s8 -> s32, MLAS) of the same size, an independent peak;
* ``fp32_gemm_numpy``: numpy ``matmul`` (OpenBLAS sgemm, 1 thread) of the same size; ``fp32_gemm_wayvert`` too;
* ``copy_numpy``: ``np.copyto`` of 64 MiB (bytes read + written per second).

The report takes, per kind, the best peer as the machine's peak (ops/s from the min time).

Group "reference network kernels (1 thread)": every conv2d/linear of ``wayvert/data/reference.wvrt`` with at least
50 k multiply-accumulates, rebuilt as a one-op engine with the reference's own weights, multipliers and attributes
(``wayvert.graph``), and timed by ``Session.run``. ``extra_info`` carries the op's ops and bytes
(``wayvert.graph.costs``); the report divides the roofline time ``max(ops / peak, bytes / bandwidth)`` by the
measured time: the fraction of the roofline each kernel reaches. Timings are recorded, never asserted.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import wayvert
from wayvert.build import EngineBuilder, ops
from wayvert.build.builder import Tensor
from wayvert.graph import OpInfo, engine_constants, engine_ops, op_cost

PEAKS = "machine peaks (1 thread)"
KERNELS = "reference network kernels (1 thread)"
M, K, N = 256, 1024, 1024
MIN_MACS = 50_000


def _linear_engine(dtype: str) -> wayvert.Engine:
    rng = np.random.default_rng(0)
    b = EngineBuilder(f"peak_{dtype}", "1")
    if dtype == "int8":
        x = b.input("x", "int8", (M, K), scale=1 / 64, zero_point=0)
        y = ops.linear(b, x, rng.integers(-127, 128, (N, K), dtype=np.int8), None, weight_scales=np.full(N, 1e-3),
                       out_scale=1.0, out_zero_point=0)
    else:
        x = b.input("x", "float32", (M, K))
        y = ops.linear(b, x, rng.normal(size=(N, K)).astype(np.float32), None)
    b.output(y)
    return wayvert.Engine.from_bytes(b.to_bytes())


def _ort_matmul_integer() -> Any:
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    from wayvert.benchmark.peers.onnx_model import cpu_inference_session

    w = np.random.default_rng(0).integers(-127, 128, (K, N), dtype=np.int8)
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "w"], ["y"])], "mmi",
                              [helper.make_tensor_value_info("a", TensorProto.UINT8, [M, K])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [M, N])], [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = cpu_inference_session(model, threads=1)
    a = np.random.default_rng(1).integers(0, 256, (M, K), dtype=np.uint8)
    return lambda: session.run(None, {"a": a})


def _peak(name: str) -> tuple[Any, str, float, float]:
    """(run, kind, ops, bytes) of one peak benchmark."""
    gemm_ops = 2.0 * M * K * N
    if name.endswith("_wayvert"):
        dtype = name.split("_")[0]
        session = _linear_engine(dtype).session()
        x = (np.random.default_rng(1).integers(-64, 64, (M, K), dtype=np.int8) if dtype == "int8"
             else np.random.default_rng(1).normal(size=(M, K)).astype(np.float32))
        return (lambda: session.run({"x": x})), dtype, gemm_ops, 0.0
    if name == "int8_gemm_ort":
        return _ort_matmul_integer(), "int8", gemm_ops, 0.0
    if name == "fp32_gemm_numpy":
        a = np.random.default_rng(1).normal(size=(M, K)).astype(np.float32)
        w = np.random.default_rng(2).normal(size=(K, N)).astype(np.float32)
        out = np.empty((M, N), np.float32)
        return (lambda: np.matmul(a, w, out=out)), "fp32", gemm_ops, 0.0
    src = np.ones(64 << 18, np.float32)  # 64 MiB
    dst = np.empty_like(src)
    return (lambda: np.copyto(dst, src)), "bandwidth", 0.0, 2.0 * src.nbytes


@pytest.mark.parametrize("peak", ["int8_gemm_wayvert", "int8_gemm_ort", "fp32_gemm_wayvert", "fp32_gemm_numpy", "copy_numpy"])
def test_machine_peak(benchmark: Any, peak: str) -> None:
    run, kind, n_ops, n_bytes = _peak(peak)
    run()
    benchmark.group = PEAKS
    benchmark.extra_info.update(peer=peak, kind=kind, ops=n_ops, bytes=n_bytes, threads=1)
    benchmark(run)


def single_op_engine(op: OpInfo, constants: dict[str, np.ndarray]) -> EngineBuilder:
    """``op`` alone: its activation inputs become graph inputs (same dtype, shape, scale, zero point)."""
    b = EngineBuilder(f"kernel_{op.outputs[0].name}", "1")
    slots: list[Tensor | None] = []
    for v in op.inputs:
        if v is None:
            slots.append(None)
        elif v.kind == "constant":
            slots.append(b.constant(v.name, constants[v.name], scale=v.scale, zero_point=v.zero_point))
        else:
            slots.append(b.input(v.name, v.dtype, v.shape, scale=v.scale, zero_point=v.zero_point))
    outs = b.op(op.op_type, slots, [Tensor(o.name, o.dtype, o.shape, o.scale, o.zero_point) for o in op.outputs], op.attrs)
    b.output(*outs)
    return b


def _hot_ops() -> list[tuple[int, OpInfo]]:
    path = wayvert.reference_engine_path()
    return [(i, op) for i, op in enumerate(engine_ops(path)) if op.op_type in ("conv2d", "linear") and op_cost(op).macs >= MIN_MACS]


HOT = _hot_ops()


@pytest.mark.parametrize("index,op", HOT, ids=[f"{i:02d}_{op.outputs[0].name}" for i, op in HOT])
def test_reference_kernel(benchmark: Any, index: int, op: OpInfo) -> None:
    b = single_op_engine(op, engine_constants(wayvert.reference_engine_path()))
    engine = wayvert.Engine.from_bytes(b.to_bytes())
    session = engine.session()
    rng = np.random.default_rng(index)
    feeds = {s.name: (rng.integers(-100, 100, s.shape).astype(np.int8) if s.dtype == "int8"
                      else rng.normal(size=s.shape).astype(np.float32)) for s in engine.inputs}
    # the kernel is the reference's: the one-op engine must compute what numpy's reference computes
    from wayvert.reference import run as reference_run

    expected = reference_run(b, feeds)[engine.outputs[0].name]
    got = session.run(feeds)[engine.outputs[0].name]
    if got.dtype == np.int8:
        assert np.array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    c = op_cost(op)
    benchmark.group = KERNELS
    benchmark.extra_info.update(peer=f"{index:02d} {op.op_type} {op.outputs[0].name}", op=op.op_type, dtype=c.dtype,
                                shape=list(op.outputs[0].shape), weight=list(op.inputs[1].shape) if op.inputs[1] else None,
                                macs=c.macs, ops=c.ops, bytes=c.bytes_on(4), threads=1, isa=wayvert.cpu_isa())
    benchmark(session.run, feeds)
