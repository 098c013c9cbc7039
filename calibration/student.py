"""``lower_student``: a trained student -> calibrated int8 EngineBuilder and a report of what happened."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from wayvert.build import EngineBuilder

from .batches import model_inputs, remembered_samples, samples
from .calibrators import DEFAULT_PERCENTILE, QuantParams, calibrate
from .lower import Graph, emit_engine, lower_exported
from .sqnr import layer_sqnr


def normalised_pixel_range() -> tuple[float, float]:
    """The real range of the canonical camera tensor: RGB in [0, 1] normalised by the canonical rig's mean/std."""
    from wayvert.schema import NORM_MEAN, NORM_STD
    lo = (0.0 - NORM_MEAN) / NORM_STD
    hi = (1.0 - NORM_MEAN) / NORM_STD
    return float(lo.min()), float(hi.max())


@dataclass
class LoweringReport:
    """What lowering and calibration produced: the lowered graph, each value's int8 parameters and statistics,
    the per-layer / per-output SQNR on the evaluation samples, and the passes' notes."""

    method: str
    graph: Graph
    names: dict[str, str]
    params: dict[str, QuantParams]
    statistics: dict[str, dict[str, float]]
    sqnr: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def output_sqnr(self) -> dict[str, float]:
        """SQNR in dB of each output."""
        return {r["name"]: r["sqnr_db"] for r in self.sqnr if r["op"] == "output"}

    def table(self) -> str:
        """The SQNR rows as an aligned text table."""
        width = max((len(r["name"]) for r in self.sqnr), default=4)
        lines = [f"{'value':<{width}}  {'op':<28} {'dtype':<8} SQNR dB"]
        for r in self.sqnr:
            lines.append(f"{r['name']:<{width}}  {r['op']:<28} {r['dtype']:<8} {r['sqnr_db']:7.2f}")
        return "\n".join(lines)


def image_params(image_range: tuple[float, float] | str) -> dict[str, QuantParams]:
    """The camera input's fixed parameters: ``"pixels"`` covers the whole normalised pixel range (no pixel clips,
    one int8 step is about one 8-bit pixel step), ``(lo, hi)`` that range; ``"calibrate"`` fixes none."""
    if image_range == "pixels":
        return {"image": QuantParams.from_range(*normalised_pixel_range())}
    if image_range == "calibrate":
        return {}
    if isinstance(image_range, tuple) and len(image_range) == 2:
        return {"image": QuantParams.from_range(*image_range)}
    raise ValueError(f"image_range must be 'pixels', 'calibrate' or (lo, hi), got {image_range!r}")


def _data_hash(batches: Sequence[Any]) -> str:
    h = hashlib.sha256()
    for s in samples(batches):
        for k in sorted(s):
            h.update(np.ascontiguousarray(s[k], dtype=np.float32).tobytes())
    return h.hexdigest()


def lower_student(model: torch.nn.Module, calibration_batches: Sequence[Any], method: str = "entropy", *,
                  evaluation_batches: Sequence[Any] | None = None,
                  image_range: tuple[float, float] | str = "pixels", percentile: float = DEFAULT_PERCENTILE,
                  name: str | None = None, version: str = "1", progress: bool = False
                  ) -> tuple[EngineBuilder, LoweringReport]:
    """Export ``model`` (eval mode, batch 1), lower it, calibrate its activations with ``method`` ("minmax",
    "percentile", "entropy", "mse") on ``calibration_batches`` (see batches.py) and build the int8 engine.

    Engine inputs: ``image`` int8 [V, 3, H, W] (the sensor adapter's canonical tensor) at the parameters of
    ``image_range`` (see ``image_params``), ``ego`` float32 [1, 2], ``command`` float32 [1, 4]. Outputs: the
    model's keys, float32, batch 1. The report's SQNR is measured on ``evaluation_batches`` (default: the first
    calibration batch). The model is left in eval mode.

    A student whose scenario branch remembers (``Student.remembers``) exports its state inputs too
    (``scenario_memory``, or ``previous_image``), which become the engine's recurrent state (zero in a new session);
    calibration feeds them what a session would hold: the state of each sample's previous frame set
    (``batches.remembered_samples``). Int8 state is stored at its next value's parameters (the previous frame set:
    the camera tensor's).
    """
    model = model.eval()
    batches = list(calibration_batches)
    if not batches:
        raise ValueError("calibration needs at least one batch")
    image, ego, command = model_inputs(batches[0])
    state: dict[str, torch.Tensor] = {}
    if getattr(model, "remembers", False):
        with torch.no_grad():
            state = {k: torch.zeros_like(v[:1]) for k, v in model.state_inputs(torch.zeros_like(image[:1])).items()}
        batches = list(remembered_samples(model, batches))
        if evaluation_batches is not None:
            evaluation_batches = remembered_samples(model, evaluation_batches)
    with torch.no_grad():
        exported = torch.export.export(model, (image[:1], ego[:1], command[:1]), state)
    graph = lower_exported(exported)
    params, stats = calibrate(graph, batches, method, percentile=percentile, fixed=image_params(image_range),
                              progress=progress)
    kind = getattr(model, "kind", type(model).__name__.lower())
    builder, names = emit_engine(graph, params, name or f"{kind}_int8", version)
    config = getattr(model, "config", None)
    builder.meta["quantization"] = {
        "dtype": "int8", "weights": "symmetric per output channel, [-127, 127]",
        "activations": "affine per tensor: post-ReLU [0, T] with zero point -128, signed [-T, T] with zero point 0",
        "calibration": {"method": method, "samples": sum(1 for _ in samples(batches)),
                        "data_sha256": _data_hash(batches),
                        **({"percentile": percentile} if method == "percentile" else {})},
        "image_range": list(params["image"].range),
    }
    if config is not None:
        builder.meta["model_config"] = {"kind": kind, **config}
    rows = layer_sqnr(graph, builder, names, evaluation_batches if evaluation_batches is not None else batches[:1],
                      model)
    report = LoweringReport(method, graph, names, params, stats, rows, list(graph.notes))
    return builder, report


__all__ = ["LoweringReport", "image_params", "lower_student", "normalised_pixel_range"]
