"""The student's scenario branch: its own small CNN for the scenario head (issue 18; docs/results.md, "Scenario head").

The driving trunk is trained to drive; what it keeps of a scene is what the trajectory needs. A side road 60 m
ahead is one or two pixel rows at the horizon, and a car moving into the lane differs from a settled lead by a
sliver of its side; linear and small MLP probes on the stop-27 student's trunk and backbone features find
neither (balanced accuracy 0.50-0.58, against its head's 0.54). The branch sees the cameras at H/16 (twice the
rows of the driving backbone's map), with the driving trunk's features beside them (what the driving network knows of the lead), and feeds
the scenario head. It can be trained alone on top of a finished student (``optim.train = "scenario"``), which
leaves every driving output bit-identical.

``previous_frame`` gives the branch the frame set before as three more input channels of its first layer (early
fusion: the stem can take differences of pixels, so a car moving sideways between two frame sets shows as an edge
that moved). In the engine the previous frame set is recurrent state (int8, the camera tensor's parameters): the
session keeps the last image it ran, zero (the mean colour) in a new session or after ``Session.reset()``.

``memory`` > 0 instead gives the branch one frame set of late memory: a ReLU projection of its map (``memory`` features) is
remembered from the previous run and read beside the current one, so a car moving across lanes (0.5 m between
two 2 Hz frame sets, about 3 rendered pixels at 20 m) differs from a parked one. In the engine the remembered
features are recurrent state (docs/engine-format.md section 3.8): the session keeps them, ``Session.reset()`` and
a new session start them at zero, which is also what training feeds a sample without an earlier frame.
"""
from __future__ import annotations

import torch
from torch import nn

from .blocks import SeparableResidual, conv_relu

BRANCH_CHANNELS = 32     # channels of the per-camera H/16 map that is flattened
BRANCH_STRIDE = 16


class ScenarioBranch(nn.Module):
    """image [B*V, 3, H, W] (normalised, cameras folded into the batch), the trunk's features [B, trunk] and the
    ego/command features [B, E] -> scenario features [B, hidden] (post-ReLU), which the scenario head reads."""

    def __init__(self, cameras: int, height: int, width: int, trunk_features: int, ego_command_features: int,
                 hidden: int = 256, memory: int = 0, previous_frame: bool = False) -> None:
        super().__init__()
        if memory < 0:
            raise ValueError(f"memory must be >= 0, got {memory}")
        if memory and previous_frame:
            raise ValueError("a scenario branch remembers features (memory) or the previous frame set, not both")
        self.memory_features = int(memory)
        self.previous_frame = bool(previous_frame)
        # With the previous frame set its 3 channels follow the current frame set's: a branch trained without it
        # grows into one by zero weights.
        self.backbone = nn.Sequential(
            conv_relu(6 if previous_frame else 3, 16, 4, stride=4),       # H/4: patchify stem
            conv_relu(16, 32, 3, stride=2),      # H/8
            conv_relu(32, 48, 3, stride=2),      # H/16
            SeparableResidual(48),
            conv_relu(48, BRANCH_CHANNELS, 1),
        )
        flat = cameras * BRANCH_CHANNELS * (height // BRANCH_STRIDE) * (width // BRANCH_STRIDE)
        # The remembered features are appended last: a branch trained without memory grows into one by zero columns.
        self.memory = nn.Sequential(nn.Linear(flat, memory), nn.ReLU()) if memory else None
        self.mlp = nn.Sequential(nn.Linear(flat + trunk_features + ego_command_features + 2 * memory, hidden), nn.ReLU())

    def remember(self, images: torch.Tensor, batch: int) -> torch.Tensor:
        """The features a frame set leaves in memory, [B, memory] (images [B*V, 3, H, W] as in ``forward``)."""
        if self.memory is None:
            raise ValueError("this scenario branch has no memory")
        out: torch.Tensor = self.memory(self.backbone(images).reshape(batch, -1))
        return out

    def forward(self, images: torch.Tensor, trunk: torch.Tensor, ego_command: torch.Tensor,
                previous: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(scenario features [B, hidden], this frame set's memory [B, memory] or None without memory).
        ``previous``: the memory of the frame set before, or with ``previous_frame`` the frame set before
        [B*V, 3, H, W] (normalised); None: none, as at the start of a session (zeros)."""
        b = trunk.shape[0]
        if self.previous_frame:
            images = torch.cat([images, torch.zeros_like(images) if previous is None else previous], dim=1)
            previous = None
        maps = self.backbone(images).reshape(b, -1)
        parts = [maps, trunk, ego_command]
        now = None
        if self.memory is not None:
            now = self.memory(maps)
            parts += [now, torch.zeros_like(now) if previous is None else previous]
        out: torch.Tensor = self.mlp(torch.cat(parts, dim=1))
        return out, now
