"""The accuracy gate: the engine (C++ runtime) against the fp32 student on held-out episodes.

Open loop, on the same frames: SQNR of every output against fp32 (dB), and ADE/FDE/miss rate of both; closed
loop (optional, it renders): the same routes driven by the fp32 student and by the engine. The engine passes
when its ADE is at most ``(1 + ade_tolerance)`` times the fp32 ADE.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

import wayvert
from wayvert.training.metrics import trajectory_metrics
from wayvert.training.run.inputs import model_inputs

from .engine_model import EngineModel

DEFAULT_ADE_TOLERANCE = 0.05


def _sqnr_db(signal: float, noise: float) -> float:
    return math.inf if noise == 0 else 10.0 * math.log10(max(signal, 1e-30) / noise)


@torch.no_grad()
def open_loop_compare(engine: wayvert.Engine, model: torch.nn.Module, ds: Dataset, batch_size: int = 16,
                      progress: bool = False) -> dict[str, Any]:
    """Per-output SQNR (engine vs fp32) and ADE/FDE/miss of each on ``ds``."""
    model.eval()
    em = EngineModel(engine)
    signal: dict[str, float] = {}
    noise: dict[str, float] = {}
    sums = {"fp32": {}, "engine": {}}  # type: dict[str, dict[str, float]]
    n = 0
    for batch in tqdm(DataLoader(ds, batch_size=batch_size, shuffle=False), desc="accuracy gate (open loop)",
                      disable=not progress, leave=False):
        inputs = model_inputs("student", batch)
        ref, got = model(*inputs), em(*inputs)
        # the engine's outputs (a remembering student's model also returns its memory, which is engine state);
        # samples are independent: both start from zero memory
        for k in got:
            r = ref[k]
            signal[k] = signal.get(k, 0.0) + float((r.double() ** 2).sum())
            noise[k] = noise.get(k, 0.0) + float(((r.double() - got[k].double()) ** 2).sum())
        gt = batch["trajectory"].float()
        for row, out in (("fp32", ref), ("engine", got)):
            m = trajectory_metrics(out["trajectories"], out["mode_logits"], gt)
            for k, v in m.items():
                sums[row][k] = sums[row].get(k, 0.0) + float(v.sum())
        n += len(gt)
    fig = {row: {k: v / max(n, 1) for k, v in s.items()} for row, s in sums.items()}
    return {"samples": n, "sqnr_db": {k: _sqnr_db(signal[k], noise[k]) for k in signal},
            "ade_fp32": fig["fp32"]["ade"], "ade_engine": fig["engine"]["ade"],
            "fde_fp32": fig["fp32"]["fde"], "fde_engine": fig["engine"]["fde"],
            "miss_rate_fp32": fig["fp32"]["miss"], "miss_rate_engine": fig["engine"]["miss"],
            "ade_change": fig["engine"]["ade"] / max(fig["fp32"]["ade"], 1e-12) - 1.0}


def closed_loop_compare(engine: wayvert.Engine, model: torch.nn.Module, routes: int, duration_s: float,
                        seed0: int = 91000, progress: bool = False) -> dict[str, Any]:
    """The same routes driven by the fp32 student and by the engine (figures of training.evaluate.closed_loop)."""
    from wayvert.training.evaluate.closed_loop import evaluate_closed_loop, expert_reference
    from wayvert.training.evaluate.planners import ModelPlanner

    seeds = list(range(seed0, seed0 + routes))
    reference = expert_reference(evaluate_closed_loop(None, seeds, duration_s, progress=False))
    out: dict[str, Any] = {"routes": routes, "duration_s": duration_s}
    for row, m in (("fp32", model), ("engine", EngineModel(engine))):
        r = evaluate_closed_loop(ModelPlanner(m, "student", row), seeds, duration_s, None, reference,  # type: ignore[arg-type]
                                 progress)
        r.pop("per_route")
        out[row] = r
    return out


def accuracy_gate(engine: wayvert.Engine, model: torch.nn.Module, ds: Dataset, *,
                  ade_tolerance: float = DEFAULT_ADE_TOLERANCE, closed_loop_routes: int = 0,
                  closed_loop_duration_s: float = 30.0, progress: bool = False) -> dict[str, Any]:
    """Figures and verdict (``passed``) of the accuracy gate."""
    result = open_loop_compare(engine, model, ds, progress=progress)
    result["ade_tolerance"] = ade_tolerance
    result["passed"] = bool(result["ade_engine"] <= result["ade_fp32"] * (1.0 + ade_tolerance))
    if closed_loop_routes > 0:
        result["closed_loop"] = closed_loop_compare(engine, model, closed_loop_routes, closed_loop_duration_s,
                                                    progress=progress)
    return result
