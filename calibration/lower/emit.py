"""The lowered graph with its int8 parameters -> an EngineBuilder graph (wayvert.build.ops, one op per layer).

* int8 conv2d/linear: per-channel symmetric weights (weights.py), float bias quantized by the builder at
  s_x * s_w, residual and clamp in the epilogue; the clamp is written as ``act_min``/``act_max`` codes of the
  output (ReLU and ReLU6 give exactly the builder's bounds; a folded ``relu6(z) * c`` clamps at 6c).
* float32 layers run the float kernels (ReLU/ReLU6 fused).
* a value read by a consumer of the other dtype gets one quantize (at its calibrated parameters) or dequantize
  op, shared by all such consumers; an int8 concat requantizes parts whose parameters differ from its own.
* outputs are float32 and named by their key: int8 values end in a dequantize.
* recurrent state (``Graph.states``): the input becomes a state value of its own name, and the output of the same
  key its update ``<name>.next``, not an engine output: int8 at the state's parameters when the next value is
  int8 (the camera tensor kept as the previous frame set), else float32 (a dequantize of an int8 value).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Mapping

import numpy as np

from wayvert import quant
from wayvert.build import EngineBuilder, Tensor, ops

from ..calibrators.params import QuantParams
from .errors import LoweringError
from .graph import Graph, Layer, clamp_name
from .weights import quantize_weights


#: The kernels' largest reduction K = C/groups * kh * kw (conv2d) or K (linear), docs/engine-format.md section 8.
MAX_REDUCTION = 16384


def clamp_codes(clamp: tuple[float, float], p: QuantParams) -> tuple[int, int]:
    """(act_min, act_max): the int8 codes of a real clamp interval at the output's parameters."""
    def code(v: float, default: int) -> int:
        if math.isinf(v):
            return default
        return int(np.clip(p.zero_point + float(quant.round_half_away(np.array([v / p.scale]))[0]), -128, 127))
    return code(clamp[0], -128), code(clamp[1], 127)


class _Emitter:
    def __init__(self, graph: Graph, params: Mapping[str, QuantParams], b: EngineBuilder) -> None:
        self.graph, self.params, self.b = graph, params, b
        self.t: dict[str, Tensor] = {}                       # layer -> its engine value
        self.casts: dict[tuple[str, str, float, int], Tensor] = {}
        self.original: dict[str, str] = {}                   # engine name -> layer name, where they differ

    def p(self, name: str) -> QuantParams:
        name = self.original.get(name, name)
        if name not in self.params:
            raise LoweringError(f"no int8 parameters were calibrated for {name!r}")
        return self.params[name]

    def read(self, name: str, dtype: str, at: QuantParams | None = None) -> Tensor:
        """Layer ``name``'s value as ``dtype`` (int8: at ``at``, default its own parameters)."""
        t = self.t[name]
        if dtype == "float32":
            if t.dtype == "float32":
                return t
            key = (name, "float32", 0.0, 0)
            if key not in self.casts:
                self.casts[key] = ops.dequantize(self.b, t, name=f"{name}.dequantized")
            return self.casts[key]
        target = at or (QuantParams(t.scale, t.zero_point) if t.dtype == "int8" else self.p(name))
        if t.dtype == "int8" and (t.scale, t.zero_point) == (target.scale, target.zero_point):
            return t
        key = (name, "int8", target.scale, target.zero_point)
        if key not in self.casts:
            if t.dtype == "int8":   # one table lookup, not a dequantize + quantize through float
                self.casts[key] = ops.requantize(self.b, t, target.scale, target.zero_point, name=f"{name}.requantized")
            else:
                self.casts[key] = ops.quantize(self.b, self.read(name, "float32"), target.scale, target.zero_point,
                                               name=f"{name}.quantized")
        return self.casts[key]

    def set_clamp(self, layer: Layer, out: QuantParams) -> None:
        if layer.clamp is not None:
            lo, hi = clamp_codes(layer.clamp, out)
            self.b.ops[-1].attrs.update(act_min=lo, act_max=hi)

    def float_activation(self, layer: Layer) -> str:
        if layer.clamp is None:
            return "none"
        name = clamp_name(layer.clamp)
        if name not in ("relu", "relu6"):
            raise LoweringError(f"float {layer.op} {layer.name!r} cannot fuse {name}")
        return name

    def layer(self, l: Layer) -> Tensor:
        b = self.b
        if l.op == "input":
            if l.name in self.graph.states:
                if l.dtype == "int8":
                    p = self.p(l.name)
                    return b.state(l.name, "int8", l.shape, p.scale, p.zero_point)
                if l.dtype != "float32":
                    raise LoweringError(f"recurrent state {l.name!r} must be int8 or float32, not {l.dtype}")
                return b.state(l.name, "float32", l.shape)
            if l.dtype == "uint8":
                return b.input(l.name, "uint8", l.shape, 1.0, 0)
            if l.dtype == "int8":
                p = self.p(l.name)
                return b.input(l.name, "int8", l.shape, p.scale, p.zero_point)
            return b.input(l.name, "float32", l.shape)
        if l.op in ("conv2d", "linear"):
            kw = {}
            if l.op == "conv2d":
                a = l.attrs
                kw = dict(stride=a["stride"], padding=a["padding"], dilation=a["dilation"], groups=a["groups"])
            fn = ops.conv2d if l.op == "conv2d" else ops.linear
            assert l.weight is not None
            if int(np.prod(l.weight.shape[1:])) > MAX_REDUCTION:
                raise LoweringError(f"{l.op} {l.name!r} at {l.source} sums {int(np.prod(l.weight.shape[1:]))} products "
                                    f"per output; the kernels take at most {MAX_REDUCTION}")
            if l.dtype == "float32":
                x = self.read(l.inputs[0], "float32")
                res = self.read(l.residual, "float32") if l.residual else None
                return fn(b, x, l.weight.astype(np.float32), None if l.bias is None else l.bias.astype(np.float32),
                          activation=self.float_activation(l), residual=res, name=l.name, **kw)
            x = self.read(l.inputs[0], "int8")
            res = self.read(l.residual, "int8") if l.residual else None
            out = self.p(l.name)
            wq, ws = quantize_weights(l.weight, l.bias, x.scale)
            y = fn(b, x, wq, l.bias, residual=res, weight_scales=ws, out_scale=out.scale,
                   out_zero_point=out.zero_point, name=l.name, **kw)
            self.set_clamp(l, out)
            return y
        if l.op == "add":
            if l.dtype == "float32":
                return ops.add(b, self.read(l.inputs[0], "float32"), self.read(l.inputs[1], "float32"),
                               activation=self.float_activation(l), name=l.name)
            out = self.p(l.name)
            y = ops.add(b, self.read(l.inputs[0], "int8"), self.read(l.inputs[1], "int8"), out_scale=out.scale,
                        out_zero_point=out.zero_point, name=l.name)
            self.set_clamp(l, out)
            return y
        if l.op == "unary":
            if l.dtype == "float32":
                return ops.unary(b, self.read(l.inputs[0], "float32"), l.attrs["function"], name=l.name)
            out = self.p(l.name)
            return ops.unary(b, self.read(l.inputs[0], "int8"), l.attrs["function"], out_scale=out.scale,
                             out_zero_point=out.zero_point, name=l.name)
        if l.op == "multiply":
            if l.dtype == "float32":
                return ops.mul(b, self.read(l.inputs[0], "float32"), self.read(l.inputs[1], "float32"), name=l.name)
            out = self.p(l.name)
            return ops.mul(b, self.read(l.inputs[0], "int8"), self.read(l.inputs[1], "int8"), out_scale=out.scale,
                           out_zero_point=out.zero_point, name=l.name)
        if l.op in ("max_pool2d", "avg_pool2d", "resize", "slice"):
            x = self.read(l.inputs[0], l.dtype)
            a = l.attrs
            if l.op == "max_pool2d":
                y = ops.max_pool2d(b, x, a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"],
                                   name=l.name)
            elif l.op == "avg_pool2d":
                y = ops.avg_pool2d(b, x, a["kernel"], a["stride"], a["padding"], a["count_include_pad"],
                                   a["ceil_mode"], name=l.name)
            elif l.op == "resize":
                y = ops.resize(b, x, tuple(l.shape[2:]), a["mode"], a["align_corners"], name=l.name)
            else:
                y = ops.slice(b, x, a["axis"], a["start"], a["stop"], a["step"], name=l.name)
            if tuple(y.shape) != tuple(l.shape):
                raise LoweringError(f"{l.op} {l.name!r} at {l.source}: the engine op gives {list(y.shape)}, the model "
                                    f"{list(l.shape)}")
            return y
        if l.op == "softmax":
            return ops.softmax(b, self.read(l.inputs[0], "float32"), name=l.name)
        if l.op == "matmul":
            return ops.matmul(b, self.read(l.inputs[0], "float32"), self.read(l.inputs[1], "float32"), name=l.name)
        if l.op == "layernorm":
            a = l.attrs
            return ops.layernorm(b, self.read(l.inputs[0], "float32"), np.asarray(a["gamma"], np.float32),
                                 np.asarray(a["beta"], np.float32), float(a["eps"]), name=l.name)
        if l.op == "attention":
            q, k, v = (self.read(n, "float32") for n in l.inputs)
            return ops.attention(b, q, k, v, int(l.attrs["num_heads"]), name=l.name)
        if l.op == "constant":
            value = np.broadcast_to(np.asarray(l.attrs["constant"], np.float64), l.shape)
            if l.dtype == "float32":
                return b.constant(l.name, value.astype(np.float32))
            p = self.p(l.name)
            return b.constant(l.name, quant.quantize(value.astype(np.float32), p.scale, p.zero_point), p.scale,
                              p.zero_point)
        if l.op == "bytes_to_int8":
            return ops.quantize_bytes(b, self.t[l.inputs[0]], l.attrs["a"], l.attrs["b"], self.p(l.name).scale,
                                      self.p(l.name).zero_point, name=l.name)
        if l.op == "global_avg_pool":
            keep = bool(l.attrs.get("keepdims"))
            if l.dtype == "float32":
                return ops.global_avg_pool(b, self.read(l.inputs[0], "float32"), keepdims=keep, name=l.name)
            out = self.p(l.name)
            return ops.global_avg_pool(b, self.read(l.inputs[0], "int8"), out_scale=out.scale,
                                       out_zero_point=out.zero_point, keepdims=keep, name=l.name)
        if l.op == "concat":
            at = self.p(l.name) if l.dtype == "int8" else None
            parts = [self.read(n, l.dtype, at) for n in l.inputs]
            return ops.concat(b, parts, l.attrs["axis"], name=l.name)
        if l.op == "reshape":
            return ops.reshape(b, self.t[l.inputs[0]], l.shape, name=l.name)
        if l.op == "permute":
            return ops.permute(b, self.t[l.inputs[0]], l.attrs["perm"], name=l.name)
        raise LoweringError(f"{l.op} {l.name!r} at {l.source} has no engine op")

    def outputs(self) -> None:
        named: set[str] = set()
        for key, name in self.graph.outputs.items():
            t = self.t[name]
            if key in self.graph.states:
                state = self.t[key]
                if state.dtype == "int8":   # the value at the state's parameters, copied into an activation
                    v = self.read(name, "int8", QuantParams(state.scale, state.zero_point))
                    nxt = ops.reshape(self.b, v, state.shape, name=f"{key}.next")
                elif t.dtype == "int8":
                    nxt = ops.dequantize(self.b, t, name=f"{key}.next")
                else:
                    nxt = ops.reshape(self.b, t, state.shape, name=f"{key}.next")
                self.b.update_state(state, nxt)
                continue
            if t.dtype == "int8":
                y = ops.dequantize(self.b, t, name=key)
            elif t.name == key and key not in named:
                y = t
            else:
                y = ops.reshape(self.b, t, t.shape, name=key)
            if y.name != key:
                raise LoweringError(f"output {key!r} clashes with a value of the same name")
            named.add(key)
            self.b.output(y)


def emit_engine(graph: Graph, params: Mapping[str, QuantParams], model_name: str = "model",
                model_version: str = "0") -> tuple[EngineBuilder, dict[str, str]]:
    """(builder, layer name -> engine value name). Float layers that are outputs take the output's name."""
    b = EngineBuilder(model_name, model_version)
    rename = {name: key for key, name in graph.outputs.items() if graph[name].dtype == "float32"
              and graph[name].op != "input"}
    taken = set(graph.layers) | set(graph.outputs)
    for key in graph.outputs:
        if key in graph.states:
            continue   # the state keeps the input's name; its update is "<key>.next"
        # A layer named like an output that is not that float output (an int8 output's own layer, or another layer
        # of that name) gets another engine name: the output's name goes to the value the engine outputs.
        if key in graph.layers and rename.get(key) != key:
            stem, k = f"{key}.value", 1
            alt = stem
            while alt in taken:
                alt, k = f"{stem}{k}", k + 1
            taken.add(alt)
            rename[key] = alt
    em = _Emitter(graph, params, b)
    for l in graph:
        engine_name = rename.get(l.name, l.name)
        em.original[engine_name] = l.name
        em.t[l.name] = em.layer(l if engine_name == l.name else replace(l, name=engine_name))
    em.outputs()
    return b, {name: t.name for name, t in em.t.items()}
