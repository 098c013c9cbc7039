"""The lowered graph run in float32 (PyTorch): calibration statistics and the per-layer reference.

Folding and fusion are exact algebra, so the graph's outputs equal the model's (to float rounding); every
layer's value is the float tensor its int8 twin in the engine approximates.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from .graph import Graph, Layer


UNARY = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu, "gelu": F.gelu, "hardswish": F.hardswish,
         "hardsigmoid": F.hardsigmoid}


def _clamp(x: torch.Tensor, clamp: tuple[float, float] | None) -> torch.Tensor:
    if clamp is None:
        return x
    lo, hi = clamp
    return torch.clamp(x, min=None if math.isinf(lo) else lo, max=None if math.isinf(hi) else hi)


class FloatGraph:
    """Callable: ``{engine input: array}`` (batch 1, image [V, 3, H, W] normalised) -> ``{value: float32 tensor}``."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        f32 = lambda a: None if a is None else torch.as_tensor(np.asarray(a, dtype=np.float32))  # noqa: E731
        self.weight = {l.name: f32(l.weight) for l in graph}
        self.bias = {l.name: f32(l.bias) for l in graph}
        self.constant = {l.name: f32(l.attrs["constant"]) for l in graph if "constant" in l.attrs}

    def _run(self, l: Layer, env: Mapping[str, torch.Tensor]) -> torch.Tensor:
        x = env[l.inputs[0]] if l.inputs else None
        if l.op == "conv2d":
            pt, pl, pb, pr = l.attrs["padding"]
            y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), self.weight[l.name], self.bias[l.name], l.attrs["stride"],
                         0, l.attrs["dilation"], l.attrs["groups"])
        elif l.op == "linear":
            y = F.linear(x, self.weight[l.name], self.bias[l.name])
        elif l.op == "add":
            y = x + env[l.inputs[1]]
        elif l.op == "concat":
            y = torch.cat([env[n] for n in l.inputs], dim=l.attrs["axis"])
        elif l.op == "reshape":
            y = x.reshape(l.shape)
        elif l.op == "permute":
            y = x.permute(*l.attrs["perm"])
        elif l.op == "layernorm":
            a = l.attrs
            y = F.layer_norm(x, (x.shape[-1],), torch.as_tensor(a["gamma"], dtype=torch.float32),
                             torch.as_tensor(a["beta"], dtype=torch.float32), float(a["eps"]))
        elif l.op == "attention":
            q, k, v = (env[n] for n in l.inputs)
            h = int(l.attrs["num_heads"])
            split = lambda t: t.reshape(t.shape[0], t.shape[1], h, -1).transpose(1, 2)  # noqa: E731
            o = F.scaled_dot_product_attention(split(q), split(k), split(v))
            y = o.transpose(1, 2).reshape(q.shape)
        elif l.op == "unary":
            y = UNARY[l.attrs["function"]](x)
        elif l.op == "multiply":
            y = x * env[l.inputs[1]]
        elif l.op in ("max_pool2d", "avg_pool2d"):
            a = l.attrs
            pad = (a["padding"][0], a["padding"][1])
            if l.op == "max_pool2d":
                y = F.max_pool2d(x, a["kernel"], a["stride"], pad, a["dilation"], a["ceil_mode"])
            else:
                y = F.avg_pool2d(x, a["kernel"], a["stride"], pad, a["ceil_mode"], a["count_include_pad"])
        elif l.op == "resize":
            if l.attrs["mode"] == "nearest":
                y = F.interpolate(x, size=l.shape[2:], mode="nearest")
            else:
                y = F.interpolate(x, size=l.shape[2:], mode="bilinear", align_corners=l.attrs["align_corners"])
        elif l.op == "slice":
            a = l.attrs
            index = [slice(None)] * x.dim()
            index[a["axis"]] = slice(a["start"], a["stop"], a["step"])
            y = x[tuple(index)]
        elif l.op == "softmax":
            y = torch.softmax(x, dim=-1)
        elif l.op == "matmul":
            y = torch.matmul(x, env[l.inputs[1]])
        elif l.op == "constant":
            y = self.constant[l.name].reshape(l.shape)
        elif l.op == "bytes_to_int8":
            shape = (1, -1) + (1,) * (x.dim() - 2) if x.dim() >= 2 else (-1,)
            a = torch.as_tensor(l.attrs["a"], dtype=torch.float32).reshape(shape)
            y = x * a + torch.as_tensor(l.attrs["b"], dtype=torch.float32).reshape(shape)
        elif l.op == "global_avg_pool":
            y = x.mean(dim=(2, 3), keepdim=bool(l.attrs.get("keepdims")))
        elif l.op == "mul":
            y = x * self.constant[l.name]
        elif l.op == "add_constant":
            y = x + self.constant[l.name]
        elif l.op == "clamp":
            y = _clamp(x, (l.attrs["lo"], l.attrs["hi"]))
        elif l.op == "batch_norm":
            a = l.attrs
            k = torch.as_tensor(a["gamma"] / np.sqrt(a["var"] + a["eps"]), dtype=torch.float32).view(1, -1, 1, 1)
            y = (x - torch.as_tensor(a["mean"], dtype=torch.float32).view(1, -1, 1, 1)) * k \
                + torch.as_tensor(a["beta"], dtype=torch.float32).view(1, -1, 1, 1)
        else:
            raise ValueError(f"no float forward for op {l.op!r}")
        if l.residual is not None:
            y = y + env[l.residual]
        return _clamp(y, l.clamp)

    @torch.no_grad()
    def __call__(self, inputs: Mapping[str, np.ndarray | torch.Tensor]) -> dict[str, torch.Tensor]:
        env: dict[str, torch.Tensor] = {}
        for l in self.graph:
            if l.op == "input":
                env[l.name] = torch.as_tensor(np.asarray(inputs[l.name]).astype(np.float32)).reshape(l.shape)
            else:
                env[l.name] = self._run(l, env)
        return env

    def outputs(self, inputs: Mapping[str, np.ndarray | torch.Tensor]) -> dict[str, np.ndarray]:
        """The graph outputs by key, as numpy."""
        env = self(inputs)
        return {k: env[v].numpy() for k, v in self.graph.outputs.items()}
