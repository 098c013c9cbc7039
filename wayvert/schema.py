"""What a training sample and a model's outputs are: the contract between data, models, training and evaluation.

numpy only (the episode format and the world must not need PyTorch). Units: metres, seconds, radians, m/s,
ego frame = rear axle, x forward, y left, heading counter-clockwise from +x.
"""
from __future__ import annotations

import numpy as np

# Route command at the next junction (index = the integer stored in episodes and fed one-hot to the models).
COMMANDS = ("follow", "left", "right", "straight")
# Scenario class (data curation and an aux head). Precedence when several apply: rain, cut_in, junction,
# following, free_road (docs/episode-format.md).
SCENARIOS = ("free_road", "following", "junction", "cut_in", "rain")

WAYPOINT_DT_S = 0.2          # planned trajectory sampling
N_WAYPOINTS = 20             # t = 0.2, 0.4, ..., 4.0 s (the ego's own t = 0 point is not predicted)
HORIZON_S = WAYPOINT_DT_S * N_WAYPOINTS
WAYPOINT_FIELDS = ("x", "y", "heading", "speed")
LEAD_DISTANCE_CAP_M = 80.0   # "no lead vehicle" reads as this bumper gap
HISTORY_FRAMES = 2           # frames the teacher sees: now and HISTORY_STRIDE frames ago
HISTORY_STRIDE = 5           # 0.5 s at 10 Hz
FRAME_DT_S = 0.1             # episodes are recorded at 10 Hz

CANONICAL_RIG = "canonical_3cam"
# The canonical rig's normalisation (rigs/canonical_3cam.json): x_norm = (rgb / 255 - mean) / std.
NORM_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
NORM_STD = np.array([0.229, 0.224, 0.225], np.float32)


def waypoint_times() -> np.ndarray:
    """Times (s) of the predicted waypoints, [N_WAYPOINTS]."""
    return WAYPOINT_DT_S * np.arange(1, N_WAYPOINTS + 1, dtype=np.float64)


def command_index(name: str) -> int:
    if name not in COMMANDS:
        raise ValueError(f"route command {name!r} is not one of {COMMANDS}")
    return COMMANDS.index(name)


def scenario_index(name: str) -> int:
    if name not in SCENARIOS:
        raise ValueError(f"scenario {name!r} is not one of {SCENARIOS}")
    return SCENARIOS.index(name)
