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


_UNARY: dict[int, Callable[[torch.Tensor], torch.Tensor]] = {
    1: torch.sigmoid, 2: torch.tanh, 3: F.silu, 4: F.gelu, 5: F.hardswish, 6: F.hardsigmoid}


def _pool(xs: list[torch.Tensor], p: dict[str, Any], shape: tuple[int, ...], kind: str) -> torch.Tensor:
    """The engine's pooling in torch: symmetric pads map onto F.*_pool2d (ceil mode read off the output size);
    asymmetric ones pad explicitly (-inf never wins a max; an average counts the pad only with count_include_pad)."""
    x = xs[0]
    kh, kw = int(p["kernel_h"]), int(p["kernel_w"])
    stride = (int(p.get("stride_h", kh)), int(p.get("stride_w", kw)))
    pt, pl, pb, pr = (int(p.get(k, 0)) for k in ("pad_top", "pad_left", "pad_bottom", "pad_right"))
    dil = (int(p.get("dilation_h", 1)), int(p.get("dilation_w", 1)))
    floor_h = (x.shape[2] + pt + pb - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ceil_mode = shape[2] > floor_h or shape[3] > (x.shape[3] + pl + pr - dil[1] * (kw - 1) - 1) // stride[1] + 1
    include = bool(int(p.get("count_include_pad", 0)))
    if (pt, pl) == (pb, pr):
        if kind == "max":
            return F.max_pool2d(x, (kh, kw), stride, (pt, pl), dil, ceil_mode)
        return F.avg_pool2d(x, (kh, kw), stride, (pt, pl), ceil_mode, include)
    if kind == "max":
        return F.max_pool2d(F.pad(x, (pl, pr, pt, pb), value=-math.inf), (kh, kw), stride, 0, dil, ceil_mode)
    ones = torch.ones_like(x[:, :1])
    sums = F.avg_pool2d(F.pad(x, (pl, pr, pt, pb)), (kh, kw), stride, 0, ceil_mode, True, divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, (pl, pr, pt, pb), value=1.0 if include else 0.0), (kh, kw), stride, 0,
                         ceil_mode, True, divisor_override=1)
    return sums / count


def _resize(xs: list[torch.Tensor], p: dict[str, Any], shape: tuple[int, ...]) -> torch.Tensor:
    if int(p.get("mode", 0)) == 0:
        return F.interpolate(xs[0], size=shape[2:], mode="nearest")
    return F.interpolate(xs[0], size=shape[2:], mode="bilinear", align_corners=bool(int(p.get("align_corners", 0))))


def _slice(xs: list[torch.Tensor], p: dict[str, Any], shape: tuple[int, ...]) -> torch.Tensor:
    x = xs[0]
    axis, start, step = int(p.get("axis", 0)) % x.dim(), int(p.get("start", 0)), int(p.get("step", 1))
    index = [slice(None)] * x.dim()
    index[axis] = slice(start, start + shape[axis] * step, step)
    return x[tuple(index)]


_NEW_OPS: dict[str, Callable[[list[torch.Tensor], dict[str, Any], tuple[int, ...]], torch.Tensor]] = {
    "unary": lambda xs, p, shape: _UNARY[int(p["function"])](xs[0]),
    "mul": lambda xs, p, shape: xs[0] * xs[1],
    "max_pool2d": lambda xs, p, shape: _pool(xs, p, shape, "max"),
    "avg_pool2d": lambda xs, p, shape: _pool(xs, p, shape, "avg"),
    "resize": _resize,
    "softmax": lambda xs, p, shape: torch.softmax(xs[0], dim=-1),
    "matmul": lambda xs, p, shape: torch.matmul(xs[0], xs[1]),
    "slice": _slice,
}


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
        elif op.op in _NEW_OPS:
            y = _NEW_OPS[op.op](xs, p, tuple(op.shape))
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


class CudaRunner:
    """``run(feeds) -> {output: numpy}`` of the twin on a CUDA device: ``precision`` "fp16" (weights and activations
    in half precision) or "fp32"; ``graph=True`` captures one inference as a CUDA Graph (``torch.cuda.CUDAGraph``,
    static input and output buffers) and replays it per call, the way wayvert's CUDA sessions run. Each call copies
    the inputs from the host and the outputs back, as a wayvert session's run() does."""

    def __init__(self, net: FloatNet, precision: str = "fp16", graph: bool = True, device: str = "cuda") -> None:
        if precision not in ("fp16", "fp32"):
            raise ValueError(f"precision must be fp16 or fp32, got {precision!r}")
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        self.device = torch.device(device)
        self.module = torch_twin(net).to(self.device, self.dtype).eval()
        self.static = {n: torch.zeros(s, device=self.device, dtype=self.dtype) for n, s in self.module.net.inputs}
        self.graph: Any = None
        if graph:
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side), torch.inference_mode():
                for _ in range(3):  # warm-up on a side stream, as torch.cuda.graphs asks before capture
                    self.module(**self.static)
            torch.cuda.current_stream(self.device).wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph), torch.inference_mode():
                self.outputs = self.module(**self.static)

    def run(self, feeds: dict[str, Any]) -> dict[str, np.ndarray]:
        with torch.inference_mode():
            for k, v in feeds.items():
                self.static[k].copy_(torch.from_numpy(np.ascontiguousarray(v, np.float32)), non_blocking=False)
            if self.graph is not None:
                self.graph.replay()
                outs = self.outputs
            else:
                outs = self.module(**self.static)
            return {n: o.float().cpu().numpy() for n, o in zip(self.module.output_names, outs)}


def tensorrt_note() -> str:
    """One line for the GPU bench table on torch-tensorrt, which no machine of this project can install."""
    try:
        import torch_tensorrt  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return "torch-tensorrt: not importable on this machine (TensorRT cannot be installed here); no row"
    return "torch-tensorrt is importable but not wired as a peer yet"


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
