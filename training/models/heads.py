"""The driving heads both networks end in, and the output dictionary they produce.

Every head is one linear layer; what follows it is multiplication and addition by constants (folds into that
linear at lowering) and, for the lead distance, a ReLU6 that bounds it to [0, LEAD_DISTANCE_CAP_M].
"""
from __future__ import annotations

import math
from typing import TypedDict

import torch
from torch import nn

from wayvert.schema import LEAD_DISTANCE_CAP_M, N_WAYPOINTS, SCENARIOS, WAYPOINT_FIELDS
from .prior import prior_matrix, residual_scale

TARGET_SPEED_UNIT_M_S = 5.0     # target speed = ego speed + 5 m/s x raw
CURVATURE_UNIT_PER_M = 0.01     # curvature = 0.01 1/m x raw (a 100 m radius per unit)
LEAD_DISTANCE_UNIT_M = LEAD_DISTANCE_CAP_M / 6.0   # lead = unit x relu6(raw), so raw in [0, 6] spans [0, cap]


class DrivingOutputs(TypedDict):
    """The outputs every driving network has (ego frame: x forward, y left; metres, radians, m/s)."""
    trajectories: torch.Tensor      # [B, K, T, 4] x, y, heading, speed at t = 0.2 .. 4.0 s
    mode_logits: torch.Tensor       # [B, K] unnormalised scores; softmax gives mode probabilities
    target_speed: torch.Tensor      # [B] m/s
    curvature: torch.Tensor         # [B] 1/m, positive turning left
    lead_distance: torch.Tensor     # [B] m, bumper gap to the lead vehicle, in [0, LEAD_DISTANCE_CAP_M]
    scenario_logits: torch.Tensor   # [B, len(SCENARIOS)]


class ModelOutput(DrivingOutputs, total=False):
    """What Student and Teacher return: the driving outputs and, for a student whose scenario branch remembers,
    what it leaves for the next frame set (becomes recurrent state in the engine, not an output)."""
    scenario_memory: torch.Tensor   # [B, memory]
    previous_image: torch.Tensor    # [B, V, 3, H, W]: the input image, kept as the next run's previous frame set


OUTPUT_KEYS = tuple(DrivingOutputs.__annotations__)


def mode_anchors(modes: int) -> torch.Tensor:
    """[modes, 2] initial (x, y) residuals in raw units: mode 0 is the prior, the others on a circle of 0.6
    units (at 4 s: 6 m faster/slower, 3.6 m left/right). Without distinct starts winner-takes-all training collapses to one mode."""
    anchors = torch.zeros(modes, 2)
    for k in range(1, modes):
        angle = 2.0 * math.pi * (k - 1) / (modes - 1)
        anchors[k] = torch.tensor([0.6 * math.cos(angle), 0.6 * math.sin(angle)])
    return anchors


class DrivingHeads(nn.Module):
    """Feature vector [B, in_features] and ego [B, 2] (speed m/s, yaw rate rad/s) -> ModelOutput.

    Trajectories are residuals on the constant-speed/constant-yaw-rate prior (prior.py), in units that grow with
    the waypoint time; the target speed is a residual on the ego speed.
    """

    prior: torch.Tensor             # [T * 4, 2] constant buffers, see prior.py
    residual_scale: torch.Tensor    # [T, 4]
    speed_of_ego: torch.Tensor      # [1, 2] picks the speed out of ego as a linear op

    def __init__(self, in_features: int, modes: int = 6, n_waypoints: int = N_WAYPOINTS) -> None:
        super().__init__()
        self.modes, self.n_waypoints = modes, n_waypoints
        fields = len(WAYPOINT_FIELDS)
        self.trajectory = nn.Linear(in_features, modes * n_waypoints * fields)
        self.mode = nn.Linear(in_features, modes)
        self.target_speed = nn.Linear(in_features, 1)
        self.curvature = nn.Linear(in_features, 1)
        self.lead_distance = nn.Linear(in_features, 1)
        self.scenario = nn.Linear(in_features, len(SCENARIOS))
        self.register_buffer("prior", prior_matrix(n_waypoints), persistent=False)
        self.register_buffer("residual_scale", residual_scale(n_waypoints), persistent=False)
        self.register_buffer("speed_of_ego", torch.tensor([[1.0, 0.0]]), persistent=False)
        self._init_outputs()

    @torch.no_grad()
    def _init_outputs(self) -> None:
        # Small output weights: every head starts close to its prior / bias.
        for head in (self.trajectory, self.mode, self.target_speed, self.curvature, self.lead_distance, self.scenario):
            head.weight.mul_(0.1)
            head.bias.zero_()
        bias = self.trajectory.bias.view(self.modes, self.n_waypoints, len(WAYPOINT_FIELDS))
        bias[:, :, :2] = mode_anchors(self.modes)[:, None, :]
        self.lead_distance.bias.fill_(3.0)   # mid-range (cap / 2): away from ReLU6's flat ends

    def forward(self, features: torch.Tensor, ego: torch.Tensor,
                scenario_features: torch.Tensor | None = None) -> ModelOutput:
        """``scenario_features`` (same width as ``features``): what the scenario head reads instead of
        ``features`` (the student's scenario branch)."""
        b = features.shape[0]
        fields = len(WAYPOINT_FIELDS)
        residual = self.trajectory(features).reshape(b, self.modes, self.n_waypoints, fields) * self.residual_scale
        prior = nn.functional.linear(ego, self.prior).reshape(b, 1, self.n_waypoints, fields)
        target_speed = (self.target_speed(features) * TARGET_SPEED_UNIT_M_S
                        + nn.functional.linear(ego, self.speed_of_ego))
        lead = nn.functional.relu6(self.lead_distance(features)) * LEAD_DISTANCE_UNIT_M
        return ModelOutput(
            trajectories=prior + residual,
            mode_logits=self.mode(features),
            target_speed=target_speed.reshape(b),
            curvature=(self.curvature(features) * CURVATURE_UNIT_PER_M).reshape(b),
            lead_distance=lead.reshape(b),
            scenario_logits=self.scenario(features if scenario_features is None else scenario_features),
        )
