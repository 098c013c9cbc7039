"""The synthetic driving world: road + traffic + ego (expert-driven unless given an action)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import expert as _expert
from .road import frenet, make_road
from .traffic import OBSTACLE, IDMParams, Agent, spawn, step_traffic

V_LIMIT = 13.9
Box = tuple[float, float, float, float, float]   # cx, cy, yaw, length, width (world frame)


def _to_ego(pts: np.ndarray | list[float], e: _expert.EgoState) -> np.ndarray:
    c, s = np.cos(e.yaw), np.sin(e.yaw)
    d = np.asarray(pts, float).reshape(-1, 2) - [e.x, e.y]
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], 1)


class World:
    def __init__(self, seed: int, lanes: int = 2, traffic_density: float = 20.0, weather: str = "dry",
                 lighting: str = "day", left_hand: bool = False, bad_dreams: bool = False,
                 obstacles: int = 0, junction: bool | None = None, allow_lane_changes: bool = True,
                 cut_in_rate: float = 0.0, start_speed_fraction: float = 0.9) -> None:
        assert weather in ("dry", "rain") and lighting in ("day", "dusk")
        self.seed, self.weather, self.lighting = seed, weather, lighting
        self.rng = np.random.default_rng([seed, 1])
        self.road = make_road(seed, lanes=lanes, left_hand=left_hand, junction=junction)
        self.t = 0.0
        self.allow_lane_changes = allow_lane_changes
        self.last_lane_change = -1e9
        # During the expert's lane change: its lateral offset from the new lane's centre when it began (m).
        self.lane_change_from: float | None = None
        # Injected cut-ins (targeted data: `wayvert generate --cut-in-rate`): per minute, a settled vehicle ahead in
        # a neighbouring lane is told to merge into the ego lane. Its own random stream, so worlds without it are
        # the same as before.
        if not (cut_in_rate >= 0.0):
            raise ValueError(f"cut_in_rate must be >= 0 per minute, got {cut_in_rate}")
        self.cut_in_rate = float(cut_in_rate)
        self._cut_in_rng = np.random.default_rng([seed, 0xC07])
        self.ego_v0 = V_LIMIT * (0.9 if weather == "rain" else 1.0)
        self.ego_lane = int(self.rng.integers(lanes))
        s0 = 50.0
        x, y, h = self.road.lanes[self.ego_lane].at(s0)
        # The ego starts at start_speed_fraction of its desired speed (0.9 by default; lower starts give training
        # data in which the expert speeds back up, against a network that copies its current speed).
        if not (0.0 <= start_speed_fraction <= 1.2):
            raise ValueError(f"start_speed_fraction must be in [0, 1.2], got {start_speed_fraction}")
        self.ego = _expert.EgoState(x, y, h, float(start_speed_fraction) * self.ego_v0)
        self.idm = IDMParams(T=3.0 if weather == "rain" else 1.5, b=1.5 if weather == "rain" else 2.0)
        self.traffic = spawn(self.road, self.rng, traffic_density, V_LIMIT, s0, self.ego_lane, obstacles)
        self._ego_agent = Agent(0, 0, self.ego_lane, 0, 0, 4.89, 1.9, 0, ego=True)
        if bad_dreams:
            _expert.perturb_start(self, self.rng)

    # ---- helpers -------------------------------------------------------------------------------------
    @property
    def agents(self) -> list[Agent]:
        return self.traffic + [self.ego_agent()]

    def ego_agent(self) -> Agent:
        e = self.ego
        cx = e.x + _expert.REAR_TO_CENTRE * np.cos(e.yaw)
        cy = e.y + _expert.REAR_TO_CENTRE * np.sin(e.yaw)
        s, d, _ = frenet(self.road.reference, cx, cy, e.yaw)
        a = self._ego_agent
        a.s, a.d, a.v, a.lane, a.v0 = s, d, e.speed, self.ego_lane, self.ego_v0
        return a

    def frenet_ego(self, lane: int | None = None) -> tuple[float, float, float]:
        """(s, lateral offset, heading error) of the ego's rear axle w.r.t. a lane centre (default: its lane)."""
        e = self.ego
        return frenet(self.road.lanes[self.ego_lane if lane is None else lane], e.x, e.y, e.yaw)

    # ---- dynamics ------------------------------------------------------------------------------------
    def step(self, dt: float = 0.1, ego_action: tuple[float, float] | None = None) -> None:
        """Advance by dt. ``ego_action``: (accel, steering) or None for the expert."""
        acc, steer = _expert.expert_action(self) if ego_action is None else ego_action
        agents = self.agents
        if self.cut_in_rate > 0.0 and self._cut_in_rng.random() < self.cut_in_rate * dt / 60.0:
            self._inject_cut_in()
        step_traffic(agents, self.road, self.rng, dt, self.idm)
        _expert.bicycle_step(self.ego, acc, steer, dt)
        L = self.road.reference.length
        self.traffic = [a for a in self.traffic if a.s < L - 5]
        self.t += dt

    def _inject_cut_in(self, min_gap_m: float = 8.0, max_gap_m: float = 35.0) -> bool:
        """Send the nearest settled vehicle 8-35 m ahead (bumper gap) in a lane next to the ego's into the ego lane."""
        me, road = self.ego_agent(), self.road
        best = None
        for a in self.traffic:
            if a.cls == OBSTACLE or abs(a.lane - self.ego_lane) != 1 or abs(a.d - road.lane_offset(a.lane)) > 0.05:
                continue
            gap = a.s - me.s - 0.5 * (a.length + me.length)
            if min_gap_m <= gap <= max_gap_m and (best is None or gap < best[0]):
                best = (gap, a)
        if best is None:
            return False
        best[1].lane = self.ego_lane
        return True

    # ---- observations --------------------------------------------------------------------------------
    def _agent_pose(self, a: Agent) -> tuple[float, float, float]:
        x, y, h = self.road.reference.at(a.s)
        return x - np.sin(h) * a.d, y + np.cos(h) * a.d, h + a.yaw_to_road

    def objects_in_ego_frame(self, radius: float = 150.0) -> np.ndarray:
        """[M, 7]: x, y, heading, speed, length, width, class (box centres, ego rear-axle frame)."""
        e, rows = self.ego, []
        for a in self.traffic:
            x, y, h = self._agent_pose(a)
            p = _to_ego([x, y], e)[0]
            if np.hypot(*p) < radius:
                dh = (h - e.yaw + np.pi) % (2 * np.pi) - np.pi
                rows.append([p[0], p[1], dh, a.v, a.length, a.width, a.cls])
        return np.array(rows, dtype=np.float64).reshape(-1, 7)

    def boundaries_in_ego_frame(self, behind: float = 20.0, ahead: float = 120.0) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) drivable-area edges of the ego carriageway, [N, 2] each, ego frame."""
        from .road import offset_polyline
        s = self.ego_agent().s
        lo, ro = self.road.edge_offsets()
        m = (self.road.reference.s >= s - behind) & (self.road.reference.s <= s + ahead)
        left = offset_polyline(self.road.reference, lo)[m]
        right = offset_polyline(self.road.reference, ro)[m]
        return _to_ego(left, self.ego), _to_ego(right, self.ego)

    def vehicle_boxes(self) -> list[Box]:
        """World-frame boxes (cx, cy, yaw, length, width) of traffic."""
        out: list[Box] = []
        for a in self.traffic:
            x, y, h = self._agent_pose(a)
            out.append((x, y, h, a.length, a.width))
        return out

    def ego_box(self) -> Box:
        e = self.ego
        return (e.x + _expert.REAR_TO_CENTRE * np.cos(e.yaw), e.y + _expert.REAR_TO_CENTRE * np.sin(e.yaw),
                e.yaw, 4.89, 1.9)

    def scene(self) -> dict[str, Any]:
        j = self.road.junction
        return {
            "lane_markings": self.road.markings(),
            "road_edges": self.road.edges() + (list(j.arms) if j else []),
            "vehicles": [(x, y, h, L, W, 3.5 if L > 8 else 1.5) for x, y, h, L, W in self.vehicle_boxes()],
            "ego": (self.ego.x, self.ego.y, self.ego.yaw),
            "weather": self.weather,
            "lighting": self.lighting,
            "junction": None if j is None else {"s": j.s, "kind": j.kind, "command": j.command},
        }


def boxes_overlap(a: Box, b: Box) -> bool:
    """Separating-axis test of two oriented boxes (cx, cy, yaw, length, width)."""
    def corners(bx: Box) -> np.ndarray:
        cx, cy, h, L, W = bx
        c, s = np.cos(h), np.sin(h)
        d = np.array([[L, W], [L, -W], [-L, -W], [-L, W]]) / 2
        return np.stack([cx + c * d[:, 0] - s * d[:, 1], cy + s * d[:, 0] + c * d[:, 1]], 1)
    ca, cb = corners(a), corners(b)
    for h in (a[2], a[2] + np.pi / 2, b[2], b[2] + np.pi / 2):
        ax = np.array([np.cos(h), np.sin(h)])
        pa, pb = ca @ ax, cb @ ax
        if pa.max() < pb.min() or pb.max() < pa.min():
            return False
    return True
