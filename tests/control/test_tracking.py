"""The plan tracker that closes the loop for every planner: it must follow what it is given."""
import numpy as np

from wayvert import schema
from wayvert.control.tracking import PlanTracker
from wayvert.sim.expert import EgoState, bicycle_step


def _drive(plan_fn, seconds=6.0, v0=10.0):
    e = EgoState(0.0, 0.0, 0.0, v0)
    tr = PlanTracker()
    t = 0.0
    for k in range(int(seconds / 0.1)):
        if k % schema.HISTORY_STRIDE == 0:
            tr.set_plan(plan_fn(e), (e.x, e.y, e.yaw), e.speed, t)
        bicycle_step(e, *tr.action(e.x, e.y, e.yaw, e.speed, t), 0.1)
        t += 0.1
    return e


def test_straight_constant_speed_plan_is_followed_exactly():
    t = schema.waypoint_times()
    e = _drive(lambda e: np.stack([10 * t, 0 * t, 0 * t, 10 + 0 * t], 1))
    assert abs(e.y) < 1e-9 and abs(e.yaw) < 1e-9 and abs(e.speed - 10.0) < 1e-9
    assert abs(e.x - 60.0) < 1e-6


def test_circle_plan_keeps_the_car_on_the_circle():
    R = 60.0
    t = schema.waypoint_times()

    def plan(e):  # the circle of radius R centred at (0, R) in the world, from the car's pose
        th = np.arctan2(e.x, R - e.y) + 10.0 * t / R
        wx, wy = R * np.sin(th), R - R * np.cos(th)
        c, s = np.cos(e.yaw), np.sin(e.yaw)
        dx, dy = wx - e.x, wy - e.y
        return np.stack([c * dx + s * dy, -s * dx + c * dy, th - e.yaw, np.full_like(t, 10.0)], 1)

    e = _drive(plan, seconds=10.0)
    assert abs(np.hypot(e.x, e.y - R) - R) < 0.3          # radial error under 30 cm after 100 m of arc


def test_slowing_plan_slows_the_car():
    t = schema.waypoint_times()
    e = _drive(lambda e: np.stack([np.cumsum(np.full_like(t, 0.2 * max(e.speed - 2, 0))), 0 * t, 0 * t,
                                   np.maximum(e.speed - 2.5 * t, 0.0)], 1), seconds=8.0)
    assert e.speed < 1.0
