"""From a dataset batch to a model's positional inputs (the one place that knows both)."""
from __future__ import annotations

from typing import Any

import torch

from wayvert.training.data.dataset import normalize_image


def model_inputs(kind: str, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """(images, ego, command) for a model of ``kind``: the teacher sees the frame history, the student the
    current frame; images are normalised here as the canonical rig says."""
    images = batch["history"] if kind == "teacher" else batch["image"]
    return normalize_image(images), batch["ego"].float(), batch["command"].float()


def memory_inputs(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Keyword inputs of a student whose scenario branch remembers (models/scenario.py: features or the previous
    frame set): the frame set before (the history's oldest, 0.5 s earlier at 2 Hz) and whether it exists; nothing
    for any other model."""
    inner = getattr(model, "module", model)   # DistributedDataParallel
    if not getattr(inner, "remembers", False):
        return {}
    if batch["history"].shape[1] < 2:
        raise ValueError("a student with scenario memory trains on two-frame histories (the dataset's history >= 2)")
    return {"previous_image": normalize_image(batch["history"][:, 0]), "has_previous": batch["has_previous"]}
