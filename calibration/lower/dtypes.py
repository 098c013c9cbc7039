"""Where float stays: each value's engine dtype, and the float constants that become float layers.

Rules, in order:
* the camera tensor ``image`` is int8; every other engine input (ego, command) is float32;
* conv2d, linear, reshape, permute and clamp compute in their input's dtype, so everything downstream of the
  camera is int8 and everything computed from the float inputs alone (the trajectory prior, the ego speed,
  the ego/command part of the first linear) stays float32;
* a linear that reaches the outputs through nothing but views and adds (the heads' last layers) is float32,
  fed by a dequantize of the int8 features (DESIGN.md: the heads' final activations stay float), unless it
  carries a clamp the float kernels cannot fuse (the lead-distance head's [0, 80] m stays int8);
* an add of an int8 and a float value is float32 when its result reaches the outputs through nothing but
  views and further adds (prior + residual, ego speed + residual: the output keeps float precision), else
  int8 (it feeds int8 layers anyway; the float side is quantized and fused as a residual);
* a concat is int8 when any part is int8.

Explicit quantize/dequantize ops are inserted where a value meets a consumer of the other dtype (emit.py).

A model brought by the user (``policy="int8"``, ``wayvert compile``) follows simpler rules: every engine input
keeps its dtype (float32 inputs are quantized by a quantize op where int8 layers read them); every op with an
int8 kernel computes in int8; views follow their input; ops with float kernels only (layernorm, softmax,
matmul, attention) and the layers named by ``keep_float`` compute in float32.
"""
from __future__ import annotations

import numpy as np

from .errors import LoweringError
from .from_export import IMAGE_INPUT
from .graph import Graph, Layer, clamp_name
from .views import per_channel

_PASS_THROUGH = ("reshape", "permute", "add", "concat", "clamp", "mul", "add_constant")


def output_bound(graph: Graph, name: str) -> bool:
    """Whether ``name`` reaches the graph outputs only through views, adds, concats and constants."""
    consumers = graph.consumers(name)
    if not consumers:
        return graph.is_output(name)
    return all(c.op in _PASS_THROUGH and output_bound(graph, c.name) for c in consumers)


def _feeds_wide_clamp(graph: Graph, name: str) -> bool:
    """Whether ``name`` is (or will be, once fused) clamped to anything but ReLU / ReLU6 through views and muls."""
    layer = graph[name]
    if layer.clamp is not None and clamp_name(layer.clamp) not in ("relu", "relu6"):
        return True
    for c in graph.consumers(name):
        if c.op == "clamp" or (c.op in ("mul", "reshape", "permute") and _feeds_wide_clamp(graph, c.name)):
            return True
    return False


#: Ops that compute in float32 whatever the policy (the engine has no int8 kernel for them).
FLOAT_ONLY_OPS = ("layernorm", "softmax", "matmul", "attention")


def assign_dtypes(graph: Graph, policy: str = "student", keep_float: frozenset[str] = frozenset()) -> None:
    """Decide each layer's dtype: ``policy`` "student" (the rules above) or "int8" (a user's model);
    ``keep_float`` names layers that stay float32 under either."""
    if policy == "int8":
        _assign_int8(graph, keep_float)
        return
    if policy != "student":
        raise ValueError(f"unknown dtype policy {policy!r}")
    for layer in graph:
        if layer.name in keep_float and layer.op != "input":
            layer.dtype = "float32"
            continue
        if layer.op == "input":
            layer.dtype = "int8" if layer.name == IMAGE_INPUT else "float32"
            continue
        kinds = {graph[n].dtype for n in layer.reads()}
        if layer.op == "add" and kinds == {"int8", "float32"}:
            layer.dtype = "float32" if output_bound(graph, layer.name) else "int8"
        elif (layer.op == "linear" and "int8" in kinds and output_bound(graph, layer.name)
              and not _feeds_wide_clamp(graph, layer.name)):
            # The heads' last layers compute in float from the dequantized features: an int8 grid over a whole
            # trajectory head (x to 60 m) would be centimetres coarse laterally, enough steps to read as jerk.
            layer.dtype = "float32"
        else:
            layer.dtype = "int8" if "int8" in kinds else "float32"


def _assign_int8(graph: Graph, keep_float: frozenset[str]) -> None:
    for layer in graph:
        if layer.op == "input":
            layer.dtype = layer.attrs.get("input_dtype", "float32")
            continue
        kinds = {graph[n].dtype for n in layer.reads()}
        if layer.op in ("reshape", "permute", "slice"):
            layer.dtype = kinds.pop() if len(kinds) == 1 else "float32"
        elif layer.op in TRANSIENT:
            layer.dtype = "int8" if kinds & {"int8", "uint8"} else "float32"
        elif layer.op in FLOAT_ONLY_OPS or layer.name in keep_float:
            layer.dtype = "float32"
        else:
            layer.dtype = "int8"


TRANSIENT = ("mul", "add_constant", "clamp", "batch_norm")


def float_constants_to_layers(graph: Graph) -> None:
    """A mul/add by a per-channel constant left on a float value becomes a float linear (diagonal weight, over
    the last axis of a [1, C] value) or a float depthwise 1x1 conv2d ([N, C, H, W])."""
    for layer in graph:
        if layer.op not in ("mul", "add_constant") or layer.dtype != "float32":
            continue
        rank = len(layer.shape)
        op = "linear" if rank >= 1 and all(d == 1 for d in layer.shape[:-1]) else "conv2d" if rank == 4 else ""
        probe = Layer(layer.name, op, [], layer.shape)
        v = per_channel(probe, [], layer.attrs["constant"], layer.shape) if op else None
        if v is None:
            continue
        c = layer.shape[-1] if op == "linear" else layer.shape[1]
        scale = v if layer.op == "mul" else np.ones(c)
        shift = v if layer.op == "add_constant" else None
        layer.weight = np.diag(scale) if op == "linear" else scale.reshape(c, 1, 1, 1)
        layer.bias = shift
        if op == "conv2d":
            layer.attrs = dict(stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=c)
        else:
            layer.attrs = {}
        graph.notes.append(f"{layer.op} {layer.name} on a float value runs as a float {op}")
        layer.op = op


def constant_operands(graph: Graph) -> None:
    """An add of a constant that no conv2d/linear could absorb (a learned position embedding: one value per
    element, not per channel) becomes an ``add`` of the value and a ``constant`` layer of the full shape, and a
    product by a constant that could not fold becomes a ``multiply`` by a ``constant`` layer (broadcast), both in
    the layer's dtype (int8: the constant is quantized at its own calibrated parameters)."""
    for layer in graph:
        if layer.op not in ("add_constant", "mul"):
            continue
        value = np.asarray(layer.attrs["constant"], np.float64)
        if layer.op == "add_constant":
            value = np.broadcast_to(value, layer.shape).copy()
        else:   # a product broadcasts its constant: keep it as small as it is, at the layer's rank
            value = value.reshape((1,) * (len(layer.shape) - value.ndim) + value.shape)
        c = Layer(graph.unique_name(f"{layer.name}.constant"), "constant", [], value.shape,
                  attrs={"constant": value}, source=layer.source, dtype=layer.dtype)
        graph.add(c)
        kind = "an add" if layer.op == "add_constant" else "a mul"
        layer.op, layer.inputs, layer.attrs = ("add" if layer.op == "add_constant" else "multiply"), [layer.inputs[0], c.name], {}
        graph.notes.append(f"{layer.name} runs as {kind} with a constant operand")
    graph.sort()


def check_lowerable(graph: Graph) -> None:
    """Every layer left is a wayvert op with an epilogue the engine can express (else LoweringError)."""
    problems = []
    for layer in graph:
        if layer.op in ("mul", "add_constant"):
            problems.append(f"{layer.op} by a constant at {layer.source}: cannot fold into a conv2d/linear (it must "
                            "follow one, through reshapes only, be one value per output channel, and be > 0 "
                            "after a ReLU); on an int8 value there is no other place for it")
        elif layer.op == "clamp":
            problems.append(f"{clamp_name((layer.attrs['lo'], layer.attrs['hi']))} at {layer.source}: cannot fuse "
                            f"into its producer {graph[layer.inputs[0]].op} {layer.inputs[0]!r} (only conv2d, linear "
                            "and add take a fused activation, when nothing else reads their output)")
        elif layer.op == "batch_norm":
            problems.append(f"batch_norm at {layer.source}: does not follow a conv2d/linear")
        elif layer.dtype == "float32" and layer.clamp is not None and clamp_name(layer.clamp) not in ("relu", "relu6"):
            problems.append(f"{clamp_name(layer.clamp)} on float {layer.op} {layer.name!r} at {layer.source}: "
                            "float kernels fuse only ReLU and ReLU6")
    if problems:
        raise LoweringError("the lowered graph still holds ops the engine cannot run:", problems)
