"""Other road users: IDM car following along lanes, MOBIL-like safe lane changes, stopped obstacles."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .road import LANE_WIDTH, Road

CAR, TRUCK, OBSTACLE, PEDESTRIAN = 0, 1, 2, 3


@dataclass(frozen=True)
class IDMParams:
    v0: float = 13.9
    T: float = 1.5
    a: float = 1.0
    b: float = 2.0
    s0: float = 2.0
    delta: float = 4.0


def idm_accel(v: float, gap: float | None, v_lead: float, p: IDMParams) -> float:
    """Treiber's IDM acceleration; ``gap`` is bumper-to-bumper (None: free road)."""
    free = 1.0 - (v / max(p.v0, 0.1)) ** p.delta if p.v0 > 0 else -1.0
    if gap is None:
        return p.a * free
    s_star = p.s0 + max(0.0, v * p.T + v * (v - v_lead) / (2.0 * np.sqrt(p.a * p.b)))
    return float(p.a * (free - (s_star / max(gap, 0.1)) ** 2))


@dataclass
class Agent:
    s: float
    d: float            # lateral offset w.r.t. the road reference (left positive)
    lane: int           # target lane
    v: float
    v0: float
    length: float
    width: float
    cls: int
    a: float = 0.0
    ego: bool = False
    d_rate: float = 0.0  # lateral speed over the last step (m/s, left positive): a lane change in progress

    @property
    def yaw_to_road(self) -> float:
        """The angle of the agent's motion to its lane (rad, left positive): a car moving across the road points
        across it, so the heading an object list reports tells where it is going (docs/verifier.md 6.7)."""
        return math.atan2(self.d_rate, max(self.v, 0.5))


def occupies(agent: Agent, road: Road, lane: int) -> bool:
    return abs(agent.d - road.lane_offset(lane)) < 0.5 * LANE_WIDTH + 0.5 * agent.width - 0.2


def leader(agents: list[Agent], me: Agent, road: Road, lane: int,
           ahead: bool = True, incoming: bool = False) -> tuple[Agent | None, float | None]:
    """Nearest agent in ``lane`` ahead of (or behind) ``me``: (agent, bumper gap) or (None, None).
    ``incoming``: an agent moving into ``lane`` counts as in it from the moment it sets off (a lane-change
    decision must not pick a gap another car is already merging into)."""
    best: Agent | None = None
    gap: float | None = None
    for o in agents:
        if o is me or not (occupies(o, road, lane) or (incoming and o.lane == lane)):
            continue
        ds = (o.s - me.s) if ahead else (me.s - o.s)
        if ds < 0 or (ds == 0 and not ahead):
            continue
        g = ds - 0.5 * (o.length + me.length)
        if gap is None or g < gap:
            best, gap = o, g
    return best, gap


def spawn(road: Road, rng: np.random.Generator, density_per_km: float, v_limit: float,
          ego_s: float, ego_lane: int, n_obstacles: int = 0) -> list[Agent]:
    agents = []
    L = road.reference.length
    for lane in range(road.n_lanes):
        s = float(rng.uniform(0, 30))
        while s < L - 150:
            truck = rng.random() < 0.1
            length, width = (10.0, 2.5) if truck else (float(rng.uniform(4.2, 5.0)), float(rng.uniform(1.75, 1.95)))
            v0 = float(v_limit * rng.uniform(0.75, 1.1))
            v = 0.9 * v0
            # Not on top of the ego, and in its lane not closer ahead than its following rule and RSS allow at the
            # start (a bumper gap of about 1.5 s at the limit), so no route starts with the ego too close.
            if lane != ego_lane or s - ego_s > 30 or s - ego_s < -25:
                agents.append(Agent(s, road.lane_offset(lane), lane, v, v0, length, width, TRUCK if truck else CAR))
            mean_gap = 1000.0 / max(density_per_km, 1e-3)
            s += max(length + 2.0 + 1.5 * v, float(rng.exponential(mean_gap)))
    for _ in range(n_obstacles):
        lane = int(rng.integers(road.n_lanes))
        s = float(rng.uniform(ego_s + 150, L - 200))
        agents = [a for a in agents if not (occupies(a, road, lane) and abs(a.s - s) < 30)]
        agents.append(Agent(s, road.lane_offset(lane), lane, 0.0, 0.0, 4.5, 1.9, OBSTACLE))
    agents.sort(key=lambda a: a.s)
    return agents


def _gap_ok(agents: list[Agent], me: Agent, road: Road, lane: int, p: IDMParams, b_safe: float) -> tuple[bool, float]:
    """Safety of moving ``me`` into ``lane`` and the acceleration it would then get."""
    lead, g_lead = leader(agents, me, road, lane, True, incoming=True)
    foll, g_foll = leader(agents, me, road, lane, False, incoming=True)
    if g_lead is not None and g_lead < p.s0 + 0.5 * me.v:
        return False, -9.0
    if foll is not None and g_foll is not None:
        if g_foll < p.s0 + 0.5 * foll.v:
            return False, -9.0
        fp = IDMParams(v0=max(foll.v0, 0.1), T=p.T, a=p.a, b=p.b, s0=p.s0)
        if idm_accel(foll.v, g_foll, me.v, fp) < -b_safe:
            return False, -9.0
    mp = IDMParams(v0=me.v0, T=p.T, a=p.a, b=p.b, s0=p.s0)
    return True, idm_accel(me.v, g_lead, lead.v if lead else 0.0, mp)


def step_traffic(agents: list[Agent], road: Road, rng: np.random.Generator, dt: float, p: IDMParams,
                 lateral_speed: float = 1.0, max_decel: float = 9.0) -> None:
    """Advance every non-ego agent by dt (agents include the ego, which others react to but is not moved)."""
    movers = [a for a in agents if not a.ego and a.cls != OBSTACLE]
    accels = []
    for me in movers:
        mp = IDMParams(v0=me.v0, T=p.T, a=p.a, b=p.b, s0=p.s0)
        acc: float | None = None
        lanes = {me.lane} | {i for i in range(road.n_lanes) if occupies(me, road, i)}
        for ln in lanes:
            lead, g = leader(agents, me, road, ln, True)
            a_ln = idm_accel(me.v, g, lead.v if lead else 0.0, mp)
            acc = a_ln if acc is None else min(acc, a_ln)
        assert acc is not None  # ``lanes`` holds at least me.lane
        accels.append(acc)
        # lane change decision (only when settled in a lane), MOBIL-like incentive + safety
        if abs(me.d - road.lane_offset(me.lane)) < 0.05 and rng.random() < dt / 2.0:
            best, best_gain = None, 0.3
            for ln in (me.lane - 1, me.lane + 1):
                if 0 <= ln < road.n_lanes:
                    ok, a_new = _gap_ok(agents, me, road, ln, p, b_safe=2.0)
                    if ok and a_new - acc > best_gain:
                        best, best_gain = ln, a_new - acc
            if best is not None:
                me.lane = best
    for me, acc in zip(movers, accels):
        me.a = float(max(acc, -max_decel))
        v_new = max(0.0, me.v + me.a * dt)
        me.s += 0.5 * (me.v + v_new) * dt
        me.v = v_new
        target = road.lane_offset(me.lane)
        step = lateral_speed * dt
        d_new = target if abs(target - me.d) <= step else me.d + np.sign(target - me.d) * step
        me.d_rate = float(d_new - me.d) / dt
        me.d = d_new
