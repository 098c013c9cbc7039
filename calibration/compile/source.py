"""The model a user brings: an ONNX file or a ``torch.export.save`` program, its inputs and outputs, its lowering,
and the runtime that runs it in float as the accuracy reference (ONNX Runtime, else ONNX's reference evaluator;
PyTorch for ``.pt2``)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from wayvert.errors import InputError

from ..lower.errors import LoweringError
from ..lower.from_onnx import InputSpec, graph_from_onnx, load_onnx
from ..lower.graph import Graph
from ..lower.pipeline import lower_graph

KINDS = {".onnx": "onnx", ".pt2": "pt2"}


@dataclass
class SourceModel:
    """A loaded user model: ``kind`` "onnx" or "pt2"; ``inputs`` in the model's order (batch axis 1)."""

    path: str
    kind: str
    inputs: list[InputSpec]
    outputs: list[str]
    raw: Any                              # the onnx ModelProto or the ExportedProgram
    given: dict[str, tuple[float, int]]   # QDQ parameters the model carries (value -> (scale, zero point))
    graph: Graph                          # as read, before the passes

    @property
    def reference_name(self) -> str:
        return "ONNX Runtime fp32" if self.kind == "onnx" else "PyTorch fp32 (the exported program)"

    def lower(self, keep_float: Sequence[str] = (), int8_inputs: Sequence[str] = ()) -> Graph:
        """The lowered graph (a fresh copy each call). ``int8_inputs``: float inputs the engine takes as int8 (at
        calibrated parameters, quantized by the caller: a sensor path that already produces int8)."""
        import copy

        graph = copy.deepcopy(self.graph)
        for name in int8_inputs:
            if name not in graph.inputs:
                raise InputError(f"--int8-input {name!r} is not a model input (the inputs are {graph.inputs})")
            if graph[name].attrs.get("input_dtype") != "float32":
                raise InputError(f"--int8-input {name!r}: the input is {graph[name].attrs.get('input_dtype')}, not float32")
            graph[name].attrs["input_dtype"] = "int8"
        return lower_graph(graph, policy="int8", keep_float=keep_float)

    def reference(self) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]:
        """``{input: array} -> {output: float array}``, the model run in float by its own runtime."""
        return _onnx_reference(self) if self.kind == "onnx" else _pt2_reference(self)


def open_model(path: str | os.PathLike[str]) -> SourceModel:
    """Load and read a model (LoweringError lists every node that cannot lower; InputError for a bad path)."""
    p = Path(path)
    kind = KINDS.get(p.suffix.lower())
    if kind is None:
        raise InputError(f"{p}: the model must be an ONNX file (.onnx) or a torch.export.save program (.pt2)")
    if not p.is_file():
        raise InputError(f"{p}: no such model file")
    if kind == "onnx":
        model = load_onnx(p)
        read = graph_from_onnx(model)
        return SourceModel(str(p), kind, read.inputs, read.outputs, model, read.given, read.graph)
    return _open_pt2(p)


def _open_pt2(p: Path) -> SourceModel:
    import torch

    from ..lower.from_export import graph_from_export

    try:
        ep = torch.export.load(str(p))
    except Exception as e:
        raise LoweringError(f"cannot read {p} as a torch.export program: {e}") from None
    graph = graph_from_export(ep, camera_input=None)
    inputs = [InputSpec(n, graph[n].attrs["input_dtype"], graph[n].shape) for n in graph.inputs]
    return SourceModel(str(p), "pt2", inputs, list(graph.outputs), ep, {}, graph)


def _onnx_reference(model: SourceModel) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]:
    feeds_dtype = {s.name: s.dtype for s in model.inputs}
    try:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(model.raw.SerializeToString(), opts, providers=["CPUExecutionProvider"])

        def run(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            feed = {k: np.asarray(inputs[k]).astype(feeds_dtype[k]) for k in feeds_dtype}
            return dict(zip(model.outputs, sess.run(model.outputs, feed)))
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(model.raw)

        def run(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            feed = {k: np.asarray(inputs[k]).astype(feeds_dtype[k]) for k in feeds_dtype}
            return dict(zip(model.outputs, ref.run(model.outputs, feed)))
    return run


def _pt2_reference(model: SourceModel) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]:
    import torch

    module = model.raw.module()
    names = [s.name for s in model.inputs]

    def run(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        args = [torch.as_tensor(np.asarray(inputs[n])) for n in names]
        with torch.no_grad():
            out = module(*args)
        flat = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, (list, tuple)) else [out]
        return {k: v.detach().float().numpy() for k, v in zip(model.outputs, flat)}
    return run
