"""From a dataset batch to a model's positional inputs (the one place that knows both)."""
from __future__ import annotations

import torch

from wayvert.training.data.dataset import normalize_image


def model_inputs(kind: str, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """(images, ego, command) for a model of ``kind``: the teacher sees the frame history, the student the
    current frame; images are normalised here as the canonical rig says."""
    images = batch["history"] if kind == "teacher" else batch["image"]
    return normalize_image(images), batch["ego"].float(), batch["command"].float()
