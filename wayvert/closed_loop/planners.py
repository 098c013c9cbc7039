"""What proposes the candidate modes in the closed loop: the deployed engine seen through a rig, or the
constant-velocity baseline. Each returns candidates [K, 1 + T, 5] (t, x, y, heading, speed; ego frame now, first
point the ego now) and a score per mode, the verifier's input."""
from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from wayvert import schema
from wayvert.engine import Engine
from wayvert.replay.pipeline import candidates
from wayvert.sensors.adapter import SensorAdapter
from wayvert.sensors.rig import Rig
from wayvert.sim import World, demonstration
from wayvert.sim.labels import route_command
from wayvert.sim.render import Renderer

F64 = npt.NDArray[np.float64]
RENDER_INTERNAL_WIDTH = 128      # the renderer's internal grid: the training data's setting


class Planner(Protocol):
    name: str

    def propose(self, world: World) -> tuple[F64, F64, dict[str, float]]:
        """(candidates [K, 1 + T, 5], scores [K], latency ms per runtime stage) for the world now."""
        ...


class ConstantVelocityPlanner:
    """One mode: straight on at the current speed (the baseline every learnt planner must beat)."""

    name = "constant velocity"

    def propose(self, world: World) -> tuple[F64, F64, dict[str, float]]:
        v = world.ego.speed
        t = np.concatenate([[0.0], schema.waypoint_times()])
        z = np.zeros_like(t)
        return np.stack([t, v * t, z, z, np.full_like(t, v)], 1)[None], np.zeros(1), {}


def expert_plan(world: World) -> F64:
    """The expert's own 4 s plan from the world now, [1 + T, 5] sampled like the network's waypoints (a rollout)."""
    return np.asarray(demonstration(world, horizon_s=schema.HORIZON_S, points=schema.N_WAYPOINTS + 1), np.float64)


class ExpertPlanner:
    """One mode: the expert's own 4 s plan from the state now, driven through the verifier and the tracker like a
    network's (a diagnostic: the stack's loop, tracker included, with a planner known to drive well)."""

    name = "expert's plans through the stack"

    def propose(self, world: World) -> tuple[F64, F64, dict[str, float]]:
        return expert_plan(world)[None], np.zeros(1), {}


def view_coverage(adapter: SensorAdapter, rig: Rig, canonical: Rig) -> dict[str, float]:
    """Share of each canonical view's pixels that the rig's cameras fill (the adapter's validity mask)."""
    from wayvert.sensors import FRAME_SHAPES

    zeros = {c.name: np.zeros(FRAME_SHAPES[c.pixel_format](c.width, c.height), np.uint8) for c in rig.cameras}
    mask = adapter.convert(zeros)[1]
    return {c.name: round(float((mask[i] > 0).mean()), 4) for i, c in enumerate(canonical.cameras)}


def cameras_needed(adapter: SensorAdapter, rig: Rig) -> list[str]:
    """The rig's cameras that contribute to some canonical view (the others need not be rendered)."""
    from wayvert.sensors import FRAME_SHAPES

    zeros = {c.name: np.zeros(FRAME_SHAPES[c.pixel_format](c.width, c.height), np.uint8) for c in rig.cameras}
    full = adapter.convert(zeros)[1].sum()
    return [c.name for c in rig.cameras if adapter.convert({**zeros, c.name: None})[1].sum() < full]


class EnginePlanner:
    """The deployed stack up to the verifier: the rig's cameras (rendered) -> sensor adapter -> engine (one
    stateful session per route)."""

    def __init__(self, engine: Engine, rig: Rig, name: str = "engine", *, zero_ego: bool = False) -> None:
        """``zero_ego``: feed the network a zero ego state (speed, yaw rate) instead of the measured one: the
        copycat diagnostic (how much of the driving comes from the ego's own motion rather than the cameras)."""
        self.engine, self.rig, self.name, self.zero_ego = engine, rig, name, zero_ego
        spec = next(s for s in engine.inputs if s.name == "image")
        self.canonical = Rig.from_dict(engine.meta["canonical_rig"])
        self.adapter = SensorAdapter(rig, self.canonical, scale=spec.scale, zero_point=spec.zero_point)
        self.renderer = Renderer(rig, max_internal_width=RENDER_INTERNAL_WIDTH)
        self.coverage = view_coverage(self.adapter, rig, self.canonical)
        needed = cameras_needed(self.adapter, rig)
        self.renderer.cams = [c for c in self.renderer.cams if c.name in needed]
        self.session = engine.session()
        self.command = np.zeros((1, len(schema.COMMANDS)), np.float32)
        self.last_mask: npt.NDArray[np.uint8] | None = None
        self.last_frames: dict[str, npt.NDArray[np.uint8]] = {}   # the rig's frames of the last propose()
        self.last_outputs: dict[str, npt.NDArray[Any]] = {}       # the engine's outputs of the last propose()

    def reset(self) -> None:
        """A fresh session (recurrent state cleared) for a new route."""
        self.session = self.engine.session()

    def propose(self, world: World) -> tuple[F64, F64, dict[str, float]]:
        e = world.ego
        frames_now = self.renderer.render(world.scene())      # the cameras (simulated; not a runtime stage)
        self.last_frames = frames_now
        t0 = time.perf_counter()
        tensor, self.last_mask = self.adapter.convert(frames_now)
        t1 = time.perf_counter()
        self.command[:] = 0.0
        self.command[0, schema.command_index(route_command(world))] = 1.0
        ego = np.zeros((1, 2), np.float32) if self.zero_ego else np.array([[e.speed, e.yaw_rate]], np.float32)
        out = self.session.run({"image": tensor, "ego": ego, "command": self.command})
        t2 = time.perf_counter()
        self.last_outputs = out
        cand = candidates(out["trajectories"][0], e.speed)   # planned speeds clipped at 0 (reason there)
        return cand, np.asarray(out["mode_logits"][0], np.float64), {"adapter": (t1 - t0) * 1e3,
                                                                      "engine": (t2 - t1) * 1e3}
