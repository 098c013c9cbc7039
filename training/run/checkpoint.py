"""Checkpoints: everything needed to rebuild the model and resume training where it stopped."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from wayvert.errors import WayvertError

FORMAT = "wayvert-checkpoint-1"


class CheckpointError(WayvertError):
    """A checkpoint file is missing, unreadable or not a wayvert checkpoint."""


def save_checkpoint(path: str | Path, *, model: torch.nn.Module, kind: str, model_config: dict[str, Any],
                    train_config: dict[str, Any], epoch: int, step: int,
                    optimizer: torch.optim.Optimizer | None = None, scheduler: Any = None,
                    metrics: dict[str, float] | None = None) -> None:
    """Write atomically (temp file + rename), so an interrupted save never leaves a truncated checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT, "kind": kind, "model_config": dict(model_config), "train_config": train_config,
        "model": model.state_dict(), "epoch": epoch, "step": step, "metrics": metrics or {},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "torch_rng": torch.get_rng_state(),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a corrupt file
        raise CheckpointError(f"checkpoint {path} cannot be read: {e}") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} file")
    return state


def load_model(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """(model in eval mode, checkpoint dict) from a checkpoint file."""
    from wayvert.training.models import build_model

    state = load_checkpoint(path)
    model = build_model(state["kind"], **state["model_config"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The newest ``epoch-NNN.pt`` in folder, or None."""
    found = sorted(Path(folder).glob("epoch-*.pt"))
    return found[-1] if found else None
