"""The lowering's own graph: float layers in wayvert's vocabulary, before quantization.

A :class:`Layer` is one value and the op computing it. Right after export there is one layer per ATen op;
the passes (fold.py, fuse.py, split.py, broadcast.py) rewrite the graph until every layer is a wayvert op
with its fused epilogue (bias, residual add, clamp), and dtypes.py decides where float stays. The same graph
runs in float (float_forward.py) for calibration and as the per-layer reference of the error report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

#: Ops a layer can hold. After the passes only the first group may remain (plus ``mul`` on float values).
WAYVERT_OPS = ("input", "conv2d", "linear", "add", "concat", "reshape", "permute", "global_avg_pool",
               "bytes_to_int8", "layernorm", "attention", "constant", "softmax", "matmul", "unary", "multiply",
               "max_pool2d", "avg_pool2d", "resize", "slice")
TRANSIENT_OPS = ("mul", "add_constant", "clamp", "batch_norm")
VIEW_OPS = ("reshape", "permute")
#: int8 ops whose output keeps its input's scale and zero point (a max, a rounded mean, a copy): no parameters of
#: their own are calibrated.
SAME_PARAMS_OPS = ("max_pool2d", "avg_pool2d", "resize", "slice")


@dataclass
class Layer:
    """One value of the graph and the op that computes it (shapes at batch 1, NCHW).

    ``weight``/``bias`` are float64 (conv2d ``[Co, C/groups, kh, kw]``, linear ``[Co, K]``); ``clamp`` is the
    fused activation as a real interval (ReLU = (0, inf), ReLU6 = (0, 6)); ``residual`` is a value added before
    the clamp. ``attrs``: conv2d stride/padding (top, left, bottom, right)/dilation/groups, concat axis,
    permute perm, mul/add_constant constant, clamp lo/hi, batch_norm mean/var/gamma/beta/eps.
    """

    name: str
    op: str
    inputs: list[str]
    shape: tuple[int, ...]
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    clamp: tuple[float, float] | None = None
    residual: str | None = None
    source: str = ""
    dtype: str = ""

    def reads(self) -> list[str]:
        """Every value this layer reads (data inputs, then the residual)."""
        return self.inputs + ([self.residual] if self.residual is not None else [])

    def describe(self) -> str:
        """The wayvert op with its fused epilogue, e.g. ``conv2d+residual+relu``."""
        parts = [self.op]
        if self.residual is not None:
            parts.append("residual")
        if self.clamp is not None:
            parts.append(clamp_name(self.clamp))
        return "+".join(parts)


def clamp_name(clamp: tuple[float, float]) -> str:
    """'relu', 'relu6' or 'clamp[lo,hi]' of a real clamp interval."""
    lo, hi = clamp
    if lo == 0.0 and math.isinf(hi):
        return "relu"
    if lo == 0.0 and hi == 6.0:
        return "relu6"
    return f"clamp[{lo:g},{hi:g}]"


class Graph:
    """Layers in execution order; ``inputs`` are the engine inputs, ``outputs`` maps output key -> value.

    ``states`` names the inputs that are recurrent state (docs/engine-format.md section 3.8): a model output
    whose key is an input's name is that input's value for the next run (read_export sets it). Such an input
    becomes a state value of the engine, and the output its update, not an engine output."""

    def __init__(self) -> None:
        self.layers: dict[str, Layer] = {}
        self.inputs: list[str] = []
        self.outputs: dict[str, str] = {}
        self.states: list[str] = []         # inputs that are recurrent state; outputs[name] is each one's next value
        self.notes: list[str] = []   # what the passes did, in words (for the lowering report)
        self.renamed: dict[str, str] = {}   # a value the passes removed -> the value that now stands for it

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self.layers.values()))

    def __getitem__(self, name: str) -> Layer:
        return self.layers[name]

    def add(self, layer: Layer) -> Layer:
        if layer.name in self.layers:
            raise ValueError(f"layer name {layer.name!r} is already used")
        self.layers[layer.name] = layer
        return layer

    def unique_name(self, stem: str) -> str:
        name, k = stem, 1
        while name in self.layers:
            name, k = f"{stem}_{k}", k + 1
        return name

    def consumers(self, name: str) -> list[Layer]:
        return [l for l in self.layers.values() if name in l.reads()]

    def is_output(self, name: str) -> bool:
        return name in self.outputs.values()

    def single_use(self, name: str) -> bool:
        """Read by exactly one layer (once) and not a graph output: safe to fuse into its consumer."""
        uses = sum(l.reads().count(name) for l in self.layers.values())
        return uses == 1 and not self.is_output(name)

    def replace_uses(self, old: str, new: str) -> None:
        """Every read of ``old`` (and the outputs) now reads ``new``."""
        self.renamed[old] = new
        for l in self.layers.values():
            l.inputs = [new if n == old else n for n in l.inputs]
            if l.residual == old:
                l.residual = new
        self.outputs = {k: (new if v == old else v) for k, v in self.outputs.items()}

    def bypass(self, name: str) -> None:
        """Remove layer ``name``: whatever read it reads its first input instead."""
        self.replace_uses(name, self.layers[name].inputs[0])
        del self.layers[name]

    def remove_dead(self) -> None:
        """Drop layers nothing reads (graph inputs stay)."""
        while True:
            used = {n for l in self.layers.values() for n in l.reads()} | set(self.outputs.values())
            dead = [n for n, l in self.layers.items() if n not in used and l.op != "input"]
            if not dead:
                return
            for n in dead:
                del self.layers[n]

    def sort(self) -> None:
        """Re-order topologically (stable: keeps the existing order where dependencies allow)."""
        done: dict[str, Layer] = {}
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                raise ValueError(f"cycle through {name!r}")
            visiting.add(name)
            for dep in self.layers[name].reads():
                visit(dep)
            visiting.discard(name)
            done[name] = self.layers[name]

        for name in list(self.layers):
            visit(name)
        self.layers = done

    def current(self, name: str) -> str | None:
        """The layer that now stands for value ``name`` (itself, or what the passes fused it into); None if gone."""
        seen = set()
        while name not in self.layers and name in self.renamed and name not in seen:
            seen.add(name)
            name = self.renamed[name]
        return name if name in self.layers else None

    def depends_on(self, name: str, ancestor: str) -> bool:
        """Whether value ``name`` is computed (transitively) from ``ancestor``."""
        stack, seen = [name], set()
        while stack:
            n = stack.pop()
            if n == ancestor:
                return True
            if n not in seen:
                seen.add(n)
                stack.extend(self.layers[n].reads())
        return False
