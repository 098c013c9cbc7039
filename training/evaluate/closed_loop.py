"""Closed-loop evaluation: a planner drives the ego car in the synthetic world.

Each route is a world seed (its lanes, traffic, weather and obstacles drawn as for recorded episodes) driven for ``duration_s``; the planner re-plans every ``HISTORY_STRIDE`` ticks
(2 Hz, the rate the training frames were recorded at) and :class:`PlanTracker` follows the latest plan at
10 Hz. A route ends early at a collision (the ego box overlaps another road user's) or a lane departure (the
ego's centre leaves its carriageway). Route completion is the distance travelled along the road as a share
of the distance the expert covers on the same seed in the same time.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from wayvert import schema
from wayvert.control import PlanTracker
from wayvert.sim import World, boxes_overlap, draw_variety

from .planners import Planner

UNCOMFORTABLE_LAT_ACCEL = 3.0     # m/s^2 (ISO 2631-ish passenger comfort; the verifier's comfort limit)
UNCOMFORTABLE_DECEL = 3.0         # m/s^2


@dataclass
class RouteResult:
    seed: int
    progress_m: float
    expert_progress_m: float
    duration_s: float
    collided: bool
    departed: bool
    uncomfortable_s: float          # time spent beyond the comfort limits
    max_lat_accel: float


def _departed(world: World) -> bool:
    left, right = world.road.edge_offsets()
    d = world.ego_agent().d
    return d > left or d < right


def drive_route(planner: Planner | None, seed: int, duration_s: float = 40.0, world_kwargs: dict[str, Any] | None = None,
                dt: float = schema.FRAME_DT_S) -> tuple[RouteResult, np.ndarray]:
    """Drive one route; ``planner=None`` lets the expert drive. Returns the result and the driven path [N, 2]."""
    kw = {**draw_variety(seed), **(world_kwargs or {})}     # the same variety as the recorded episodes
    world = World(seed, **kw)
    tracker = PlanTracker()
    if planner is not None:
        planner.reset()
    s0 = world.ego_agent().s
    ticks = int(round(duration_s / dt))
    collided = departed = False
    uncomfortable = max_lat = 0.0
    path = [(world.ego.x, world.ego.y)]
    for k in range(ticks):
        e = world.ego
        if planner is None:
            world.step(dt)
        else:
            if k % schema.HISTORY_STRIDE == 0:
                tracker.set_plan(planner.plan(world), (e.x, e.y, e.yaw), e.speed, world.t)
            world.step(dt, ego_action=tracker.action(e.x, e.y, e.yaw, e.speed, world.t))
        e = world.ego
        path.append((e.x, e.y))
        lat = abs(e.speed * e.yaw_rate)
        max_lat = max(max_lat, lat)
        if lat > UNCOMFORTABLE_LAT_ACCEL or e.accel < -UNCOMFORTABLE_DECEL:
            uncomfortable += dt
        ego_box = world.ego_box()
        if any(boxes_overlap(ego_box, b) for b in world.vehicle_boxes()):
            collided = True
        elif _departed(world):
            departed = True
        if collided or departed:
            break
    progress = world.ego_agent().s - s0
    return RouteResult(seed, float(progress), float("nan"), float(world.t), collided, departed, uncomfortable,
                       max_lat), np.asarray(path)


def evaluate_closed_loop(planner: Planner | None, seeds: Sequence[int], duration_s: float = 40.0,
                         world_kwargs: dict[str, Any] | None = None, reference: dict[int, float] | None = None,
                         progress: bool = True) -> dict[str, Any]:
    """Aggregate figures over ``seeds``: incidents per km, completion, comfort; and the per-route results.

    ``reference``: the expert's progress (m) per seed, for route completion; computed when not given."""
    if reference is None:
        reference = {} if planner is None else expert_reference(
            evaluate_closed_loop(None, seeds, duration_s, world_kwargs, progress=progress))
    routes = []
    name = "expert" if planner is None else planner.name
    for seed in tqdm(seeds, desc=f"closed loop: {name}", disable=not progress, leave=False):
        r, _ = drive_route(planner, seed, duration_s, world_kwargs)
        r.expert_progress_m = reference.get(seed, r.progress_m)
        routes.append(r)
    km = max(sum(max(r.progress_m, 0.0) for r in routes) / 1000.0, 1e-9)
    collisions = sum(r.collided for r in routes)
    departures = sum(r.departed for r in routes)
    completion = float(np.mean([min(max(r.progress_m, 0.0) / max(r.expert_progress_m, 1e-6), 1.0) for r in routes]))
    return {"routes": len(routes), "km": km, "collisions": collisions, "collisions_per_km": collisions / km,
            "lane_departures": departures, "departures_per_km": departures / km, "route_completion": completion,
            "uncomfortable_s_per_km": sum(r.uncomfortable_s for r in routes) / km,
            "max_lat_accel": max(r.max_lat_accel for r in routes), "per_route": [asdict(r) for r in routes]}


def expert_reference(expert_results: dict[str, Any]) -> dict[int, float]:
    """Seed -> the expert's progress (m), from the expert's ``evaluate_closed_loop`` results."""
    return {int(r["seed"]): float(r["progress_m"]) for r in expert_results["per_route"]}
