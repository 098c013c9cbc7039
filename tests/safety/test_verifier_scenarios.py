"""Driving scenarios the verifier must get right, each named after what it shows."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from wayvert import EgoState, Limits, Reason, VehicleProfile, Verifier
from wayvert.safety import KINEMATIC

DT = 0.1
CAR = VehicleProfile()
EGO_FRONT = CAR.length_m - CAR.rear_axle_to_rear_m  # reference point (rear axle) to front bumper, m
EGO_CENTRE = 0.5 * CAR.length_m - CAR.rear_axle_to_rear_m  # reference point to footprint centre, m


def trajectory(speeds: npt.ArrayLike, lateral: npt.ArrayLike | None = None) -> npt.NDArray[np.float32]:
    """[T, 5] points from a speed profile along x, with an optional lateral offset profile y(t); heading follows."""
    v = np.asarray(speeds, dtype=np.float64)
    t = np.arange(len(v)) * DT
    x = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * DT)])
    y = np.zeros_like(x) if lateral is None else np.asarray(lateral, dtype=np.float64)
    heading = np.arctan2(np.gradient(y), np.maximum(np.gradient(x), 1e-9))
    return np.stack([t, x, y, heading, v], axis=1).astype(np.float32)


def constant(speed: float, points: int = 40) -> npt.NDArray[np.float32]:
    return trajectory(np.full(points, speed))


def braking(speed: float, decel: float, points: int, jerk: float = 2.0) -> npt.NDArray[np.float32]:
    """Jerk-limited braking (acceleration ramps to -decel at `jerk`) to a stop, then standing."""
    a, v, out = 0.0, speed, []
    for _ in range(points):
        out.append(v)
        a = max(a - jerk * DT, -decel) if v > decel * decel / (2 * jerk) else min(a + jerk * DT, 0.0)
        v = max(v + a * DT, 0.0)
    return trajectory(out)


def car(x: float, y: float, heading: float = 0.0, speed: float = 0.0) -> list[float]:
    return [x, y, heading, speed, 4.5, 1.8, 1.0]


def test_cut_in_at_0_8_s_ttc_fails_time_to_collision_and_falls_back() -> None:
    # A car merging from the left lane at a shallow angle: its box meets ours 0.8 s from now.
    ego_v, merge_v, angle = 20.0, 15.0, -0.35
    mode = constant(ego_v)
    t_hit = 0.8
    vx, vy = merge_v * np.cos(angle), merge_v * np.sin(angle)
    obj = car(ego_v * t_hit + EGO_CENTRE - vx * t_hit, 0.0 - vy * t_hit + 1.9, angle, merge_v)
    # A plan that brakes as hard as the comfort limits allow still meets it: time to collision at constant
    # velocity (0.8 s) is under min_ttc_s (0.95 s), which fails every mode and hands over to the fallback.
    soft_brake = braking(ego_v, Limits().max_decel_mps2, 40)
    verdict = Verifier().check(np.stack([mode, soft_brake]), [1.0, 0.5], EgoState(ego_v), objects=[obj])
    ttc = list(Reason).index(Reason.TIME_TO_COLLISION)
    assert Reason.TIME_TO_COLLISION in verdict.reasons[0] and Reason.TIME_TO_COLLISION in verdict.reasons[1]
    assert np.isinf(verdict.margins[0][ttc])  # driving on runs into it
    assert verdict.chosen == -1 and verdict.fallback_used
    assert not (verdict.fallback_self_reasons & KINEMATIC)


def test_stopped_vehicle_ahead_picks_the_braking_mode_over_a_higher_scored_one() -> None:
    ego_v, points = 15.0, 80
    keep_going = constant(ego_v, points)
    brake = braking(ego_v, 2.5, points)
    stopped = car(66.0, 0.0)  # the braking mode stops 6 m short of it
    verdict = Verifier().check(np.stack([keep_going, brake]), [0.9, 0.1], EgoState(ego_v), objects=[stopped])
    assert Reason.FOLLOWING_DISTANCE in verdict.reasons[0]
    assert verdict.reasons[1] == Reason(0), verdict.reasons[1]
    assert verdict.chosen == 1  # the network's favourite is unsafe; scores only rank modes that pass
    np.testing.assert_array_equal(verdict.trajectory, brake)


def test_wet_road_following_at_2_5_s_passes_dry_and_fails_wet() -> None:
    v = 25.0
    follow = constant(v)
    # Lead car 2.5 s ahead (bumper to bumper), same speed: the dry 2 s rule holds, the doubled wet rule does not.
    lead = car(EGO_FRONT + 2.5 * v + 4.5 / 2, 0.0, 0.0, v)
    verifier = Verifier()
    dry = verifier.check(follow[None], [1.0], EgoState(v), objects=[lead])
    wet = verifier.check(follow[None], [1.0], EgoState(v), objects=[lead], wet=True)
    assert dry.reasons[0] == Reason(0), dry.reasons[0]
    assert wet.reasons[0] == Reason.FOLLOWING_DISTANCE
    assert wet.fallback_used


def test_falling_back_behind_a_close_lead_is_not_a_following_violation() -> None:
    # 1 s behind a faster car and slower than it: the gap opens, which is all a plan can do.
    lead_v, ego_v = 25.0, 20.0
    lead = car(EGO_FRONT + 20.0 + 2.25, 0.0, 0.0, lead_v)
    verdict = Verifier().check(constant(ego_v)[None], [1.0], EgoState(ego_v), objects=[lead])
    assert Reason.FOLLOWING_DISTANCE not in verdict.reasons[0]


def test_swerve_beyond_lateral_limits_fails_lateral_acceleration() -> None:
    v, points = 20.0, 40
    t = np.arange(points) * DT
    lane_change_in_1s = 3.5 * np.clip(t, 0, 1) - 3.5 / (2 * np.pi) * np.sin(2 * np.pi * np.clip(t, 0, 1))
    swerve = trajectory(np.full(points, v), lane_change_in_1s)
    gentle = trajectory(np.full(points, v), 3.5 * np.clip(t / 4, 0, 1) - 3.5 / (2 * np.pi) * np.sin(2 * np.pi * np.clip(t / 4, 0, 1)))
    verdict = Verifier().check(np.stack([swerve, gentle]), [0.8, 0.2], EgoState(v))
    assert Reason.LATERAL_ACCEL in verdict.reasons[0]
    assert not (verdict.reasons[1] & KINEMATIC), verdict.reasons[1]
    assert verdict.chosen == 1


def test_leaving_the_road_edge_fails_drivable_area_by_footprint_not_centre() -> None:
    v, points = 10.0, 40
    xs = np.linspace(-5, 80, 30)
    left = np.stack([xs, np.full_like(xs, 5.25)], axis=1)
    right = np.stack([xs, np.full_like(xs, -1.75)], axis=1)  # road edge 1.75 m right of the lane centre
    centred = constant(v, points)
    # Centre 0.9 m inside the edge, but the right corners only 0.9 - width/2 = -0.05 m: past it.
    hugging = trajectory(np.full(points, v), np.full(points, -0.85))
    drifting = trajectory(np.full(points, v), -0.6 * (np.arange(points) * DT) ** 2)
    modes = np.stack([centred, hugging, drifting])
    verdict = Verifier().check(modes, [0.1, 0.5, 0.9], EgoState(v), boundaries=(left, right))
    assert verdict.reasons[0] == Reason(0)
    assert Reason.DRIVABLE_AREA in verdict.reasons[1]
    assert Reason.DRIVABLE_AREA in verdict.reasons[2]
    assert verdict.chosen == 0


def test_a_car_already_inside_the_margin_may_keep_its_clearance_but_not_end_closer() -> None:
    """Regression (issue 14): a car whose footprint was already closer than boundary_margin_m (0.25 m) to the road
    edge failed every plan, the fallback's too, and stayed stopped there for good. Now a plan must end no closer
    than the car is and may give up half of that clearance on the way (the rear swings out as it turns away)."""
    xs = np.linspace(-5, 80, 30)
    left = np.stack([xs, np.full_like(xs, 5.25)], axis=1)
    right = np.stack([xs, np.full_like(xs, -1.10)], axis=1)  # the right corners are 1.10 - 0.95 = 0.15 m inside
    for v in (0.0, 8.0):
        points = 40
        straight = constant(v, points) if v else trajectory(np.linspace(0.0, 2.0, points))   # keeps 0.15 m
        closer = trajectory(np.full(points, max(v, 2.0)), -0.05 * np.clip(np.arange(points) * DT, 0, 1))  # 0.10 m
        back = trajectory(np.full(points, max(v, 2.0)), 0.4 * np.clip(np.arange(points) * DT / 3, 0, 1) ** 2)
        verdict = Verifier().check(np.stack([closer, straight, back]), [0.9, 0.5, 0.1], EgoState(v),
                                   boundaries=(left, right))
        assert Reason.DRIVABLE_AREA in verdict.reasons[0], v
        assert Reason.DRIVABLE_AREA not in verdict.reasons[1] and Reason.DRIVABLE_AREA not in verdict.reasons[2], v
        assert not verdict.fallback_used
    # dipping to 0.05 m on the way (under half of the 0.15 m the car has) fails though it ends where it began
    t = np.arange(40) * DT
    dip = trajectory(np.full(40, 8.0), -0.10 * np.sin(np.pi * t / t[-1]))
    assert Reason.DRIVABLE_AREA in Verifier().check(dip[None], [1.0], EgoState(8.0), boundaries=(left, right)).reasons[0]
    # with the margin available, the full 0.25 m is asked for, as before
    roomy = np.stack([xs, np.full_like(xs, -1.30)], axis=1)                     # 0.35 m inside
    hug = trajectory(np.full(40, 8.0), -0.15 * np.clip(np.arange(40) * DT, 0, 1))   # ends 0.20 m inside
    assert Reason.DRIVABLE_AREA in Verifier().check(hug[None], [1.0], EgoState(8.0), boundaries=(left, roomy)).reasons[0]
    # a car already past the edge may not keep going along it (test below)
    past = np.stack([xs, np.full_like(xs, -0.90)], axis=1)
    assert Reason.DRIVABLE_AREA in Verifier().check(constant(8.0, 40)[None], [1.0], EgoState(8.0),
                                                    boundaries=(left, past)).reasons[0]


def test_a_car_with_a_corner_past_the_edge_must_head_back_in_and_may_not_go_further_out() -> None:
    """Regression (issue 14): the fallback brakes along its arc, which can drift a footprint corner past the road
    edge; then every plan failed drivable_area (a corner past a boundary is an infinite margin), the fallback was
    driven again, and the car stood there for the rest of the route. Now such a car must end its plan half a
    margin (0.125 m) further in than it is, and may go at most half a margin further out on the way."""
    xs = np.linspace(-5, 80, 30)
    left = np.stack([xs, np.full_like(xs, 5.25)], axis=1)
    past = np.stack([xs, np.full_like(xs, -0.90)], axis=1)      # the right corners are 0.05 m past the edge
    points = 40
    for v in (0.0, 3.0):
        speeds = np.linspace(v, v + 2.0, points)
        along = trajectory(speeds)                              # stays 0.05 m past
        u = along[:, 1] / along[-1, 1]                          # share of the distance driven
        ease = u * u * (3 - 2 * u)                              # a lateral shift over the whole distance
        back = trajectory(speeds, 0.30 * ease)                  # ends 0.25 m inside
        barely = trajectory(speeds, 0.10 * ease)                # ends 0.05 m inside: not half a margin further in
        further = trajectory(speeds, -0.20 * np.sin(np.pi * u) + 0.30 * ease)
        verdict = Verifier().check(np.stack([along, barely, further, back]), [0.9, 0.8, 0.7, 0.1], EgoState(v),
                                   boundaries=(left, past))
        assert Reason.DRIVABLE_AREA in verdict.reasons[0], v
        assert Reason.DRIVABLE_AREA in verdict.reasons[1], v
        assert Reason.DRIVABLE_AREA in verdict.reasons[2], v     # 0.25 m further out on the way
        assert verdict.reasons[3] == Reason(0), (v, verdict.reasons[3])
        assert verdict.chosen == 3 and not verdict.fallback_used
        # the margin is still 1 exactly at the limit: the plan's end is compared with c + margin / 2
        assert 0.0 < verdict.margins[3, 13] <= 1.0 < verdict.margins[1, 13]


def test_all_modes_unsafe_gives_a_fallback_that_brakes_to_a_stop_within_limits() -> None:
    v, points = 12.0, 60
    nan_mode = constant(v, points)
    nan_mode[5, 2] = np.nan
    accel = Limits().max_long_accel_mps2 + 1.0
    too_fast = trajectory(v + accel * np.arange(points) * DT)
    into_car = constant(v, points)
    verdict = Verifier().check(np.stack([nan_mode, too_fast, into_car]), [1.0, 1.0, 1.0], EgoState(v, accel=0.3),
                               objects=[car(14.0, 0.0)])
    assert verdict.reasons[0] == Reason.INVALID
    assert Reason.LONG_ACCEL in verdict.reasons[1]
    assert Reason.TIME_TO_COLLISION in verdict.reasons[2]
    assert verdict.chosen == -1 and verdict.fallback_used
    assert verdict.fallback_reasons == verdict.reasons[0] | verdict.reasons[1] | verdict.reasons[2]
    fb = verdict.trajectory
    assert fb.shape == (points, 5)
    assert not (verdict.fallback_self_reasons & (KINEMATIC | Reason.CONTINUITY | Reason.INVALID))
    assert fb[-1, 4] == 0.0 and np.all(np.diff(fb[:, 4]) <= 0)
    assert np.all(np.abs(fb[:, 2]) < 1e-6)  # straight ahead: the current path


def test_fallback_follows_the_current_curve() -> None:
    v, yaw = 10.0, 0.15  # on a bend of radius 66.7 m
    bad = constant(v)
    bad[0, 4] = 30.0  # a speed jump: continuity fails
    verdict = Verifier().check(bad[None], [1.0], EgoState(v, yaw_rate=yaw))
    assert verdict.fallback_used
    fb = verdict.trajectory
    kappa = yaw / v
    s = np.hypot(fb[1:, 1] - fb[:-1, 1], fb[1:, 2] - fb[:-1, 2]).sum()
    np.testing.assert_allclose(fb[-1, 3], kappa * s, rtol=2e-3)  # heading turned by curvature x distance
    assert fb[-1, 2] > 0  # bending left, like the ego


# ----------------------------------------------------------------------------------------------------------
# The expert and the verifier agree (issue 14): one following rule, TTC along the plan, nothing from behind.


def test_following_at_the_experts_1_5_s_time_gap_passes_dry_and_fails_wet() -> None:
    """The time gap the expert's IDM keeps (T = 1.5 s dry, 3 s in rain) is the gap the verifier requires."""
    v = 13.9
    lead = car(EGO_FRONT + 1.55 * v + 4.5 / 2, 0.0, 0.0, v)
    verifier = Verifier()
    dry = verifier.check(constant(v)[None], [1.0], EgoState(v), objects=[lead])
    wet = verifier.check(constant(v)[None], [1.0], EgoState(v), objects=[lead], wet=True)
    assert dry.reasons[0] == Reason(0), dry.reasons[0]
    assert wet.reasons[0] == Reason.FOLLOWING_DISTANCE


def test_the_expert_keeps_the_verifiers_time_gap() -> None:
    from types import SimpleNamespace

    from wayvert.sim.expert import expert_params

    limits = Limits()
    dry = expert_params(SimpleNamespace(weather="dry", ego_v0=13.9))  # type: ignore[arg-type]
    rain = expert_params(SimpleNamespace(weather="rain", ego_v0=12.5))  # type: ignore[arg-type]
    assert dry.T == limits.time_gap_dry_s
    assert rain.T == limits.time_gap_dry_s * limits.wet_time_gap_factor


def test_a_faster_car_closing_in_from_behind_is_not_a_collision_of_the_plan() -> None:
    """A constant-velocity prediction drives a follower through the ego; no forward plan can avoid that, and the
    follower is the one that must keep its distance (nuPlan's is_agent_behind, 150 degrees)."""
    ego_v = 10.0
    follower = car(-6.0 - 2.25, 0.0, 0.0, 14.0)  # 6 m behind the rear axle, 4 m/s faster
    verdict = Verifier().check(constant(ego_v)[None], [1.0], EgoState(ego_v), objects=[follower])
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]


# A straight two-lane carriageway: right edge 1.75 m right of the ego's lane centre, left edge 5.25 m left of it
# (the ego's lane and one lane to its left, 3.5 m each).
TWO_LANES = (np.array([[-60.0, 5.25], [200.0, 5.25]]), np.array([[-60.0, -1.75], [200.0, -1.75]]))


def lane_change_left(speed: float, seconds: float = 4.0, points: int = 50) -> npt.NDArray[np.float32]:
    """At constant speed, 3.5 m to the left along a minimum-jerk (quintic) path over ``seconds``, then straight on."""
    u = np.clip(np.arange(points) * DT / seconds, 0.0, 1.0)
    return trajectory(np.full(points, speed), 3.5 * u**3 * (10 - 15 * u + 6 * u * u))


def test_moving_into_the_next_lane_ahead_of_a_faster_car_from_behind_fails() -> None:
    """A car 12 m behind in the lane to the left, 5 m/s faster. Keeping the lane passes: it will overtake. Moving
    into its lane in front of it fails: the ego, not the car behind, changes lanes, and the car would have to brake
    harder than 3 m/s² to keep 1 s behind the ego (UN R79's lane-change rule; docs/verifier.md 6.8). Seen in closed
    loop on route 70005: ignored as 'behind', such a car hit the ego's side."""
    v = 10.0
    behind_left = car(-12.0 - EGO_FRONT, 3.5, 0.0, v + 5.0)
    verdict = Verifier().check(np.stack([constant(v, 50), lane_change_left(v)]), [0.5, 1.0], EgoState(v),
                               objects=[behind_left], boundaries=TWO_LANES)
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]
    assert verdict.reasons[1] & (Reason.FOLLOWING_DISTANCE | Reason.TIME_TO_COLLISION), verdict.reasons[1]
    assert verdict.chosen == 0


def test_moving_into_the_next_lane_far_ahead_of_a_car_from_behind_passes() -> None:
    """The same lane change with the car 60 m back at the ego's speed: the gap it leaves is ample."""
    v = 10.0
    far_behind = car(-60.0, 3.5, 0.0, v)
    verdict = Verifier().check(lane_change_left(v)[None], [1.0], EgoState(v), objects=[far_behind],
                               boundaries=TWO_LANES)
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]


def test_a_car_from_behind_that_changes_into_the_egos_lane_is_its_own_to_resolve() -> None:
    """A faster car behind in the next lane, drifting across into the ego's lane: its manoeuvre, not the ego's. A
    plan that keeps its lane is not failed for it (it would be failed for every plan alike)."""
    v = 10.0
    merging_from_behind = car(-9.0 - EGO_FRONT, 3.0, -0.12, v + 4.0)
    verdict = Verifier().check(constant(v)[None], [1.0], EgoState(v), objects=[merging_from_behind],
                               boundaries=TWO_LANES)
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]


def test_a_car_in_the_next_lane_of_a_curve_is_judged_on_the_plans_own_path() -> None:
    """On a right-hand curve (radius 50 m) the constant-velocity projection from the first point leaves the lane
    and meets the car in the outer lane within 0.9 s; the plan follows the curve and passes it with room."""
    v, radius, points = 10.0, 50.0, 40
    s = v * np.arange(points) * DT
    x, y = radius * np.sin(s / radius), -radius * (1 - np.cos(s / radius))
    follow_curve = np.stack([np.arange(points) * DT, x, y, -s / radius, np.full(points, v)], 1).astype(np.float32)
    theta = 5.0 / (radius + 3.5)
    other = car((radius + 3.5) * np.sin(theta), -radius + (radius + 3.5) * np.cos(theta), -theta, v)
    ego = EgoState(v, yaw_rate=-v / radius, steering=-np.arctan(CAR.wheelbase_m / radius))
    verdict = Verifier().check(follow_curve[None], [1.0], ego, objects=[other])
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]


def test_time_to_collision_follows_the_plans_own_braking() -> None:
    """A pedestrian crossing 3 m ahead is met 0.75 s from now at constant speed; a plan that keeps braking at
    3.5 m/s² (as the ego already does) reaches its path only after 1.8 s. TTC is measured along the plan."""
    ego_v, decel, points = 4.0, 3.5, 10
    pedestrian = [EGO_FRONT + 3.0 + 0.3, 1.5, -np.pi / 2, 1.0, 0.6, 0.6, 3.0]
    t = np.arange(points) * DT
    keep_braking = trajectory(ego_v - decel * t)
    ttc = list(Reason).index(Reason.TIME_TO_COLLISION)
    verdict = Verifier().check(np.stack([constant(ego_v, points), keep_braking]), [1.0, 0.5],
                               EgoState(ego_v, accel=-decel), objects=[pedestrian])
    assert Reason.TIME_TO_COLLISION in verdict.reasons[0]
    assert Reason.TIME_TO_COLLISION not in verdict.reasons[1], verdict.reasons[1]
    assert 0.0 < verdict.margins[1][ttc] < 0.95 / 1.5


# ----------------------------------------------------------------------------------------------------------
# Low speed is not a trap (issue 14): curvature over chords of at least 2 m.


def creeping(speed0: float, accel: float, noise_m: float, points: int = 21, dt: float = 0.2) -> npt.NDArray[np.float32]:
    """A network-like plan at 0.2 s: along x from standstill or a crawl, with centimetre zig-zag sideways."""
    t = np.arange(points) * dt
    v = np.maximum(speed0 + accel * t, 0.0)
    x = speed0 * t + 0.5 * accel * t * t
    y = noise_m * np.where(np.arange(points) % 2 == 0, 1.0, -1.0)
    y[0] = 0.0
    return np.stack([t, x, y, np.zeros(points), v], 1).astype(np.float32)


def test_a_plan_creeping_with_centimetre_noise_is_not_judged_on_a_shape_it_does_not_have() -> None:
    plan = creeping(0.3, 0.0, 0.03)
    verdict = Verifier().check(plan[None], [1.0], EgoState(0.3))
    assert verdict.reasons[0] == Reason(0), verdict.reasons[0]


def test_a_car_stopped_by_the_fallback_starts_again_on_the_networks_plan() -> None:
    """At standstill (the fallback stopped the car; the road has cleared) the network's plan pulls away at
    1.5 m/s² with its first waypoints a few centimetres apart and noisy sideways: it is chosen."""
    plan = creeping(0.0, 1.5, 0.02)
    verdict = Verifier().check(plan[None], [1.0], EgoState(0.0))
    assert verdict.chosen == 0 and not verdict.fallback_used, verdict.reasons[0]


def test_a_tight_turn_at_walking_pace_still_fails_curvature() -> None:
    """Geometry that exists is still judged: a 2 m radius at 2 m/s is beyond the steering lock."""
    v, radius, points = 2.0, 2.0, 41
    s = v * np.arange(points) * DT
    plan = np.stack([np.arange(points) * DT, radius * np.sin(s / radius), radius * (1 - np.cos(s / radius)),
                     s / radius, np.full(points, v)], 1).astype(np.float32)
    verdict = Verifier().check(plan[None], [1.0], EgoState(v, yaw_rate=v / radius))
    assert Reason.CURVATURE in verdict.reasons[0] and Reason.STEERING in verdict.reasons[0]


def test_a_car_in_the_inner_lane_of_a_curve_follows_the_road_when_the_road_is_known() -> None:
    """Predicted in a straight line, a car in the inner lane of a 100 m curve drifts across the ego's lane within
    4 s; with the carriageway's edges it is predicted along the road and keeps to its lane (docs/verifier.md 6.7)."""
    v, radius, points = 12.0, 100.0, 40
    s = v * np.arange(points) * DT
    right_turn = np.stack([np.arange(points) * DT, radius * np.sin(s / radius), -radius * (1 - np.cos(s / radius)),
                           -s / radius, np.full(points, v)], 1).astype(np.float32)
    inner, theta = radius - 3.5, 3.0 / radius
    other = car(inner * np.sin(theta), -radius + inner * np.cos(theta), -theta, v)
    phi = np.linspace(-0.3, 1.2, 200)
    edge = [(r * np.sin(phi), -radius + r * np.cos(phi)) for r in (radius + 1.75, radius - 5.25)]
    left, right = (np.stack(e, 1).astype(np.float32) for e in edge)
    ego = EgoState(v, yaw_rate=-v / radius, steering=-np.arctan(CAR.wheelbase_m / radius))
    verifier = Verifier()
    straight = verifier.check(right_turn[None], [1.0], ego, objects=[other])
    along_road = verifier.check(right_turn[None], [1.0], ego, objects=[other], boundaries=(left, right))
    assert Reason.TIME_TO_COLLISION in straight.reasons[0]
    assert along_road.reasons[0] == Reason(0), along_road.reasons[0]


def test_braking_to_restore_the_gap_after_a_cut_in_passes_and_holding_it_fails() -> None:
    """A car cuts in 17 m ahead at 11.5 m/s while the ego drives 12 m/s (1.4 s, under the 1.5 s rule, above RSS): a
    plan that slows gently to below the lead's speed restores the gap (UN R157 5.2.3.3); one that holds it does
    not."""
    ego_v, lead_v = 12.0, 11.5
    lead = car(EGO_FRONT + 17.0 + 2.25, 0.0, 0.0, lead_v)
    a, v, speeds = 0.0, ego_v, []
    for _ in range(40):  # ease off at 1 m/s^3 to -1 m/s^2, back to 0 as the speed reaches 11 m/s
        speeds.append(v)
        a = max(a - 0.1, -1.0) if v - 11.0 > a * a / 2.0 else min(a + 0.1, 0.0)
        v += a * DT
    verdict = Verifier().check(np.stack([constant(ego_v), trajectory(speeds)]), [1.0, 0.5], EgoState(ego_v),
                               objects=[lead])
    assert verdict.reasons[0] == Reason.FOLLOWING_DISTANCE
    assert verdict.reasons[1] == Reason(0), verdict.reasons[1]
    assert verdict.chosen == 1
