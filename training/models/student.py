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
    Training passes ``previous_image`` (and ``has_previous``) instead: the memory is computed from that frame set.
    ``scenario_previous_frame`` (with the branch): the branch reads the frame set before (``previous_image``,
    normalised; None: zeros) beside the current one, and ``forward`` returns ``image`` as ``previous_image``, so
    the lowering keeps the last image as recurrent state. ``state_inputs`` gives a previous frame set's state."""

    kind = "student"

    def __init__(self, cameras: int = 3, height: int = 128, width: int = 256, modes: int = 6,
                 hidden: int = 256, scenario_branch: bool = False, scenario_memory: int = 0,
                 scenario_previous_frame: bool = False) -> None:
        super().__init__(dict(cameras=cameras, height=height, width=width, modes=modes, hidden=hidden,
                              scenario_branch=scenario_branch, scenario_memory=scenario_memory,
                              scenario_previous_frame=scenario_previous_frame))
        if (scenario_memory or scenario_previous_frame) and not scenario_branch:
            raise ValueError("scenario_memory and scenario_previous_frame need scenario_branch = True")
        check_image_size(height, width)
        self.backbone = StudentBackbone()
        self.ego_command = EgoCommandFeatures()
        flat = cameras * MAP_CHANNELS * (height // 32) * (width // 32)
        self.trunk = nn.Sequential(nn.Linear(flat + EGO_COMMAND_FEATURES, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = DrivingHeads(hidden, modes)
        self.scenario_branch = (ScenarioBranch(cameras, height, width, hidden, EGO_COMMAND_FEATURES, hidden,
                                               memory=scenario_memory, previous_frame=scenario_previous_frame)
                                if scenario_branch else None)

    @property
    def memory_features(self) -> int:
        """Features the scenario branch remembers between frame sets (0: none)."""
        return 0 if self.scenario_branch is None else self.scenario_branch.memory_features

    @property
    def remembers(self) -> bool:
        """Whether the model carries something from one frame set to the next (recurrent state in the engine)."""
        return bool(self.memory_features) or bool(self.scenario_branch is not None
                                                  and self.scenario_branch.previous_frame)

    def state_inputs(self, previous_image: torch.Tensor, has_previous: torch.Tensor | None = None
                     ) -> dict[str, torch.Tensor]:
        """What a session holds when it runs a frame set whose predecessor is ``previous_image`` [B, V, 3, H, W]
        (normalised), by the forward argument (= engine state) name; zeros where ``has_previous`` is false."""
        if not self.remembers:
            return {}
        b, v, c, h, w = previous_image.shape
        mask = None if has_previous is None else has_previous.reshape(b, *([1] * (previous_image.dim() - 1)))
        if self.memory_features:
            assert self.scenario_branch is not None
            memory = self.scenario_branch.remember(previous_image.reshape(b * v, c, h, w), b)
            return {"scenario_memory": memory if mask is None else memory * mask.reshape(b, 1).to(memory.dtype)}
        return {"previous_image": previous_image if mask is None else previous_image * mask.to(previous_image.dtype)}

    def forward(self, image: torch.Tensor, ego: torch.Tensor, command: torch.Tensor,
                scenario_memory: torch.Tensor | None = None, previous_image: torch.Tensor | None = None,
                has_previous: torch.Tensor | None = None) -> ModelOutput:
        # has_previous is positional too: torch.onnx's TorchScript exporter fills every optional parameter of the
        # signature positionally (with None), and a keyword-only one fails it (tests/calibration/test_onnx_peer.py)
        b, v, c, h, w = image.shape
        maps = self.backbone(image.reshape(b * v, c, h, w))
        ego_command = self.ego_command(ego, command)
        trunk = self.trunk(torch.cat([maps.reshape(b, -1), ego_command], dim=1))
        scenario = memory = None
        if self.scenario_branch is not None:
            previous = None
            if self.memory_features:
                if previous_image is not None:
                    if scenario_memory is not None:
                        raise ValueError("give scenario_memory or previous_image, not both")
                    scenario_memory = self.state_inputs(previous_image, has_previous)["scenario_memory"]
                previous = scenario_memory
            elif self.scenario_branch.previous_frame and previous_image is not None:
                # a sample without an earlier frame set sees a new session's zeros
                previous = self.state_inputs(previous_image, has_previous)["previous_image"].reshape(b * v, c, h, w)
            scenario, memory = self.scenario_branch(image.reshape(b * v, c, h, w), trunk, ego_command, previous)
        out: ModelOutput = self.heads(trunk, ego, scenario_features=scenario)
        if memory is not None:
            out["scenario_memory"] = memory
        if self.scenario_branch is not None and self.scenario_branch.previous_frame:
            out["previous_image"] = image
        return out
