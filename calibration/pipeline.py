"""``wayvert calibrate``: a trained student checkpoint -> a calibrated int8 engine, written only if it passes.

Steps: load the student; draw calibration frames from the episodes; lower and calibrate (``lower_student``);
load the engine in the C++ runtime; the accuracy gate on held-out frames; the target profile's latency and power
estimate; then write the engine (meta: quantization, accuracy, profile) and the report (JSON, Markdown, plots).
A refused engine is not written; the report still is, saying why.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

import wayvert
from wayvert.errors import EngineIOError, WayvertError
from wayvert.training.data.dataset import EpisodeDataset
from wayvert.training.run.checkpoint import load_model

from .engine_io import write_engine
from .gate.accuracy import DEFAULT_ADE_TOLERANCE, accuracy_gate
from .student import lower_student

DEFAULT_CALIBRATION_FRAMES = 256
HELD_OUT_SHARE = 0.2          # without --val, the last 20% of the episodes are held out


class EngineRefused(WayvertError):
    """The calibrated engine missed a gate (accuracy, latency or power); the report says which and by how much."""


@dataclass
class CalibrationRun:
    checkpoint: str
    data: str
    output: str
    method: str = "entropy"
    profile: str = "orin-class-75w"
    val: str | None = None
    calibration_frames: int = DEFAULT_CALIBRATION_FRAMES
    ade_tolerance: float = DEFAULT_ADE_TOLERANCE
    allow_over_budget: bool = False
    closed_loop_routes: int = 0
    report_dir: str | None = None
    host_runs: int = 100
    peers: bool = False            # also quantize and evaluate the student with ONNX Runtime on the same frames
    progress: bool = True
    extra_meta: dict[str, Any] = field(default_factory=dict)


def _split(run: CalibrationRun) -> tuple[Dataset, Dataset, dict[str, Any]]:
    """(calibration pool, held-out set, description): --val if given, else hold out the last episodes."""
    data = EpisodeDataset(run.data)
    if len(data) == 0:
        raise EngineRefused(f"no frames in {run.data!r}")
    if run.val:
        val = EpisodeDataset(run.val)
        return data, val, {"calibration": run.data, "held_out": run.val}
    episodes = data.index[:, 0]
    n_ep = int(episodes.max()) + 1
    if n_ep < 2:
        raise EngineRefused(f"{run.data!r} has one episode: give held-out episodes with --val")
    cut = min(n_ep - 1, max(1, int(round(n_ep * (1.0 - HELD_OUT_SHARE)))))   # both sides hold an episode
    calib = np.nonzero(episodes < cut)[0]
    held = np.nonzero(episodes >= cut)[0]
    return (Subset(data, calib.tolist()), Subset(data, held.tolist()),
            {"calibration": f"{run.data} (episodes 1-{cut})", "held_out": f"{run.data} (episodes {cut + 1}-{n_ep})"})


def calibration_batches(pool: Dataset, frames: int, batch_size: int = 32) -> list[dict[str, torch.Tensor]]:
    """``frames`` samples spread evenly over ``pool`` (deterministic), in batches."""
    n = len(pool)  # type: ignore[arg-type]
    idx = np.unique(np.linspace(0, n - 1, min(frames, n)).round().astype(int)).tolist()
    return list(DataLoader(Subset(pool, idx), batch_size=batch_size, shuffle=False))


def _meta(run: CalibrationRun, accuracy: dict[str, Any], estimate: dict[str, Any], refused: list[str],
          state: dict[str, Any]) -> dict[str, Any]:
    from wayvert.sensors import shipped_rig
    from wayvert import schema

    return {
        "accuracy": {k: accuracy[k] for k in ("samples", "ade_fp32", "ade_engine", "fde_fp32", "fde_engine",
                                              "miss_rate_fp32", "miss_rate_engine", "ade_change", "ade_tolerance",
                                              "sqnr_db", "passed")}
                    | ({"closed_loop": accuracy["closed_loop"]} if "closed_loop" in accuracy else {}),
        "profile": {k: estimate[k] for k in ("name", "latency_p99_ms", "latency_roofline_ms", "host_latency_p99_ms",
                                             "power_w", "energy_mj_per_frame", "frame_rate_hz", "latency_budget_ms",
                                             "power_budget_w", "meets_latency", "meets_power", "power_source",
                                             "power_w_estimated", "measured") if k in estimate}
                   | {"allow_over_budget": run.allow_over_budget, "over_budget": bool(refused)},
        "canonical_rig": shipped_rig(schema.CANONICAL_RIG).to_dict(),   # what a SensorAdapter maps cameras onto
        "training": {"checkpoint": os.path.basename(run.checkpoint), "epochs": state.get("epoch"),
                     "kind": state.get("kind")},
        **run.extra_meta,
    }


def calibrate_checkpoint(run: CalibrationRun) -> dict[str, Any]:
    """Do the whole calibration; returns the report dict. Raises EngineRefused (after writing the report) when a
    gate is missed and not overridden."""
    from .report import write_report
    from .target import estimate_on_profile

    t0 = time.perf_counter()
    out_dir = Path(run.output).parent
    try:   # before minutes of work, not after: the engine's folder must be there and writable
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EngineIOError(f"calibrate: cannot create the output folder {out_dir}: {e.strerror}") from None
    model, state = load_model(run.checkpoint)
    if getattr(model, "kind", None) != "student":
        raise EngineRefused(f"{run.checkpoint} holds a {state.get('kind')!r}; only a student lowers to the int8 runtime")
    pool, held, split = _split(run)
    batches = calibration_batches(pool, run.calibration_frames)
    builder, report = lower_student(model, batches, run.method, evaluation_batches=batches[:1], progress=run.progress)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "candidate.wvrt"
        builder.write(probe)
        engine = wayvert.Engine.load(probe)
        accuracy = accuracy_gate(engine, model, held, ade_tolerance=run.ade_tolerance,
                                 closed_loop_routes=run.closed_loop_routes, progress=run.progress)
        estimate = estimate_on_profile(engine, str(probe), run.profile, runs=run.host_runs)
    peers = {}
    if run.peers:
        from .peers import onnxruntime_rows

        peers = onnxruntime_rows(model, batches, held, batches[:2])
    refused = []
    if not accuracy["passed"]:
        refused.append(f"ADE {accuracy['ade_engine']:.3f} m is {100 * accuracy['ade_change']:+.1f}% of fp32 "
                       f"{accuracy['ade_fp32']:.3f} m (tolerance {100 * run.ade_tolerance:.0f}%)")
    over = []
    if not estimate["meets_latency"]:
        over.append(f"p99 latency {estimate['latency_p99_ms']:.2f} ms > budget {estimate['latency_budget_ms']:.1f} ms")
    if not estimate["meets_power"]:
        over.append(f"power {estimate['power_w']:.1f} W > budget {estimate['power_budget_w']:.0f} W")
    meta = _meta(run, accuracy, estimate, over, state)
    result: dict[str, Any] = {
        "checkpoint": run.checkpoint, "method": run.method, "profile": run.profile, "data": split,
        "calibration_frames": sum(len(b["ego"]) for b in batches), "output": run.output,
        "quantization": builder.meta.get("quantization"), "accuracy": meta["accuracy"], "estimate": estimate,
        "layers": report.sqnr, "notes": report.notes, "refused": refused + ([] if run.allow_over_budget else over),
        "over_budget_allowed": over if run.allow_over_budget else [], "peers": peers, "seconds": 0.0,
    }
    if not result["refused"]:
        result["engine_bytes"] = write_engine(builder, run.output, meta)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    report_dir = Path(run.report_dir) if run.report_dir else Path(run.output).with_suffix("").parent / (
        Path(run.output).stem + "_report")
    write_report(result, report_dir)
    if result["refused"]:
        raise EngineRefused("engine refused: " + "; ".join(result["refused"]) + f" (report: {report_dir})")
    return result


def load_result(report_dir: str | os.PathLike[str]) -> dict[str, Any]:
    return json.loads((Path(report_dir) / "report.json").read_text())


__all__ = ["CalibrationRun", "EngineRefused", "calibrate_checkpoint", "calibration_batches", "load_result"]
