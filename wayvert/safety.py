"""Python API of the trajectory safety verifier (the C++ core in cpp/src/safety; docs/verifier.md).

The network proposes, the verifier disposes: every mode is checked against the vehicle's limits, the ego
state, other road users and the drivable area; the best-scoring mode that passes is chosen, and when none
passes the verifier's own minimum-risk manoeuvre (braking to a stop on the current path) is returned.
"""

from __future__ import annotations

import enum
from dataclasses import astuple, dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert import _core
from wayvert.errors import InputError


class Reason(enum.IntFlag):
    """One bit per check (bit order of wayvert.h / docs/verifier.md)."""

    INVALID = 1 << 0
    CONTINUITY = 1 << 1
    CURVATURE = 1 << 2
    STEERING = 1 << 3
    STEERING_RATE = 1 << 4
    LATERAL_ACCEL = 1 << 5
    LATERAL_JERK = 1 << 6
    LONG_ACCEL = 1 << 7
    DECEL = 1 << 8
    LONG_JERK = 1 << 9
    YAW_RATE = 1 << 10
    TIME_TO_COLLISION = 1 << 11
    FOLLOWING_DISTANCE = 1 << 12
    DRIVABLE_AREA = 1 << 13


#: Checks on the motion itself (what a slower traversal of the same path can only improve).
KINEMATIC = (Reason.CURVATURE | Reason.STEERING | Reason.STEERING_RATE | Reason.LATERAL_ACCEL | Reason.LATERAL_JERK
             | Reason.LONG_ACCEL | Reason.DECEL | Reason.LONG_JERK | Reason.YAW_RATE)

#: Column names of Verdict.margins, in bit order.
CHECK_NAMES: tuple[str, ...] = tuple(_core.check_names())

_VEHICLE = _core.vehicle_defaults()
_LIMITS = _core.limits_defaults()


@dataclass(frozen=True)
class VehicleProfile:
    """The vehicle (defaults: a mid-size passenger car). Field order is the C struct's."""

    wheelbase_m: float = _VEHICLE[0]
    width_m: float = _VEHICLE[1]
    length_m: float = _VEHICLE[2]
    rear_axle_to_rear_m: float = _VEHICLE[3]
    max_steering_rad: float = _VEHICLE[4]
    max_steering_rate_rps: float = _VEHICLE[5]


@dataclass(frozen=True)
class Limits:
    """Limits of every check; defaults and their sources are in docs/verifier.md. Field order is the C struct's."""

    max_curvature_per_m: float = _LIMITS[0]
    max_lateral_accel_mps2: float = _LIMITS[1]
    max_lateral_jerk_mps3: float = _LIMITS[2]
    max_long_accel_mps2: float = _LIMITS[3]
    max_decel_mps2: float = _LIMITS[4]
    max_long_jerk_mps3: float = _LIMITS[5]
    max_yaw_rate_rps: float = _LIMITS[6]
    max_position_jump_m: float = _LIMITS[7]
    max_heading_jump_rad: float = _LIMITS[8]
    max_speed_jump_mps: float = _LIMITS[9]
    min_ttc_s: float = _LIMITS[10]
    rss_response_time_s: float = _LIMITS[11]
    rss_ego_accel_during_response_mps2: float = _LIMITS[12]
    rss_ego_min_brake_mps2: float = _LIMITS[13]
    rss_lead_max_brake_mps2: float = _LIMITS[14]
    time_gap_dry_s: float = _LIMITS[15]
    wet_time_gap_factor: float = _LIMITS[16]
    boundary_margin_m: float = _LIMITS[17]
    fallback_decel_mps2: float = _LIMITS[18]
    fallback_jerk_mps3: float = _LIMITS[19]
    fallback_dt_s: float = _LIMITS[20]


assert len(fields(VehicleProfile)) == len(_VEHICLE) and len(fields(Limits)) == len(_LIMITS)


@dataclass(frozen=True)
class EgoState:
    """The ego vehicle now: speed m/s, acceleration m/s², yaw rate rad/s, road-wheel steering angle rad."""

    speed: float
    accel: float = 0.0
    yaw_rate: float = 0.0
    steering: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What the verifier decided for one set of candidate modes."""

    chosen: int  #: index of the mode to execute, -1 when the fallback is used
    trajectory: npt.NDArray[np.float32]  #: [T, 5] the trajectory to execute (t, x, y, heading, speed)
    passed: npt.NDArray[np.bool_]  #: [K]
    reasons: list[Reason]  #: per mode, the failed checks
    margins: npt.NDArray[np.float32]  #: [K, len(CHECK_NAMES)] value / limit; > 1 violated; NaN not evaluated
    fallback_used: bool
    fallback_reasons: Reason  #: when the fallback is used: every reason any mode failed for
    fallback_self_reasons: Reason = field(default=Reason(0))  #: the fallback's own check (kinematics clear whenever the ego state is within the limits)


def _array(a: Any, shape_tail: tuple[int, ...], what: str, empty_ok: bool = False) -> npt.NDArray[np.float32]:
    if a is None:
        if empty_ok:
            return np.zeros((0,) + shape_tail, dtype=np.float32)
        raise InputError(f"{what} is required")
    arr = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    if arr.ndim != 1 + len(shape_tail) or tuple(arr.shape[1:]) != shape_tail:
        raise InputError(f"{what} must have shape [N, {', '.join(map(str, shape_tail))}], got {list(arr.shape)}")
    return arr


class Verifier:
    """Checks candidate trajectories; deterministic, allocation-free in C++ after construction."""

    def __init__(self, vehicle: VehicleProfile = VehicleProfile(), limits: Limits | None = None, *, max_modes: int = 64,
                 max_points: int = 128, max_objects: int = 256, max_boundary_points: int = 1024) -> None:
        self.vehicle = vehicle
        self.limits = limits if limits is not None else Limits()
        self._handle = _core.VerifierHandle(list(astuple(vehicle)), list(astuple(self.limits)), max_modes, max_points,
                                            max_objects, max_boundary_points)

    def check(self, trajectories: npt.ArrayLike, scores: npt.ArrayLike, ego: EgoState,
              objects: npt.ArrayLike | None = None,
              boundaries: tuple[npt.ArrayLike, npt.ArrayLike] | None = None, wet: bool = False) -> Verdict:
        """Check ``trajectories`` [K, T, 5] with ``scores`` [K]; ``objects`` [M, 7]; ``boundaries`` (left, right) [N, 2]."""
        traj = np.ascontiguousarray(np.asarray(trajectories, dtype=np.float32))
        if traj.ndim != 3 or traj.shape[2] != 5:
            raise InputError(f"trajectories must have shape [K, T, 5], got {list(traj.shape)}")
        sc = np.ascontiguousarray(np.asarray(scores, dtype=np.float32).reshape(-1))
        if sc.shape[0] != traj.shape[0]:
            raise InputError(f"{sc.shape[0]} scores for {traj.shape[0]} modes")
        obj = _array(objects, (7,), "objects", empty_ok=True)
        left, right = (None, None) if boundaries is None else boundaries
        lb = _array(left, (2,), "left boundary", empty_ok=True)
        rb = _array(right, (2,), "right boundary", empty_ok=True)
        ego_vals = [float(ego.speed), float(ego.accel), float(ego.yaw_rate), float(ego.steering)]
        d = self._handle.check(traj, sc, ego_vals, obj, lb, rb, bool(wet))
        return Verdict(
            chosen=int(d["chosen"]), trajectory=d["trajectory"], passed=d["passed"].astype(bool),
            reasons=[Reason(int(r)) for r in d["reasons"]], margins=d["margins"],
            fallback_used=bool(d["fallback_used"]), fallback_reasons=Reason(int(d["fallback_reasons"])),
            fallback_self_reasons=Reason(int(d["fallback_self_reasons"])),
        )
