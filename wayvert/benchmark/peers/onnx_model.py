"""An ONNX graph (opset 17) of an engine's float twin, and an ONNX Runtime session of it."""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from wayvert.graph.dequantized import FloatNet, FloatOp

OPSET = 17


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        self.count += 1
        out = output or f"_{op.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.count}", **attrs))
        return out


_UNARY = {1: "sigmoid", 2: "tanh", 3: "silu", 4: "gelu", 5: "hardswish", 6: "hardsigmoid"}


def _emit(g: _Graph, op: FloatOp, shapes: dict[str, tuple[int, ...]]) -> None:
    p, out = op.params, op.output
    x = list(op.inputs)
    activation = op.activation
    if op.op == "conv2d":
        assert op.weight is not None
        top, left, bottom, right = p["pads"]
        ins = [x[0], g.const(f"{out}.weight", op.weight)] + ([g.const(f"{out}.bias", op.bias)] if op.bias is not None else [])
        y = g.node("Conv", ins, strides=list(p["stride"]), pads=[top, left, bottom, right], dilations=list(p["dilation"]),
                   group=p["groups"], kernel_shape=list(op.weight.shape[2:]))
    elif op.op == "linear":
        assert op.weight is not None
        y = g.node("MatMul", [x[0], g.const(f"{out}.weight_t", np.ascontiguousarray(op.weight.T))])
        if op.bias is not None:
            y = g.node("Add", [y, g.const(f"{out}.bias", op.bias)])
    elif op.op == "add":
        y = g.node("Add", x[:2])
    elif op.op == "global_avg_pool":
        y = g.node("Reshape", [g.node("GlobalAveragePool", x), g.const(f"{out}.shape", np.array(op.shape, np.int64))])
    elif op.op in ("reshape", "identity"):
        y = g.node("Reshape", [x[0], g.const(f"{out}.shape", np.array(op.shape, np.int64))])
    elif op.op == "permute":
        y = g.node("Transpose", x, perm=list(p["perm"]))
    elif op.op == "concat":
        y = g.node("Concat", x, axis=p["axis"])
    elif op.op == "layernorm":
        y = g.node("LayerNormalization", x, axis=-1, epsilon=p["eps"])
    elif op.op == "attention":
        y = _attention(g, op)
    elif op.op == "unary":
        y, activation = x[0], _UNARY[int(p["function"])]
    elif op.op == "mul":
        y = g.node("Mul", x[:2])
    elif op.op in ("max_pool2d", "avg_pool2d"):
        y = _pool(g, op, shapes[x[0]])
    elif op.op == "resize":
        y = _resize(g, op)
    elif op.op == "softmax":
        y = g.node("Softmax", x, axis=-1)
    elif op.op == "matmul":
        y = g.node("MatMul", x[:2])
    elif op.op == "slice":
        axis, start, step = int(p.get("axis", 0)), int(p.get("start", 0)), int(p.get("step", 1))
        end = start + (op.shape[axis] - 1) * step + 1
        y = g.node("Slice", [x[0]] + [g.const(f"{out}.{k}", np.array([v], np.int64))
                                      for k, v in (("starts", start), ("ends", end), ("axes", axis), ("steps", step))])
    else:
        raise NotImplementedError(op.op)
    if op.residual is not None:
        y = g.node("Add", [y, op.residual])
    if activation == "relu":
        y = g.node("Relu", [y])
    elif activation == "relu6":
        y = g.node("Clip", [y, g.const(f"{out}.zero", np.array(0, np.float32)), g.const(f"{out}.six", np.array(6, np.float32))])
    elif activation == "silu":
        y = g.node("Mul", [y, g.node("Sigmoid", [y])])
    elif activation == "sigmoid":
        y = g.node("Sigmoid", [y])
    elif activation == "tanh":
        y = g.node("Tanh", [y])
    elif activation == "hardswish":
        y = g.node("HardSwish", [y])
    elif activation == "hardsigmoid":
        y = g.node("HardSigmoid", [y], alpha=1.0 / 6.0, beta=0.5)
    elif activation == "gelu":  # exact (erf) GELU; the Gelu op needs opset 20
        half = g.const(f"{out}.half", np.array(0.5, np.float32))
        erf = g.node("Erf", [g.node("Mul", [y, g.const(f"{out}.rsqrt2", np.array(1 / math.sqrt(2), np.float32))])])
        y = g.node("Mul", [g.node("Mul", [y, half]), g.node("Add", [erf, g.const(f"{out}.one", np.array(1, np.float32))])])
    elif activation != "none":
        raise NotImplementedError(f"activation {activation} in ONNX")
    lo, hi = op.clamp
    if math.isfinite(lo) or math.isfinite(hi):
        y = g.node("Clip", [y, g.const(f"{out}.lo", np.array(lo if math.isfinite(lo) else -3.4e38, np.float32)),
                            g.const(f"{out}.hi", np.array(hi if math.isfinite(hi) else 3.4e38, np.float32))])
    g.node("Identity", [y], out)


def _attention(g: _Graph, op: FloatOp) -> str:
    q, k, v = op.inputs
    b, lq, d = op.shape
    h = op.params["num_heads"]

    def split(t: str, tag: str) -> str:
        r = g.node("Reshape", [t, g.const(f"{op.output}.{tag}.shape", np.array([b, -1, h, d // h], np.int64))])
        return g.node("Transpose", [r], perm=[0, 2, 1, 3])

    s = g.node("MatMul", [split(q, "q"), g.node("Transpose", [split(k, "k")], perm=[0, 1, 3, 2])])
    s = g.node("Mul", [s, g.const(f"{op.output}.scale", np.array(1.0 / math.sqrt(d // h), np.float32))])
    o = g.node("MatMul", [g.node("Softmax", [s], axis=-1), split(v, "v")])
    return g.node("Reshape", [g.node("Transpose", [o], perm=[0, 2, 1, 3]), g.const(f"{op.output}.out.shape", np.array([b, lq, d], np.int64))])


def _pool(g: _Graph, op: FloatOp, in_shape: tuple[int, ...]) -> str:
    """MaxPool / AveragePool; ceil_mode where the output is larger than the floor-mode size."""
    p = op.params
    kh, kw = int(p["kernel_h"]), int(p["kernel_w"])
    sh, sw = int(p.get("stride_h", kh)), int(p.get("stride_w", kw))
    dh, dw = int(p.get("dilation_h", 1)), int(p.get("dilation_w", 1))
    pads = [int(p.get(k, 0)) for k in ("pad_top", "pad_left", "pad_bottom", "pad_right")]
    floor_h = (in_shape[2] + pads[0] + pads[2] - dh * (kh - 1) - 1) // sh + 1
    floor_w = (in_shape[3] + pads[1] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    ceil = int(op.shape[2] != floor_h or op.shape[3] != floor_w)
    if op.op == "max_pool2d":
        return g.node("MaxPool", list(op.inputs[:1]), kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
                      dilations=[dh, dw], ceil_mode=ceil)
    return g.node("AveragePool", list(op.inputs[:1]), kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
                  ceil_mode=ceil, count_include_pad=int(p.get("count_include_pad", 0)))


def _resize(g: _Graph, op: FloatOp) -> str:
    """nearest: asymmetric + floor; bilinear: half_pixel or align_corners (docs/engine-format.md, resize)."""
    p = op.params
    sizes = g.const(f"{op.output}.sizes", np.array(op.shape, np.int64))
    if int(p.get("mode", 0)) == 0:
        return g.node("Resize", [op.inputs[0], "", "", sizes], mode="nearest",
                      coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    transform = "align_corners" if int(p.get("align_corners", 0)) else "half_pixel"
    return g.node("Resize", [op.inputs[0], "", "", sizes], mode="linear", coordinate_transformation_mode=transform)


def onnx_model(net: FloatNet) -> onnx.ModelProto:
    """The float network as a checked ONNX model (fixed shapes, batch as in the engine)."""
    g = _Graph()
    for name, value in net.constants.items():
        g.const(name, value)
    shapes: dict[str, tuple[int, ...]] = {n: tuple(s) for n, s in net.inputs}
    shapes.update({n: tuple(v.shape) for n, v in net.constants.items()})
    for op in net.ops:
        _emit(g, op, shapes)
        shapes[op.output] = tuple(op.shape)
    graph = helper.make_graph(
        g.nodes, net.name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in net.inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shapes[n])) for n in net.outputs], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="wayvert")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def cpu_inference_session(model: onnx.ModelProto | bytes | str | os.PathLike[str], threads: int = 1) -> Any:
    """The ONNX Runtime session every peer here uses: CPU execution provider, ``threads`` intra-op threads, one
    inter-op thread, sequential execution, every graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return ort.InferenceSession(source if isinstance(source, bytes) else os.fspath(source), options,
                                providers=["CPUExecutionProvider"])


class OrtSession:
    """One ONNX Runtime CPU session (``cpu_inference_session``) on ``threads`` intra-op threads."""

    def __init__(self, model: onnx.ModelProto | str | os.PathLike[str], threads: int = 1) -> None:
        self.session = cpu_inference_session(model, threads)
        self.threads = int(threads)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outs = self.session.run(self.output_names, {k: np.ascontiguousarray(v, np.float32) for k, v in feeds.items()})
        return dict(zip(self.output_names, outs))
