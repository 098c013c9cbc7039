"""A simple driving scene: lane markings, road edges, box vehicles, ego pose, weather and lighting."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

WEATHERS = ("dry", "rain")
LIGHTINGS = ("day", "dusk")
MARKING_STYLES = ("solid", "dashed")


@dataclass
class Scene:
    """World frame: x, y on the ground (z = 0 is the ground plane), yaw about +z.

    ``lane_markings``: [(polyline float[N, 2] world xy, "solid" | "dashed")].
    ``road_edges``: [polyline float[N, 2]]; the ground beyond an edge (the side away from the ego) is grass.
    ``vehicles``: [(x, y, yaw, length, width, height)] boxes standing on the ground, centred at (x, y).
    ``ego``: (x, y, yaw) pose of the vehicle frame origin (rear-axle centre on the ground) in the world.
    """

    lane_markings: list[tuple[np.ndarray, str]] = field(default_factory=list)
    road_edges: list[np.ndarray] = field(default_factory=list)
    vehicles: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)
    ego: tuple[float, float, float] = (0.0, 0.0, 0.0)
    weather: str = "dry"
    lighting: str = "day"

    def __post_init__(self) -> None:
        marks = []
        for item in self.lane_markings:
            pts, style = item
            pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
            if style not in MARKING_STYLES:
                raise ValueError(f"lane marking style {style!r} is not one of {MARKING_STYLES}")
            marks.append((pts, str(style)))
        self.lane_markings = marks
        self.road_edges = [np.asarray(e, dtype=np.float64).reshape(-1, 2) for e in self.road_edges]
        vs = []
        for vehicle in self.vehicles:
            v = tuple(float(a) for a in vehicle)
            if len(v) != 6:
                raise ValueError("a vehicle is (x, y, yaw, length, width, height)")
            vs.append((v[0], v[1], v[2], v[3], v[4], v[5]))
        self.vehicles = vs
        ego = tuple(float(a) for a in self.ego)
        if len(ego) != 3:
            raise ValueError("ego is (x, y, yaw)")
        self.ego = ego
        if self.weather not in WEATHERS:
            raise ValueError(f"weather {self.weather!r} is not one of {WEATHERS}")
        if self.lighting not in LIGHTINGS:
            raise ValueError(f"lighting {self.lighting!r} is not one of {LIGHTINGS}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Scene":
        """Build from a dict with the field names as keys (all optional); markings may be
        [points, style] pairs or {"points": ..., "style": ...} dicts."""
        marks = []
        for m in d.get("lane_markings", []):
            if isinstance(m, Mapping):
                marks.append((m["points"], m.get("style", "solid")))
            else:
                marks.append((m[0], m[1]))
        return cls(
            lane_markings=marks,
            road_edges=list(d.get("road_edges", [])),
            vehicles=list(d.get("vehicles", [])),
            ego=tuple(d.get("ego", (0.0, 0.0, 0.0))),
            weather=d.get("weather", "dry"),
            lighting=d.get("lighting", "day"),
        )


def straight_road(length: float = 200.0, lane_width: float = 3.5, lanes_each_side: int = 1,
                  x0: float = -60.0, step: float = 2.0, **kw: Any) -> Scene:
    """A straight road along world +x centred on y = 0: dashed lane separators, solid outer lines, edges 0.5 m out."""
    xs = np.arange(x0, x0 + length + 1e-9, step)
    n = 2 * lanes_each_side
    half = lanes_each_side * lane_width
    marks = []
    for i in range(n + 1):
        y = -half + i * lane_width
        style = "solid" if i in (0, n) else "dashed"
        marks.append((np.stack([xs, np.full_like(xs, y)], axis=1), style))
    edges = [np.stack([xs, np.full_like(xs, s * (half + 0.5))], axis=1) for s in (-1.0, 1.0)]
    return Scene(lane_markings=marks, road_edges=edges, **kw)
