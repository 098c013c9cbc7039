"""``wayvert compile``: a user's ONNX or ``.pt2`` model -> a calibrated int8 engine, written only if it passes.

Steps: read the model (every unsupported node listed at once, nothing written); read the calibration samples
(every mismatch with the model's inputs listed); lower (``--keep-float`` layers stay float32) and calibrate the
activations (a QDQ model's own parameters kept); build the engine and load it in the C++ runtime; compare its
outputs with the model run by its own runtime on held-out samples (SQNR per output; the gate); per-layer SQNR
(numpy reference against the lowered float graph); the share of MACs on the int8 kernels; the target profile's
latency and power estimate; then write the engine (meta: source, quantization, accuracy, fast path, profile) and
the report (JSON and Markdown). A refused engine is not written; the report still is, saying why.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import wayvert
from wayvert.digest import file_sha256
from wayvert.errors import EngineIOError
from wayvert.graph import fast_path

from ..batches import NamedSamples
from ..calibrators import METHODS, QuantParams, calibrate
from ..engine_io import engine_inputs, write_engine
from ..lower import emit_engine
from ..pipeline import EngineRefused
from ..sqnr import layer_sqnr, sqnr_db
from .data import load_samples, split
from .gates import DEFAULT_MIN_SQNR_DB
from .source import SourceModel, open_model

#: Held-out samples run through the numpy reference for the per-layer table (the outputs use every sample).
LAYER_SAMPLES = 8


@dataclass
class CompileRun:
    """Everything ``wayvert compile`` takes (see docs/compile.md)."""

    model: str
    output: str
    calibration: str
    method: str = "entropy"
    val: str | None = None
    profile: str = "orin-class-75w"
    report_dir: str | None = None
    keep_float: Sequence[str] = ()
    int8_inputs: Sequence[str] = ()
    min_sqnr_db: float = DEFAULT_MIN_SQNR_DB
    allow_low_sqnr: bool = False
    allow_over_budget: bool = False
    name: str | None = None
    host_runs: int = 50
    progress: bool = False
    extra_meta: dict[str, Any] = field(default_factory=dict)



def output_sqnr(engine: wayvert.Engine, source: SourceModel, held: list[dict[str, np.ndarray]]
                ) -> dict[str, float]:
    """SQNR (dB) of each engine output against the source model run by its own runtime, over ``held``."""
    reference = source.reference()
    session = engine.session(threads=1)
    signal = {k: 0.0 for k in source.outputs}
    noise = dict(signal)
    for sample in held:
        want = reference(sample)
        got = session.run(engine_inputs(engine, sample))
        for k in source.outputs:
            r = np.asarray(want[k], np.float64)
            q = np.asarray(got[k], np.float64).reshape(r.shape)
            signal[k] += float(np.sum(r * r))
            noise[k] += float(np.sum((r - q) ** 2))
    return {k: sqnr_db(signal[k], noise[k]) for k in source.outputs}


def _given_params(source: SourceModel, graph: Any) -> dict[str, QuantParams]:
    """The QDQ model's own parameters, on the values that survived the passes and are int8."""
    fixed = {}
    for name, (scale, zero) in source.given.items():
        now = graph.current(name)
        if now is not None and graph[now].dtype == "int8" and graph[now].op not in ("reshape", "permute"):
            fixed[now] = QuantParams(scale, zero)
        elif now is not None and graph[now].op == "input":
            fixed[now] = QuantParams(scale, zero)
    return fixed


def compile_model(run: CompileRun) -> dict[str, Any]:
    """Do the whole compile; returns the report dict. Raises LoweringError (unsupported ops, nothing written),
    CalibrationDataError (data does not match the inputs), EngineRefused (a gate missed; the report written)."""
    from ..report import _finite
    from ..target import estimate_on_profile
    from .report import write_report

    t0 = time.perf_counter()
    if run.method not in METHODS:
        raise ValueError(f"unknown calibration method {run.method!r} (use one of {METHODS})")
    source = open_model(run.model)
    samples = load_samples(run.calibration, source.inputs)
    val = load_samples(run.val, source.inputs) if run.val else None
    calib, held, held_desc = split(samples, val)
    out_dir = Path(run.output).parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EngineIOError(f"compile: cannot create the output folder {out_dir}: {e.strerror}") from None

    graph = source.lower(run.keep_float, run.int8_inputs)
    fixed = _given_params(source, graph)
    params, stats = calibrate(graph, [NamedSamples(calib)], run.method, fixed=fixed, progress=run.progress)
    name = run.name or Path(run.model).stem
    builder, names = emit_engine(graph, params, f"{name}_int8", "1")
    builder.meta["quantization"] = {
        "dtype": "int8", "weights": "symmetric per output channel, [-127, 127]",
        "activations": "affine per tensor (calibrated, or the QDQ model's own where it gives them)",
        "calibration": {"method": run.method, "samples": len(calib), "file": Path(run.calibration).name,
                        "data_sha256": file_sha256(run.calibration)},
        "given_by_model": sorted(fixed), "keep_float": list(run.keep_float),
        "float_layers": sorted(l.name for l in graph if l.dtype == "float32" and l.op not in ("input", "reshape", "permute")),
    }
    layers = layer_sqnr(graph, builder, names, [NamedSamples(held[:LAYER_SAMPLES])])
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "candidate.wvrt"
        builder.write(probe)
        engine = wayvert.Engine.load(probe)
        sqnr = output_sqnr(engine, source, held)
        estimate = estimate_on_profile(engine, str(probe), run.profile, runs=run.host_runs)
        fast = fast_path(engine).to_dict()
    worst = min(sqnr.values())
    low = [f"output {k!r} SQNR {v:.1f} dB < floor {run.min_sqnr_db:.1f} dB" for k, v in sqnr.items()
           if v < run.min_sqnr_db]
    over = []
    if not estimate["meets_latency"]:
        over.append(f"p99 latency {estimate['latency_p99_ms']:.2f} ms > budget {estimate['latency_budget_ms']:.1f} ms")
    if not estimate["meets_power"]:
        over.append(f"power {estimate['power_w']:.1f} W > budget {estimate['power_budget_w']:.0f} W")
    accuracy = {"reference": source.reference_name, "held_out": held_desc, "samples": len(held),
                "sqnr_db": sqnr, "min_sqnr_db": run.min_sqnr_db, "passed": not low,
                "allow_low_sqnr": run.allow_low_sqnr}
    profile = {k: estimate[k] for k in ("name", "latency_p99_ms", "latency_roofline_ms", "host_latency_p99_ms",
                                        "power_w", "energy_mj_per_frame", "frame_rate_hz", "latency_budget_ms",
                                        "power_budget_w", "meets_latency", "meets_power", "power_source",
                                        "power_w_estimated", "measured") if k in estimate}
    profile |= {"allow_over_budget": run.allow_over_budget, "over_budget": bool(over)}
    meta = {"source": {"file": Path(run.model).name, "kind": source.kind, "sha256": file_sha256(run.model)},
            "accuracy": _finite(accuracy), "profile": profile, "fast_path": fast, **run.extra_meta}
    refused = ([] if run.allow_low_sqnr else low) + ([] if run.allow_over_budget else over)
    result: dict[str, Any] = {
        "model": run.model, "kind": source.kind, "output": run.output, "method": run.method,
        "inputs": [{"name": s.name, "dtype": s.dtype, "shape": list(s.shape)} for s in source.inputs],
        "outputs": list(source.outputs), "calibration_samples": len(calib), "accuracy": accuracy,
        "worst_sqnr_db": worst, "estimate": estimate, "fast_path": fast, "layers": layers,
        "notes": list(graph.notes), "refused": refused,
        "overridden": (low if run.allow_low_sqnr else []) + (over if run.allow_over_budget else []),
        "seconds": 0.0,
    }
    if not refused:
        result["engine_bytes"] = write_engine(builder, run.output, meta)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    report_dir = Path(run.report_dir) if run.report_dir else out_dir / (Path(run.output).stem + "_report")
    write_report(result, report_dir)
    result["report_dir"] = str(report_dir)
    if refused:
        raise EngineRefused("engine refused: " + "; ".join(refused) + f" (report: {report_dir})")
    return result

