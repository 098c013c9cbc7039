"""One closed-loop drive: world -> planner's candidate modes -> verifier -> tracker -> world, at 10 Hz; or the
expert driving the world itself (the reference row). A drive ends early at a collision (the ego box overlaps
another road user's) or a lane departure (the ego's centre leaves its carriageway)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.control import PlanTracker
from wayvert.control.deadline import FrameDeadline
from wayvert.control.repair import ORIGINAL, VARIANT_NAMES, repair_variants
from wayvert.safety import EgoState, Verdict, Verifier
from wayvert.sim import World, boxes_overlap, draw_variety

from .planners import Planner, expert_plan

F64 = npt.NDArray[np.float64]


@dataclass
class FrameRecord:
    t: float
    pose: tuple[float, float, float]
    plan_world: F64                  # [T, 2] chosen (verified) trajectory, world frame
    latency_ms: dict[str, float]     # per runtime stage: adapter, engine (engine planners), repair, verifier
    chosen: int
    top: int                         # the planner's top-scored mode
    fallback: bool
    reasons: list[int]               # per candidate (the repaired variants after the planner's own, when repairing)
    ade_vs_expert: float | None = None
    repaired: bool = False           # the driven mode is a repaired variant (nudged and/or slowed) of a planner's mode
    variant: str = "original"        # the driven mode: original, smoothed, nudged, slowed, nudged+slowed (fallback: original)
    driven: str = "fresh"            # frame deadlines: "fresh", "held" (previous plan advanced) or "fallback"
    overrun: bool = False            # the frame's stages took longer than its budget
    trajectory: F64 | None = None    # [1 + T, 5] what is driven (t, x, y, heading, speed), ego frame at t


@dataclass
class DriveLog:
    seed: int
    frames: list[FrameRecord] = field(default_factory=list)
    driven: list[tuple[float, float]] = field(default_factory=list)
    states: list[tuple[float, float, float]] = field(default_factory=list)   # (speed, accel, yaw rate) per tick
    progress_m: float = 0.0          # along the road reference
    collided: bool = False
    departed: bool = False
    expert_checks: list[int] = field(default_factory=list)   # reasons bitmask of the expert's own plan, when checked
    camera_views: list[tuple[np.ndarray, F64, str]] = field(default_factory=list)   # (canonical views, plan, caption)
    expert_driven: list[tuple[float, float]] = field(default_factory=list)    # the expert on the same seed
    expert_progress_m: float | None = None
    road: Any = None


def world_for(seed: int) -> World:
    """The route of ``seed``: the recorded episodes' variety with one stopped obstacle (what the demo drives)."""
    return World(seed, **{**draw_variety(seed), "obstacles": 1})


def _to_world(traj: F64, pose: tuple[float, float, float]) -> F64:
    x0, y0, yaw = pose
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([x0 + c * traj[:, 0] - s * traj[:, 1], y0 + s * traj[:, 0] + c * traj[:, 1]], 1)


def _ego(world: World) -> EgoState:
    e = world.ego
    return EgoState(speed=e.speed, accel=e.accel, yaw_rate=e.yaw_rate, steering=e.steering)


def check(verifier: Verifier, world: World, cand: F64, scores: F64) -> Verdict:
    """The verifier on the world's current objects, carriageway edges and weather."""
    return verifier.check(cand, scores, _ego(world), objects=world.objects_in_ego_frame(),
                          boundaries=world.boundaries_in_ego_frame(), wet=world.weather == "rain")


def expert_plan_check(world: World, verifier: Verifier) -> int:
    """Reasons bitmask the verifier gives the expert's own plan from the world now (the plan is the expert's
    4 s rollout, sampled like the network's waypoints)."""
    return int(check(verifier, world, expert_plan(world)[None], np.zeros(1)).reasons[0])


def _incident(world: World, log: DriveLog) -> bool:
    if any(boxes_overlap(world.ego_box(), b) for b in world.vehicle_boxes()):
        log.collided = True
    else:
        left, right = world.road.edge_offsets()
        d = world.ego_agent().d
        log.departed = d > left or d < right
    return log.collided or log.departed


def drive(planner: Planner | None, seed: int, frames: int, *, verifier: Verifier | None = None,
          expert_every: int = 0, ade_every: int = 0, on_frame: Callable[[World, FrameRecord], None] | None = None,
          repair: bool = True, deadline: FrameDeadline | None = None) -> DriveLog:
    """Drive ``frames`` ticks of 0.1 s on route ``seed``. Every ``expert_every`` ticks (0: never) the expert's own
    plan from the state the car is in is checked by the verifier (``DriveLog.expert_checks``). ``planner=None``:
    the expert drives the world itself (no verifier in the loop). Otherwise the planner's modes go through the
    verifier and the tracker; every ``ade_every`` ticks the driven plan is compared with the expert's plan from
    the same state (0: never). ``on_frame`` sees each frame.
    ``repair``: the verifier also gets, after all the planner's modes, each mode with its waypoint noise smoothed
    away, each mode that comes too close to a carriageway edge nudged sideways, both at their own speed, then each
    mode (and each nudged one) slowed down along its own path (``wayvert.control.repair``), so the fallback is the
    last resort.
    ``deadline``: frame budgets (``wayvert.control.deadline``); a frame whose stages take longer drives the previous
    plan advanced in time, or the fallback."""
    world = world_for(seed)
    verifier = verifier or Verifier()
    tracker = PlanTracker()
    times = np.concatenate([[0.0], schema.waypoint_times()])
    log = DriveLog(seed, driven=[(world.ego.x, world.ego.y)])
    s0 = world.ego_agent().s
    for k in range(frames):
        e = world.ego
        pose = (e.x, e.y, e.yaw)
        if expert_every and k % expert_every == 0:
            log.expert_checks.append(expert_plan_check(world, verifier))
        if planner is None:
            world.step(schema.FRAME_DT_S)
        else:
            cand, scores, latency = planner.propose(world)
            n_modes = len(scores)
            top = int(np.argmax(scores))
            kinds = np.zeros(n_modes, np.int8)
            if repair:
                t0 = time.perf_counter()
                lim, veh = verifier.limits, verifier.vehicle
                cand, scores, kinds = repair_variants(
                    cand, scores, e.speed, e.accel, world.boundaries_in_ego_frame(),
                    margin=lim.boundary_margin_m, length=veh.length_m, width=veh.width_m, rear=veh.rear_axle_to_rear_m)
                latency["repair"] = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            verdict = check(verifier, world, cand, scores)
            latency["verifier"] = (time.perf_counter() - t0) * 1e3
            traj = np.asarray(verdict.trajectory, np.float64)
            driven, overrun = "fresh", False
            if deadline is not None:
                decision = deadline.decide(world.t, sum(latency.values()) / 1e3, verdict.trajectory,
                                           EgoState(e.speed, e.accel, e.yaw_rate), pose)
                traj, driven, overrun = np.asarray(decision.trajectory, np.float64), decision.source, decision.overrun
            future = np.stack([np.interp(times[1:], traj[:, 0], traj[:, 1 + i]) for i in range(4)], 1)
            tracker.set_plan(future, pose, e.speed, world.t)
            rec = FrameRecord(world.t, pose, _to_world(future, pose), latency, verdict.chosen, top,
                              verdict.fallback_used, [int(r) for r in verdict.reasons],
                              repaired=verdict.chosen >= n_modes, driven=driven, overrun=overrun, trajectory=traj,
                              variant=VARIANT_NAMES[int(kinds[verdict.chosen]) if verdict.chosen >= 0 else ORIGINAL])
            if ade_every and k % ade_every == 0:
                gt = expert_plan(world)[1:, 1:3]
                rec.ade_vs_expert = float(np.linalg.norm(future[:, :2] - gt, axis=1).mean())
            if on_frame is not None:
                on_frame(world, rec)
            log.frames.append(rec)
            world.step(schema.FRAME_DT_S, ego_action=tracker.action(e.x, e.y, e.yaw, e.speed, world.t))
        e = world.ego
        log.driven.append((e.x, e.y))
        log.states.append((e.speed, e.accel, e.yaw_rate))
        if _incident(world, log):
            break
    log.progress_m = float(world.ego_agent().s - s0)
    log.road = world.road
    return log
