"""torch.export -> the lowering graph: one layer per ATen op, constants resolved, unsupported ops collected.

Works on the graph ``torch.export.export`` returns (ATen ops before decomposition: conv2d, linear, relu, ...)
and on the core ATen spellings of the same ops after ``run_decompositions()`` (convolution, addmm/mm with a
transposed weight, view, hardtanh); views of constants are evaluated here, so a permuted weight is a weight. Any other op is reported, all at once, in one :class:`LoweringError` naming the op,
the module path it came from and the source line.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from torch.export import ExportedProgram
from torch.fx import Node

from .errors import LoweringError
from .graph import Graph, Layer

#: The engine input holding the camera tensor; every other input is float32.
IMAGE_INPUT = "image"


def where(node: Node) -> str:
    """Where an ATen node came from: 'module.path (Class), file.py:12 `source line`'."""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, cls = list(stack.values())[-1]
        cls_name = cls if isinstance(cls, str) else getattr(cls, "__qualname__", str(cls))
        module = f"{path or '<root>'} ({str(cls_name).rsplit('.', 1)[-1]})"
    else:
        module = "<root>"
    lines = (node.meta.get("stack_trace") or "").strip().splitlines()
    frames = [(lines[i].strip(), lines[i + 1].strip() if i + 1 < len(lines) else "")
              for i in range(len(lines)) if lines[i].strip().startswith("File ")]
    user = [f for f in frames if "site-packages/torch" not in f[0] and "/torch/" not in f[0]] or frames
    if not user:
        return module
    head, code = user[-1]
    try:
        file = head.split('"')[1].rsplit("/", 1)[-1]
        line = head.split(", line ")[1].split(",")[0]
        return f"{module}, {file}:{line} `{code}`"
    except IndexError:
        return f"{module}, {head}"


def _module_path(node: Node) -> tuple[str, str]:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", ""
    path, cls = list(stack.values())[-1]
    cls_name = cls if isinstance(cls, str) else getattr(cls, "__qualname__", str(cls))
    return path, str(cls_name).rsplit(".", 1)[-1]


def _shape(node: Node) -> tuple[int, ...]:
    return tuple(int(d) for d in node.meta["val"].shape)


#: Ops that only check metadata at run time (no value): skipped.
CHECKS = ("aten._assert_tensor_metadata.default", "aten._assert_scalar.default", "aten.sym_constrain_range_for_size.default")


class _Unsupported(Exception):
    """One node cannot be lowered (collected, then raised together as a LoweringError)."""


class _Downstream(Exception):
    """A node reads the result of a node that already failed: not reported again."""


class _Reader:
    """Walks an ExportedProgram's graph and appends one layer per node to a Graph."""

    def __init__(self, ep: ExportedProgram, camera_input: str | None = IMAGE_INPUT) -> None:
        self.ep = ep
        self.camera_input = camera_input
        self.graph = Graph()
        self.value: dict[str, str] = {}          # fx node name -> layer name
        self.constant: dict[str, np.ndarray] = {}  # fx placeholder name -> float64 array
        self.bn_tuple: set[str] = set()
        self.splits: dict[str, tuple[str, int, list[tuple[int, int]]]] = {}
        sig = ep.graph_signature
        lifted = {**sig.inputs_to_parameters, **sig.inputs_to_buffers, **sig.inputs_to_lifted_tensor_constants}
        for placeholder, target in lifted.items():
            t = ep.state_dict[target] if target in ep.state_dict else ep.constants[target]
            self.constant[placeholder] = t.detach().to(torch.float64).cpu().numpy()

    # ---- argument helpers --------------------------------------------------------------------------
    def act(self, arg: Any) -> str:
        """The layer holding an activation argument."""
        if isinstance(arg, Node) and arg.name in self.value:
            return self.value[arg.name]
        if isinstance(arg, Node) and arg.name not in self.constant:
            raise _Downstream()
        raise _Unsupported("an operand that should be an activation is a constant")

    def const(self, arg: Any) -> np.ndarray | None:
        """A constant argument (parameter, buffer, Python number) as float64, or None for an activation."""
        if isinstance(arg, Node):
            return self.constant.get(arg.name)
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            return np.asarray(float(arg))
        return None

    def weight(self, arg: Any) -> np.ndarray:
        w = self.const(arg)
        if w is None:
            raise _Unsupported("its weight is computed at run time (only constant weights lower)")
        return w

    def layer(self, node: Node, op: str, inputs: list[str], **kw: Any) -> None:
        path, cls = _module_path(node)
        own = op in ("conv2d", "linear") and cls in ("Conv2d", "Linear") and path
        name = self.graph.unique_name(path if own else (f"{path}.{node.name}" if path else node.name))
        self.graph.add(Layer(name, op, inputs, _shape(node), source=f"{node.target} at {where(node)}", **kw))
        self.value[node.name] = name

    def alias(self, node: Node, arg: Any) -> None:
        self.value[node.name] = self.act(arg)

    # ---- op handlers -------------------------------------------------------------------------------
    def conv2d(self, node: Node, x: Any, w: Any, b: Any = None, stride: Any = (1, 1), padding: Any = (0, 0),
               dilation: Any = (1, 1), groups: int = 1) -> None:
        if isinstance(padding, str):
            raise _Unsupported(f"padding={padding!r} (use explicit integer padding)")
        weight = self.weight(w)
        if weight.ndim != 4:
            raise _Unsupported("only 2-D convolutions lower")
        bias = self.const(b) if b is not None else None
        ph, pw = (list(padding) * 2)[:2] if len(padding) == 1 else padding
        sh, sw = (list(stride) * 2)[:2] if len(stride) == 1 else stride
        dh, dw = (list(dilation) * 2)[:2] if len(dilation) == 1 else dilation
        self.layer(node, "conv2d", [self.act(x)], weight=weight, bias=bias,
                   attrs=dict(stride=(int(sh), int(sw)), padding=(int(ph), int(pw), int(ph), int(pw)),
                              dilation=(int(dh), int(dw)), groups=int(groups)))

    def convolution(self, node: Node, x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any,
                    transposed: bool, output_padding: Any, groups: int) -> None:
        if transposed:
            raise _Unsupported("transposed convolution is not in the op set")
        self.conv2d(node, x, w, b, stride, padding, dilation, groups)

    def linear(self, node: Node, x: Any, w: Any, b: Any = None) -> None:
        bias = self.const(b) if b is not None else None
        self.layer(node, "linear", [self.act(x)], weight=self.weight(w), bias=bias)

    def clamp(self, node: Node, x: Any, lo: float | None, hi: float | None) -> None:
        bounds = (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
        self.layer(node, "clamp", [self.act(x)], attrs={"lo": bounds[0], "hi": bounds[1]})

    def mul(self, node: Node, a: Any, b: Any) -> None:
        ca, cb = self.const(a), self.const(b)
        if ca is None and cb is None:
            self.multiply(node, a, b)
            return
        if ca is not None and cb is not None:
            raise _Unsupported("a product of two constants should have been folded by export")
        x, c = (b, ca) if ca is not None else (a, cb)
        self.layer(node, "mul", [self.act(x)], attrs={"constant": c})

    def multiply(self, node: Node, a: Any, b: Any) -> None:
        """A product of two activations; the second operand broadcasts to the first's shape (swapped if needed)."""
        sa, sb = _shape(a), _shape(b)
        if sa != _shape(node):
            a, b, sa, sb = b, a, sb, sa
        if len(sa) != len(sb) or any(y not in (1, x) for x, y in zip(sa, sb)) or sa != _shape(node):
            raise _Unsupported(f"a product of {list(sa)} and {list(sb)}: one operand must broadcast to the other "
                               "with equal ranks")
        self.layer(node, "multiply", [self.act(a), self.act(b)])

    def unary(self, function: str) -> Callable[..., None]:
        def handler(node: Node, x: Any, *args: Any, **kw: Any) -> None:
            if function == "gelu" and (kw.get("approximate", args[0] if args else "none") != "none"):
                raise _Unsupported("gelu with approximate='tanh' (the erf form lowers)")
            self.layer(node, "unary", [self.act(x)], attrs={"function": function})
        return handler

    def _pool_args(self, node: Node, kernel: Any, stride: Any, padding: Any) -> dict[str, Any]:
        k = (list(kernel) * 2)[:2] if len(kernel) == 1 else list(kernel)
        st = k if not stride else ((list(stride) * 2)[:2] if len(stride) == 1 else list(stride))
        p = (list(padding) * 2)[:2] if len(padding) == 1 else list(padding)
        return dict(kernel=(int(k[0]), int(k[1])), stride=(int(st[0]), int(st[1])),
                    padding=(int(p[0]), int(p[1]), int(p[0]), int(p[1])))

    def max_pool2d(self, node: Node, x: Any, kernel: Any, stride: Any = (), padding: Any = (0, 0),
                   dilation: Any = (1, 1), ceil_mode: bool = False) -> None:
        d = (list(dilation) * 2)[:2] if len(dilation) == 1 else list(dilation)
        self.layer(node, "max_pool2d", [self.act(x)], attrs=self._pool_args(node, kernel, stride, padding)
                   | {"dilation": (int(d[0]), int(d[1])), "ceil_mode": bool(ceil_mode)})

    def avg_pool2d(self, node: Node, x: Any, kernel: Any, stride: Any = (), padding: Any = (0, 0),
                   ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: Any = None) -> None:
        if divisor_override is not None:
            raise _Unsupported("avg_pool2d with divisor_override")
        self.layer(node, "avg_pool2d", [self.act(x)], attrs=self._pool_args(node, kernel, stride, padding)
                   | {"ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad)})

    def upsample(self, mode: str) -> Callable[..., None]:
        def handler(node: Node, x: Any, size: Any = None, *args: Any, **kw: Any) -> None:
            align = bool(args[0]) if mode == "bilinear" and args and isinstance(args[0], bool) else \
                bool(kw.get("align_corners", False))
            if len(_shape(node)) != 4:
                raise _Unsupported("only 2-D (NCHW) resizing lowers")
            self.layer(node, "resize", [self.act(x)], attrs={"mode": mode, "align_corners": align})
        return handler

    def slice(self, node: Node, x: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> None:
        n = _shape(node.args[0])[int(dim) % len(_shape(node.args[0]))]
        lo, hi, st = slice(start, end, step).indices(n)
        self.layer(node, "slice", [self.act(x)], attrs={"axis": int(dim) % len(_shape(node)), "start": lo,
                                                        "stop": hi, "step": st})

    def split(self, node: Node, x: Any, sizes: Any, dim: int = 0) -> None:
        rank = len(_shape(node.args[0]))
        axis, n = int(dim) % rank, _shape(node.args[0])[int(dim) % rank]
        if isinstance(sizes, int):
            sizes = [min(sizes, n - s) for s in range(0, n, sizes)]
        starts = np.cumsum([0, *sizes[:-1]]).tolist()
        self.splits[node.name] = (self.act(x), axis, [(int(a), int(a + b)) for a, b in zip(starts, sizes)])

    def div(self, node: Node, a: Any, b: Any) -> None:
        c = self.const(b)
        if c is None or self.const(a) is not None:
            raise _Unsupported("only division of an activation by a constant lowers")
        self.layer(node, "mul", [self.act(a)], attrs={"constant": 1.0 / c})

    def add(self, node: Node, a: Any, b: Any, alpha: float = 1.0) -> None:
        ca, cb = self.const(a), self.const(b)
        if ca is not None and cb is not None:
            raise _Unsupported("a sum of two constants should have been folded by export")
        if ca is not None or cb is not None:
            x, c = (b, ca * 1.0) if ca is not None else (a, cb * alpha)
            self.layer(node, "add_constant", [self.act(x)], attrs={"constant": c})
            return
        if alpha != 1.0:
            raise _Unsupported(f"add with alpha={alpha} of two activations")
        self.layer(node, "add", [self.act(a), self.act(b)])

    def sub(self, node: Node, a: Any, b: Any, alpha: float = 1.0) -> None:
        cb = self.const(b)
        if cb is None and self.const(a) is None:   # a - alpha b of two activations: an add of b negated
            neg = self.graph.unique_name(f"{node.name}.negated")
            self.graph.add(Layer(neg, "mul", [self.act(b)], _shape(b), source=f"{node.target} at {where(node)}",
                                 attrs={"constant": np.asarray(-float(alpha))}))
            self.layer(node, "add", [self.act(a), neg])
            return
        if cb is None or self.const(a) is not None:
            raise _Unsupported("a constant minus an activation (only activation - constant, or of two activations)")
        self.layer(node, "add_constant", [self.act(a)], attrs={"constant": -cb * alpha})

    def cat(self, node: Node, tensors: Any, dim: int = 0) -> None:
        parts = [self.act(t) for t in tensors]
        self.layer(node, "concat", parts, attrs={"axis": int(dim) % len(_shape(node))})

    def mm(self, node: Node, x: Any, w_t: Any) -> None:
        self.layer(node, "linear", [self.act(x)], weight=self.weight(w_t).T.copy())

    def addmm(self, node: Node, bias: Any, x: Any, w_t: Any, beta: float = 1.0, alpha: float = 1.0) -> None:
        b = self.const(bias)
        if b is None or beta != 1.0 or alpha != 1.0:
            raise _Unsupported("addmm lowers only as a linear layer (constant bias, beta = alpha = 1)")
        self.layer(node, "linear", [self.act(x)], weight=self.weight(w_t).T.copy(), bias=b.reshape(-1))

    def reshape(self, node: Node, x: Any, *_: Any) -> None:
        c = self.const(x) if isinstance(x, Node) else None
        if c is not None:
            self.constant[node.name] = c.reshape(_shape(node))
            return
        self.layer(node, "reshape", [self.act(x)])

    def permute(self, node: Node, x: Any, dims: Any) -> None:
        rank = len(_shape(node))
        perm = tuple(int(d) % rank for d in dims)
        c = self.const(x) if isinstance(x, Node) else None
        if c is not None:
            self.constant[node.name] = c.transpose(perm)
            return
        self.layer(node, "permute", [self.act(x)], attrs={"perm": perm})

    def transpose(self, node: Node, x: Any, d0: int = 0, d1: int = 1) -> None:
        rank = len(_shape(node))
        perm = list(range(rank))
        perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
        self.permute(node, x, perm)

    def to_float(self, node: Node, x: Any, *args: Any, **kw: Any) -> None:
        dtype = kw.get("dtype", args[0] if args else None)
        if dtype not in (torch.float32, None) or str(node.meta["val"].dtype) != "torch.float32":
            raise _Unsupported(f"a cast to {node.meta['val'].dtype} (only casts to float32 lower)")
        self.alias(node, x)   # the float graph is float32; integer inputs' codes are their values

    def dropout(self, node: Node, x: Any, p: float = 0.5, train: bool | None = False) -> None:
        if train:
            raise _Unsupported("dropout in training mode (export the model in eval mode)")
        self.alias(node, x)

    def batch_norm(self, node: Node, x: Any, gamma: Any, beta: Any, mean: Any, var: Any, *rest: Any) -> None:
        training, eps = (rest[0], rest[2]) if str(node.target).startswith("aten.batch_norm") else (False, rest[1])
        if training:
            raise _Unsupported("batch_norm in training mode (export the model in eval mode)")
        c = _shape(node)[1]
        one = lambda a, fill: np.full(c, fill) if a is None else self.weight(a).reshape(-1)  # noqa: E731
        self.layer(node, "batch_norm", [self.act(x)], attrs=dict(gamma=one(gamma, 1.0), beta=one(beta, 0.0),
                   mean=self.weight(mean).reshape(-1), var=self.weight(var).reshape(-1), eps=float(eps)))
        if not str(node.target).startswith("aten.batch_norm"):
            self.bn_tuple.add(node.name)

    def mean(self, node: Node, x: Any, dims: Any, keepdim: bool = False, *_: Any, **__: Any) -> None:
        rank = len(_shape(node.args[0]))
        if rank != 4 or sorted(int(d) % rank for d in dims) != [2, 3]:
            raise _Unsupported("mean lowers only over the spatial axes (2, 3) of an NCHW tensor (global average pool)")
        self.layer(node, "global_avg_pool", [self.act(x)], attrs={"keepdims": bool(keepdim)})

    def adaptive_avg_pool2d(self, node: Node, x: Any, size: Any) -> None:
        if [int(v) for v in size] != [1, 1]:
            raise _Unsupported(f"adaptive_avg_pool2d to {list(size)} (only output size (1, 1) lowers)")
        self.layer(node, "global_avg_pool", [self.act(x)], attrs={"keepdims": True})

    def layer_norm(self, node: Node, x: Any, shape: Any, w: Any = None, b: Any = None, eps: float = 1e-5,
                   *_: Any) -> None:
        if len(shape) != 1:
            raise _Unsupported(f"layer_norm over {len(shape)} axes (only the last axis lowers)")
        d = int(shape[0])
        gamma = np.ones(d) if w is None else self.weight(w).reshape(-1)
        beta = np.zeros(d) if b is None else self.weight(b).reshape(-1)
        self.layer(node, "layernorm", [self.act(x)], attrs=dict(gamma=gamma, beta=beta, eps=float(eps)))

    def _heads_of(self, arg: Any) -> tuple[str, int]:
        """The [B, L, D] value and head count behind a [B, H, L, dh] attention operand made by
        ``x.view(B, L, H, dh).transpose(1, 2)`` (or permute (0, 2, 1, 3))."""
        p = self.graph[self.act(arg)]
        if p.op == "permute" and tuple(p.attrs["perm"]) == (0, 2, 1, 3):
            r = self.graph[p.inputs[0]]
            if r.op == "reshape" and len(r.shape) == 4:
                base = self.graph[r.inputs[0]]
                b, length, h, dh = r.shape
                if base.shape == (b, length, h * dh):
                    return base.name, h
        raise _Unsupported("attention operands must be [B, L, D] values viewed as [B, H, L, dh] "
                           "(x.view(B, L, H, dh).transpose(1, 2))")

    def sdpa(self, node: Node, q: Any, k: Any, v: Any, attn_mask: Any = None, dropout_p: float = 0.0,
             is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False) -> None:
        if attn_mask is not None or is_causal or dropout_p or enable_gqa:
            raise _Unsupported("attention with a mask, causal masking, dropout or grouped queries")
        dh = _shape(node)[-1]
        if scale is not None and not math.isclose(float(scale), 1.0 / math.sqrt(dh), rel_tol=1e-6):
            raise _Unsupported(f"attention scale {scale} (the op scales by 1/sqrt(head dim))")
        (qb, h), (kb, hk), (vb, hv) = self._heads_of(q), self._heads_of(k), self._heads_of(v)
        if not h == hk == hv:
            raise _Unsupported("q, k and v with different head counts")
        b, heads, length, dh = _shape(node)
        path, _ = _module_path(node)
        stem = f"{path}.{node.name}" if path else node.name
        name = self.graph.unique_name(stem)
        src = f"{node.target} at {where(node)}"
        self.graph.add(Layer(name, "attention", [qb, kb, vb], (b, length, heads * dh), source=src,
                             attrs={"num_heads": heads}))
        view = self.graph.unique_name(f"{name}.heads")
        self.graph.add(Layer(view, "reshape", [name], (b, length, heads, dh), source=src))
        out = self.graph.unique_name(f"{name}.bhld")
        self.graph.add(Layer(out, "permute", [view], (b, heads, length, dh), source=src, attrs={"perm": (0, 2, 1, 3)}))
        self.value[node.name] = out

    def softmax(self, node: Node, x: Any, dim: int, *_: Any) -> None:
        rank = len(_shape(node))
        if int(dim) % rank != rank - 1:
            raise _Unsupported("softmax over an axis other than the last")
        self.layer(node, "softmax", [self.act(x)])

    def matmul(self, node: Node, a: Any, b: Any) -> None:
        cb = self.const(b)
        if cb is not None and cb.ndim == 2 and self.const(a) is None:
            self.layer(node, "linear", [self.act(a)], weight=cb.T.copy())
            return
        if self.const(a) is not None or cb is not None:
            raise _Unsupported("matmul with a constant that is not a 2-D right operand")
        if len(_shape(node.args[0])) != len(_shape(node.args[1])):
            raise _Unsupported("matmul of operands of different ranks (broadcast batch axes)")
        self.layer(node, "matmul", [self.act(a), self.act(b)])

    def getitem(self, node: Node, x: Any, index: int) -> None:
        if isinstance(x, Node) and x.name in self.splits:
            src, axis, bounds = self.splits[x.name]
            lo, hi = bounds[index]
            self.layer(node, "slice", [src], attrs={"axis": axis, "start": lo, "stop": hi, "step": 1})
            return
        if not (isinstance(x, Node) and x.name in self.bn_tuple and index == 0):
            raise _Unsupported("tuple outputs other than batch norm's are not in the op set")
        self.alias(node, x)

    def handlers(self) -> dict[str, Callable[..., None]]:
        identity = lambda node, x, *_, **__: self.alias(node, x)  # noqa: E731
        relu = lambda node, x: self.clamp(node, x, 0.0, None)  # noqa: E731
        relu6 = lambda node, x: self.clamp(node, x, 0.0, 6.0)  # noqa: E731
        hardtanh = lambda node, x, lo=-1.0, hi=1.0: self.clamp(node, x, lo, hi)  # noqa: E731
        return {
            "aten.conv2d.default": self.conv2d, "aten.convolution.default": self.convolution,
            "aten.linear.default": self.linear, "aten.mm.default": self.mm, "aten.addmm.default": self.addmm,
            "aten.relu.default": relu, "aten.relu_.default": relu, "aten.relu6.default": relu6,
            "aten.hardtanh.default": hardtanh, "aten.hardtanh_.default": hardtanh,
            "aten.clamp.default": lambda node, x, lo=None, hi=None: self.clamp(node, x, lo, hi),
            "aten.mul.Tensor": self.mul, "aten.mul.Scalar": self.mul,
            "aten.div.Tensor": self.div, "aten.div.Scalar": self.div,
            "aten.add.Tensor": self.add, "aten.add.Scalar": self.add,
            "aten.sub.Tensor": self.sub, "aten.sub.Scalar": self.sub,
            "aten.cat.default": self.cat, "aten.concat.default": self.cat,
            "aten.reshape.default": self.reshape, "aten.view.default": self.reshape,
            "aten._unsafe_view.default": self.reshape, "aten.flatten.using_ints": self.reshape,
            "aten.squeeze.dim": self.reshape, "aten.squeeze.dims": self.reshape, "aten.unsqueeze.default": self.reshape,
            "aten.permute.default": self.permute, "aten.transpose.int": self.transpose,
            "aten.t.default": lambda node, x: self.transpose(node, x, 0, 1),
            "aten._to_copy.default": self.to_float, "aten.to.dtype": self.to_float,
            "aten.dropout.default": self.dropout, "aten.clone.default": identity,
            "aten.contiguous.default": identity, "aten.alias.default": identity, "aten.detach.default": identity,
            "aten.batch_norm.default": self.batch_norm,
            "aten._native_batch_norm_legit_no_training.default": self.batch_norm,
            "aten.mean.dim": self.mean, "aten.adaptive_avg_pool2d.default": self.adaptive_avg_pool2d,
            "aten._adaptive_avg_pool2d.default": self.adaptive_avg_pool2d,
            "aten.layer_norm.default": self.layer_norm,
            "aten.sigmoid.default": self.unary("sigmoid"), "aten.tanh.default": self.unary("tanh"),
            "aten.silu.default": self.unary("silu"), "aten.silu_.default": self.unary("silu"),
            "aten.gelu.default": self.unary("gelu"), "aten.hardswish.default": self.unary("hardswish"),
            "aten.hardswish_.default": self.unary("hardswish"), "aten.hardsigmoid.default": self.unary("hardsigmoid"),
            "aten.max_pool2d.default": self.max_pool2d, "aten.avg_pool2d.default": self.avg_pool2d,
            "aten.upsample_nearest2d.vec": self.upsample("nearest"),
            "aten.upsample_nearest2d.default": self.upsample("nearest"),
            "aten.upsample_bilinear2d.vec": self.upsample("bilinear"),
            "aten.upsample_bilinear2d.default": self.upsample("bilinear"),
            "aten.slice.Tensor": self.slice, "aten.narrow.default": lambda node, x, d, s, n: self.slice(node, x, d, s, s + n),
            "aten.split.Tensor": self.split, "aten.split_with_sizes.default": self.split,
            "aten.softmax.int": self.softmax, "aten._softmax.default": self.softmax,
            "aten.matmul.default": self.matmul, "aten.bmm.default": self.matmul,
            "aten.scaled_dot_product_attention.default": self.sdpa,
            "<built-in function getitem>": self.getitem,
        }

    # ---- the walk ----------------------------------------------------------------------------------
    def user_input(self, node: Node) -> None:
        shape = _shape(node)
        if node.name == self.camera_input == IMAGE_INPUT:
            # The engine takes the canonical camera tensor [V, 3, H, W]; the model's batch of one is a view of it.
            if len(shape) != 5 or shape[0] != 1:
                raise LoweringError(f"input '{IMAGE_INPUT}' must be [1, V, 3, H, W] at export, got {list(shape)}")
            self.graph.add(Layer(IMAGE_INPUT, "input", [], shape[1:], source="engine input (int8 camera tensor)"))
            self.graph.add(Layer(f"{IMAGE_INPUT}.batched", "reshape", [IMAGE_INPUT], shape, source="model input view"))
            self.value[node.name] = f"{IMAGE_INPUT}.batched"
        else:
            dtype = str(node.meta["val"].dtype).removeprefix("torch.")
            dtype = {"float32": "float32", "float16": "float32", "uint8": "uint8", "int8": "int8"}.get(dtype)
            if dtype is None:
                raise LoweringError(f"input {node.name!r} is {node.meta['val'].dtype}: engine inputs are float32, "
                                    "uint8 or int8")
            self.graph.add(Layer(node.name, "input", [], shape, source=f"engine input ({dtype})",
                                 attrs={"input_dtype": dtype}))
            self.value[node.name] = node.name
        self.graph.inputs.append(node.name)

    def read(self) -> Graph:
        problems: list[str] = []
        handlers = self.handlers()
        user_inputs = set(self.ep.graph_signature.user_inputs)
        outputs: list[Any] = []
        for node in self.ep.graph.nodes:
            if node.op == "call_function" and str(node.target) in CHECKS:
                continue   # run-time assertions export inserts about shapes and dtypes the engine fixes anyway
            if node.op == "placeholder":
                if node.name in user_inputs:
                    self.user_input(node)
                continue
            if node.op == "output":
                outputs = list(node.args[0])
                continue
            if node.op != "call_function":
                problems.append(f"{node.op} node {node.name} at {where(node)}")
                continue
            handler = handlers.get(str(node.target))
            if handler is None:
                problems.append(f"{node.target} at {where(node)}: not in the wayvert op set")
                continue
            try:
                handler(node, *node.args, **node.kwargs)
            except _Downstream:
                continue
            except _Unsupported as e:
                problems.append(f"{node.target} at {where(node)}: {e}")
            except (KeyError, TypeError) as e:  # an operand of an op that already failed, or an unexpected overload
                problems.append(f"{node.target} at {where(node)}: cannot read its arguments ({e})")
        if problems:
            raise LoweringError(f"{len(problems)} op(s) of the exported model cannot be lowered:", problems)
        self.graph.outputs = self._output_keys(outputs)
        self.graph.states = [k for k in self.graph.outputs if k in self.graph.inputs and k != IMAGE_INPUT]
        for k in self.graph.states:
            in_shape, out_shape = self.graph[k].shape, self.graph[self.graph.outputs[k]].shape
            if tuple(in_shape) != tuple(out_shape):
                raise LoweringError(f"output {k!r} is the next value of input {k!r} (recurrent state) but is "
                                    f"{list(out_shape)}, the input {list(in_shape)}")
        return self.graph

    def _output_keys(self, outputs: list[Any]) -> dict[str, str]:
        names = [self.value.get(o.name) if isinstance(o, Node) else None for o in outputs]
        if any(n is None for n in names):
            raise LoweringError("every model output must be a computed tensor (not a constant or None)")
        tree = torch.utils._pytree.tree_unflatten(names, self.ep.call_spec.out_spec)
        if isinstance(tree, dict):
            return {str(k): v for k, v in tree.items()}
        flat = tree if isinstance(tree, (list, tuple)) else [tree]
        return {f"output{i}": v for i, v in enumerate(flat)}


def graph_from_export(ep: ExportedProgram, camera_input: str | None = IMAGE_INPUT) -> Graph:
    """One layer per ATen op of ``ep`` (raises LoweringError listing every op that cannot lower).

    ``camera_input``: the student's camera tensor (``[1, V, 3, H, W]`` at export, an int8 ``[V, 3, H, W]``
    engine input); None for a model whose inputs are all engine inputs of their own shape and dtype.

    A model output keyed by an input's name is recurrent state (``Graph.states``): the engine keeps that input
    from one run to the next, set to the output's value, and starts it at zero."""
    return _Reader(ep, camera_input).read()
