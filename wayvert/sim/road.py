"""Procedural road networks: straight + constant-curvature segments, lanes, markings, an optional junction."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LANE_WIDTH = 3.5
SAMPLE_M = 0.5


@dataclass
class Polyline:
    """A sampled curve: points [N, 2], arc length s [N], heading [N]."""

    points: np.ndarray
    s: np.ndarray
    heading: np.ndarray

    @staticmethod
    def from_points(points: np.ndarray) -> "Polyline":
        d = np.diff(points, axis=0)
        seg = np.hypot(d[:, 0], d[:, 1])
        s = np.concatenate([[0.0], np.cumsum(seg)])
        h = np.arctan2(d[:, 1], d[:, 0])
        h = np.concatenate([h, h[-1:]])
        return Polyline(points, s, np.unwrap(h))

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def at(self, s: float) -> tuple[float, float, float]:
        """(x, y, heading) at arc length s (clamped)."""
        s = float(np.clip(s, 0.0, self.s[-1]))
        x = np.interp(s, self.s, self.points[:, 0])
        y = np.interp(s, self.s, self.points[:, 1])
        h = np.interp(s, self.s, self.heading)
        return float(x), float(y), float(h)

    def window(self, s0: float, s1: float) -> np.ndarray:
        m = (self.s >= s0) & (self.s <= s1)
        return self.points[m]


def frenet(line: Polyline, x: float, y: float, yaw: float) -> tuple[float, float, float]:
    """Project pose onto ``line``: (s, lateral offset (left positive), heading error wrapped to [-pi, pi))."""
    p = line.points
    a, b = p[:-1], p[1:]
    ab = b - a
    L2 = np.maximum((ab ** 2).sum(1), 1e-12)
    t = np.clip(((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / L2, 0.0, 1.0)
    q = a + ab * t[:, None]
    d2 = (q[:, 0] - x) ** 2 + (q[:, 1] - y) ** 2
    i = int(np.argmin(d2))
    seg_len = np.sqrt(L2[i])
    s = line.s[i] + t[i] * seg_len
    h = float(np.arctan2(ab[i, 1], ab[i, 0]))
    lat = -np.sin(h) * (x - q[i, 0]) + np.cos(h) * (y - q[i, 1])
    err = (yaw - h + np.pi) % (2 * np.pi) - np.pi
    return float(s), float(lat), float(err)


def offset_polyline(ref: Polyline, d: float) -> np.ndarray:
    n = np.stack([-np.sin(ref.heading), np.cos(ref.heading)], 1)
    return ref.points + d * n


@dataclass
class Junction:
    s: float                 # position along the reference line
    kind: str                # "T" or "X"
    command: str             # "follow" | "straight" | "left" | "right" (route command at the junction)
    arms: list[np.ndarray] = field(default_factory=list)   # crossing-road edge polylines [N, 2] (world frame)


@dataclass
class Road:
    """A carriageway pair along a reference line (the road centre). The ego direction's ``lanes`` lie right of
    the centre for right-hand traffic and left of it for left-hand traffic; oncoming lanes mirror them."""

    reference: Polyline
    n_lanes: int
    left_hand: bool
    segments: list[tuple[float, float]]  # (length_m, curvature_per_m)
    junction: Junction | None
    lanes: list[Polyline]    # Polyline per ego-direction lane, index 0 = lane next to the centre line
    lane_offsets: np.ndarray  # lateral offset of each ego lane centre w.r.t. the reference (left positive)

    @property
    def side(self) -> float:
        return 1.0 if self.left_hand else -1.0

    def lane_offset(self, i: int) -> float:
        return float(self.lane_offsets[i])

    def edge_offsets(self) -> tuple[float, float]:
        """(left, right) lateral offsets of the ego carriageway's drivable edges w.r.t. the reference."""
        outer = self.side * self.n_lanes * LANE_WIDTH
        return (max(0.0, outer), min(0.0, outer))

    def markings(self) -> list[tuple[np.ndarray, str]]:
        """[(polyline [N, 2] world frame, "solid" | "dashed")] for both carriageways."""
        out = [(self.reference.points.copy(), "solid")]
        for sgn in (1.0, -1.0):
            for k in range(1, self.n_lanes + 1):
                kind = "solid" if k == self.n_lanes else "dashed"
                out.append((offset_polyline(self.reference, sgn * k * LANE_WIDTH), kind))
        return out

    def edges(self) -> list[np.ndarray]:
        w = self.n_lanes * LANE_WIDTH
        return [offset_polyline(self.reference, w), offset_polyline(self.reference, -w)]


def make_road(seed: int, lanes: int = 2, left_hand: bool = False, length_m: float = 2000.0,
              junction: bool | None = None) -> Road:
    rng = np.random.default_rng(seed)
    segs = []
    total = 0.0
    straight = True
    while total < length_m:
        if straight:
            L, k = float(rng.uniform(60, 200)), 0.0
        else:
            L = float(rng.uniform(50, 150))
            k = float(rng.choice([-1, 1]) * rng.uniform(1 / 400, 1 / 150))
        segs.append((L, k))
        total += L
        straight = not straight
    # integrate heading
    ks = np.concatenate([np.full(int(round(L / SAMPLE_M)), k) for L, k in segs])
    yaw0 = float(rng.uniform(-np.pi, np.pi))
    h = yaw0 + np.concatenate([[0.0], np.cumsum(ks * SAMPLE_M)])
    mid = 0.5 * (h[:-1] + h[1:])
    pts = np.concatenate([[[0.0, 0.0]], np.cumsum(SAMPLE_M * np.stack([np.cos(mid), np.sin(mid)], 1), 0)])
    ref = Polyline(pts, np.arange(len(pts)) * SAMPLE_M, h)
    side = 1.0 if left_hand else -1.0
    offs = side * (np.arange(lanes) + 0.5) * LANE_WIDTH
    lane_lines = [Polyline.from_points(offset_polyline(ref, d)) for d in offs]
    j = None
    if junction is None:
        junction = bool(rng.random() < 0.5)
    if junction:
        s_j = float(rng.uniform(300, 800))
        kind = str(rng.choice(["T", "X"]))
        command = "straight" if kind == "X" else "follow"
        x, y, hh = ref.at(s_j)
        n = np.array([-np.sin(hh), np.cos(hh)])
        t = np.array([np.cos(hh), np.sin(hh)])
        w = lanes * LANE_WIDTH
        arms = []
        dirs = [1.0, -1.0] if kind == "X" else [float(rng.choice([-1.0, 1.0]))]
        u = np.linspace(w, w + 60.0, 121)[:, None]
        for dsgn in dirs:
            for off in (-w, w):
                arms.append(np.array([x, y]) + dsgn * u * n + off * t)
        j = Junction(s_j, kind, command, arms)
    return Road(ref, lanes, left_hand, segs, j, lane_lines, offs)
