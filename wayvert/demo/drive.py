"""The closed-loop drive of ``wayvert demo``: world -> cameras of a non-canonical rig -> sensor adapter -> engine
(stateful session) -> verifier -> tracker -> world. numpy and the C++ runtime only (no PyTorch)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.control import PlanTracker
from wayvert.engine import Engine
from wayvert.replay.pipeline import candidates
from wayvert.safety import EgoState, Verifier
from wayvert.sensors.adapter import SensorAdapter
from wayvert.sensors.rig import Rig
from wayvert.sim import World, boxes_overlap, demonstration, draw_variety
from wayvert.sim.labels import route_command
from wayvert.sim.render import Renderer

F64 = npt.NDArray[np.float64]
RENDER_INTERNAL_WIDTH = 128      # the renderer's internal grid: the training data's setting
EXPERT_EVERY = 5                 # compare with the expert's plan every 5th frame (a plan costs a world rollout)


@dataclass
class FrameRecord:
    t: float
    pose: tuple[float, float, float]
    plan_world: F64                  # [T, 2] chosen (verified) trajectory, world frame
    latency_ms: dict[str, float]     # adapter, engine, verifier
    chosen: int
    top: int                         # the network's top-scored mode
    fallback: bool
    reasons: list[int]
    ade_vs_expert: float | None = None


@dataclass
class DriveLog:
    frames: list[FrameRecord] = field(default_factory=list)
    driven: list[tuple[float, float]] = field(default_factory=list)
    expert_driven: list[tuple[float, float]] = field(default_factory=list)   # the expert on the same seed
    collided: bool = False
    departed: bool = False
    camera_views: list[tuple[np.ndarray, F64]] = field(default_factory=list)   # (canonical RGB views, plan, ego frame)
    road: Any = None


def cameras_needed(adapter: SensorAdapter, rig: Rig) -> list[str]:
    """The rig's cameras that contribute to some canonical view (the others need not be rendered)."""
    from wayvert.sensors import FRAME_SHAPES

    zeros = {c.name: np.zeros(FRAME_SHAPES[c.pixel_format](c.width, c.height), np.uint8) for c in rig.cameras}
    full = adapter.convert(zeros)[1].sum()
    return [c.name for c in rig.cameras if adapter.convert({**zeros, c.name: None})[1].sum() < full]


def _to_world(traj: F64, pose: tuple[float, float, float]) -> F64:
    x0, y0, yaw = pose
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([x0 + c * traj[:, 0] - s * traj[:, 1], y0 + s * traj[:, 0] + c * traj[:, 1]], 1)


def drive(engine: Engine, rig: Rig, *, seed: int, frames: int, record_views: int = 0) -> DriveLog:
    """Drive ``frames`` ticks of 0.1 s with the engine's verified plans; ``record_views`` front frames are kept for
    the animation."""
    spec = next(s for s in engine.inputs if s.name == "image")
    canonical = Rig.from_dict(engine.meta["canonical_rig"])
    adapter = SensorAdapter(rig, canonical, scale=spec.scale, zero_point=spec.zero_point)
    needed = cameras_needed(adapter, rig)
    renderer = Renderer(rig, max_internal_width=RENDER_INTERNAL_WIDTH)
    renderer.cams = [c for c in renderer.cams if c.name in needed]
    view_renderer = Renderer(canonical, max_internal_width=RENDER_INTERNAL_WIDTH) if record_views else None
    world = World(seed, **{**draw_variety(seed), "obstacles": 1})
    expert_world = World(seed, **{**draw_variety(seed), "obstacles": 1})
    session, verifier, tracker = engine.session(), Verifier(), PlanTracker()
    times = np.concatenate([[0.0], schema.waypoint_times()])
    log = DriveLog(driven=[(world.ego.x, world.ego.y)])
    command = np.zeros((1, len(schema.COMMANDS)), np.float32)
    for k in range(frames):
        e = world.ego
        pose = (e.x, e.y, e.yaw)
        frames_now = renderer.render(world.scene())      # the cameras (simulated; not a runtime stage)
        t0 = time.perf_counter()
        tensor, _mask = adapter.convert(frames_now)
        t1 = time.perf_counter()
        command[:] = 0.0
        command[0, schema.command_index(route_command(world))] = 1.0
        out = session.run({"image": tensor, "ego": np.array([[e.speed, e.yaw_rate]], np.float32), "command": command})
        t2 = time.perf_counter()
        cand = candidates(out["trajectories"][0], e.speed)  # planned speeds clipped at 0 (reason there)
        verdict = verifier.check(cand, out["mode_logits"][0], EgoState(speed=e.speed, accel=e.accel,
                                 yaw_rate=e.yaw_rate, steering=e.steering),
                                 objects=world.objects_in_ego_frame(), boundaries=world.boundaries_in_ego_frame(),
                                 wet=world.weather == "rain")
        t3 = time.perf_counter()
        plan = np.asarray(verdict.trajectory, np.float64)[:, 1:5]
        plan_t = np.asarray(verdict.trajectory, np.float64)[:, 0]
        future = np.stack([np.interp(times[1:], plan_t, plan[:, i]) for i in range(4)], 1)
        tracker.set_plan(future, pose, e.speed, world.t)
        rec = FrameRecord(world.t, pose, _to_world(future, pose),
                          {"adapter": (t1 - t0) * 1e3, "engine": (t2 - t1) * 1e3, "verifier": (t3 - t2) * 1e3},
                          verdict.chosen, int(np.argmax(out["mode_logits"][0])), verdict.fallback_used,
                          [int(r) for r in verdict.reasons])
        if k % EXPERT_EVERY == 0:
            gt = demonstration(world, horizon_s=schema.HORIZON_S, points=schema.N_WAYPOINTS + 1)[1:, 1:3]
            rec.ade_vs_expert = float(np.linalg.norm(future[:, :2] - gt, axis=1).mean())
        if view_renderer is not None and len(log.camera_views) < record_views:
            front = view_renderer.render(world.scene())
            log.camera_views.append((np.stack([front[c.name] for c in canonical.cameras]), future.copy()))
        log.frames.append(rec)
        world.step(schema.FRAME_DT_S, ego_action=tracker.action(e.x, e.y, e.yaw, e.speed, world.t))
        expert_world.step(schema.FRAME_DT_S)
        log.expert_driven.append((expert_world.ego.x, expert_world.ego.y))
        log.driven.append((world.ego.x, world.ego.y))
        if any(boxes_overlap(world.ego_box(), b) for b in world.vehicle_boxes()):
            log.collided = True
            break
        left, right = world.road.edge_offsets()
        d = world.ego_agent().d
        if d > left or d < right:
            log.departed = True
            break
    log.road = world.road
    return log


def summary(log: DriveLog, engine: Engine, budget_ms: float) -> dict[str, Any]:
    """The figures the demo prints: latency per stage, budget, power, ADE vs the expert, interventions, incidents."""
    from wayvert.safety import CHECK_NAMES

    lat = {s: np.array([f.latency_ms[s] for f in log.frames]) for s in ("adapter", "engine", "verifier")}
    total = sum(lat.values())
    # An intervention: the verifier did not let the network's top-scored mode through; counted by that mode's
    # failed checks.
    interventions: dict[str, int] = {}
    for f in log.frames:
        if f.chosen == f.top and not f.fallback:
            continue
        for i, name in enumerate(CHECK_NAMES):
            if f.reasons[f.top] >> i & 1:
                interventions[name] = interventions.get(name, 0) + 1
    overridden = sum(1 for f in log.frames if f.chosen != f.top or f.fallback)
    fallbacks = sum(1 for f in log.frames if f.fallback)
    ade = [f.ade_vs_expert for f in log.frames if f.ade_vs_expert is not None]
    prof = engine.meta.get("profile", {})
    return {
        "frames": len(log.frames), "seconds_driven": len(log.frames) * 0.1,
        "latency_ms": {s: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))}
                       for s, v in {**lat, "total": total}.items()},
        "frame_budget_ms": budget_ms, "budget_met": bool(np.percentile(total, 99) <= budget_ms),
        "power_w": prof.get("power_w"), "power_budget_w": prof.get("power_budget_w", 75.0),
        "target_p99_ms": prof.get("latency_p99_ms"),
        "ade_vs_expert_m": float(np.mean(ade)) if ade else None,
        "interventions": overridden, "interventions_by_reason": interventions,
        "fallback_frames": fallbacks, "collided": log.collided, "lane_departure": log.departed,
    }
