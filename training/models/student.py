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
    other output is computed as without it. ``scenario_memory`` (> 0, with the branch): the branch remembers that
    many features of the previous frame set: ``forward`` takes them as ``scenario_memory`` (None: zeros, a new
    session) and returns this frame set's under the same key, which the int8 lowering turns into recurrent state.
    Training passes ``previous_image`` (and ``has_previous``) instead: the memory is computed from that frame set."""

    kind = "student"

    def __init__(self, cameras: int = 3, height: int = 128, width: int = 256, modes: int = 6,
                 hidden: int = 256, scenario_branch: bool = False, scenario_memory: int = 0) -> None:
        super().__init__(dict(cameras=cameras, height=height, width=width, modes=modes, hidden=hidden,
                              scenario_branch=scenario_branch, scenario_memory=scenario_memory))
        if scenario_memory and not scenario_branch:
            raise ValueError("scenario_memory needs scenario_branch = True")
        check_image_size(height, width)
        self.backbone = StudentBackbone()
        self.ego_command = EgoCommandFeatures()
        flat = cameras * MAP_CHANNELS * (height // 32) * (width // 32)
        self.trunk = nn.Sequential(nn.Linear(flat + EGO_COMMAND_FEATURES, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = DrivingHeads(hidden, modes)
        self.scenario_branch = (ScenarioBranch(cameras, height, width, hidden, EGO_COMMAND_FEATURES, hidden,
                                               memory=scenario_memory) if scenario_branch else None)

    @property
    def memory_features(self) -> int:
        """Features the scenario branch remembers between frame sets (0: none)."""
        return 0 if self.scenario_branch is None else self.scenario_branch.memory_features

    def forward(self, image: torch.Tensor, ego: torch.Tensor, command: torch.Tensor,
                scenario_memory: torch.Tensor | None = None, *, previous_image: torch.Tensor | None = None,
                has_previous: torch.Tensor | None = None) -> ModelOutput:
        b, v, c, h, w = image.shape
        maps = self.backbone(image.reshape(b * v, c, h, w))
        ego_command = self.ego_command(ego, command)
        trunk = self.trunk(torch.cat([maps.reshape(b, -1), ego_command], dim=1))
        scenario = memory = None
        if self.scenario_branch is not None:
            if previous_image is not None and self.memory_features:
                if scenario_memory is not None:
                    raise ValueError("give scenario_memory or previous_image, not both")
                scenario_memory = self.scenario_branch.remember(previous_image.reshape(b * v, c, h, w), b)
                if has_previous is not None:   # a sample without an earlier frame set sees a new session's zeros
                    scenario_memory = scenario_memory * has_previous.reshape(b, 1).to(scenario_memory.dtype)
            scenario, memory = self.scenario_branch(image.reshape(b * v, c, h, w), trunk, ego_command, scenario_memory)
        out: ModelOutput = self.heads(trunk, ego, scenario_features=scenario)
        if memory is not None:
            out["scenario_memory"] = memory
        return out
