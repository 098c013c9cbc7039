"""The student: a small all-conv/linear network the int8 runtime can run (DESIGN.md's op set only)."""
from __future__ import annotations

import torch
from torch import nn

from .blocks import SeparableResidual, conv_relu
from .driving_model import DrivingModel, check_image_size
from .heads import DrivingHeads, ModelOutput
from .inputs import EGO_COMMAND_FEATURES, EgoCommandFeatures
from .scenario import ScenarioBranch

MAP_CHANNELS = 32   # channels of the per-camera feature map that is flattened (keeps where things are)


class StudentBackbone(nn.Sequential):
    """One camera image [N, 3, H, W] -> feature map [N, 32, H/32, W/32]."""

    def __init__(self) -> None:
        super().__init__(
            conv_relu(3, 16, 4, stride=4),      # H/4: a patchify stem (16 px -> 1, no overlap)
            conv_relu(16, 32, 3, stride=2),     # H/8
            conv_relu(32, 48, 3, stride=2),     # H/16
            SeparableResidual(48),
            conv_relu(48, 64, 3, stride=2),     # H/32
            SeparableResidual(64),
            conv_relu(64, MAP_CHANNELS, 1),
        )


class Student(DrivingModel):
    """image [B, V, 3, H, W] (normalised), ego [B, 2] (speed m/s, yaw rate rad/s), command [B, 4] one-hot
    -> ModelOutput. Cameras share the backbone; their flattened maps, ego and command feed a 2-layer MLP.

    ``scenario_branch``: the scenario head reads a ScenarioBranch (scenario.py) instead of the trunk; every
    other output is computed as without it."""

    kind = "student"

    def __init__(self, cameras: int = 3, height: int = 128, width: int = 256, modes: int = 6,
                 hidden: int = 256, scenario_branch: bool = False) -> None:
        super().__init__(dict(cameras=cameras, height=height, width=width, modes=modes, hidden=hidden,
                              scenario_branch=scenario_branch))
        check_image_size(height, width)
        self.backbone = StudentBackbone()
        self.ego_command = EgoCommandFeatures()
        flat = cameras * MAP_CHANNELS * (height // 32) * (width // 32)
        self.trunk = nn.Sequential(nn.Linear(flat + EGO_COMMAND_FEATURES, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = DrivingHeads(hidden, modes)
        self.scenario_branch = (ScenarioBranch(cameras, height, width, hidden, EGO_COMMAND_FEATURES, hidden)
                                if scenario_branch else None)

    def forward(self, image: torch.Tensor, ego: torch.Tensor, command: torch.Tensor) -> ModelOutput:
        b, v, c, h, w = image.shape
        maps = self.backbone(image.reshape(b * v, c, h, w))
        ego_command = self.ego_command(ego, command)
        trunk = self.trunk(torch.cat([maps.reshape(b, -1), ego_command], dim=1))
        scenario = None
        if self.scenario_branch is not None:
            scenario = self.scenario_branch(image.reshape(b * v, c, h, w), trunk, ego_command)
        out: ModelOutput = self.heads(trunk, ego, scenario_features=scenario)
        return out
