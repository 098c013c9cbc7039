"""An engine's network in float32: the same graph with every int8 tensor dequantized (numpy only).

This is how the benchmarks and ``wayvert bench --compare`` give PyTorch and ONNX Runtime *the same model* as the
engine: the weights are the engine's own int8 weights times their per-channel scales, not a retrained or
re-exported copy. What each int8 op stores is inverted exactly (docs/engine-format.md, the int8 epilogue):

* conv2d / linear: ``multiplier / 2**shift = x_scale * w_scale[c] / target_scale`` (``x 2**8`` with a fused
  residual), so ``w_scale[c] = multiplier[c] / 2**shift[c] * target_scale / x_scale`` (divided by ``2**8`` with a
  residual); the float weight is ``w * w_scale[c]`` and the float bias ``bias * x_scale * w_scale[c]``;
* the int8 activation bounds ``act_min`` / ``act_max`` (with no activation: -128 / 127) become the float clamp
  ``[(act_min - zero) * scale, (act_max - zero) * scale]`` of every int8 conv2d, linear and add: the ReLU, the
  ReLU6, a folded clamp (the reference network's lead distance, capped at 80 m) and the int8 range itself, since
  the file cannot tell them apart; so the twin saturates where the engine does;
* quantize / dequantize become identities: a float network has nothing to convert;
* unary, mul, max_pool2d, avg_pool2d, resize, softmax, matmul and slice run their float32 kernel's definition
  (:func:`wayvert.reference.float_op`); an int8 ``unary`` is the function its ``function`` code names (its table
  is that function between the two quantizations), and an int8 ``unary`` or ``mul`` clamps to its int8 range.

Recurrent state (docs/engine-format.md section 3.8) is what a new session holds: a constant at real zero, so the
twin is the engine's first run after ``Session.reset()`` (the state's update is computed, as the engine does, but
nothing reads it). Int8 conv2d / linear / add with a lookup-table activation (SiLU, GELU) are refused with an
``InvalidArgumentError``: the table's activation is not recorded in the file. ``FloatNet.run`` is the numpy
reference the PyTorch and ONNX translations are tested against.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt

from wayvert import quant
from wayvert.errors import InvalidArgumentError
from wayvert.reference import FLOAT_FORM_OPS, float_op

from .read import OpInfo, ValueInfo, engine_constants, engine_ops

F32 = npt.NDArray[np.float32]
_FLOAT_ACTIVATIONS = {0: "none", 1: "relu", 2: "relu6", 3: "silu", 4: "gelu"}
FLOAT_OPS = ("conv2d", "linear", "add", "global_avg_pool", "reshape", "permute", "concat", "layernorm", "attention",
             "identity") + FLOAT_FORM_OPS


@dataclass
class FloatOp:
    """One float op. ``inputs`` name values of the net (graph inputs, earlier outputs or ``FloatNet.constants``).

    ``activation`` ("none", "relu", "relu6", "silu", "gelu") then ``clamp`` (lo, hi; ``inf`` where open) apply after
    the sum (bias and residual included); ``params``: stride/pads/dilation/groups, perm, axis, eps, num_heads, or
    the engine attributes of an op in FLOAT_FORM_OPS.
    """

    op: str
    inputs: tuple[str, ...]
    output: str
    shape: tuple[int, ...]
    weight: F32 | None = None
    bias: F32 | None = None
    residual: str | None = None
    activation: str = "none"
    clamp: tuple[float, float] = (-math.inf, math.inf)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FloatNet:
    """The float network: named float32 inputs, ops in execution order, constants, graph outputs (by name)."""

    name: str
    inputs: list[tuple[str, tuple[int, ...]]]
    outputs: list[str]
    ops: list[FloatOp]
    constants: dict[str, F32]

    def run(self, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, F32]:
        """Numpy reference (float64 inside, float32 out) of the network on float inputs."""
        env: dict[str, npt.NDArray[np.float64]] = {k: np.asarray(v, np.float64) for k, v in self.constants.items()}
        for name, shape in self.inputs:
            env[name] = np.asarray(inputs[name], np.float64).reshape(shape)
        for op in self.ops:
            env[op.output] = _run(op, env)
        return {name: env[name].astype(np.float32) for name in self.outputs}


def _act(x: npt.NDArray[np.float64], name: str) -> npt.NDArray[np.float64]:
    from wayvert.build.ops import activation_fn

    return activation_fn(name)(x)


def _run(op: FloatOp, env: Mapping[str, npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    from wayvert.reference import conv2d_acc

    xs = [env[n] for n in op.inputs]
    p = op.params
    if op.op in ("conv2d", "linear"):
        assert op.weight is not None
        w = op.weight.astype(np.float64)
        if op.op == "conv2d":
            attrs = {"stride_h": p["stride"][0], "stride_w": p["stride"][1], "pad_top": p["pads"][0],
                     "pad_left": p["pads"][1], "pad_bottom": p["pads"][2], "pad_right": p["pads"][3],
                     "dilation_h": p["dilation"][0], "dilation_w": p["dilation"][1], "groups": p["groups"]}
            y = conv2d_acc(xs[0], w, attrs)
            if op.bias is not None:
                y = y + op.bias.astype(np.float64).reshape(1, -1, 1, 1)
        else:
            y = xs[0] @ w.T
            if op.bias is not None:
                y = y + op.bias.astype(np.float64)
        if op.residual is not None:
            y = y + env[op.residual]
    elif op.op == "add":
        y = xs[0] + xs[1]
    elif op.op == "global_avg_pool":
        y = xs[0].reshape(xs[0].shape[0], xs[0].shape[1], -1).mean(axis=2).reshape(op.shape)
    elif op.op in ("reshape", "identity"):
        y = xs[0].reshape(op.shape)
    elif op.op == "permute":
        y = xs[0].transpose(p["perm"])
    elif op.op == "concat":
        y = np.concatenate(xs, axis=p["axis"])
    elif op.op == "layernorm":
        mu = xs[0].mean(axis=-1, keepdims=True)
        var = ((xs[0] - mu) ** 2).mean(axis=-1, keepdims=True)
        y = (xs[0] - mu) / np.sqrt(var + p["eps"]) * xs[1] + xs[2]
    elif op.op == "attention":
        q, k, v = xs
        h = p["num_heads"]
        b, lq, d = q.shape
        def split(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            return t.reshape(b, -1, h, d // h).transpose(0, 2, 1, 3)

        s = split(q) @ split(k).transpose(0, 1, 3, 2) / math.sqrt(d // h)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        y = ((e / e.sum(axis=-1, keepdims=True)) @ split(v)).transpose(0, 2, 1, 3).reshape(b, lq, d)
    elif op.op in FLOAT_FORM_OPS:
        y = float_op(op.op, xs, p, op.shape).astype(np.float64)
    else:
        raise InvalidArgumentError(f"no float op {op.op!r}")
    y = _act(y, op.activation)
    lo, hi = op.clamp
    return np.clip(y, lo, hi) if math.isfinite(lo) or math.isfinite(hi) else y


def _int8_clamp(attrs: Mapping[str, int | float], out: ValueInfo) -> tuple[float, float]:
    """The float interval an int8 op's output can take: ``[(act_min - zero) * scale, (act_max - zero) * scale]``.

    Always both bounds: the attributes cannot tell a ReLU6 whose calibrated range ends at 6 (act_max = 127) from a
    ReLU, nor a folded clamp from the int8 range, so the twin clamps where the engine does."""
    lo = (int(attrs.get("act_min", -128)) - out.zero_point) * out.scale
    return lo, (int(attrs.get("act_max", 127)) - out.zero_point) * out.scale


def _gemm(op: OpInfo, consts: Mapping[str, npt.NDArray[Any]], ins: tuple[str, ...]) -> FloatOp:
    x, wv, y = op.inputs[0], op.inputs[1], op.outputs[0]
    assert x is not None and wv is not None
    slots = list(op.inputs) + [None] * (7 - len(op.inputs))
    residual = slots[5].name if slots[5] is not None else None
    a = op.attrs
    params: dict[str, Any] = {}
    if op.op_type == "conv2d":
        params = {"stride": (int(a.get("stride_h", 1)), int(a.get("stride_w", 1))),
                  "pads": tuple(int(a.get(k, 0)) for k in ("pad_top", "pad_left", "pad_bottom", "pad_right")),
                  "dilation": (int(a.get("dilation_h", 1)), int(a.get("dilation_w", 1))), "groups": int(a.get("groups", 1))}
    w = consts[wv.name]
    if x.dtype == "float32":
        b = consts[slots[2].name] if slots[2] is not None else None
        return FloatOp(op.op_type, ins[:1], y.name, y.shape, w.astype(np.float32), None if b is None else b.astype(np.float32),
                       residual, _FLOAT_ACTIVATIONS[int(a.get("activation", 0))], params=params)
    if slots[6] is not None:
        raise InvalidArgumentError(f"{op.op_type} '{y.name}': an int8 lookup-table activation (SiLU/GELU) has no float "
                                   "form recorded in the engine")
    assert slots[3] is not None and slots[4] is not None
    mult = consts[slots[3].name].astype(np.float64)
    shift = consts[slots[4].name].astype(np.float64)
    fraction = 2.0 ** quant.SUM_FRACTION_BITS if residual is not None else 1.0
    w_scale = mult / np.exp2(shift) * y.scale / (x.scale * fraction)
    shape = (-1,) + (1,) * (w.ndim - 1)
    weight = (w.astype(np.float64) * w_scale.reshape(shape)).astype(np.float32)
    bias = None
    if slots[2] is not None:
        bias = (consts[slots[2].name].astype(np.float64) * x.scale * w_scale).astype(np.float32)
    return FloatOp(op.op_type, ins[:1], y.name, y.shape, weight, bias, residual, "none", _int8_clamp(a, y), params)


def _float_op(op: OpInfo, consts: Mapping[str, npt.NDArray[Any]]) -> FloatOp:
    y, a = op.outputs[0], op.attrs
    ins = tuple(t.name for t in op.inputs if t is not None)
    if op.op_type in ("conv2d", "linear"):
        return _gemm(op, consts, ins)
    if op.op_type == "add":
        x = op.inputs[0]
        assert x is not None
        if x.dtype == "int8":
            if len(op.inputs) > 2 and op.inputs[2] is not None:
                raise InvalidArgumentError(f"add '{y.name}': an int8 lookup-table activation has no float form recorded")
            return FloatOp("add", ins[:2], y.name, y.shape, clamp=_int8_clamp(a, y))
        return FloatOp("add", ins[:2], y.name, y.shape, activation=_FLOAT_ACTIVATIONS[int(a.get("activation", 0))])
    if op.op_type in ("quantize", "dequantize"):
        return FloatOp("identity", ins, y.name, y.shape)
    if op.op_type == "permute":
        return FloatOp("permute", ins, y.name, y.shape, params={"perm": tuple(int(a[f"perm{i}"]) for i in range(len(y.shape)))})
    if op.op_type == "concat":
        return FloatOp("concat", ins, y.name, y.shape, params={"axis": int(a["axis"])})
    if op.op_type == "layernorm":
        return FloatOp("layernorm", ins, y.name, y.shape, params={"eps": float(a.get("eps", 1e-5))})
    if op.op_type == "attention":
        return FloatOp("attention", ins, y.name, y.shape, params={"num_heads": int(a["num_heads"])})
    if op.op_type in ("global_avg_pool", "reshape"):
        return FloatOp(op.op_type, ins, y.name, y.shape)
    if op.op_type in FLOAT_FORM_OPS:
        x = op.inputs[0]
        assert x is not None
        clamp = (-math.inf, math.inf)
        if x.dtype == "int8" and op.op_type in ("unary", "mul"):  # the others keep their input's quantization
            clamp = _int8_clamp(a, y)
        # the int8 unary's table (slot 1) is the function its code names: the float form reads x alone
        return FloatOp(op.op_type, ins[:1] if op.op_type == "unary" else ins, y.name, y.shape, clamp=clamp,
                       params=dict(a))
    raise InvalidArgumentError(f"op {op.op_type!r} ('{y.name}') has no float translation")


def float_network(engine: Any) -> FloatNet:
    """The float32 twin of an engine (an ``EngineBuilder``, a loaded ``wayvert.Engine`` or a ``.wvrt`` path)."""
    ops, consts = engine_ops(engine), engine_constants(engine)
    input_names, outputs = _graph_io(engine)
    shapes = _input_shapes(engine)
    constants: dict[str, F32] = {}
    for op in ops:
        if op.op_type in ("conv2d", "linear"):
            first = [op.inputs[0]] + ([op.inputs[5]] if len(op.inputs) > 5 else [])
        elif op.op_type == "add":
            first = list(op.inputs[:2])
        elif op.op_type == "unary":
            first = list(op.inputs[:1])
        else:
            first = list(op.inputs)
        for t in first:
            if t is None:
                continue
            if t.kind == "state":   # a new session's state: real zero (zero bytes, or the zero point in every element)
                constants[t.name] = np.zeros(t.shape, np.float32)
                continue
            if t.kind == "constant":
                c = consts[t.name].astype(np.float64)
                constants[t.name] = ((c - t.zero_point) * t.scale if t.dtype == "int8" else c).astype(np.float32)
    ordered = [(n, shapes[n]) for n in input_names]
    return FloatNet(_model_name(engine), ordered, outputs, [_float_op(op, consts) for op in ops], constants)


def _graph_io(engine: Any) -> tuple[list[str], list[str]]:
    """Input and output names in the engine's order."""
    import wayvert
    from wayvert.build import EngineBuilder

    if isinstance(engine, EngineBuilder):
        return list(engine.inputs), list(engine.outputs)
    loaded = engine if isinstance(engine, wayvert.Engine) else wayvert.Engine.load(engine)
    return [s.name for s in loaded.inputs], [s.name for s in loaded.outputs]


def _input_shapes(engine: Any) -> dict[str, tuple[int, ...]]:
    """Every graph input's shape, read by an op or not (a peer is fed every engine input)."""
    import wayvert
    from wayvert.build import EngineBuilder

    if isinstance(engine, EngineBuilder):
        return {n: tuple(engine.values[n].tensor.shape) for n in engine.inputs}
    loaded = engine if isinstance(engine, wayvert.Engine) else wayvert.Engine.load(engine)
    return {s.name: tuple(s.shape) for s in loaded.inputs}


def _model_name(engine: Any) -> str:
    import wayvert
    from wayvert.build import EngineBuilder

    if isinstance(engine, EngineBuilder):
        return str(engine.meta["model"]["name"])
    loaded = engine if isinstance(engine, wayvert.Engine) else wayvert.Engine.load(engine)
    return str(loaded.meta.get("model", {}).get("name", "engine"))
