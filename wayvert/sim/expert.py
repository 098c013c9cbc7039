"""The expert driver (pure pursuit + IDM + safe lane changes), the ego's kinematic bicycle, demonstrations."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .road import Road
from .traffic import Agent, IDMParams, _gap_ok, idm_accel, leader, occupies

if TYPE_CHECKING:  # the world drives the expert and the expert reads the world
    from .sim import World

WHEELBASE = 2.79
REAR_TO_CENTRE = 4.89 / 2 - 1.1   # rear axle -> box centre
MAX_STEER = 0.55
MAX_STEER_RATE = 0.4
MAX_ACCEL, MAX_DECEL, MAX_JERK = 2.0, 4.0, 3.0
# A lane change follows a minimum-jerk (quintic) lateral profile from the old lane centre to the new one over this
# many seconds: for a 3.5 m shift the path's peak lateral acceleration is 5.77 * 3.5 / T^2 = 1.0 m/s^2 and its peak
# lateral jerk 60 * 3.5 / T^3 = 2.3 m/s^3, inside the verifier's 4.89 m/s^2 and 5 m/s^3 with room for pure
# pursuit's tracking (docs/verifier.md 6.4). Typical lane changes on motorways take 4-6 s (docs/verifier.md [S34]).
LANE_CHANGE_S = 4.5


@dataclass
class EgoState:
    x: float        # rear axle, world frame
    y: float
    yaw: float
    speed: float
    accel: float = 0.0
    yaw_rate: float = 0.0
    steering: float = 0.0


def bicycle_step(e: EgoState, accel: float, steering: float, dt: float) -> None:
    """Kinematic bicycle about the rear axle; applies the steering-rate and jerk limits."""
    steering = float(np.clip(steering, e.steering - MAX_STEER_RATE * dt, e.steering + MAX_STEER_RATE * dt))
    e.steering = float(np.clip(steering, -MAX_STEER, MAX_STEER))
    accel = float(np.clip(accel, e.accel - MAX_JERK * dt, e.accel + MAX_JERK * dt))
    accel = float(np.clip(accel, -MAX_DECEL, MAX_ACCEL))
    if e.speed <= 0.0 and accel < 0.0:
        accel = 0.0
    v_new = max(0.0, e.speed + accel * dt)
    v_mid = 0.5 * (e.speed + v_new)
    e.yaw_rate = v_mid * np.tan(e.steering) / WHEELBASE
    yaw_mid = e.yaw + 0.5 * e.yaw_rate * dt
    e.x += v_mid * np.cos(yaw_mid) * dt
    e.y += v_mid * np.sin(yaw_mid) * dt
    e.yaw += e.yaw_rate * dt
    e.speed = v_new
    e.accel = accel


def lane_change_offset(d0: float, elapsed_s: float, duration_s: float = LANE_CHANGE_S) -> float:
    """Lateral offset from the new lane's centre ``elapsed_s`` into a lane change that began ``d0`` from it: the
    minimum-jerk profile d0 * (1 - (10u^3 - 15u^4 + 6u^5)), u = elapsed / duration clamped to [0, 1]."""
    u = min(max(elapsed_s / duration_s, 0.0), 1.0)
    return d0 * (1.0 - u * u * u * (10.0 - 15.0 * u + 6.0 * u * u))


def expert_params(world: World) -> IDMParams:
    """The expert's IDM. Its time gap T is the following rule the verifier checks (docs/verifier.md 6.8): 1.5 s
    dry, doubled in rain (`time_gap_dry_s`, `wet_time_gap_factor`)."""
    if world.weather == "rain":
        return IDMParams(v0=world.ego_v0, T=3.0, a=1.0, b=1.5, s0=2.0)
    return IDMParams(v0=world.ego_v0, T=1.5, a=1.0, b=2.0, s0=2.0)


def _keeps_time_gap(agents: list[Agent], me: Agent, road: Road, lane: int, p: IDMParams) -> bool:
    """A lane change the following rule allows: in the target lane the ego keeps its time gap to the new lead,
    and the new follower keeps its own to the ego (so the verifier, which holds every plan to the rule, accepts
    the manoeuvre)."""
    lead, g_lead = leader(agents, me, road, lane, True, incoming=True)
    foll, g_foll = leader(agents, me, road, lane, False, incoming=True)
    if lead is not None and g_lead is not None and g_lead < p.s0 + p.T * me.v:
        return False
    return not (foll is not None and g_foll is not None and g_foll < p.s0 + p.T * foll.v)


def expert_action(world: World) -> tuple[float, float]:
    """(acceleration, steering) the expert commands now."""
    e, road = world.ego, world.road
    me = world.ego_agent()
    p = expert_params(world)
    lanes = {world.ego_lane} | {i for i in range(road.n_lanes) if occupies(me, road, i)}
    acc: float | None = None
    lead_info: tuple[Agent | None, float | None] = (None, None)
    for ln in lanes:
        lead, g = leader(world.agents, me, road, ln, True)
        a_ln = idm_accel(e.speed, g, lead.v if lead else 0.0, p)
        if acc is None or a_ln < acc:
            acc = a_ln
            if ln == world.ego_lane:
                lead_info = (lead, g)
    assert acc is not None  # ``lanes`` holds at least the ego lane
    # safe lane change when stuck behind a slow lead
    lead, g = lead_info
    lane_line = road.lanes[world.ego_lane]
    s, lat, _ = world.frenet_ego(world.ego_lane)
    if (world.allow_lane_changes and lead is not None and g is not None and g < 40 and lead.v < e.speed - 1.0 and abs(lat) < 0.3
            and world.t - world.last_lane_change > 6.0):
        best, best_gain = None, 0.5
        for ln in (world.ego_lane - 1, world.ego_lane + 1):
            if 0 <= ln < road.n_lanes:
                ok, a_new = _gap_ok(world.agents, me, road, ln, IDMParams(v0=p.v0, T=p.T, a=p.a, b=1.5, s0=p.s0), 1.5)
                if ok and a_new - acc > best_gain and _keeps_time_gap(world.agents, me, road, ln, p):
                    best, best_gain = ln, a_new - acc
        if best is not None:
            world.ego_lane = best
            world.last_lane_change = world.t
            lane_line = road.lanes[best]
            s, lat, _ = world.frenet_ego(best)
            world.lane_change_from = lat
    # pure pursuit on the target lane centre, or during a lane change on the quintic path into it (the point the
    # path reaches Ld metres ahead, Ld / v seconds from now)
    Ld = 4.0 + 0.5 * e.speed
    tx, ty, th = lane_line.at(s + Ld)
    if world.lane_change_from is not None:
        elapsed = world.t - world.last_lane_change + Ld / max(e.speed, 1.0)
        if elapsed >= LANE_CHANGE_S:
            world.lane_change_from = None
        else:
            d = lane_change_offset(world.lane_change_from, elapsed)
            tx, ty = tx - np.sin(th) * d, ty + np.cos(th) * d
    dx, dy = tx - e.x, ty - e.y
    alpha = np.arctan2(dy, dx) - e.yaw
    alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
    dist = max(np.hypot(dx, dy), 1.0)
    steer = float(np.arctan2(2.0 * WHEELBASE * np.sin(alpha), dist))
    return float(acc), steer


def demonstration(world: World, horizon_s: float = 4.0, points: int = 20, dt: float = 0.1) -> np.ndarray:
    """The expert's planned trajectory [points, 5]: (t, x, y, heading, speed) in the ego frame (x fwd, y left),
    from rolling the expert forward on a copy of the world; the first point is the ego now."""
    w = copy.deepcopy(world)
    e0 = copy.copy(w.ego)
    c, s_ = np.cos(e0.yaw), np.sin(e0.yaw)
    n = int(round(horizon_s / dt))
    rows = [(0.0, e0.x, e0.y, e0.yaw, e0.speed)]
    for k in range(n):
        w.step(dt)
        rows.append(((k + 1) * dt, w.ego.x, w.ego.y, w.ego.yaw, w.ego.speed))
    r = np.array(rows)
    ts = np.linspace(0.0, horizon_s, points)
    out = np.empty((points, 5))
    out[:, 0] = ts
    x = np.interp(ts, r[:, 0], r[:, 1]) - e0.x
    y = np.interp(ts, r[:, 0], r[:, 2]) - e0.y
    out[:, 1] = c * x + s_ * y
    out[:, 2] = -s_ * x + c * y
    out[:, 3] = np.interp(ts, r[:, 0], r[:, 3]) - e0.yaw
    out[:, 4] = np.interp(ts, r[:, 0], r[:, 4])
    return out


def perturb_start(world: World, rng: np.random.Generator) -> None:
    """"Bad dream" start: lateral offset up to 1 m, heading error up to 0.2 rad, sometimes too close to the lead."""
    e = world.ego
    off = float(rng.uniform(-1.0, 1.0))
    herr = float(rng.uniform(-0.2, 0.2))
    e.x += -np.sin(e.yaw) * off
    e.y += np.cos(e.yaw) * off
    e.yaw += herr
    if rng.random() < 0.5:
        me = world.ego_agent()
        lead, g = leader(world.agents, me, world.road, world.ego_lane, True)
        if lead is not None and g is not None and lead.v > 0:
            target_gap = max(4.0, 0.5 * e.speed * 1.5)
            if g > target_gap:
                lead.s -= g - target_gap
                lead.v = e.speed
