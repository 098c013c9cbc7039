"""One int8 GEMM of M x K x N = 256 x 1024 x 1024, in every runtime that has one, each on one thread.

* ``int8_gemm_wayvert``: a wayvert ``linear`` engine, int8 [M, K] in, int8 [M, N] out (requantized);
* ``int8_conv1x1_wayvert``: a wayvert 1x1 ``conv2d`` engine, int8 [1, K, 16, 16] -> [1, N, 16, 16] (M = 256 pixels);
* ``int8_gemm_ort``: ONNX Runtime ``MatMulInteger`` (u8 x s8 -> s32, MLAS; no requantization);
* ``int8_conv1x1_ort``: ONNX Runtime ``QLinearConv`` 1x1, u8 activations, s8 per-channel weights, u8 out (MLAS,
  requantized), the op a QDQ model's convolutions become;
* ``int8_gemm_executorch``: ExecuTorch XNNPACK, a PT2E-quantized ``nn.Linear`` (s8 per-channel weights, s8
  activations), fp32 in and out: its quantize and dequantize of the 256 x 1024 edges are in the time (about 0.2% of
  the MACs' work).

Every peer is sessioned for one thread (wayvert ``session(threads=1)``, ONNX Runtime ``intra_op_num_threads=1``,
ExecuTorch's threadpool at 1); ``cpu_per_wall`` measures it: the process's CPU time over the wall time of a loop of
calls, which a second busy thread would push towards 2.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

import wayvert
from wayvert.build import EngineBuilder, ops

M, K, N = 256, 1024, 1024
SIDE = 16  # the 1x1 conv's 16 x 16 = M pixels
GEMM_OPS = 2.0 * M * K * N


def _session(engine: wayvert.Engine) -> Any:
    try:
        return engine.session(threads=1)
    except TypeError:  # a runtime without intra-op threads: one thread anyway
        return engine.session()


def wayvert_linear(dtype: str = "int8") -> Callable[[], Any]:
    rng = np.random.default_rng(0)
    b = EngineBuilder(f"peak_{dtype}", "1")
    if dtype == "int8":
        x = b.input("x", "int8", (M, K), scale=1 / 64, zero_point=0)
        y = ops.linear(b, x, rng.integers(-127, 128, (N, K), dtype=np.int8), None, weight_scales=np.full(N, 1e-3),
                       out_scale=1.0, out_zero_point=0)
        a: np.ndarray = np.random.default_rng(1).integers(-64, 64, (M, K), dtype=np.int8)
    else:
        x = b.input("x", "float32", (M, K))
        y = ops.linear(b, x, rng.normal(size=(N, K)).astype(np.float32), None)
        a = np.random.default_rng(1).normal(size=(M, K)).astype(np.float32)
    b.output(y)
    session = _session(wayvert.Engine.from_bytes(b.to_bytes()))
    return lambda: session.run({"x": a})


def wayvert_conv1x1() -> Callable[[], Any]:
    rng = np.random.default_rng(0)
    b = EngineBuilder("peak_conv1x1", "1")
    x = b.input("x", "int8", (1, K, SIDE, SIDE), scale=1 / 64, zero_point=-128)
    y = ops.conv2d(b, x, rng.integers(-127, 128, (N, K, 1, 1), dtype=np.int8), None, weight_scales=np.full(N, 1e-3),
                   out_scale=1.0, out_zero_point=-128, activation="relu")
    b.output(y)
    session = _session(wayvert.Engine.from_bytes(b.to_bytes()))
    a = np.random.default_rng(1).integers(-128, 128, (1, K, SIDE, SIDE), dtype=np.int8)
    return lambda: session.run({"x": a})


def _ort(graph_nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any]) -> Any:
    from onnx import helper

    from wayvert.benchmark.peers.onnx_model import cpu_inference_session

    model = helper.make_model(helper.make_graph(graph_nodes, "peak", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return cpu_inference_session(model, threads=1)


def ort_matmul_integer() -> Callable[[], Any]:
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).integers(-127, 128, (K, N), dtype=np.int8)
    session = _ort([helper.make_node("MatMulInteger", ["a", "w"], ["y"])],
                   [helper.make_tensor_value_info("a", TensorProto.UINT8, [M, K])],
                   [helper.make_tensor_value_info("y", TensorProto.INT32, [M, N])], [numpy_helper.from_array(w, "w")])
    a = np.random.default_rng(1).integers(0, 256, (M, K), dtype=np.uint8)
    return lambda: session.run(None, {"a": a})


def ort_qlinearconv1x1() -> Callable[[], Any]:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(v, n) for n, v in [
        ("x_scale", np.array(1 / 64, np.float32)), ("x_zp", np.array(128, np.uint8)),
        ("w", rng.integers(-63, 64, (N, K, 1, 1), dtype=np.int8)),  # reduce_range: 7-bit weights, as quantize_static
        ("w_scale", np.full(N, 1e-3, np.float32)), ("w_zp", np.zeros(N, np.int8)),
        ("y_scale", np.array(1.0, np.float32)), ("y_zp", np.array(0, np.uint8)),
        ("bias", rng.integers(-1000, 1000, N).astype(np.int32))]]
    node = helper.make_node("QLinearConv", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "bias"],
                            ["y"], kernel_shape=[1, 1])
    session = _ort([node], [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, K, SIDE, SIDE])],
                   [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, N, SIDE, SIDE])], inits)
    a = np.random.default_rng(1).integers(0, 256, (1, K, SIDE, SIDE), dtype=np.uint8)
    return lambda: session.run(None, {"x": a})


def executorch_linear() -> Callable[[], Any]:
    import torch

    import executorch_peer

    why = executorch_peer.available()
    if why:
        raise ImportError(why)
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(K, N))
    calib = [{"x": np.random.default_rng(i).normal(size=(M, K)).astype(np.float32)} for i in range(2)]
    pte = executorch_peer.program_bytes(module, ["x"], calib, "int8")
    runner = executorch_peer.ExecuTorchRunner(pte, ["x"], ["y"], threads=1)
    feed = calib[0]
    return lambda: runner.run(feed)


def cpu_per_wall(run: Callable[[], Any], seconds: float = 0.3) -> float:
    """Process CPU time / wall time over calls of ``run`` lasting about ``seconds``: ~1 for one busy thread."""
    run()
    c0, w0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - w0 < seconds:
        run()
    return (time.process_time() - c0) / (time.perf_counter() - w0)
