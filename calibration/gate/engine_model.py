"""A calibrated engine seen through the model interface, so the training evaluation code runs it unchanged:
called with (image float normalised [B, V, 3, H, W], ego [B, 2], command [B, 4]) it returns torch tensors of the
model's output keys, computed by the C++ runtime (one session, batch 1 at a time)."""
from __future__ import annotations

import torch

import wayvert

from ..engine_io import run_engine


class EngineModel:
    kind = "student"
    training = False

    def __init__(self, engine: wayvert.Engine):
        self.engine = engine

    def eval(self) -> "EngineModel":
        return self

    def train(self, mode: bool = True) -> "EngineModel":
        return self

    def __call__(self, image: torch.Tensor, ego: torch.Tensor, command: torch.Tensor) -> dict[str, torch.Tensor]:
        out = run_engine(self.engine, image, ego, command)
        return {k: torch.from_numpy(v) for k, v in out.items()}
