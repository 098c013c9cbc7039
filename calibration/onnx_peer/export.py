"""The student as an fp32 ONNX model with the wayvert engine's inputs and the model's output names."""
from __future__ import annotations

import json
import os
import warnings
from typing import Any

import onnx
import torch

from wayvert.training.models.heads import OUTPUT_KEYS

from ..batches import model_inputs

#: The engine's inputs, in the model's positional order. The ONNX image is the float normalised tensor (the
#: engine's is the sensor adapter's int8 one); ego is speed m/s and yaw rate rad/s; command is one-hot.
INPUT_NAMES = ("image", "ego", "command")
#: The model's dict keys, in the order it returns them.
OUTPUT_NAMES = tuple(OUTPUT_KEYS)
OPSET = 18   # the dynamo exporter's native opset; >= 17 as quant_pre_process and QDQ per-channel want
EXPORTERS = ("auto", "dynamo", "torchscript")


def _export_dynamo(model: torch.nn.Module, path: str, args: tuple[torch.Tensor, ...], dynamic_batch: bool) -> None:
    dynamic_shapes = None
    if dynamic_batch:
        batch = torch.export.Dim("batch", min=1, max=4096)
        dynamic_shapes = tuple({0: batch} for _ in args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # renamed-axis and deprecation chatter from the exporter
        torch.onnx.export(model, args, path, dynamo=True, input_names=list(INPUT_NAMES),
                          output_names=list(OUTPUT_NAMES), opset_version=OPSET, dynamic_shapes=dynamic_shapes,
                          external_data=False, optimize=True, verbose=False)


def _export_torchscript(model: torch.nn.Module, path: str, args: tuple[torch.Tensor, ...], dynamic_batch: bool) -> None:
    axes = {n: {0: "batch"} for n in (*INPUT_NAMES, *OUTPUT_NAMES)} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, path, dynamo=False, input_names=list(INPUT_NAMES),
                          output_names=list(OUTPUT_NAMES), opset_version=OPSET, dynamic_axes=axes,
                          do_constant_folding=True)


def export_onnx(model: torch.nn.Module, path: str | os.PathLike[str], example_inputs: Any, *,
                dynamic_batch: bool = False, exporter: str = "auto") -> str:
    """Write ``model`` (put in eval mode) to ``path`` as one self-contained fp32 ONNX file (opset 18) whose inputs
    are ``INPUT_NAMES`` and outputs ``OUTPUT_NAMES``; returns the exporter that produced it.

    ``example_inputs``: ``(image, ego, command)`` or an ``EpisodeDataset`` batch dict; only its first sample is
    used. The batch axis is fixed at 1 (what the benchmarks run), or named ``batch`` with ``dynamic_batch``.
    ``exporter``: ``"dynamo"`` (torch.export based), ``"torchscript"`` (the tracer), or ``"auto"``: dynamo,
    then the tracer if dynamo fails (with a warning naming why).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    model = model.eval()
    image, ego, command = model_inputs(example_inputs)
    args = (image[:1].contiguous(), ego[:1].contiguous(), command[:1].contiguous())
    path = os.fspath(path)
    used = exporter
    with torch.no_grad():
        if exporter in ("auto", "dynamo"):
            try:
                _export_dynamo(model, path, args, dynamic_batch)
                used = "dynamo"
            except Exception as e:   # the dynamo exporter raises many types
                if exporter == "dynamo":
                    raise
                warnings.warn(f"dynamo ONNX export failed ({type(e).__name__}: {e}); using the TorchScript exporter",
                              RuntimeWarning, stacklevel=2)
                used = "torchscript"
        if used == "torchscript":
            _export_torchscript(model, path, args, dynamic_batch)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    found = tuple(o.name for o in proto.graph.output)
    if found != OUTPUT_NAMES:
        raise RuntimeError(f"exported outputs {found} are not the model's keys {OUTPUT_NAMES}")
    config = getattr(model, "config", None)
    meta = {"wayvert.exporter": used, "wayvert.kind": getattr(model, "kind", type(model).__name__.lower()),
            **({"wayvert.model_config": json.dumps(config, sort_keys=True)} if config is not None else {})}
    onnx.helper.set_model_props(proto, meta)
    onnx.save(proto, path)
    return used


__all__ = ["EXPORTERS", "INPUT_NAMES", "OPSET", "OUTPUT_NAMES", "export_onnx"]
