"""Training targets of a frame set, computed from the episode's ego log (numpy only).

For a frame set at time t (s), with the ego log linearly interpolated (yaw unwrapped first):

* ``trajectory`` [N_WAYPOINTS, 4]: (x, y, heading, speed) at t + schema.waypoint_times(), in the ego frame at t
  (rear axle, x forward, y left, heading relative to the yaw at t; m, m, rad, m/s).
* ``ego`` [2]: speed (m/s) and yaw rate (rad/s) at t; ``command``: the ego.csv command of the last row at or
  before t (index into schema.COMMANDS).
* ``target_speed``: speed at t + TARGET_SPEED_AHEAD_S (m/s).
* ``curvature``: mean of yaw_rate / max(speed, CURVATURE_MIN_SPEED_MPS) over [t, t + CURVATURE_WINDOW_S],
  sampled every CURVATURE_STEP_S (1/m).
* ``lead_distance``: frames.csv ``lead_gap_m`` capped at schema.LEAD_DISTANCE_CAP_M (m); ``scenario`` from
  frames.csv; each with a has_* mask (False where the label is unknown; the value is then a placeholder).

Only frames whose whole horizon lies in the log (ego.csv's first time <= t, t + HORIZON_S <= its last time) are
samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wayvert import schema
from wayvert.episodes.reader import EgoLog, FrameTable

TARGET_SPEED_AHEAD_S = 2.0
CURVATURE_WINDOW_S = 2.0
CURVATURE_STEP_S = 0.1
CURVATURE_MIN_SPEED_MPS = 1.0
_TIME_TOLERANCE_S = 1e-6   # timestamps written in decimal text may miss the log's last time by rounding


@dataclass(frozen=True)
class Targets:
    """Targets of K samples; ``frame`` [K] is the frame-set index of each."""

    frame: np.ndarray           # int64 [K]
    trajectory: np.ndarray      # float64 [K, N_WAYPOINTS, 4]
    ego: np.ndarray             # float64 [K, 2]: speed m/s, yaw rate rad/s
    command: np.ndarray         # int64 [K]
    target_speed: np.ndarray    # float64 [K] m/s
    curvature: np.ndarray       # float64 [K] 1/m
    lead_distance: np.ndarray   # float64 [K] m
    has_lead_distance: np.ndarray  # bool [K]
    scenario: np.ndarray        # int64 [K]
    has_scenario: np.ndarray    # bool [K]

    def __len__(self) -> int:
        return len(self.frame)


def sample_frames(ego_t_s: np.ndarray, frame_t_s: np.ndarray) -> np.ndarray:
    """Indices of the frames whose time and full horizon lie within the ego log, int64."""
    ok = (frame_t_s >= ego_t_s[0] - _TIME_TOLERANCE_S) & \
         (frame_t_s + schema.HORIZON_S <= ego_t_s[-1] + _TIME_TOLERANCE_S)
    return np.nonzero(ok)[0].astype(np.int64)


class _Interp:
    """The ego log as functions of time (linear interpolation, yaw unwrapped)."""

    def __init__(self, ego: EgoLog):
        self.t = ego.t_s
        self.x, self.y, self.speed, self.yaw_rate = ego.x_m, ego.y_m, ego.speed_mps, ego.yaw_rate_rps
        self.yaw = np.unwrap(ego.yaw_rad)
        self.command = ego.command

    def __call__(self, field: str, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.t, getattr(self, field))

    def command_at(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.t, t + _TIME_TOLERANCE_S, side="right") - 1
        return self.command[np.clip(i, 0, len(self.t) - 1)]


def future_trajectory(ego: EgoLog, t_s: np.ndarray) -> np.ndarray:
    """[K, N_WAYPOINTS, 4] (x, y, heading, speed) at t + waypoint_times() in the ego frame at each t of [K]."""
    return _trajectory(_Interp(ego), np.asarray(t_s, np.float64).reshape(-1))


def _trajectory(f: _Interp, t_s: np.ndarray) -> np.ndarray:
    q = t_s[:, None] + schema.waypoint_times()[None, :]
    x0, y0, yaw0 = f("x", t_s)[:, None], f("y", t_s)[:, None], f("yaw", t_s)[:, None]
    dx, dy = f("x", q) - x0, f("y", q) - y0
    c, s = np.cos(yaw0), np.sin(yaw0)
    return np.stack([c * dx + s * dy, -s * dx + c * dy, f("yaw", q) - yaw0, f("speed", q)], axis=-1)


def episode_targets(ego: EgoLog, frames: FrameTable) -> Targets:
    """Targets of every sample frame of an episode (see the module docstring)."""
    f = _Interp(ego)
    idx = sample_frames(ego.t_s, frames.t_s)
    t = frames.t_s[idx]
    window = np.arange(0.0, CURVATURE_WINDOW_S + 0.5 * CURVATURE_STEP_S, CURVATURE_STEP_S)
    qc = t[:, None] + window[None, :]
    curvature = (f("yaw_rate", qc) / np.maximum(f("speed", qc), CURVATURE_MIN_SPEED_MPS)).mean(axis=1)
    gap = frames.lead_gap_m[idx]
    has_gap = np.isfinite(gap)
    scen = frames.scenario[idx]
    return Targets(
        frame=idx,
        trajectory=_trajectory(f, t),
        ego=np.stack([f("speed", t), f("yaw_rate", t)], axis=1),
        command=f.command_at(t).astype(np.int64),
        target_speed=f("speed", t + TARGET_SPEED_AHEAD_S),
        curvature=curvature,
        lead_distance=np.where(has_gap, np.minimum(np.nan_to_num(gap), schema.LEAD_DISTANCE_CAP_M),
                               schema.LEAD_DISTANCE_CAP_M),
        has_lead_distance=has_gap,
        scenario=np.where(scen >= 0, scen, 0).astype(np.int64),
        has_scenario=scen >= 0,
    )
