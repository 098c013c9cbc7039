"""Calibration and evaluation data: from model-input batches or dataset batches to per-sample engine inputs.

A batch is either the student's positional inputs ``(image, ego, command)`` (image float [B, V, 3, H, W]
normalised as the canonical rig says, ego [B, 2] speed m/s and yaw rate rad/s, command [B, 4] one-hot) or an
``EpisodeDataset`` batch dict (uint8 ``image``, normalised here as training does).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import torch


class NamedSamples(list):  # type: ignore[type-arg]
    """A batch of a model with named inputs (``wayvert compile``): a list of ``{input name: array}`` dicts, each
    array shaped as the model's input (batch 1)."""


def model_inputs(batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image float normalised, ego, command) of one batch."""
    if isinstance(batch, dict):
        from wayvert.training.run.inputs import model_inputs as dataset_inputs
        image, ego, command = dataset_inputs("student", batch)
        return image, ego, command
    image, ego, command = batch
    return (torch.as_tensor(np.asarray(image), dtype=torch.float32), torch.as_tensor(np.asarray(ego), dtype=torch.float32),
            torch.as_tensor(np.asarray(command), dtype=torch.float32))


def samples(batches: Iterable[Any]) -> Iterator[dict[str, np.ndarray]]:
    """One ``{"image": [V, 3, H, W], "ego": [1, 2], "command": [1, 4]}`` float32 dict per sample of every batch."""
    for batch in batches:
        if isinstance(batch, NamedSamples):
            yield from batch
            continue
        image, ego, command = model_inputs(batch)
        for i in range(image.shape[0]):
            yield {"image": image[i].numpy(), "ego": ego[i:i + 1].numpy(), "command": command[i:i + 1].numpy()}


def remembered_samples(model: torch.nn.Module, batches: Iterable[Any]) -> list[NamedSamples]:
    """The batches as named samples that also hold the model's recurrent state inputs (``Student.state_inputs``:
    the scenario memory, or the previous frame set) as a session holds them when it runs the sample: computed from
    an ``EpisodeDataset`` batch's previous frame set (its history, 0.5 s earlier), zeros without one (the first
    frame set of an episode, or positional batches that carry no history)."""
    from wayvert.training.data.dataset import normalize_image
    out = []
    for batch in batches:
        image, ego, command = model_inputs(batch)
        if isinstance(batch, dict) and "history" in batch and batch["history"].shape[1] >= 2:
            previous, has = normalize_image(batch["history"][:, 0]), batch["has_previous"]
        else:
            previous, has = torch.zeros_like(image), torch.zeros(image.shape[0], dtype=torch.bool)
        with torch.no_grad():
            state = model.state_inputs(previous, has)  # type: ignore[operator]
        out.append(NamedSamples({"image": image[i].numpy(), "ego": ego[i:i + 1].numpy(),
                                 "command": command[i:i + 1].numpy(),
                                 **{k: v[i:i + 1].numpy().astype(np.float32) for k, v in state.items()}}
                                for i in range(image.shape[0])))
    return out
