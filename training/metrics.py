"""Trajectory error metrics (ego frame, metres): ADE, FDE and miss rate, for the mode the car would drive (the
top-scored one) and for the best of the K modes (a measure of coverage).

Every function takes torch tensors or numpy arrays and returns the same kind.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

MISS_THRESHOLD_M = 2.0   # a prediction whose final point is further than this from the truth is a miss


def _take_modes(values: Any, modes: Any) -> Any:
    """values [B, K, ...], modes [B] int -> values[b, modes[b]] [B, ...]."""
    rows = torch.arange(len(modes)) if isinstance(values, torch.Tensor) else np.arange(len(modes))
    return values[rows, modes]


def _min_over_modes(values: Any) -> Any:
    """values [B, K] -> [B] (torch's .min(dim) returns a pair, numpy's a value)."""
    return values.amin(-1) if isinstance(values, torch.Tensor) else values.min(-1)


def displacement(pred: Any, gt: Any) -> Any:
    """Euclidean x, y distance (m) per waypoint: pred [..., T, >=2], gt broadcastable -> [..., T]."""
    return (((pred[..., :2] - gt[..., :2]) ** 2).sum(-1)) ** 0.5


def ade_fde(pred_traj: Any, gt: Any) -> tuple[Any, Any]:
    """pred_traj [B, T, >=2], gt [B, T, >=2] -> (average displacement [B], final displacement [B]), metres."""
    d = displacement(pred_traj, gt)
    return d.mean(-1), d[..., -1]


def min_ade_best_mode(trajectories: Any, gt: Any) -> tuple[Any, Any]:
    """trajectories [B, K, T, >=2], gt [B, T, >=2] -> (min over modes of ADE [B] in m, that mode's index [B]).
    Ties go to the lowest index."""
    ade = displacement(trajectories, gt[:, None]).mean(-1)          # [B, K]
    best = ade.argmin(-1)
    return _take_modes(ade, best), best


def trajectory_metrics(trajectories: Any, mode_logits: Any, gt: Any,
                       miss_threshold_m: float = MISS_THRESHOLD_M) -> dict[str, Any]:
    """Per-sample metrics [B]: ``ade``, ``fde``, ``miss`` of the top-scored mode and ``min_ade``, ``min_fde``,
    ``min_miss`` over modes (minFDE is taken independently of minADE). miss is 1.0 / 0.0 (float)."""
    d = displacement(trajectories, gt[:, None])                      # [B, K, T]
    top = mode_logits.argmax(-1)
    ade_k, fde_k = d.mean(-1), d[..., -1]
    fde, min_fde = _take_modes(fde_k, top), _min_over_modes(fde_k)
    return dict(ade=_take_modes(ade_k, top), fde=fde, miss=(fde > miss_threshold_m) * 1.0,
                min_ade=_min_over_modes(ade_k), min_fde=min_fde, min_miss=(min_fde > miss_threshold_m) * 1.0)
