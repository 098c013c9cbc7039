"""Properties of the trajectory safety verifier, checked with hypothesis.

Trajectories are built physically consistent: a curvature profile and a speed profile are integrated
(heading' = kappa * v, exact arcs per 0.1 s segment) from the ego state at the origin. The kinematic checks
are re-implemented here in numpy (float64, on the same float32 samples the C++ sees) with the finite-difference
definitions of cpp/src/safety/kinematics.cpp, and every verdict is compared with that independent value:

* segment i (points i, i+1): longitudinal acceleration (v[i+1] - v[i]) / (t[i+1] - t[i]) from the speed channel;
  long jerk between consecutive segments over half the span of their outer points;
* vertex i (interior points): the nearest samples j < i and k > i at least 2 m away in a straight line (a vertex
  without both is not judged); turn = wrap(dir(i->k) - dir(j->i)); curvature = turn / mean of the two chord
  lengths (0 when |turn| < 1e-6); steering = atan(wheelbase x curvature); lateral acceleration = v[i]^2 x
  curvature; yaw rate = |turn| / half the time from j to k;
* lateral jerk and steering rate: differences between consecutive judged vertices over their time difference.

The reference carries, per vertex, a bound on the float32 noise of the C++ turn (2e-6 rad) and every choice of j
and k a float32 distance within 1e-5 of 2 m allows, so each quantity is an interval [lo, hi]; a verdict must
set the bit when lo > limit (1 + 1e-3) and clear it when hi < limit (1 - 1e-3).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import wayvert
from wayvert import EgoState, Limits, Reason, VehicleProfile, Verifier
from wayvert.safety import CHECK_NAMES, KINEMATIC

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

DT = 0.1
CHORD_M = 2.0  # the verifier's chord for curvature (cpp/src/safety/kinematics.cpp)
EPS = 1e-3  # relative band around a limit inside which the test does not judge
TWO_PI = 2.0 * math.pi
VEHICLE = VehicleProfile()
LIMITS = Limits()
COL = {name: i for i, name in enumerate(CHECK_NAMES)}

# WV_PROPERTY_EXAMPLES=2000 for a longer search than the default run's.
PROPS = settings(max_examples=int(os.environ.get("WV_PROPERTY_EXAMPLES", "150")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

KINEMATIC_CHECKS = ("curvature", "steering", "steering_rate", "lateral_accel", "lateral_jerk", "long_accel", "decel",
                    "long_jerk", "yaw_rate")
LATERAL_CHECKS = {"curvature", "steering", "steering_rate", "lateral_accel", "lateral_jerk", "yaw_rate"}


def reason_of(check: str) -> Reason:
    return Reason(1 << COL[check])


def limit_of(check: str) -> float:
    return {
        "curvature": LIMITS.max_curvature_per_m,
        "steering": VEHICLE.max_steering_rad,
        "steering_rate": VEHICLE.max_steering_rate_rps,
        "lateral_accel": LIMITS.max_lateral_accel_mps2,
        "lateral_jerk": LIMITS.max_lateral_jerk_mps3,
        "long_accel": LIMITS.max_long_accel_mps2,
        "decel": LIMITS.max_decel_mps2,
        "long_jerk": LIMITS.max_long_jerk_mps3,
        "yaw_rate": LIMITS.max_yaw_rate_rps,
    }[check]


# ----------------------------------------------------------------------------------------------------------
# Building physically consistent trajectories


def integrate(kappa_seg: npt.ArrayLike, speeds: npt.ArrayLike, dt: float = DT) -> F32:
    """[T, 5] (t, x, y, heading, speed) from per-segment curvature [T-1] and speeds [T] >= 0, starting at the
    origin with heading 0. Within a segment the curvature is constant and the distance is the trapezoid of the
    speeds, so each segment is an exact arc: heading' = kappa * v."""
    v = np.asarray(speeds, dtype=np.float64)
    k = np.asarray(kappa_seg, dtype=np.float64)
    t = np.arange(len(v)) * dt
    ds = 0.5 * (v[1:] + v[:-1]) * dt
    dpsi = k * ds
    psi = np.concatenate([[0.0], np.cumsum(dpsi)])
    chord = ds * np.sinc(dpsi / TWO_PI)  # 2 sin(dpsi / 2) / kappa
    mid = psi[:-1] + 0.5 * dpsi
    x = np.concatenate([[0.0], np.cumsum(chord * np.cos(mid))])
    y = np.concatenate([[0.0], np.cumsum(chord * np.sin(mid))])
    return np.stack([t, x, y, psi, v], axis=1).astype(np.float32)


def profile(knots: list[float], steps: bool, n: int) -> F64:
    """n samples of a profile through equally spaced knots, linear or piecewise constant."""
    u = (np.arange(n) + 0.5) / n
    kn = np.asarray(knots, dtype=np.float64)
    if len(kn) == 1:
        return np.full(n, kn[0])
    if steps:
        return np.asarray(kn[np.minimum((u * len(kn)).astype(int), len(kn) - 1)], dtype=np.float64)
    return np.interp(u, np.linspace(0.0, 1.0, len(kn)), kn)


@dataclass
class Shape:
    """What a trajectory is made of, before scaling: curvature per segment, speed = max(0, v0 + c * dv)."""

    points: int
    v0: float
    kappa: F64  # [T-1]
    dv: F64  # [T] speed change from v0 (integrated acceleration profile), dv[0] = 0

    def build(self, c_lat: float = 1.0, c_lon: float = 1.0) -> F32:
        return integrate(c_lat * self.kappa, np.maximum(self.v0 + c_lon * self.dv, 0.0))

    def ego(self, c_lon: float = 1.0) -> EgoState:
        traj = self.build(1.0, c_lon)
        v0 = float(traj[0, 4])
        a0 = float((traj[1, 4] - traj[0, 4]) / DT)
        return EgoState(speed=v0, accel=a0, yaw_rate=float(self.kappa[0]) * v0)


@st.composite
def shapes(draw: Any, max_kappa: float = 0.25, max_v0: float = 35.0, accel: tuple[float, float] = (-7.0, 4.0)) -> Shape:
    points = draw(st.integers(10, 60))
    v0 = draw(st.floats(0.0, max_v0))
    kn = draw(st.lists(st.floats(-max_kappa, max_kappa), min_size=1, max_size=6))
    an = draw(st.lists(st.floats(*accel), min_size=1, max_size=6))
    kappa = profile(kn, draw(st.booleans()), points - 1)
    acc = profile(an, draw(st.booleans()), points - 1)
    dv = np.concatenate([[0.0], np.cumsum(acc * DT)])
    return Shape(points, v0, kappa, dv)


# ----------------------------------------------------------------------------------------------------------
# Independent numpy re-implementation of the kinematic checks (interval per quantity)


def wrap(a: npt.ArrayLike) -> F64:
    a = np.asarray(a, dtype=np.float64)
    return a - TWO_PI * np.round(a / TWO_PI)  # std::remainder: nearest multiple, ties to even


def kinematic_reference(traj: F32, vehicle: VehicleProfile = VEHICLE) -> dict[str, tuple[float, float]]:
    """check name -> (lo, hi) bounds on the C++ value (not yet divided by its limit)."""
    p = np.asarray(traj, dtype=np.float64)
    t, x, y, h, v = p.T
    out: dict[str, tuple[float, float]] = {}

    # Longitudinal: segment accelerations and the jerk between consecutive segments.
    long_a = np.diff(v) / np.diff(t)
    acc, dec = max(0.0, float(long_a.max())), max(0.0, float((-long_a).max()))
    out["long_accel"] = (acc * (1 - 1e-5), acc * (1 + 1e-5) + 1e-6)
    out["decel"] = (dec * (1 - 1e-5), dec * (1 + 1e-5) + 1e-6)
    if len(long_a) > 1:
        span = 0.5 * (t[2:] - t[:-2])
        jerk = np.abs(np.diff(long_a)) / span
        njerk = 1e-5 * (np.abs(long_a[1:]) + np.abs(long_a[:-1]) + 1e-3) / span
        out["long_jerk"] = (max(0.0, float((jerk - njerk).max())), float((jerk + njerk).max()))
    else:
        out["long_jerk"] = (0.0, 0.0)

    # Lateral: chords of at least CHORD_M on each side of a vertex.
    if len(t) < 3:
        for c in LATERAL_CHECKS:
            out[c] = (0.0, 0.0)
        return out
    L = vehicle.wheelbase_m
    n = len(t)

    def choices(i: int, step: int) -> tuple[list[int], bool]:
        """Indices the C++ may pick walking from i by step (first at >= CHORD_M), and whether it surely picks one."""
        picks: list[int] = []
        m = i + step
        while 0 <= m < n:
            d = math.hypot(x[m] - x[i], y[m] - y[i])
            if d >= CHORD_M * (1 - 1e-5):
                picks.append(m)
            if d >= CHORD_M * (1 + 1e-5):
                return picks, True
            m += step
        return picks, False

    # Per vertex: (surely judged, signed kappa interval, yaw-rate interval), or None when surely not judged.
    vert: list[tuple[bool, float, float, float, float] | None] = [None]
    for i in range(1, n - 1):
        back, sure_b = choices(i, -1)
        front, sure_f = choices(i, 1)
        if not back or not front:
            vert.append(None)
            continue
        ks, ys = [], []
        for j in back:
            for k in front:
                lb, lf = math.hypot(x[i] - x[j], y[i] - y[j]), math.hypot(x[k] - x[i], y[k] - y[i])
                turn = float(wrap(math.atan2(y[k] - y[i], x[k] - x[i]) - math.atan2(y[i] - y[j], x[i] - x[j])))
                for tr in (turn - 2e-6, turn + 2e-6):
                    ks.append(0.0 if abs(tr) < 1e-6 else tr / (0.5 * (lb + lf)))
                ys += [max(abs(turn) - 2e-6, 0.0) / (0.5 * (t[k] - t[j])), (abs(turn) + 2e-6) / (0.5 * (t[k] - t[j]))]
        vert.append((sure_b and sure_f, min(ks), max(ks), min(ys), max(ys)))
    vert.append(None)

    def abs_interval(lo: float, hi: float) -> tuple[float, float]:
        return (0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))

    acc = {c: [0.0, 0.0] for c in ("curvature", "steering", "lateral_accel", "yaw_rate")}
    signed: dict[int, dict[str, tuple[float, float]]] = {}
    for i, vi in enumerate(vert):
        if vi is None:
            continue
        sure, lo_k, hi_k, lo_y, hi_y = vi
        vv = v[i] * v[i]
        signed[i] = {"lat": (vv * lo_k, vv * hi_k), "delta": (math.atan(L * lo_k), math.atan(L * hi_k))}
        vals = {"curvature": abs_interval(lo_k, hi_k), "steering": abs_interval(*signed[i]["delta"]),
                "lateral_accel": abs_interval(*signed[i]["lat"]), "yaw_rate": (lo_y, hi_y)}
        for c, (lo, hi) in vals.items():
            acc[c][1] = max(acc[c][1], hi)
            if sure:
                acc[c][0] = max(acc[c][0], lo)
    for c, (lo, hi) in acc.items():
        out[c] = (lo, hi)

    # Rates between consecutive judged vertices; a vertex that may or may not be judged is bounded both ways.
    judged = [i for i, vi in enumerate(vert) if vi is not None]
    lj_lo = lj_hi = sr_lo = sr_hi = 0.0
    for n_a, a in enumerate(judged):
        for m, b in enumerate(judged[n_a + 1:]):
            dt = t[b] - t[a]
            for key, lim in (("lat", "lj"), ("delta", "sr")):
                (alo, ahi), (blo, bhi) = signed[a][key], signed[b][key]
                hi = max(abs(bhi - alo), abs(ahi - blo)) / dt
                lo = max(0.0, blo - ahi, alo - bhi) / dt
                if lim == "lj":
                    lj_hi = max(lj_hi, hi)
                    if m == 0 and vert[a][0] and vert[b][0]:  # type: ignore[index]
                        lj_lo = max(lj_lo, lo)
                else:
                    sr_hi = max(sr_hi, hi)
                    if m == 0 and vert[a][0] and vert[b][0]:  # type: ignore[index]
                        sr_lo = max(sr_lo, lo)
            if vert[b][0]:  # type: ignore[index]
                break
    out["lateral_jerk"] = (lj_lo, lj_hi)
    out["steering_rate"] = (sr_lo, sr_hi)
    return out


def assert_kinematics_agree(traj: F32, reasons: Reason, margins: F32, checks: tuple[str, ...] = KINEMATIC_CHECKS) -> None:
    ref = kinematic_reference(traj)
    for c in checks:
        lo, hi = ref[c]
        lim = limit_of(c)
        m = float(margins[COL[c]])
        note(f"{c}: reference [{lo / lim:.6g}, {hi / lim:.6g}] x limit, C++ margin {m:.6g}, reasons {reasons!r}")
        assert lo / lim * (1 - 1e-4) - 1e-6 <= m <= hi / lim * (1 + 1e-4) + 1e-6, \
            f"{c}: C++ margin {m} outside the reference [{lo / lim}, {hi / lim}]"
        if lo > lim * (1 + EPS):
            assert reason_of(c) in reasons, f"{c} broken ({lo / lim:.6g} x limit) but not reported: {reasons!r}"
        if hi < lim * (1 - EPS):
            assert reason_of(c) not in reasons, f"{c} within its limit ({hi / lim:.6g} x) but reported: {reasons!r}"


def point_estimate(traj: F32, check: str) -> float:
    lo, hi = kinematic_reference(traj)[check]
    return 0.5 * (lo + hi)


# Ratios of the limit to aim at: most close to it, on both sides.
RATIOS = st.one_of(st.sampled_from([0.5, 0.9, 0.99, 0.997, 0.9985, 1.0015, 1.003, 1.01, 1.1, 2.0]),
                   st.floats(0.3, 2.5))


def aim(shape: Shape, check: str, ratio: float) -> tuple[float, float] | None:
    """Scale factors (c_lat, c_lon) that bring `check` of the shape's trajectory near ratio x its limit (None
    when the shape has nothing to scale). Lateral checks are re-aimed a few times: the chord a vertex's curvature
    is measured over depends on the path's shape, so they do not scale exactly with c_lat."""
    measured, target = check, ratio * limit_of(check)
    if check == "steering":
        measured, target = "curvature", math.tan(min(ratio * limit_of(check), 1.5)) / VEHICLE.wheelbase_m
    c = 1.0
    for _ in range(4 if check in LATERAL_CHECKS else 1):
        scale = (c, 1.0) if check in LATERAL_CHECKS else (1.0, c)
        base = point_estimate(shape.build(*scale), measured)
        if not base > 1e-9 or not np.all(np.isfinite(shape.build(*scale))):
            return None
        c *= target / base
        if not c < 1e4:
            return None
    return (c, 1.0) if check in LATERAL_CHECKS else (1.0, c)


def aimed(shape: Shape, check: str, ratio: float) -> tuple[F32, float]:
    """The shape's trajectory aimed at ratio x the check's limit, and its c_lon (inside a hypothesis test)."""
    scale = aim(shape, check, ratio)
    assume(scale is not None)
    assert scale is not None
    traj = shape.build(*scale)
    assume(bool(np.all(np.isfinite(traj))))
    return traj, scale[1]


verifier = Verifier()


# ----------------------------------------------------------------------------------------------------------
# 1. A trajectory that breaks a limit is never passed; one within all limits is not failed for them.


@pytest.mark.parametrize("check", KINEMATIC_CHECKS)
@PROPS
@given(shape=shapes(), ratio=RATIOS)
def test_kinematic_limits_match_an_independent_reimplementation(check: str, shape: Shape, ratio: float) -> None:
    traj, c_lon = aimed(shape, check, ratio)
    note(f"trajectory (t, x, y, heading, speed):\n{traj!r}")
    verdict = verifier.check(traj[None], [1.0], shape.ego(c_lon))
    reasons = verdict.reasons[0]
    assert_kinematics_agree(traj, reasons, verdict.margins[0])
    lo, hi = kinematic_reference(traj)[check]
    if lo > limit_of(check) * (1 + EPS):
        assert not verdict.passed[0] and verdict.chosen == -1 and verdict.fallback_used
        assert reason_of(check) in verdict.fallback_reasons


def test_the_reference_sees_both_sides_of_every_limit() -> None:
    """The aimed generator does produce trajectories just above and just below each limit (a sanity check of
    the test itself, on a fixed shape)."""
    shape = Shape(40, 20.0, profile([0.02, -0.05, 0.08], False, 39), np.concatenate([[0.0], np.cumsum(
        profile([1.0, -2.0, 0.5], False, 39) * DT)]))
    for check in KINEMATIC_CHECKS:
        for ratio, expect in ((0.99, False), (1.01, True)):
            scale = aim(shape, check, ratio)
            assert scale is not None
            traj = shape.build(*scale)
            verdict = verifier.check(traj[None], [1.0], shape.ego())
            lo, hi = kinematic_reference(traj)[check]
            assert (lo > limit_of(check) * (1 + EPS)) if expect else (hi < limit_of(check) * (1 - EPS)), (check, lo, hi)
            assert (reason_of(check) in verdict.reasons[0]) == expect, (check, ratio, verdict.reasons[0])


# ----------------------------------------------------------------------------------------------------------
# 2. Driving the same path slower never breaks a kinematic limit.


@PROPS
@given(shape=shapes(max_kappa=0.2, accel=(-6.0, 3.0)), check=st.sampled_from(KINEMATIC_CHECKS),
       ratio=st.one_of(st.sampled_from([0.999, 0.9999, 1.0]), st.floats(0.3, 1.0)),
       alpha=st.floats(0.1, 0.999))
def test_slowing_down_on_the_same_path_never_fails_a_kinematic_check(shape: Shape, check: str, ratio: float,
                                                                     alpha: float) -> None:
    traj, c_lon = aimed(shape, check, ratio)
    original = verifier.check(traj[None], [1.0], shape.ego(c_lon))
    assume(not (original.reasons[0] & KINEMATIC))
    slow = traj.copy()
    slow[:, 0] = traj[:, 0] / np.float32(alpha)
    slow[:, 4] = traj[:, 4] * np.float32(alpha)
    ego = shape.ego(c_lon)
    ego_slow = EgoState(speed=float(slow[0, 4]), accel=ego.accel * alpha * alpha, yaw_rate=ego.yaw_rate * alpha)
    verdict = verifier.check(slow[None], [1.0], ego_slow)
    note(f"original margins {dict(zip(CHECK_NAMES, original.margins[0]))}")
    note(f"slowed margins {dict(zip(CHECK_NAMES, verdict.margins[0]))}")
    assert not (verdict.reasons[0] & KINEMATIC), verdict.reasons[0]
    # Each ratio scales by a power of alpha (curvature and steering stay, yaw and steering rate x alpha, ...);
    # the absolute slack is float32 rounding of the scaled samples (a jerk of ~1e-4 x its limit at 40 m/s).
    for c in KINEMATIC_CHECKS:
        assert verdict.margins[0][COL[c]] <= original.margins[0][COL[c]] * (1 + 1e-4) + 1e-3, c


# ----------------------------------------------------------------------------------------------------------
# 3. The fallback passes the kinematic checks from any valid ego state.


@st.composite
def valid_egos(draw: Any) -> EgoState:
    v = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.0001, 40.0]), st.floats(0.0, 40.0)))
    accel = draw(st.floats(-LIMITS.max_decel_mps2, LIMITS.max_long_accel_mps2))
    u = draw(st.one_of(st.sampled_from([-1.0, 0.0, 1.0]), st.floats(-1.0, 1.0)))
    kmax = 0.95 * min(LIMITS.max_curvature_per_m,
                      LIMITS.max_lateral_accel_mps2 / v**2 if v**2 > 0 else math.inf,
                      LIMITS.max_yaw_rate_rps / v if v > 0 else math.inf)
    kappa = u * kmax
    other = draw(st.floats(-1.0, 1.0))
    if v > 1.0:  # the fallback reads the path from the yaw rate; steering is free within its limit
        return EgoState(v, accel, yaw_rate=kappa * v, steering=other * VEHICLE.max_steering_rad)
    steering = math.atan(kappa * VEHICLE.wheelbase_m)
    assert abs(steering) <= VEHICLE.max_steering_rad
    return EgoState(v, accel, yaw_rate=other * LIMITS.max_yaw_rate_rps, steering=steering)


def all_invalid(modes: int, points: int) -> F32:
    return np.full((modes, points, 5), np.nan, dtype=np.float32)


@PROPS
@given(ego=valid_egos(), points=st.integers(10, 128), modes=st.integers(1, 4))
def test_the_fallback_passes_every_kinematic_check_from_any_valid_ego_state(ego: EgoState, points: int,
                                                                           modes: int) -> None:
    verdict = verifier.check(all_invalid(modes, points), np.ones(modes), ego)
    fb = verdict.trajectory
    note(f"fallback (t, x, y, heading, speed):\n{fb!r}")
    assert verdict.fallback_used and verdict.chosen == -1
    assert all(r == Reason.INVALID for r in verdict.reasons)
    assert not (verdict.fallback_self_reasons & (KINEMATIC | Reason.CONTINUITY | Reason.INVALID)), \
        verdict.fallback_self_reasons
    assert fb.shape == (points, 5) and np.all(np.isfinite(fb))
    np.testing.assert_allclose(fb[:, 0], np.arange(points) * LIMITS.fallback_dt_s, rtol=1e-6, atol=1e-6)
    # Starts where the ego is, at its speed.
    assert fb[0, 1] == 0.0 and fb[0, 2] == 0.0 and fb[0, 3] == 0.0
    assert fb[0, 4] == np.float32(ego.speed)
    # Braking only, down to a standstill when the horizon allows.
    assert np.all(np.diff(fb[:, 4]) <= 0.0), np.diff(fb[:, 4]).max()
    assert np.all(fb[:, 4] >= 0.0)
    stop_time = ego.speed / LIMITS.fallback_decel_mps2 + LIMITS.fallback_decel_mps2 / LIMITS.fallback_jerk_mps3 + 1.0
    if (points - 1) * LIMITS.fallback_dt_s >= stop_time:
        assert fb[-1, 4] == 0.0, fb[-1, 4]
    # The independent reference agrees that the fallback is within every kinematic limit (braking and its jerk
    # against the emergency figures it is built with, where those exceed the comfort limits).
    ref = kinematic_reference(fb)
    emergency = {"decel": max(LIMITS.max_decel_mps2, LIMITS.fallback_decel_mps2),
                 "long_jerk": max(LIMITS.max_long_jerk_mps3, LIMITS.fallback_jerk_mps3)}
    for c in KINEMATIC_CHECKS:
        lim = emergency.get(c, limit_of(c))
        assert ref[c][0] <= lim * (1 + 1e-5), (c, ref[c], lim)


@pytest.mark.parametrize("ego", [EgoState(1.0, steering=VEHICLE.max_steering_rad),
                                 EgoState(0.3, accel=-1.0, steering=-VEHICLE.max_steering_rad),
                                 EgoState(3.8, yaw_rate=LIMITS.max_yaw_rate_rps)])
def test_the_fallback_at_full_steering_lock_stays_within_the_curvature_limit(ego: EgoState) -> None:
    """At the edge of the valid states (the brief's property keeps 5% away): the fallback clamps its path to the
    curvature limit, and the check's chord-based curvature must not read that arc as beyond it."""
    verdict = verifier.check(all_invalid(1, 40), [1.0], ego)
    assert not (verdict.fallback_self_reasons & (KINEMATIC | Reason.CONTINUITY | Reason.INVALID)), \
        verdict.fallback_self_reasons


# ----------------------------------------------------------------------------------------------------------
# Scenes with other road users and road boundaries (for the robustness properties)


@dataclass
class Scene:
    trajectories: F32  # [K, T, 5]
    scores: F32  # [K]
    ego: EgoState
    objects: F32  # [M, 7]
    left: F32  # [N, 2]
    right: F32  # [N, 2]
    wet: bool

    def check(self, v: Verifier | None = None) -> wayvert.Verdict:
        return (v or verifier).check(self.trajectories, self.scores, self.ego, objects=self.objects,
                                     boundaries=(self.left, self.right), wet=self.wet)


@st.composite
def scenes(draw: Any, min_objects: int = 0, min_boundary: int = 0) -> Scene:
    points = draw(st.integers(10, 60))
    v0 = draw(st.floats(0.0, 25.0))
    modes = []
    for _ in range(draw(st.integers(1, 4))):
        kn = draw(st.lists(st.floats(-0.04, 0.04), min_size=1, max_size=4))
        an = draw(st.lists(st.floats(-4.0, 2.0), min_size=1, max_size=4))
        acc = profile(an, False, points - 1)
        modes.append(integrate(profile(kn, False, points - 1),
                               np.maximum(v0 + np.concatenate([[0.0], np.cumsum(acc * DT)]), 0.0)))
    traj = np.stack(modes)
    scores = np.asarray(draw(st.lists(st.floats(0.0, 1.0), min_size=len(modes), max_size=len(modes))), np.float32)
    obj = draw(st.lists(st.tuples(st.floats(-20.0, 80.0), st.floats(-8.0, 8.0), st.floats(-math.pi, math.pi),
                                  st.floats(0.0, 30.0), st.floats(3.0, 6.0), st.floats(1.5, 2.5)),
                        min_size=min_objects, max_size=5))
    objects = np.asarray([list(o) + [1.0] for o in obj], dtype=np.float32).reshape(-1, 7)
    n = draw(st.integers(max(2, min_boundary), 50))
    xs = np.linspace(-10.0, 120.0, n)
    bend = draw(st.floats(-2e-3, 2e-3))
    half = draw(st.floats(1.6, 6.0))
    left = np.stack([xs, half + bend * xs**2], axis=1).astype(np.float32)
    right = np.stack([xs, -half + bend * xs**2], axis=1).astype(np.float32)
    ego = EgoState(speed=v0, accel=float((traj[0, 1, 4] - traj[0, 0, 4]) / DT))
    return Scene(traj, scores, ego, objects, left, right, draw(st.booleans()))


BAD = st.sampled_from([np.nan, np.inf, -np.inf])


# ----------------------------------------------------------------------------------------------------------
# 4. NaN / inf anywhere: the affected modes are invalid, nothing crashes, a verdict comes back.


@PROPS
@given(scene=scenes(), data=st.data(), bad=BAD)
def test_a_bad_number_in_a_mode_or_its_score_invalidates_that_mode_only(scene: Scene, data: Any,
                                                                         bad: float) -> None:
    clean = scene.check()
    clean_reasons = list(clean.reasons)
    k = data.draw(st.integers(0, len(scene.scores) - 1), label="mode")
    if data.draw(st.booleans(), label="in the score"):
        scene.scores[k] = bad
    else:
        i = data.draw(st.integers(0, scene.trajectories.shape[1] - 1), label="point")
        f = data.draw(st.integers(0, 4), label="field")
        scene.trajectories[k, i, f] = bad
    verdict = scene.check()
    assert verdict.reasons[k] == Reason.INVALID and not verdict.passed[k]
    assert verdict.margins[k, COL["invalid"]] == np.inf and np.all(np.isnan(verdict.margins[k, 1:]))
    for j, r in enumerate(verdict.reasons):
        if j != k:
            assert r == clean_reasons[j]
    others = [j for j in range(len(clean_reasons)) if j != k and clean_reasons[j] == Reason(0)]
    if others:
        best = max(others, key=lambda j: (scene.scores[j], -j))
        assert verdict.chosen == best and not verdict.fallback_used
        np.testing.assert_array_equal(verdict.trajectory, scene.trajectories[best])
    else:
        assert verdict.chosen == -1 and verdict.fallback_used
        assert Reason.INVALID in verdict.fallback_reasons
        assert verdict.trajectory.shape == scene.trajectories.shape[1:] and np.all(np.isfinite(verdict.trajectory))


@PROPS
@given(scene=scenes(min_objects=1), data=st.data(), bad=BAD)
def test_a_bad_number_in_the_ego_state_objects_or_boundaries_invalidates_every_mode(scene: Scene, data: Any,
                                                                                   bad: float) -> None:
    where = data.draw(st.sampled_from(["ego", "object", "left", "right"]), label="where")
    if where == "ego":
        field = data.draw(st.sampled_from(["speed", "accel", "yaw_rate", "steering"]), label="field")
        vals = {"speed": scene.ego.speed, "accel": scene.ego.accel, "yaw_rate": scene.ego.yaw_rate,
                "steering": scene.ego.steering}
        vals[field] = bad
        scene.ego = EgoState(**vals)
    elif where == "object":
        m = data.draw(st.integers(0, len(scene.objects) - 1))
        scene.objects[m, data.draw(st.integers(0, 6))] = bad
    else:
        line = scene.left if where == "left" else scene.right
        line[data.draw(st.integers(0, len(line) - 1)), data.draw(st.integers(0, 1))] = bad
    verdict = scene.check()
    assert all(r == Reason.INVALID for r in verdict.reasons) and not verdict.passed.any()
    assert np.all(verdict.margins[:, COL["invalid"]] == np.inf)
    assert verdict.chosen == -1 and verdict.fallback_used
    assert verdict.fallback_reasons == Reason.INVALID and verdict.fallback_self_reasons == Reason.INVALID
    fb = verdict.trajectory
    assert fb.shape == scene.trajectories.shape[1:] and np.all(np.isfinite(fb))
    if where == "ego":  # nothing is known about the ego's motion: stand still
        assert np.all(fb[:, 1:] == 0.0)
    else:
        assert fb[0, 4] == np.float32(scene.ego.speed)


# ----------------------------------------------------------------------------------------------------------
# 5. Determinism


def assert_same_verdict(a: wayvert.Verdict, b: wayvert.Verdict) -> None:
    assert a.chosen == b.chosen and a.fallback_used == b.fallback_used
    assert a.fallback_reasons == b.fallback_reasons and a.fallback_self_reasons == b.fallback_self_reasons
    assert list(a.reasons) == list(b.reasons)
    assert np.array_equal(a.passed, b.passed)
    assert np.array_equal(a.margins, b.margins, equal_nan=True)
    assert np.array_equal(a.trajectory, b.trajectory, equal_nan=True)
    assert a.trajectory.tobytes() == b.trajectory.tobytes() and a.margins.tobytes() == b.margins.tobytes()


@PROPS
@given(scene=scenes(), spoil=st.booleans())
def test_the_same_inputs_give_the_same_verdict(scene: Scene, spoil: bool) -> None:
    if spoil:  # exercise the fallback path too
        scene.trajectories[:, 3, 1] = np.nan
    first = scene.check()
    first = dataclasses.replace(first, trajectory=first.trajectory.copy(), passed=first.passed.copy(),
                                margins=first.margins.copy(), reasons=list(first.reasons))
    assert_same_verdict(first, scene.check())
    assert_same_verdict(first, scene.check(Verifier()))
    # A different call in between leaves no trace either.
    other = Scene(scene.trajectories[:, ::-1].copy(), scene.scores, EgoState(3.0, 1.0, 0.2, 0.1), scene.objects[:0],
                  scene.left[:0], scene.right[:0], not scene.wet)
    other.check()
    assert_same_verdict(first, scene.check())


# ----------------------------------------------------------------------------------------------------------
# 6. Capacities and shapes


def test_inputs_beyond_the_capacities_are_input_errors() -> None:
    v = Verifier(max_modes=3, max_points=20, max_objects=2, max_boundary_points=8)
    traj = np.stack([integrate(np.zeros(19), np.full(20, 10.0))] * 3)
    obj = np.asarray([[30.0, 0.0, 0.0, 10.0, 4.5, 1.8, 1.0]] * 2, dtype=np.float32)
    line = np.stack([np.linspace(-10, 100, 8), np.full(8, 3.0)], axis=1)
    ego = EgoState(10.0)
    ok = v.check(traj, np.ones(3), ego, objects=obj, boundaries=(line, line * [1, -1]))
    assert ok.chosen >= 0  # the capacities themselves fit
    more_modes = np.concatenate([traj, traj[:1]])
    with pytest.raises(wayvert.InputError):
        v.check(more_modes, np.ones(4), ego)
    with pytest.raises(wayvert.InputError):
        v.check(integrate(np.zeros(20), np.full(21, 10.0))[None], [1.0], ego)
    with pytest.raises(wayvert.InputError):
        v.check(traj, np.ones(3), ego, objects=np.concatenate([obj, obj[:1]]))
    long_line = np.stack([np.linspace(-10, 100, 9), np.full(9, 3.0)], axis=1)
    with pytest.raises(wayvert.InputError):
        v.check(traj, np.ones(3), ego, boundaries=(long_line, line * [1, -1]))
    with pytest.raises(wayvert.InputError):
        v.check(traj, np.ones(3), ego, boundaries=(line, long_line * [1, -1]))
    with pytest.raises(wayvert.InputError):
        v.check(traj[:, :1], np.ones(3), ego)  # one point is no trajectory
    # The verifier still works after refusing.
    assert_same_verdict(ok, v.check(traj, np.ones(3), ego, objects=obj, boundaries=(line, line * [1, -1])))


@pytest.mark.parametrize("what", ["traj_4_fields", "traj_6_fields", "traj_2d", "traj_4d", "scores_count",
                                  "objects_6_fields", "objects_1d", "boundary_3_cols", "boundary_1d", "empty_modes"])
def test_wrong_shapes_are_input_errors(what: str) -> None:
    traj = integrate(np.zeros(19), np.full(20, 10.0))[None]
    scores = np.ones(1)
    obj = np.asarray([[30.0, 0.0, 0.0, 10.0, 4.5, 1.8, 1.0]], dtype=np.float32)
    line = np.stack([np.linspace(-10, 100, 8), np.full(8, 3.0)], axis=1)
    kwargs: dict[str, Any] = {"objects": obj, "boundaries": (line, line * [1, -1])}
    if what == "traj_4_fields":
        traj = traj[:, :, :4]
    elif what == "traj_6_fields":
        traj = np.concatenate([traj, traj[:, :, :1]], axis=2)
    elif what == "traj_2d":
        traj = traj[0]
    elif what == "traj_4d":
        traj = traj[None]
    elif what == "scores_count":
        scores = np.ones(2)
    elif what == "objects_6_fields":
        kwargs["objects"] = obj[:, :6]
    elif what == "objects_1d":
        kwargs["objects"] = obj[0]
    elif what == "boundary_3_cols":
        kwargs["boundaries"] = (np.concatenate([line, line[:, :1]], axis=1), line * [1, -1])
    elif what == "boundary_1d":
        kwargs["boundaries"] = (line, line[:, 0])
    elif what == "empty_modes":
        traj, scores = traj[:0], scores[:0]
    with pytest.raises(wayvert.InputError):
        Verifier().check(traj, scores, EgoState(10.0), **kwargs)
