"""The non-image inputs as network features: ego state scaled to about unit range, route command one-hot."""
from __future__ import annotations

import torch
from torch import nn

from wayvert.schema import COMMANDS

# speed / 10 (m/s -> ~[0, 3]), yaw rate x 10 (rad/s -> ~[-3, 3]); a multiply by a constant, which folds into
# the first linear layer at lowering.
EGO_FEATURE_SCALE = (0.1, 10.0)
EGO_COMMAND_FEATURES = 2 + len(COMMANDS)


class EgoCommandFeatures(nn.Module):
    """ego [B, 2] (speed m/s, yaw rate rad/s) and command [B, len(COMMANDS)] one-hot -> [B, EGO_COMMAND_FEATURES]."""

    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(EGO_FEATURE_SCALE), persistent=False)

    def forward(self, ego: torch.Tensor, command: torch.Tensor) -> torch.Tensor:
        return torch.cat([ego * self.scale, command], dim=1)
