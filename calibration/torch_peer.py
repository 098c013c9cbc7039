"""PyTorch eager fp32 of an engine's float twin (a benchmark peer; toolchain side, found by the runtime through the
``wayvert.bench_peers`` entry points): one ``torch.nn.functional`` call per op, weights as buffers."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from wayvert.graph.dequantized import FloatNet, FloatOp

_ACT = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6, "silu": F.silu, "gelu": F.gelu}


class EngineTwin(torch.nn.Module):
    """``forward(**inputs)`` -> tuple of the engine's outputs, in order (float32, the engine's shapes)."""

    def __init__(self, net: FloatNet) -> None:
        super().__init__()
        self.net = net
        self.input_names = [n for n, _ in net.inputs]
        self.output_names = list(net.outputs)
        self._tensors: dict[str, str] = {}
        for name, value in net.constants.items():
            self._buffer(name, value)
        for op in net.ops:
            if op.weight is not None:
                self._buffer(f"{op.output}.weight", op.weight)
            if op.bias is not None:
                self._buffer(f"{op.output}.bias", op.bias)

    def _buffer(self, key: str, value: np.ndarray) -> None:
        attr = f"t{len(self._tensors)}"
        self.register_buffer(attr, torch.from_numpy(np.ascontiguousarray(value, np.float32)))
        self._tensors[key] = attr

    def _t(self, key: str) -> torch.Tensor | None:
        attr = self._tensors.get(key)
        return None if attr is None else getattr(self, attr)

    def _weight(self, op: FloatOp) -> torch.Tensor:
        w = self._t(f"{op.output}.weight")
        assert w is not None, f"{op.op} {op.output} has no weight"
        return w

    def _op(self, op: FloatOp, env: dict[str, torch.Tensor]) -> torch.Tensor:
        xs = [env[n] for n in op.inputs]
        p = op.params
        if op.op == "conv2d":
            top, left, bottom, right = p["pads"]
            x = xs[0] if not any(p["pads"]) else F.pad(xs[0], (left, right, top, bottom))
            y = F.conv2d(x, self._weight(op), self._t(f"{op.output}.bias"), p["stride"], 0, p["dilation"], p["groups"])
        elif op.op == "linear":
            y = F.linear(xs[0], self._weight(op), self._t(f"{op.output}.bias"))
        elif op.op == "add":
            y = xs[0] + xs[1]
        elif op.op == "global_avg_pool":
            y = xs[0].mean(dim=(2, 3)).reshape(op.shape)
        elif op.op in ("reshape", "identity"):
            y = xs[0].reshape(op.shape)
        elif op.op == "permute":
            y = xs[0].permute(*p["perm"])
        elif op.op == "concat":
            y = torch.cat(xs, dim=p["axis"])
        elif op.op == "layernorm":
            y = F.layer_norm(xs[0], (xs[0].shape[-1],), xs[1], xs[2], p["eps"])
        elif op.op == "attention":
            q, k, v = xs
            b, lq, d = q.shape
            h = p["num_heads"]

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.reshape(b, -1, h, d // h).transpose(1, 2)
            y = F.scaled_dot_product_attention(split(q), split(k), split(v)).transpose(1, 2).reshape(b, lq, d)
        else:
            raise NotImplementedError(op.op)
        if op.residual is not None:
            y = y + env[op.residual]
        y = _ACT[op.activation](y)
        lo, hi = op.clamp
        if math.isfinite(lo) or math.isfinite(hi):
            y = torch.clamp(y, min=lo if math.isfinite(lo) else None, max=hi if math.isfinite(hi) else None)
        return y

    def forward(self, *args: torch.Tensor, **kwargs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        env: dict[str, torch.Tensor] = dict(zip(self.input_names, args))
        env.update(kwargs)
        for key, attr in self._tensors.items():
            if key in self.net.constants:
                env[key] = getattr(self, attr)
        for op in self.net.ops:
            env[op.output] = self._op(op, env)
        return tuple(env[n] for n in self.output_names)


def torch_twin(net: FloatNet) -> EngineTwin:
    """The module in eval mode."""
    return EngineTwin(net).eval()


class TorchRunner:
    """``run(feeds) -> {output: numpy}`` of the eager module on ``threads`` intra-op threads (no autograd)."""

    def __init__(self, net: FloatNet, threads: int = 1) -> None:
        self.module = torch_twin(net)
        self.threads = int(threads)

    def run(self, feeds: dict[str, Any]) -> dict[str, np.ndarray]:
        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            outs = self.module(**{k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in feeds.items()})
        return {n: o.numpy() for n, o in zip(self.module.output_names, outs)}


def pickled_twin_loader(path: str, threads: int) -> Callable[[], Callable[[], Any]]:
    """For the memory probe (``wayvert.benchmark.memory``): PyTorch is imported and its threads set now; the
    returned function loads the pickled ``FloatNet`` at ``path`` as a module and returns a run() on zeros."""
    import pickle

    torch.set_num_threads(threads)

    def load() -> Callable[[], Any]:
        with open(path, "rb") as f:
            module = torch_twin(pickle.load(f))
        feeds = {n: torch.zeros(s) for n, s in module.net.inputs}

        def run() -> Any:
            with torch.inference_mode():
                return module(**feeds)
        return run
    return load
