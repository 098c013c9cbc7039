"""Labels of the synthetic world at the current tick: route command, scenario, lead gap (docs/episode-format.md).

Distances are along the road reference line from the ego's box centre (m); "ahead" means 0 <= distance.
"""
from __future__ import annotations

from .sim import World
from .traffic import OBSTACLE, leader

from .. import schema

COMMAND_RANGE_M = 60.0      # the junction's command applies this far before it
CUT_IN_RANGE_M = 40.0       # bumper gap within which a vehicle merging into the ego lane is a cut-in
JUNCTION_RANGE_M = 60.0
FOLLOWING_RANGE_M = 40.0    # bumper gap to the lead within which the ego is "following"
SETTLED_OFFSET_M = 0.05     # an agent this close to its target lane centre is not changing lanes


def _junction_ahead_m(world: World) -> float | None:
    j = world.road.junction
    if j is None:
        return None
    ds = j.s - world.ego_agent().s
    return ds if ds >= 0 else None


def route_command(world: World) -> str:
    """The junction's command ("straight" at an X junction; "follow" at a T junction, which the ego passes on
    the through road) within COMMAND_RANGE_M before it, else "follow". The world has no turns yet."""
    j, ds = world.road.junction, _junction_ahead_m(world)
    if j is not None and ds is not None and ds <= COMMAND_RANGE_M:
        return j.command
    return "follow"


def lead_gap_m(world: World) -> float:
    """Bumper gap (m) to the nearest vehicle ahead in the ego lane, capped at schema.LEAD_DISTANCE_CAP_M."""
    _, gap = leader(world.agents, world.ego_agent(), world.road, world.ego_lane, True)
    if gap is None:
        return schema.LEAD_DISTANCE_CAP_M
    return float(min(max(gap, 0.0), schema.LEAD_DISTANCE_CAP_M))


def _cut_in(world: World) -> bool:
    me, road = world.ego_agent(), world.road
    for a in world.traffic:
        if a.cls == OBSTACLE or a.lane != world.ego_lane:
            continue
        merging = abs(a.d - road.lane_offset(a.lane)) > SETTLED_OFFSET_M
        ds = a.s - me.s
        if merging and ds > 0 and ds - 0.5 * (a.length + me.length) <= CUT_IN_RANGE_M:
            return True
    return False


def scenario(world: World) -> str:
    """The scenario label: the first that applies of "rain" (the weather), "cut_in" (a vehicle changing lanes
    into the ego lane within CUT_IN_RANGE_M ahead), "junction" (within JUNCTION_RANGE_M ahead), "following" (a
    lead in the ego lane within FOLLOWING_RANGE_M), else "free_road"."""
    if world.weather == "rain":
        return "rain"
    if _cut_in(world):
        return "cut_in"
    ds = _junction_ahead_m(world)
    if ds is not None and ds <= JUNCTION_RANGE_M:
        return "junction"
    if lead_gap_m(world) <= FOLLOWING_RANGE_M:
        return "following"
    return "free_road"
