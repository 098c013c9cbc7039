"""Frame deadlines: each frame's adapter + engine + verifier time has a budget; a frame past it is not driven.

The vehicle then gets the previous verified trajectory advanced by the time since it was planned and moved into the
ego frame of now (``wayvert._core.advance_trajectory``, the C API's ``wv_advance_trajectory``), while it still covers
``min_horizon_s``; after that, the verifier's minimum-risk fallback from the ego state now
(``wv_verifier_fallback``). docs/verifier.md section 7.6. The default budget is the engine's target profile frame
period (meta ``profile.frame_rate_hz``), 100 ms when the engine records none.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt

from wayvert import _core
from wayvert.errors import InputError
from wayvert.safety import EgoState, Verifier

DEFAULT_BUDGET_S = 0.1
#: A held trajectory must still cover this much time from now (the fallback's own horizon is longer).
DEFAULT_MIN_HORIZON_S = 1.0

F32 = npt.NDArray[np.float32]


def budget_of(meta: Mapping[str, Any]) -> float:
    """The frame budget an engine's meta implies: 1 / profile.frame_rate_hz, else DEFAULT_BUDGET_S."""
    rate = (meta.get("profile") or {}).get("frame_rate_hz")
    return 1.0 / float(rate) if isinstance(rate, (int, float)) and rate > 0 else DEFAULT_BUDGET_S


def advance_trajectory(trajectory: npt.ArrayLike, elapsed_s: float, pose_delta: tuple[float, float, float] = (0.0, 0.0, 0.0),
                       min_horizon_s: float = DEFAULT_MIN_HORIZON_S) -> F32 | None:
    """``trajectory`` [T, 5] planned ``elapsed_s`` ago, from now on in the ego frame of now (``pose_delta``: the ego
    pose now in the plan's frame, dx, dy, dyaw); None once it covers less than ``min_horizon_s``."""
    traj = np.ascontiguousarray(np.asarray(trajectory, np.float32))
    if traj.ndim != 2 or traj.shape[1] != 5:
        raise InputError(f"trajectory must have shape [T, 5], got {list(traj.shape)}")
    dx, dy, dyaw = (float(v) for v in pose_delta)
    out = _core.advance_trajectory(traj, float(elapsed_s), dx, dy, dyaw, float(min_horizon_s))
    return None if out is None else np.asarray(out, np.float32)


@dataclass
class FrameDecision:
    """What the vehicle drives for one frame: ``source`` "fresh" (this frame's verified plan), "held" (the previous
    one advanced) or "fallback"; ``overrun`` when the frame missed its budget."""

    trajectory: F32
    source: str
    overrun: bool
    elapsed_s: float


class FrameDeadline:
    """Applies the budget frame by frame (one per vehicle pipeline, in frame order)."""

    def __init__(self, verifier: Verifier, budget_s: float = DEFAULT_BUDGET_S,
                 min_horizon_s: float = DEFAULT_MIN_HORIZON_S, fallback_points: int = 51) -> None:
        if not (math.isfinite(budget_s) and budget_s > 0):
            raise InputError(f"the frame budget must be a positive number of seconds, got {budget_s}")
        self.verifier, self.budget_s, self.min_horizon_s = verifier, float(budget_s), float(min_horizon_s)
        self.fallback_points = fallback_points
        self._last: tuple[float, F32, tuple[float, float, float] | None] | None = None
        self.counts = {"fresh": 0, "held": 0, "fallback": 0, "overrun": 0}

    def decide(self, t_s: float, elapsed_s: float, verified: npt.ArrayLike | None, ego: EgoState,
               pose: tuple[float, float, float] | None = None) -> FrameDecision:
        """Frame at ``t_s`` whose pipeline took ``elapsed_s`` and produced ``verified`` (None: it produced nothing
        usable); ``pose`` (x, y, yaw in a fixed frame) lets a held plan move with the car (else it is held in place)."""
        overrun = not (elapsed_s <= self.budget_s)
        if not overrun and verified is not None:
            traj = np.asarray(verified, np.float32)
            self._last = (t_s, traj, pose)
            return self._count(FrameDecision(traj, "fresh", False, elapsed_s))
        if self._last is not None:
            t0, prev, p0 = self._last
            delta = (0.0, 0.0, 0.0) if pose is None or p0 is None else _relative(p0, pose)
            held = advance_trajectory(prev, t_s - t0, delta, self.min_horizon_s)
            if held is not None:
                return self._count(FrameDecision(held, "held", overrun, elapsed_s))
        fb = np.asarray(self.verifier._handle.fallback([ego.speed, ego.accel, ego.yaw_rate, ego.steering],
                                                       self.fallback_points), np.float32)
        return self._count(FrameDecision(fb, "fallback", overrun, elapsed_s))

    def _count(self, d: FrameDecision) -> FrameDecision:
        self.counts[d.source] += 1
        self.counts["overrun"] += int(d.overrun)
        return d


def _relative(p0: tuple[float, float, float], p1: tuple[float, float, float]) -> tuple[float, float, float]:
    """Pose p1 in the frame of pose p0 (x, y, yaw)."""
    c, s = math.cos(p0[2]), math.sin(p0[2])
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    return c * dx + s * dy, -s * dx + c * dy, p1[2] - p0[2]
