"""Open-loop evaluation on held-out episodes: ADE, FDE, miss rate at 2 m, scenario accuracy.

ADE/FDE are the mean and final Euclidean (x, y) error in metres of the trajectory the car would drive (the
top-scored mode); ``min_ade_m`` is the best of the K modes (how good the mode set is, not what is driven).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from wayvert import schema
from wayvert.training.metrics import ade_fde, trajectory_metrics, MISS_THRESHOLD_M
from wayvert.training.run.inputs import memory_inputs, model_inputs


def constant_velocity(ego: torch.Tensor) -> torch.Tensor:
    """The constant-velocity baseline [B, T, 2]: straight ahead at the current speed."""
    t = torch.as_tensor(schema.waypoint_times(), dtype=torch.float32)
    x = ego[:, :1].float() * t[None]
    return torch.stack([x, torch.zeros_like(x)], -1)


@torch.no_grad()
def evaluate_open_loop(ds: Dataset, batch_size: int = 64, model: torch.nn.Module | None = None,
                       kind: str = "student") -> dict[str, Any]:
    """Figures for ``model`` (or, with ``model=None``, the constant-velocity baseline) on ``ds``."""
    sums: dict[str, float] = {}
    n = scen_ok = scen_n = 0
    was_training = model.training if model is not None else False
    if model is not None:
        model.eval()
    for batch in DataLoader(ds, batch_size=batch_size, shuffle=False):
        gt = batch["trajectory"].float()
        if model is None:
            ade, fde = ade_fde(constant_velocity(batch["ego"]), gt)
            m = {"ade": ade, "fde": fde, "miss": (fde > MISS_THRESHOLD_M) * 1.0}
        else:
            out = model(*model_inputs(kind, batch), **memory_inputs(model, batch))
            m = trajectory_metrics(out["trajectories"], out["mode_logits"], gt)
            has = batch["has_scenario"].bool()
            scen_ok += int((out["scenario_logits"].argmax(1)[has] == batch["scenario"][has]).sum())
            scen_n += int(has.sum())
        for k, v in m.items():
            sums[k] = sums.get(k, 0.0) + float(v.sum())
        n += len(gt)
    if was_training and model is not None:
        model.train()
    r: dict[str, Any] = {"samples": n, **{f"{k}_m" if "miss" not in k else f"{k}_rate": v / max(n, 1)
                                          for k, v in sums.items()}}
    if scen_n:
        r["scenario_accuracy"] = scen_ok / scen_n
    return r
