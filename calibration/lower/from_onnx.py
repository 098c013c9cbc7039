"""ONNX -> the lowering graph: one layer per ONNX node, constants folded, every unsupported node collected.

The model is read with the ``onnx`` package: shapes come from ONNX shape inference after the batch axis of each
input is fixed at 1; every node whose inputs are all constants (initializers, ``Constant``, ``Shape`` of a tensor
whose shape is known, and whatever is computed from those) is evaluated once with ONNX's own reference
implementation (``onnx.reference``), so shape arithmetic and dequantized weights become plain constants. The
other nodes map onto the same layer vocabulary the torch.export reader produces (graph.py), and the same passes
lower them. A node that cannot lower is listed with its name, op type, position and the nodes it reads from;
all of them are reported at once in one :class:`LoweringError`.

QDQ models: a ``QuantizeLinear`` -> ``DequantizeLinear`` pair on an activation keeps the model's own scale and
zero point for that value (``OnnxGraph.given``; uint8 zero points are shifted by -128, exact); weights stored as
int8 behind a ``DequantizeLinear`` fold to float and are re-quantized per output channel by the engine's
symmetric rule (exact when the model's weights were already symmetric per channel).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import LoweringError
from .graph import Graph, Layer

#: ONNX default-domain opsets this reader was written against.
OPSETS = range(13, 21)

_ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 10: "float16", 6: "int32", 7: "int64", 11: "float64",
                9: "bool"}


class _Unsupported(Exception):
    """One node cannot be lowered (collected)."""


class _Downstream(Exception):
    """A node reads a value whose producer already failed (not reported again)."""


@dataclass
class InputSpec:
    """One model input as the engine keeps it."""

    name: str
    dtype: str
    shape: tuple[int, ...]


@dataclass
class OnnxGraph:
    """What the reader returns: the graph, the model's inputs and outputs, and the QDQ parameters it carries."""

    graph: Graph
    inputs: list[InputSpec]
    outputs: list[str]
    given: dict[str, tuple[float, int]] = field(default_factory=dict)   # value -> (scale, int8 zero point)
    opset: int = 0


def _need_onnx() -> Any:
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - the train extra installs it
        raise LoweringError("reading ONNX models needs the 'onnx' package (pip install 'wayvert[train]')") from e
    return onnx


def load_onnx(path: str | os.PathLike[str]) -> Any:
    """The ModelProto at ``path`` (LoweringError when unreadable)."""
    onnx = _need_onnx()
    try:
        return onnx.load(os.fspath(path))
    except Exception as e:  # onnx raises DecodeError, OSError, ...
        raise LoweringError(f"cannot read ONNX model {os.fspath(path)!r}: {e}") from None


def model_inputs(model: Any) -> list[InputSpec]:
    """The model's real inputs (initializers excluded), batch axis fixed at 1; other dynamic axes are an error."""
    inits = {i.name for i in model.graph.initializer}
    specs, problems = [], []
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        dtype = _ONNX_DTYPES.get(t.elem_type, f"type {t.elem_type}")
        shape = []
        for axis, d in enumerate(t.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(int(d.dim_value))
            elif axis == 0:
                shape.append(1)
            else:
                problems.append(f"input {vi.name!r} axis {axis} is dynamic ({d.dim_param or '?'}): export with "
                                "static shapes (only the batch axis may be dynamic; the engine runs batch 1)")
        if dtype not in ("float32", "uint8", "int8", "float16"):
            problems.append(f"input {vi.name!r} is {dtype}: engine inputs are float32, uint8 or int8")
        specs.append(InputSpec(vi.name, "float32" if dtype == "float16" else dtype, tuple(shape)))
    if problems:
        raise LoweringError("the model's inputs cannot be engine inputs:", problems)
    return specs


def _opset(model: Any) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    raise LoweringError("the model imports no default-domain (ai.onnx) opset")


@dataclass
class _LayerNormMatch:
    x: str
    gamma: np.ndarray
    beta: np.ndarray
    eps: float
    nodes: list[Any]


def _match_layer_norms(nodes: list[Any], constant: dict[str, np.ndarray],
                       shapes: dict[str, tuple[int, ...]]) -> dict[int, _LayerNormMatch]:
    """LayerNorm as older opsets export it, ``(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma + beta``
    over the last axis, keyed by the position of its last node."""
    from onnx import helper

    producer = {o: n for n in nodes for o in n.output}
    users: dict[str, list[Any]] = {}
    for n in nodes:
        for i in n.input:
            users.setdefault(i, []).append(n)
    position = {id(n): k for k, n in enumerate(nodes)}

    def attr(n: Any, key: str, default: Any = None) -> Any:
        return next((helper.get_attribute_value(a) for a in n.attribute if a.name == key), default)

    def last_axis_mean(n: Any) -> bool:
        if n is None or n.op_type != "ReduceMean":
            return False
        axes = attr(n, "axes")
        if axes is None and len(n.input) > 1:
            axes = constant.get(n.input[1], np.array([])).tolist()
        rank = len(shapes.get(n.input[0], ()))
        return rank > 0 and axes is not None and [int(a) % rank for a in axes] == [rank - 1]

    def only_user(name: str, op: str) -> Any:
        u = users.get(name, [])
        return u[0] if len(u) == 1 and u[0].op_type == op else None

    def other(n: Any, name: str) -> str:
        return n.input[1] if n.input[0] == name else n.input[0]

    found: dict[int, _LayerNormMatch] = {}
    for mean in nodes:
        if not last_axis_mean(mean):
            continue
        x = mean.input[0]
        sub = next((u for u in users.get(mean.output[0], []) if u.op_type == "Sub" and u.input == [x, mean.output[0]]), None)
        if sub is None:
            continue
        d = sub.output[0]
        pow_ = next((u for u in users.get(d, []) if u.op_type in ("Pow", "Mul")), None)
        div = next((u for u in users.get(d, []) if u.op_type == "Div" and u.input[0] == d), None)
        if pow_ is None or div is None or len(users.get(d, [])) != 2:
            continue
        if pow_.op_type == "Pow" and not np.all(constant.get(pow_.input[1], np.array(0.0)) == 2.0):
            continue
        if pow_.op_type == "Mul" and list(pow_.input) != [d, d]:
            continue
        var = only_user(pow_.output[0], "ReduceMean")
        add = only_user(var.output[0], "Add") if last_axis_mean(var) else None
        eps = constant.get(other(add, var.output[0])) if add is not None else None
        sqrt = only_user(add.output[0], "Sqrt") if add is not None else None
        if eps is None or sqrt is None or div.input[1] != sqrt.output[0]:
            continue
        dim = shapes[x][-1]
        gamma, beta, end, chain = np.ones(dim), np.zeros(dim), div, [mean, sub, pow_, var, add, sqrt, div]
        mul = only_user(div.output[0], "Mul")
        if mul is not None and other(mul, div.output[0]) in constant:
            gamma = np.broadcast_to(constant[other(mul, div.output[0])].astype(np.float64).reshape(-1), (dim,)).copy()
            end = mul
            chain.append(mul)
        plus = only_user(end.output[0], "Add")
        if plus is not None and other(plus, end.output[0]) in constant:
            beta = np.broadcast_to(constant[other(plus, end.output[0])].astype(np.float64).reshape(-1), (dim,)).copy()
            end = plus
            chain.append(plus)
        found[position[id(end)]] = _LayerNormMatch(x, gamma, beta, float(np.asarray(eps).reshape(-1)[0]), chain)
    del producer
    return found


@dataclass
class _GeluMatch:
    x: str
    nodes: list[Any]


def _match_erf_gelus(nodes: list[Any], constant: dict[str, np.ndarray]) -> dict[int, _GeluMatch]:
    """GELU as exporters write it without a Gelu op: ``x * (erf(x / sqrt(2)) + 1) * 0.5`` (the 0.5 on either
    side, ``/ sqrt(2)`` or ``* 1/sqrt(2)``), keyed by the position of its last node."""
    users: dict[str, list[Any]] = {}
    for n in nodes:
        for i in n.input:
            users.setdefault(i, []).append(n)
    position = {id(n): k for k, n in enumerate(nodes)}

    def const_of(n: Any, name: str) -> float | None:
        o = n.input[1] if n.input[0] == name else n.input[0]
        c = constant.get(o)
        return float(c.reshape(-1)[0]) if c is not None and c.size == 1 else None

    def only(name: str, op: str) -> Any:
        u = users.get(name, [])
        return u[0] if len(u) == 1 and u[0].op_type == op else None

    found: dict[int, _GeluMatch] = {}
    for erf in nodes:
        if erf.op_type != "Erf":
            continue
        scale_node = next((n for n in nodes if erf.input[0] in n.output), None)
        if scale_node is None or scale_node.op_type not in ("Div", "Mul"):
            continue
        x = scale_node.input[0]
        c = const_of(scale_node, x)
        if c is None or not math.isclose(c if scale_node.op_type == "Div" else 1 / c, math.sqrt(2), rel_tol=1e-4):
            continue
        add = only(erf.output[0], "Add")
        if add is None or const_of(add, erf.output[0]) != 1.0:
            continue
        mul = only(add.output[0], "Mul")
        if mul is None:
            continue
        other = mul.input[1] if mul.input[0] == add.output[0] else mul.input[0]
        chain = [scale_node, erf, add, mul]
        if other == x:                             # x * (1 + erf) then * 0.5
            half = only(mul.output[0], "Mul")
            if half is None or const_of(half, mul.output[0]) != 0.5:
                continue
            chain.append(half)
        else:                                      # (x * 0.5) * (1 + erf)
            pre = next((n for n in nodes if other in n.output), None)
            if pre is None or pre.op_type != "Mul" or x not in pre.input or const_of(pre, x) != 0.5:
                continue
            chain.insert(0, pre)
        found[position[id(chain[-1])]] = _GeluMatch(x, chain)
    return found


class _Reader:
    def __init__(self, model: Any) -> None:
        onnx = _need_onnx()
        from onnx import numpy_helper, shape_inference

        self.onnx, self.numpy_helper = onnx, numpy_helper
        self.opset = _opset(model)
        if self.opset not in OPSETS:
            raise LoweringError(f"the model's opset is {self.opset}; wayvert reads opsets {OPSETS.start}-{OPSETS.stop - 1} "
                                "(re-export, or convert with onnx.version_converter)")
        self.inputs = model_inputs(model)
        fixed = onnx.ModelProto()
        fixed.CopyFrom(model)
        for vi in fixed.graph.input:
            spec = next((s for s in self.inputs if s.name == vi.name), None)
            if spec is not None:
                for d, v in zip(vi.type.tensor_type.shape.dim, spec.shape):
                    d.Clear()
                    d.dim_value = v
        try:
            self.model = shape_inference.infer_shapes(fixed, strict_mode=False, data_prop=True)
        except Exception as e:
            raise LoweringError(f"ONNX shape inference failed: {e}") from None
        self.shapes: dict[str, tuple[int, ...]] = {}
        for vi in [*self.model.graph.input, *self.model.graph.value_info, *self.model.graph.output]:
            dims = vi.type.tensor_type.shape.dim
            if all(d.HasField("dim_value") for d in dims) and vi.type.tensor_type.HasField("shape"):
                self.shapes[vi.name] = tuple(int(d.dim_value) for d in dims)
        self.constant: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in self.model.graph.initializer}
        self.value: dict[str, str] = {}      # ONNX value -> layer name
        self.failed: set[str] = set()
        self.graph = Graph()
        self.given: dict[str, tuple[float, int]] = {}
        self.node: Any = None
        self.where = ""

    # ---- helpers -----------------------------------------------------------------------------------
    def act(self, name: str) -> str:
        if name in self.value:
            return self.value[name]
        if name in self.failed:
            raise _Downstream()
        if name in self.constant:
            raise _Unsupported(f"operand {name!r} is a constant where the op set needs an activation")
        raise _Unsupported(f"operand {name!r} has no producer")

    def const(self, name: str) -> np.ndarray | None:
        return self.constant.get(name) if name else None

    def need_const(self, name: str, what: str) -> np.ndarray:
        c = self.const(name)
        if c is None:
            raise _Unsupported(f"its {what} ({name!r}) is computed at run time (only constant {what}s lower)")
        return c

    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.shapes:
            return self.shapes[name]
        if name in self.value:
            return self.graph[self.value[name]].shape
        raise _Unsupported(f"shape inference gave no static shape for {name!r}")

    def attr(self, key: str, default: Any = None) -> Any:
        for a in self.node.attribute:
            if a.name == key:
                return self.onnx.helper.get_attribute_value(a)
        return default

    def layer(self, op: str, inputs: list[str], out: int = 0, **kw: Any) -> str:
        node = self.node
        stem = node.name or node.output[out]
        name = self.graph.unique_name(stem if out == 0 else f"{stem}.{out}")
        self.graph.add(Layer(name, op, inputs, self.shape(node.output[out]), source=self.where, **kw))
        self.value[node.output[out]] = name
        return name

    def alias(self, src: str, out: int = 0) -> None:
        self.value[self.node.output[out]] = self.act(src)

    def ins(self, k: int) -> str:
        return self.node.input[k] if len(self.node.input) > k else ""

    # ---- op handlers -------------------------------------------------------------------------------
    def conv(self) -> None:
        w = self.need_const(self.ins(1), "weight")
        if w.ndim != 4:
            raise _Unsupported(f"a {w.ndim - 2}-D convolution (only 2-D lowers)")
        kh, kw = w.shape[2:]
        strides = list(self.attr("strides", [1, 1]))
        dil = list(self.attr("dilations", [1, 1]))
        pads = list(self.attr("pads", [0, 0, 0, 0]))
        auto = self.attr("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            h, wd = self.shape(self.ins(0))[2:]
            pads = [0, 0, 0, 0]
            for i, (n, k, s, d) in enumerate(((h, kh, strides[0], dil[0]), (wd, kw, strides[1], dil[1]))):
                total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
                small, big = total // 2, total - total // 2
                pads[i], pads[i + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        b = self.const(self.ins(2))
        if self.ins(2) and b is None:
            raise _Unsupported("its bias is computed at run time")
        self.layer("conv2d", [self.act(self.ins(0))], weight=w.astype(np.float64),
                   bias=None if b is None else b.astype(np.float64),
                   attrs=dict(stride=(int(strides[0]), int(strides[1])),
                              padding=(int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])),
                              dilation=(int(dil[0]), int(dil[1])), groups=int(self.attr("group", 1))))

    def gemm(self) -> None:
        if self.attr("transA", 0):
            raise _Unsupported("Gemm with transA=1")
        w = self.need_const(self.ins(1), "weight").astype(np.float64)
        w = (w if self.attr("transB", 0) else w.T) * float(self.attr("alpha", 1.0))
        c = self.const(self.ins(2))
        if self.ins(2) and c is None:
            raise _Unsupported("its C operand is computed at run time")
        bias = None if c is None else np.broadcast_to(c.astype(np.float64) * float(self.attr("beta", 1.0)),
                                                      (w.shape[0],)).copy()
        self.layer("linear", [self.act(self.ins(0))], weight=w.copy(), bias=bias)

    def matmul(self) -> None:
        a, b = self.ins(0), self.ins(1)
        wb = self.const(b)
        if wb is not None and wb.ndim == 2 and self.const(a) is None:
            self.layer("linear", [self.act(a)], weight=wb.astype(np.float64).T.copy())
            return
        if self.const(a) is None and wb is None:
            self.binary_activation("matmul", a, b)
            return
        raise _Unsupported("MatMul lowers as a linear layer (constant 2-D right operand) or between two activations")

    def binary_activation(self, op: str, a: str, b: str) -> None:
        """An op of two activations that needs a kernel of its own (mul, matmul)."""
        self.layer(op, [self.act(a), self.act(b)])

    def add(self) -> None:
        a, b = self.ins(0), self.ins(1)
        ca, cb = self.const(a), self.const(b)
        if ca is not None or cb is not None:
            x, c = (b, ca) if ca is not None else (a, cb)
            self.layer("add_constant", [self.act(x)], attrs={"constant": np.asarray(c, np.float64)})
            return
        if self.shape(a) != self.shape(b):
            # Broadcasting adds of two activations: the smaller side must be tiled (broadcast.py) or refused there.
            pass
        self.layer("add", [self.act(a), self.act(b)])

    def sub(self) -> None:
        a, b = self.ins(0), self.ins(1)
        cb = self.const(b)
        if cb is not None and self.const(a) is None:
            self.layer("add_constant", [self.act(a)], attrs={"constant": -np.asarray(cb, np.float64)})
            return
        if self.const(a) is not None:
            raise _Unsupported("a constant minus an activation (only activation - constant, or of two activations)")
        neg = self.graph.unique_name(f"{self.node.name or self.node.output[0]}.negated")
        self.graph.add(Layer(neg, "mul", [self.act(b)], self.shape(b), source=self.where,
                             attrs={"constant": np.asarray(-1.0)}))
        self.layer("add", [self.act(a), neg])

    def mul(self) -> None:
        a, b = self.ins(0), self.ins(1)
        ca, cb = self.const(a), self.const(b)
        if ca is not None or cb is not None:
            x, c = (b, ca) if ca is not None else (a, cb)
            self.layer("mul", [self.act(x)], attrs={"constant": np.asarray(c, np.float64)})
            return
        sa, sb = self.shape(a), self.shape(b)
        out = self.shape(self.node.output[0])
        if sa != out:
            a, b, sa, sb = b, a, sb, sa
        if sa != out or len(sa) != len(sb) or any(y not in (1, x) for x, y in zip(sa, sb)):
            raise _Unsupported(f"a product of {list(sa)} and {list(sb)}: one operand must broadcast to the other with "
                               "equal ranks")
        self.binary_activation("multiply", a, b)

    def div(self) -> None:
        a, b = self.ins(0), self.ins(1)
        cb = self.const(b)
        if cb is None or self.const(a) is not None:
            raise _Unsupported("only an activation divided by a constant lowers")
        self.layer("mul", [self.act(a)], attrs={"constant": 1.0 / np.asarray(cb, np.float64)})

    def clamp(self, lo: float, hi: float) -> None:
        self.layer("clamp", [self.act(self.ins(0))], attrs={"lo": float(lo), "hi": float(hi)})

    def clip(self) -> None:
        lo = self.const(self.ins(1)) if self.ins(1) else None
        hi = self.const(self.ins(2)) if self.ins(2) else None
        if (self.ins(1) and lo is None) or (self.ins(2) and hi is None):
            raise _Unsupported("Clip bounds computed at run time")
        self.clamp(-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))

    def view(self) -> None:
        self.layer("reshape", [self.act(self.ins(0))])

    def transpose(self) -> None:
        rank = len(self.shape(self.ins(0)))
        perm = self.attr("perm", list(range(rank))[::-1])
        self.layer("permute", [self.act(self.ins(0))], attrs={"perm": tuple(int(p) % rank for p in perm)})

    def concat(self) -> None:
        parts = [self.act(n) for n in self.node.input]
        rank = len(self.shape(self.node.output[0]))
        self.layer("concat", parts, attrs={"axis": int(self.attr("axis")) % rank})

    def identity(self) -> None:
        self.alias(self.ins(0))

    def global_average_pool(self) -> None:
        self.layer("global_avg_pool", [self.act(self.ins(0))], attrs={"keepdims": True})

    def reduce_mean(self) -> None:
        x = self.ins(0)
        rank = len(self.shape(x))
        axes = self.attr("axes")
        if axes is None and self.ins(1):
            axes = self.need_const(self.ins(1), "axes").tolist()
        if rank != 4 or axes is None or sorted(int(a) % rank for a in axes) != [2, 3]:
            raise _Unsupported("ReduceMean lowers only over the spatial axes (2, 3) of NCHW (a global average pool)")
        self.layer("global_avg_pool", [self.act(x)], attrs={"keepdims": bool(self.attr("keepdims", 1))})

    def batch_norm(self) -> None:
        if self.attr("training_mode", 0):
            raise _Unsupported("BatchNormalization in training mode")
        g, beta, mean, var = (self.need_const(self.ins(k), n).astype(np.float64).reshape(-1)
                              for k, n in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")))
        self.layer("batch_norm", [self.act(self.ins(0))],
                   attrs=dict(gamma=g, beta=beta, mean=mean, var=var, eps=float(self.attr("epsilon", 1e-5))))

    def cast(self) -> None:
        to = _ONNX_DTYPES.get(int(self.attr("to")), "?")
        src = self.act(self.ins(0))
        if to in ("float32", "float16"):
            self.alias(self.ins(0))   # the float graph is float32 everywhere; an integer input's codes are its values
            return
        raise _Unsupported(f"Cast to {to} of an activation (only casts to float lower)")

    def dequantize_linear(self) -> None:
        """The DQ of a Q/DQ pair on an activation: the value keeps the model's scale and zero point."""
        q = self.producer.get(self.ins(0))
        if q is None or q.op_type != "QuantizeLinear":
            raise _Unsupported("DequantizeLinear of a run-time value that no QuantizeLinear produced")
        scale = self.need_const(self.ins(1), "scale")
        zero = self.const(self.ins(2)) if self.ins(2) else np.zeros((), np.uint8)
        if scale.size != 1 or zero is None or zero.size != 1:
            raise _Unsupported("per-channel activation quantization (only per-tensor lowers)")
        z = int(zero.reshape(-1)[0]) - (128 if zero.dtype == np.uint8 else 0)
        src = q.input[0]
        self.alias(src)
        self.given[self.value[src]] = (float(scale.reshape(-1)[0]), z)

    def quantize_linear(self) -> None:
        if not any(n.op_type == "DequantizeLinear" and n.input[0] == self.node.output[0] for n in self.model.graph.node):
            raise _Unsupported("a QuantizeLinear whose output is not dequantized (integer outputs are not supported)")
        self.alias(self.ins(0))   # the DQ after it records the parameters

    def layer_norm(self) -> None:
        x = self.ins(0)
        rank = len(self.shape(x))
        if int(self.attr("axis", -1)) % rank != rank - 1:
            raise _Unsupported("LayerNormalization over more than the last axis")
        d = self.shape(x)[-1]
        gamma = self.need_const(self.ins(1), "scale").astype(np.float64).reshape(-1)
        beta = self.const(self.ins(2)) if self.ins(2) else np.zeros(d)
        if beta is None:
            raise _Unsupported("its bias is computed at run time")
        self.layer("layernorm", [self.act(x)], attrs=dict(gamma=np.broadcast_to(gamma, (d,)).copy(),
                   beta=np.broadcast_to(beta.astype(np.float64).reshape(-1), (d,)).copy(),
                   eps=float(self.attr("epsilon", 1e-5))))

    def softmax(self) -> None:
        rank = len(self.shape(self.ins(0)))
        if int(self.attr("axis", -1)) % rank != rank - 1:
            raise _Unsupported("Softmax over an axis other than the last")
        self.layer("softmax", [self.act(self.ins(0))])

    def decomposed_layer_norm(self, match: "_LayerNormMatch") -> None:
        self.layer("layernorm", [self.act(match.x)], attrs=dict(gamma=match.gamma, beta=match.beta, eps=match.eps))

    def unary(self, function: str) -> Callable[[], None]:
        def handler() -> None:
            if function == "hardsigmoid" and not (math.isclose(self.attr("alpha", 0.2), 1 / 6, rel_tol=1e-5)
                                                  and math.isclose(self.attr("beta", 0.5), 0.5)):
                raise _Unsupported("HardSigmoid with alpha != 1/6 or beta != 0.5 (PyTorch's hardsigmoid lowers)")
            if function == "gelu" and self.attr("approximate", b"none") not in (b"none", "none"):
                raise _Unsupported("Gelu with approximate='tanh' (the erf form lowers)")
            self.layer("unary", [self.act(self.ins(0))], attrs={"function": function})
        return handler

    def _pool(self, with_dilation: bool) -> dict[str, Any]:
        k = list(self.attr("kernel_shape"))
        if len(k) != 2:
            raise _Unsupported(f"{len(k)}-D pooling (only 2-D lowers)")
        st = list(self.attr("strides", k))
        pads = list(self.attr("pads", [0, 0, 0, 0]))
        auto = self.attr("auto_pad", b"NOTSET")
        if (auto.decode() if isinstance(auto, bytes) else auto) not in ("NOTSET", "VALID"):
            raise _Unsupported("pooling with auto_pad SAME_* (give explicit pads)")
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise _Unsupported(f"asymmetric pooling pads {pads}")
        out = dict(kernel=(int(k[0]), int(k[1])), stride=(int(st[0]), int(st[1])),
                   padding=tuple(int(p) for p in pads), ceil_mode=bool(self.attr("ceil_mode", 0)))
        if with_dilation:
            d = list(self.attr("dilations", [1, 1]))
            out["dilation"] = (int(d[0]), int(d[1]))
        return out

    def max_pool(self) -> None:
        if len(self.node.output) > 1 and self.node.output[1]:
            raise _Unsupported("MaxPool with an Indices output")
        self.layer("max_pool2d", [self.act(self.ins(0))], attrs=self._pool(True))

    def average_pool(self) -> None:
        self.layer("avg_pool2d", [self.act(self.ins(0))],
                   attrs=self._pool(False) | {"count_include_pad": bool(self.attr("count_include_pad", 0))})

    def resize(self) -> None:
        def text(key: str, default: str) -> str:
            v = self.attr(key, default)
            return v.decode() if isinstance(v, bytes) else str(v)
        mode, coord = text("mode", "nearest"), text("coordinate_transformation_mode", "half_pixel")
        x = self.ins(0)
        if len(self.shape(x)) != 4 or self.shape(x)[:2] != self.shape(self.node.output[0])[:2]:
            raise _Unsupported("Resize of anything but the H and W axes of NCHW")
        if mode == "nearest" and coord == "asymmetric" and text("nearest_mode", "round_prefer_floor") == "floor":
            self.layer("resize", [self.act(x)], attrs={"mode": "nearest", "align_corners": False})
        elif mode == "linear" and coord in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            self.layer("resize", [self.act(x)], attrs={"mode": "bilinear", "align_corners": coord == "align_corners"})
        else:
            raise _Unsupported(f"Resize mode={mode!r} coordinate_transformation_mode={coord!r} (nearest with "
                               "asymmetric/floor, or linear with half_pixel/align_corners, lower)")

    def slice_(self) -> None:
        x = self.ins(0)
        shape = self.shape(x)
        starts = self.need_const(self.ins(1), "starts").reshape(-1).tolist()
        ends = self.need_const(self.ins(2), "ends").reshape(-1).tolist()
        axes = self.need_const(self.ins(3), "axes").reshape(-1).tolist() if self.ins(3) else list(range(len(starts)))
        steps = self.need_const(self.ins(4), "steps").reshape(-1).tolist() if self.ins(4) else [1] * len(starts)
        src = self.act(x)
        cur_shape = list(shape)
        for k, (a, lo, hi, st) in enumerate(zip(axes, starts, ends, steps)):
            a = int(a) % len(shape)
            if st < 1:
                raise _Unsupported("Slice with a negative step")
            b0, b1, b2 = slice(int(lo), int(min(hi, 2**62)), int(st)).indices(shape[a])
            last = k == len(axes) - 1
            cur_shape[a] = len(range(b0, b1, b2))
            if last:
                self.layer("slice", [src], attrs={"axis": a, "start": b0, "stop": b1, "step": b2})
            else:
                name = self.graph.unique_name(f"{self.node.name or self.node.output[0]}.axis{a}")
                self.graph.add(Layer(name, "slice", [src], tuple(cur_shape), source=self.where,
                                     attrs={"axis": a, "start": b0, "stop": b1, "step": b2}))
                src = name

    def split(self) -> None:
        x = self.ins(0)
        shape = self.shape(x)
        axis = int(self.attr("axis", 0)) % len(shape)
        sizes = [self.shape(o)[axis] for o in self.node.output]
        start = 0
        for k, n in enumerate(sizes):
            self.layer("slice", [self.act(x)], out=k, attrs={"axis": axis, "start": start, "stop": start + n, "step": 1})
            start += n

    def erf_gelu(self, match: "_GeluMatch") -> None:
        self.layer("unary", [self.act(match.x)], attrs={"function": "gelu"})

    def handlers(self) -> dict[str, Callable[[], None]]:
        inf = math.inf
        return {
            "Conv": self.conv, "Gemm": self.gemm, "MatMul": self.matmul,
            "Add": self.add, "Sub": self.sub, "Mul": self.mul, "Div": self.div,
            "Relu": lambda: self.clamp(0.0, inf), "Clip": self.clip,
            "Reshape": self.view, "Flatten": self.view, "Squeeze": self.view, "Unsqueeze": self.view,
            "Transpose": self.transpose, "Concat": self.concat,
            "Identity": self.identity, "Dropout": self.identity,
            "GlobalAveragePool": self.global_average_pool, "ReduceMean": self.reduce_mean,
            "BatchNormalization": self.batch_norm, "Cast": self.cast,
            "QuantizeLinear": self.quantize_linear, "DequantizeLinear": self.dequantize_linear,
            "LayerNormalization": self.layer_norm, "Softmax": self.softmax,
            "Sigmoid": self.unary("sigmoid"), "Tanh": self.unary("tanh"), "Gelu": self.unary("gelu"),
            "HardSwish": self.unary("hardswish"), "HardSigmoid": self.unary("hardsigmoid"),
            "MaxPool": self.max_pool, "AveragePool": self.average_pool, "Resize": self.resize,
            "Slice": self.slice_, "Split": self.split,
        }

    # ---- the walk ----------------------------------------------------------------------------------
    def fold(self, node: Any) -> bool:
        """Evaluate ``node`` now if its inputs are constants (Shape needs only a known input shape)."""
        if node.output and all(o in self.constant for o in node.output):
            return True
        if node.op_type == "Shape" and (node.input[0] in self.shapes or node.input[0] in self.value):
            shape = np.array(self.shape(node.input[0]), dtype=np.int64)
            start, end = self.attr("start", 0), self.attr("end", None)
            self.constant[node.output[0]] = shape[start:end]
            return True
        if node.op_type == "Constant" or (node.input and all((not n) or n in self.constant for n in node.input)):
            from onnx.reference import ReferenceEvaluator

            feeds = {n: self.constant[n] for n in node.input if n}
            try:
                outs = ReferenceEvaluator(node).run(None, feeds)
            except Exception as e:
                raise _Unsupported(f"cannot fold its constant inputs: {e}") from None
            for name, v in zip(node.output, outs):
                self.constant[name] = np.asarray(v)
            return True
        return False

    def _fold_leading_constants(self, nodes: list[Any]) -> None:
        """Evaluate the constant-only nodes up front (eps, exponents and shapes must be known to match patterns)."""
        for node in nodes:
            if node.op_type == "Constant" or (node.input and all((not n) or n in self.constant for n in node.input)):
                self.node = node
                try:
                    self.fold(node)
                except _Unsupported:
                    pass   # reported when the walk reaches it

    def read(self) -> OnnxGraph:
        for spec in self.inputs:
            self.graph.add(Layer(spec.name, "input", [], spec.shape, source=f"engine input ({spec.dtype})",
                                 attrs={"input_dtype": spec.dtype}))
            self.graph.inputs.append(spec.name)
            self.value[spec.name] = spec.name
        self.producer = {o: n for n in self.model.graph.node for o in n.output}
        handlers = self.handlers()
        problems: list[str] = []
        nodes = list(self.model.graph.node)
        self._fold_leading_constants(nodes)
        norms = _match_layer_norms(nodes, self.constant, self.shapes)
        gelus = _match_erf_gelus(nodes, self.constant)
        inside = {id(n) for m in [*norms.values(), *gelus.values()] for n in m.nodes}
        for i, node in enumerate(nodes):
            self.node = node
            reads = ", ".join(f"{n!r}" for n in node.input if n and n not in self.constant) or "constants only"
            self.where = f"{node.op_type} node {node.name or node.output[0]!r} (#{i}, reads {reads})"
            try:
                self.node = node
                if node.domain not in ("", "ai.onnx"):
                    raise _Unsupported(f"domain {node.domain!r} is not supported")
                if i in norms:
                    self.decomposed_layer_norm(norms[i])
                    continue
                if i in gelus:
                    self.erf_gelu(gelus[i])
                    continue
                if id(node) in inside:
                    continue
                if self.fold(node):
                    continue
                handler = handlers.get(node.op_type)
                if handler is None:
                    raise _Unsupported("not in the wayvert op set")
                handler()
            except _Downstream:
                self.failed.update(node.output)
            except _Unsupported as e:
                self.failed.update(node.output)
                problems.append(f"{self.where}: {e}")
        if problems:
            raise LoweringError(f"{len(problems)} node(s) of the ONNX model cannot be lowered:", problems)
        outputs = []
        for vi in self.model.graph.output:
            if vi.name not in self.value:
                raise LoweringError(f"output {vi.name!r} is a constant or an input, not a computed tensor")
            self.graph.outputs[vi.name] = self.value[vi.name]
            outputs.append(vi.name)
        return OnnxGraph(self.graph, self.inputs, outputs, self.given, self.opset)


def graph_from_onnx(model: Any) -> OnnxGraph:
    """One layer per ONNX node of ``model`` (a ModelProto, or a path): LoweringError lists every node that
    cannot lower."""
    if isinstance(model, (str, os.PathLike)):
        model = load_onnx(model)
    return _Reader(model).read()
