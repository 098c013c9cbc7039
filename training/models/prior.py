"""Constant-speed, constant-yaw-rate rollout of the ego state: the trajectory the heads predict residuals on.

The prior must lower to the runtime's op set, so it is linear in ego = (speed v, yaw rate w):
x = v t, y = 0, heading = w t, speed = v at each waypoint time t. That is the exact rollout to first order in
w t (x = (v/w) sin(w t) ~ v t); the lateral drift y ~ v w t^2 / 2 is bilinear in (v, w) and is learnt by the
residual instead.
"""
from __future__ import annotations

import torch

from wayvert.schema import N_WAYPOINTS, WAYPOINT_FIELDS, waypoint_times

X, Y, HEADING, SPEED = (WAYPOINT_FIELDS.index(f) for f in ("x", "y", "heading", "speed"))

# Residual units per field, times t (s): the residual a constant acceleration or turn adds grows with the horizon,
# so a fixed raw range covers every waypoint. At t = 4 s one raw unit is 10 m ahead, 6 m lateral, 0.8 rad, 4 m/s.
RESIDUAL_UNIT_PER_S = {"x": 2.5, "y": 1.5, "heading": 0.2, "speed": 1.0}


def prior_matrix(n_waypoints: int = N_WAYPOINTS) -> torch.Tensor:
    """[n_waypoints * 4, 2]: trajectory_prior.flatten() = matrix @ (speed m/s, yaw rate rad/s)."""
    t = torch.tensor(waypoint_times()[:n_waypoints], dtype=torch.float32)
    m = torch.zeros(n_waypoints, len(WAYPOINT_FIELDS), 2)
    m[:, X, 0] = t
    m[:, HEADING, 1] = t
    m[:, SPEED, 0] = 1.0
    return m.reshape(-1, 2)


def residual_scale(n_waypoints: int = N_WAYPOINTS) -> torch.Tensor:
    """[n_waypoints, 4]: what one raw unit of the trajectory head means at each waypoint (m, m, rad, m/s)."""
    t = torch.tensor(waypoint_times()[:n_waypoints], dtype=torch.float32)
    unit = torch.tensor([RESIDUAL_UNIT_PER_S[f] for f in WAYPOINT_FIELDS])
    return t[:, None] * unit[None, :]
