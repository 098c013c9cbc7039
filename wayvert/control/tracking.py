"""Following a planned trajectory: pure pursuit on the plan's path and a proportional speed controller.

numpy only; the same controller drives every planner in closed-loop evaluation (models and the
constant-velocity baseline), so the rows differ only in their plans.
"""
from __future__ import annotations

import numpy as np

from wayvert import schema
from wayvert.sim.expert import MAX_STEER, WHEELBASE

SPEED_GAIN_PER_S = 1.2       # accel (m/s^2) per m/s of speed error
SPEED_PREVIEW_S = 0.6        # track the planned speed this far ahead (actuator lag)


class PlanTracker:
    """Holds the latest plan (ego frame of the time it was made) and turns it into (accel, steering)."""

    def __init__(self) -> None:
        self.plan_world: np.ndarray | None = None     # [T+1, 2] world xy, first point = pose at plan time
        self.plan_speed: np.ndarray | None = None     # [T+1]
        self.plan_t = 0.0

    def set_plan(self, trajectory: np.ndarray, pose: tuple[float, float, float], speed: float, t: float) -> None:
        """``trajectory`` [T, >=4] (x, y, heading, speed) in the ego frame at world pose ``pose`` and time ``t``."""
        x0, y0, yaw = pose
        c, s = np.cos(yaw), np.sin(yaw)
        tr = np.asarray(trajectory, np.float64)
        xy = np.concatenate([[[0.0, 0.0]], tr[:, :2]])
        self.plan_world = np.stack([x0 + c * xy[:, 0] - s * xy[:, 1], y0 + s * xy[:, 0] + c * xy[:, 1]], 1)
        self.plan_speed = np.concatenate([[speed], np.maximum(tr[:, 3], 0.0)])
        self.plan_t = t

    def action(self, x: float, y: float, yaw: float, speed: float, t: float) -> tuple[float, float]:
        """(acceleration m/s^2, steering rad) to follow the plan from the current pose at time ``t``."""
        assert self.plan_world is not None and self.plan_speed is not None
        times = np.concatenate([[0.0], schema.waypoint_times()])
        v_target = float(np.interp(t - self.plan_t + SPEED_PREVIEW_S, times, self.plan_speed))
        accel = SPEED_GAIN_PER_S * (v_target - speed)
        c, s = np.cos(yaw), np.sin(yaw)
        d = self.plan_world - (x, y)
        local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], 1)
        lookahead = 4.0 + 0.5 * speed
        dist = np.hypot(local[:, 0], local[:, 1])
        ahead = np.nonzero((dist >= lookahead) & (local[:, 0] > 0))[0]
        if len(ahead):
            target = local[ahead[0]]
        else:                                         # plan shorter than the lookahead: aim along its end
            last, prev = local[-1], local[-2]
            direction = last - prev
            n = np.hypot(*direction)
            target = last + (direction / n if n > 1e-6 else np.array([1.0, 0.0])) * max(lookahead - dist[-1], 0.0)
        alpha = np.arctan2(target[1], max(target[0], 1e-3))
        ld = max(float(np.hypot(*target)), 1.0)
        steer = float(np.clip(np.arctan2(2.0 * WHEELBASE * np.sin(alpha), ld), -MAX_STEER, MAX_STEER))
        return float(accel), steer
