"""Trajectory safety verifier: one call of wayvert's C++ verifier vs a vectorised numpy implementation of the
same checks, on one realistic scene (benchmark group "verifier K6xT40 M32 N50").

Scene: a three-lane road bending left on a 3 km radius; the ego in the right lane at 15 m/s; K = 6 candidate
modes of T = 40 points (0.1 s): keep lane, gentle acceleration, gentle braking, lane change left (all pass),
hard braking (fails decel), a 1.2 s swerve right (fails lateral acceleration/jerk, steering rate, the drivable
area and hits a parked car); M = 32 objects (cars ahead and behind in all three lanes, parked cars beyond the
right edge, pedestrians beyond the left edge); left and right road boundaries of N = 50 points each.

Peers (all single-threaded):

* ``wayvert_python``: ``wayvert.Verifier.check`` (numpy conversion, the C call, the Verdict dataclass);
* ``wayvert_capi``: ``wv_verifier_check`` of the installed ``libwayvert.so`` through ctypes, the input struct
  built once (what an embedded caller pays, plus ~1 µs of ctypes call overhead);
* ``numpy``: ``NumpyVerifier`` below, every check vectorised over modes x points (x objects x corners x
  segments): validity, continuity, the longitudinal finite differences; curvature, steering, lateral
  acceleration and yaw rate over chords of at least 2 m on each side of a vertex (the chord ends picked from
  all point-to-point distances, modes x points x points), their rates between consecutive judged vertices;
  objects more than 150 degrees off the heading (from the first point's footprint) ignored; objects predicted
  along the right boundary polyline when heading within 20 degrees of its tangent (projection onto every
  segment, then the walk along the chain by a cumulative-length search), otherwise in a straight line;
  footprint overlap of every point x object by the separating-axis test; TTC with the ego moving along the
  plan (interpolated at t0 + 0..3 s, constant velocity past its end); RSS / time-gap following distance with
  leads selected across the road (both centres' signed distances from the polyline) and RSS alone for a plan
  that ends slower than the lead; and every footprint corner vs every boundary segment. No check is left out
  or simplified.

Before timing, the numpy peer must give the C++ reasons bitmask of every mode, the same chosen mode, and the
same margins (rtol 1e-3), so the two do the same work. Timings are recorded, never asserted.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import wayvert
from wayvert import EgoState, Limits, VehicleProfile, Verifier

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

GROUP = "verifier K6xT40 M32 N50"
DT = 0.1
K, T, M, N = 6, 40, 32, 50
V0 = 15.0
R_ROAD = 3000.0  # a gentle motorway bend to the left (lane-centre curvature 3.3e-4 /m)
LANE = 3.5
TOL = 1e-5  # a check fails when margin > 1 + TOL (cpp/src/safety/verifier.cpp)
CHORD_M = 2.0  # shortest chord on each side of a vertex whose curvature is judged (kinematics.cpp)
COS_BEHIND = math.cos(math.radians(150.0))  # objects further off the heading are behind (interaction.cpp)
ALONG_ROAD_RAD = math.radians(20.0)  # heading off the road tangent within which objects follow it (prediction.cpp)


# ----------------------------------------------------------------------------------------------------------
# The scene


def integrate(kappa_seg: F64, speeds: F64) -> F32:
    """[T, 5] points from per-segment curvature and speeds (exact arcs per segment), from the origin."""
    t = np.arange(len(speeds)) * DT
    ds = 0.5 * (speeds[1:] + speeds[:-1]) * DT
    dpsi = kappa_seg * ds
    psi = np.concatenate([[0.0], np.cumsum(dpsi)])
    chord = ds * np.sinc(dpsi / (2 * np.pi))
    mid = psi[:-1] + 0.5 * dpsi
    x = np.concatenate([[0.0], np.cumsum(chord * np.cos(mid))])
    y = np.concatenate([[0.0], np.cumsum(chord * np.sin(mid))])
    return np.stack([t, x, y, psi, speeds], axis=1).astype(np.float32)


def mode(accel: float = 0.0, lateral: float = 0.0, duration: float = 4.0) -> F32:
    """Lane keeping on the road's curve at constant acceleration, with an optional smooth lane change of
    `lateral` metres over `duration` seconds (curvature of the offset y(s) = D (s/S - sin(2 pi s/S) / 2 pi))."""
    t = np.arange(T) * DT
    v = np.maximum(V0 + accel * t, 0.0)
    tm = t[:-1] + 0.5 * DT
    kappa = np.full(T - 1, 1.0 / R_ROAD)
    if lateral:
        s_total = V0 * duration
        s = V0 * np.minimum(tm, duration)
        kappa += np.where(tm < duration, lateral * 2 * np.pi / s_total**2 * np.sin(2 * np.pi * s / s_total), 0.0)
    return integrate(kappa, v)


def on_road(s: float, offset: float) -> tuple[float, float, float]:
    """(x, y, heading) of the point at arc length s along the road, `offset` metres left of the ego lane centre."""
    r = R_ROAD - offset
    return r * math.sin(s / R_ROAD), R_ROAD - r * math.cos(s / R_ROAD), s / R_ROAD


def scene() -> dict[str, Any]:
    modes = np.stack([mode(), mode(accel=0.5), mode(accel=-1.5), mode(lateral=LANE), mode(accel=-6.0),
                      mode(lateral=-LANE, duration=1.2)])
    scores = np.asarray([0.30, 0.20, 0.10, 0.25, 0.05, 0.40], dtype=np.float32)  # the swerve scores highest
    objects = []

    def car(s: float, offset: float, speed: float, length: float = 4.5, width: float = 1.8) -> None:
        x, y, h = on_road(s, offset)
        objects.append([x, y, h, speed, length, width, 1.0])

    # Ego lane: lead 50 m ahead at the same speed, one further on, two behind.
    for s, v in ((50.0, 15.0), (110.0, 16.0), (-30.0, 14.0), (-75.0, 15.5)):
        car(s, 0.0, v)
    # Middle lane (where the lane change goes): traffic well clear of it.
    for s, v in ((-120, 15.0), (-95, 14.0), (105, 17.0), (130, 16.0), (160, 18.0), (190, 17.5), (-150, 16.0),
                 (220, 15.0)):
        car(s, LANE, v)
    # Left lane.
    for s, v in ((-40, 18.0), (-10, 19.0), (20, 20.0), (45, 19.5), (80, 21.0), (115, 20.0), (150, 19.0),
                 (-70, 18.5)):
        car(s, 2 * LANE, v)
    # Parked cars beyond the right edge (the ego lane's right edge is 1.75 m right of its centre).
    for s in (8.0, 25.0, 40.0, 60.0, 75.0, 95.0, 120.0, 140.0):
        car(s, -3.2, 0.0)
    # Pedestrians on the pavement beyond the left edge.
    for s in (5.0, 35.0, 70.0, 100.0):
        car(s, 2 * LANE + 3.0, 1.3, length=0.6, width=0.6)
    assert len(objects) == M
    s_line = np.linspace(-20.0, 150.0, N)
    left = np.asarray([on_road(s, 2 * LANE + 1.75)[:2] for s in s_line], dtype=np.float32)
    right = np.asarray([on_road(s, -1.75)[:2] for s in s_line], dtype=np.float32)
    return {"trajectories": modes, "scores": scores, "ego": EgoState(V0, 0.0, V0 / R_ROAD, math.atan(2.79 / R_ROAD)),
            "objects": np.asarray(objects, dtype=np.float32), "left": left, "right": right, "wet": False}


# ----------------------------------------------------------------------------------------------------------
# The numpy peer


def _wrap(a: F64) -> F64:
    return a - 2 * np.pi * np.round(a / (2 * np.pi))


def _overlap(acx: F64, acy: F64, ah: F64, ahl: Any, ahw: Any, bcx: F64, bcy: F64, bh: F64, bhl: Any,
             bhw: Any) -> npt.NDArray[np.bool_]:
    """Separating-axis test of two sets of oriented rectangles (broadcast); touching counts as overlap."""
    dx, dy = bcx - acx, bcy - acy
    ca, sa, cb, sb = np.cos(ah), np.sin(ah), np.cos(bh), np.sin(bh)
    hit = np.ones(np.broadcast(dx, dy, ca, cb).shape, dtype=bool)
    for ax, ay in ((ca, sa), (-sa, ca), (cb, sb), (-sb, cb)):
        dist = np.abs(dx * ax + dy * ay)
        ra = ahl * np.abs(ca * ax + sa * ay) + ahw * np.abs(-sa * ax + ca * ay)
        rb = bhl * np.abs(cb * ax + sb * ay) + bhw * np.abs(-sb * ax + cb * ay)
        hit &= dist <= ra + rb
    return hit


def _clearance(line: F32, side: float, cx: F64, cy: F64) -> tuple[F64, F64]:
    """(distance to the nearest judged segment, +inf where none; signed clearance) of corners (cx, cy) from a
    boundary polyline, as the C++ verifier measures them (section 6.9)."""
    a = line[:-1].astype(np.float64)
    sx, sy = line[1:, 0] - a[:, 0], line[1:, 1] - a[:, 1]
    len2 = sx * sx + sy * sy
    qx, qy = cx[..., None] - a[:, 0], cy[..., None] - a[:, 1]  # [..., N-1]
    u = (qx * sx + qy * sy) / len2
    seg = np.arange(len(a))
    skip = (len2 <= 0) | ((u < 0) & (seg == 0)) | ((u > 1) & (seg == len(a) - 1))
    uc = np.clip(u, 0.0, 1.0)
    d = np.hypot(uc * sx - qx, uc * sy - qy)
    d = np.where(skip, np.inf, d)
    best = np.argmin(d, axis=-1)[..., None]
    dist = np.take_along_axis(d, best, -1)[..., 0]
    cross = np.take_along_axis(sx * qy - sy * qx, best, -1)[..., 0]
    return dist, side * np.where(cross >= 0, dist, -dist)


def _max(a: F64, axis: Any) -> F64:
    return a.max(axis=axis, initial=0.0) if a.size else np.zeros(a.shape[0])


def _project(line: F32, px: F64, py: F64) -> tuple[npt.NDArray[np.bool_], F64, F64, npt.NDArray[np.intp]]:
    """Nearest segment of a polyline to every point (broadcast over [..., N-1]), the projection clamped inside the
    chain (none before its start or past its end): (found, along, signed distance left positive, segment)."""
    a = line[:-1].astype(np.float64)
    sx, sy = line[1:, 0] - a[:, 0], line[1:, 1] - a[:, 1]
    len2 = sx * sx + sy * sy
    qx, qy = px[..., None] - a[:, 0], py[..., None] - a[:, 1]
    tp = qx * sx + qy * sy
    seg = np.arange(len(a))
    skip = (len2 <= 0) | ((tp < 0) & (seg == 0)) | ((tp > len2) & (seg == len(a) - 1))
    u = np.clip(tp / len2, 0.0, 1.0)
    d2 = np.where(skip, np.inf, (u * sx - qx) ** 2 + (u * sy - qy) ** 2)
    best = np.argmin(d2, axis=-1)
    found = np.isfinite(np.take_along_axis(d2, best[..., None], -1)[..., 0])
    length = np.sqrt(len2)[best]
    along = np.take_along_axis(u, best[..., None], -1)[..., 0] * length
    cross = np.take_along_axis(sx * qy - sy * qx, best[..., None], -1)[..., 0] / length
    return found, along, cross, best


class _Prediction:
    """Where the objects [M, 7] are at time t (cpp/src/safety/prediction.cpp): an object whose heading is within
    20 degrees of the road polyline's tangent where its centre projects keeps its speed along and across the road
    (walking the polyline, on along its last segment past its end); any other one moves in a straight line."""

    def __init__(self, o: F64, road: F32 | None) -> None:
        self.o = o
        m = len(o)
        self.on_road = np.zeros(m, dtype=bool)
        if road is None:
            return
        r = road.astype(np.float64)
        found, along, cross, seg = _project(road, o[:, 0], o[:, 1])
        sx, sy = np.diff(r[:, 0]), np.diff(r[:, 1])
        rel = _wrap(o[:, 2] - np.arctan2(sy[seg], sx[seg]))
        self.on_road = found & (o[:, 3] >= 0) & (np.abs(rel) <= ALONG_ROAD_RAD)
        self.road, self.sx, self.sy = r, sx, sy
        self.seglen = np.hypot(sx, sy)
        self.cum = np.concatenate([[0.0], np.cumsum(self.seglen)])
        self.start = self.cum[seg] + along  # distance along the polyline at time 0
        self.offset, self.rel, self.seg = cross, rel, seg
        self.v_along, self.v_across = o[:, 3] * np.cos(rel), o[:, 3] * np.sin(rel)

    def at(self, t: F64) -> tuple[F64, F64, F64, F64]:
        """(centre x, centre y, heading, signed distance from the road) at times t (broadcast with [M])."""
        o = self.o
        cx, cy, h = o[:, 0] + o[:, 3] * np.cos(o[:, 2]) * t, o[:, 1] + o[:, 3] * np.sin(o[:, 2]) * t, o[:, 2] + 0 * t
        d = np.zeros(cx.shape)
        if not self.on_road.any():
            return cx, cy, h, d
        s = self.start + self.v_along * t
        i = np.clip(np.maximum(np.searchsorted(self.cum[1:], s, side="left"), self.seg), 0, len(self.seglen) - 1)
        rem = s - self.cum[i]
        ln = self.seglen[i]
        ux = np.where(ln > 0, self.sx[i] / np.where(ln > 0, ln, 1.0), 1.0)
        uy = np.where(ln > 0, self.sy[i] / np.where(ln > 0, ln, 1.0), 0.0)
        d = self.offset + self.v_across * t
        rx = self.road[i, 0] + ux * rem - uy * d
        ry = self.road[i, 1] + uy * rem + ux * d
        rh = np.arctan2(uy, ux) + self.rel
        on = self.on_road
        return np.where(on, rx, cx), np.where(on, ry, cy), np.where(on, rh, h), np.where(on, d, 0.0)


class NumpyVerifier:
    """The checks of cpp/src/safety (docs/verifier.md section 6), vectorised with numpy in float64 (the 2 m chord
    selection in float32, as the C++ compares it)."""

    def __init__(self, vehicle: VehicleProfile = VehicleProfile(), limits: Limits | None = None) -> None:
        self.v = vehicle
        self.l = limits or Limits()

    def rss(self, v_rear: F64, v_front: F64) -> F64:
        l = self.l
        rho, a = l.rss_response_time_s, l.rss_ego_accel_during_response_mps2
        after = v_rear + rho * a
        d = (v_rear * rho + 0.5 * a * rho * rho + after * after / (2 * l.rss_ego_min_brake_mps2)
             - v_front * v_front / (2 * l.rss_lead_max_brake_mps2))
        return np.maximum(d, 0.0)

    def footprint(self, x: F64, y: F64, h: F64) -> tuple[F64, F64]:
        c = 0.5 * self.v.length_m - self.v.rear_axle_to_rear_m
        return x + c * np.cos(h), y + c * np.sin(h)

    def check(self, trajectories: F32, scores: F32, ego: EgoState, objects: F32, left: F32, right: F32,
              wet: bool = False) -> tuple[npt.NDArray[np.uint32], F64, int]:
        """(reasons [K], margins [K, 14], chosen) as the C++ verifier computes them (no fallback trajectory)."""
        v, l = self.v, self.l
        P = trajectories.astype(np.float64)
        k_modes, n_pts = P.shape[:2]
        sc = np.asarray(scores, dtype=np.float64)
        e = np.asarray([ego.speed, ego.accel, ego.yaw_rate, ego.steering], dtype=np.float32).astype(np.float64)
        shared_ok = bool(np.isfinite(e).all() and np.isfinite(objects).all() and np.isfinite(left).all()
                         and np.isfinite(right).all())
        finite = np.isfinite(P).all(axis=(1, 2)) & np.isfinite(sc)
        P = np.where(np.isfinite(P), P, 0.0)
        t, x, y, h, sp = (P[..., i] for i in range(5))
        valid = finite & (t[:, 0] >= -1e-3) & (np.diff(t, axis=1) > 0).all(axis=1) & (sp >= 0).all(axis=1)
        valid &= shared_ok
        m = np.zeros((k_modes, 14))

        with np.errstate(all="ignore"):
            # Continuity.
            t0 = np.maximum(t[:, 0], 0.0)
            psi, dist = e[2] * t0, e[0] * t0
            ex, ey, ev = dist * np.cos(0.5 * psi), dist * np.sin(0.5 * psi), np.maximum(0.0, e[0] + e[1] * t0)
            m[:, 1] = np.maximum.reduce([np.hypot(x[:, 0] - ex, y[:, 0] - ey) / l.max_position_jump_m,
                                         np.abs(_wrap(h[:, 0] - psi)) / l.max_heading_jump_rad,
                                         np.abs(sp[:, 0] - ev) / l.max_speed_jump_mps])

            # Longitudinal: segment accelerations from the speed channel, jerk between consecutive segments.
            long_a = np.diff(sp, axis=1) / np.diff(t, axis=1)
            m[:, 7] = np.maximum(_max(long_a, 1), 0.0) / l.max_long_accel_mps2
            m[:, 8] = np.maximum(_max(-long_a, 1), 0.0) / l.max_decel_mps2
            jerk = np.abs(np.diff(long_a, axis=1)) / (0.5 * (t[:, 2:] - t[:, :-2]))
            m[:, 9] = _max(jerk, 1) / l.max_long_jerk_mps3

            # Lateral: at each interior vertex i the nearest samples j < i and k > i at least 2 m away in a
            # straight line (all pairwise distances [K, T, T], compared in float32 as the C++ does); a vertex
            # without both chords is not judged. Turn between the chords over their mean length.
            p32 = P.astype(np.float32)
            d32 = np.hypot(p32[:, None, :, 1] - p32[:, :, None, 1], p32[:, None, :, 2] - p32[:, :, None, 2])
            idx = np.arange(n_pts)
            far = d32 >= np.float32(CHORD_M)  # [K, i, j]
            jb = np.where(far & (idx[None, :] < idx[:, None]), idx, -1).max(axis=2)[:, 1:-1]  # [K, T-2]
            kf = np.where(far & (idx[None, :] > idx[:, None]), idx, n_pts).min(axis=2)[:, 1:-1]
            judged = (jb >= 0) & (kf < n_pts)
            jc, kc = np.maximum(jb, 0), np.minimum(kf, n_pts - 1)
            xi, yi, ti = x[:, 1:-1], y[:, 1:-1], t[:, 1:-1]
            xa, ya, ta = (np.take_along_axis(c, jc, 1) for c in (x, y, t))
            xb, yb, tb = (np.take_along_axis(c, kc, 1) for c in (x, y, t))
            back, front = np.hypot(xi - xa, yi - ya), np.hypot(xb - xi, yb - yi)
            turn = _wrap(np.arctan2(yb - yi, xb - xi) - np.arctan2(yi - ya, xi - xa))
            kappa = np.where(np.abs(turn) < 1e-6, 0.0, turn / (0.5 * (back + front)))
            vv = sp[:, 1:-1]
            lat = vv * vv * kappa
            delta = np.arctan(v.wheelbase_m * kappa)
            m[:, 2] = _max(np.where(judged, np.abs(kappa), 0.0), 1) / l.max_curvature_per_m
            m[:, 3] = _max(np.where(judged, np.abs(delta), 0.0), 1) / v.max_steering_rad
            m[:, 5] = _max(np.where(judged, np.abs(lat), 0.0), 1) / l.max_lateral_accel_mps2
            m[:, 10] = _max(np.where(judged, np.abs(turn) / (0.5 * (tb - ta)), 0.0), 1) / l.max_yaw_rate_rps
            # Rates between consecutive judged vertices.
            vidx = np.broadcast_to(np.arange(judged.shape[1]), judged.shape)
            last = np.maximum.accumulate(np.where(judged, vidx, -1), axis=1)
            prev = np.concatenate([np.full((k_modes, 1), -1), last[:, :-1]], axis=1)
            pair = judged & (prev >= 0)
            pc = np.maximum(prev, 0)
            dtv = ti - np.take_along_axis(ti, pc, 1)
            lj = np.abs(lat - np.take_along_axis(lat, pc, 1)) / dtv
            sr = np.abs(delta - np.take_along_axis(delta, pc, 1)) / dtv
            m[:, 6] = _max(np.where(pair, lj, 0.0), 1) / l.max_lateral_jerk_mps3
            m[:, 4] = _max(np.where(pair, sr, 0.0), 1) / v.max_steering_rate_rps

            # Objects: predicted along the road where they travel along it, else in a straight line.
            hl, hw = 0.5 * v.length_m, 0.5 * v.width_m
            ecx, ecy = self.footprint(x, y, h)
            o = objects.astype(np.float64)
            road = right if len(right) >= 2 else (left if len(left) >= 2 else None)
            if len(o):
                pred = _Prediction(o, road)
                ohl, ohw, osp = 0.5 * o[:, 4], 0.5 * o[:, 5], o[:, 3]
                # Objects more than 150 degrees off the heading, seen from the footprint at the first point: [K, M].
                bx, by = o[:, 0] - ecx[:, :1], o[:, 1] - ecy[:, :1]
                ahead = ~(np.cos(h[:, :1]) * bx + np.sin(h[:, :1]) * by < COS_BEHIND * np.hypot(bx, by))
                # Boxes at the points' times [K, T, M]; collision of every point x object.
                ocx, ocy, oh, od = pred.at(t[..., None])
                collides = (_overlap(ecx[..., None], ecy[..., None], h[..., None], hl, hw, ocx, ocy, oh, ohl, ohw)
                            & ahead[:, None, :]).any(axis=(1, 2))
                # Following distance: the object's centre in the ego footprint's frame; across the road in the
                # road's frame when both centres project onto the polyline (the object's from its prediction).
                c, s = np.cos(h)[..., None], np.sin(h)[..., None]
                ddx, ddy = ocx - ecx[..., None], ocy - ecy[..., None]
                lon, latd = c * ddx + s * ddy, -s * ddx + c * ddy
                if road is not None:
                    ego_ok, ego_d = _project(road, ecx, ecy)[::2]
                    straight = ~pred.on_road
                    obj_ok, obj_d = np.broadcast_to(pred.on_road, od.shape).copy(), od.copy()
                    if straight.any():
                        s_ok, _, s_d, _ = _project(road, ocx[..., straight], ocy[..., straight])
                        obj_ok[..., straight], obj_d[..., straight] = s_ok, s_d
                    latd = np.where(ego_ok[..., None] & obj_ok, obj_d - ego_d[..., None], latd)
                gap = lon - hl - ohl
                lead = ahead[:, None, :] & (lon > 0) & (np.abs(latd) <= hw + ohw) & (gap > 0)
                v_lead = np.maximum(osp * np.cos(oh - h[..., None]), 0.0)
                v_rear = sp[..., None]
                required = self.rss(v_rear, v_lead)
                time_gap = l.time_gap_dry_s * (l.wet_time_gap_factor if wet else 1.0)
                # A plan that ends slower than the object (by 0.1 m/s) is restoring the gap: RSS alone.
                restoring = (sp[:, -1, None] < v_lead[:, -1, :] - 0.1)[:, None, :]
                required = np.where(~restoring & (v_rear >= v_lead - 0.1), np.maximum(required, time_gap * v_rear),
                                    required)
                m[:, 12] = _max(np.where(lead, required / np.where(lead, gap, 1.0), 0.0).reshape(k_modes, -1), 1)
                # TTC: the ego along the plan (linear between samples, constant velocity after its end), the
                # objects as predicted, at t0 + tau for tau = 0, 0.1, ..., 3 s.
                tau = np.float32(0.1) * np.arange(31, dtype=np.float32)  # [S]
                tt = (p32[:, 0, 0, None] + tau).astype(np.float64)  # [K, S]
                seg = np.minimum((t[:, None, 1:-1] <= tt[..., None]).sum(axis=2), n_pts - 2)
                pa, pb = (np.take_along_axis(P, (seg + d)[..., None], 1) for d in (0, 1))  # [K, S, 5]
                u = np.clip((tt - pa[..., 0]) / (pb[..., 0] - pa[..., 0]), 0.0, 1.0)
                inside = tt <= pb[..., 0]
                dt_after = tt - pb[..., 0]
                px = np.where(inside, pa[..., 1] + u * (pb[..., 1] - pa[..., 1]),
                              pb[..., 1] + pb[..., 4] * np.cos(pb[..., 3]) * dt_after)
                py = np.where(inside, pa[..., 2] + u * (pb[..., 2] - pa[..., 2]),
                              pb[..., 2] + pb[..., 4] * np.sin(pb[..., 3]) * dt_after)
                ph = np.where(inside, pa[..., 3] + u * _wrap(pb[..., 3] - pa[..., 3]), pb[..., 3])
                pcx, pcy = self.footprint(px, py, ph)
                qcx, qcy, qh, _ = pred.at(tt[..., None])
                hit = np.any(_overlap(pcx[..., None], pcy[..., None], ph[..., None], hl, hw, qcx, qcy, qh, ohl, ohw)
                             & ahead[:, None, :], axis=2)  # [K, S]
                ttc = np.where(np.any(hit, axis=1), tau.astype(np.float64)[np.argmax(hit, axis=1)], np.inf)
                m[:, 11] = np.where(collides, np.inf,
                                    np.where(np.isfinite(ttc), l.min_ttc_s / np.maximum(ttc, 1e-3), 0.0))

            # Drivable area: every footprint corner against every segment of each boundary; the clearance asked
            # for is boundary_margin_m, or, when the ego footprint's clearance now c is smaller but positive, c at
            # the last sample and c / 2 before it; when c <= 0, c + margin / 2 at the last sample and c - margin / 2
            # before it, both shifted by margin - c (docs/verifier.md 6.9).
            cs, sn = np.cos(h), np.sin(h)
            lx, ly = np.asarray([hl, -hl, -hl, hl]), np.asarray([hw, hw, -hw, -hw])
            cx = ecx[..., None] + cs[..., None] * lx - sn[..., None] * ly  # [K, T, 4]
            cy = ecy[..., None] + sn[..., None] * lx + cs[..., None] * ly
            ncx, ncy = self.footprint(np.zeros(1), np.zeros(1), np.zeros(1))
            ncx, ncy = ncx[0] + lx, ncy[0] + ly  # [4]: the footprint now (heading 0 at the origin)
            ratio = np.zeros(k_modes)
            for line, side in ((left, -1.0), (right, 1.0)):
                if len(line) < 2:
                    continue
                now_dist, now_clear = _clearance(line, side, ncx, ncy)
                now = np.min(np.where(np.isfinite(now_dist), now_clear, np.inf))
                mg = l.boundary_margin_m
                required, shift = np.full(n_pts, mg), 0.0
                if 0.0 < now < mg:            # inside the margin: keep what the car has
                    required[:], required[-1] = 0.5 * now, now
                elif now <= 0.0:              # on or past the boundary: head back in
                    required[:], required[-1], shift = now - 0.5 * mg, now + 0.5 * mg, mg - now
                dist, clearance = _clearance(line, side, cx, cy)
                clearance = clearance + shift
                required = np.broadcast_to(required[None, :, None] + shift, clearance.shape)
                r = np.where(clearance > 0, required / clearance, np.inf)
                r = np.where(np.isfinite(dist), r, 0.0)  # no segment judged this corner
                ratio = np.maximum(ratio, r.reshape(k_modes, -1).max(axis=1))
            m[:, 13] = ratio

        failed = ~(m[:, 1:] <= 1 + TOL)
        reasons = (failed * (1 << np.arange(1, 14))).sum(axis=1).astype(np.uint32)
        reasons = np.where(valid, reasons, np.uint32(1)).astype(np.uint32)
        m = np.where(valid[:, None], m, np.nan)
        m[~valid, 0] = np.inf
        passed = reasons == 0
        chosen = int(np.argmax(np.where(passed, sc, -np.inf))) if passed.any() else -1
        return reasons, m, chosen


# ----------------------------------------------------------------------------------------------------------
# The C API through ctypes


class _Vehicle(ctypes.Structure):
    _fields_ = [(n, ctypes.c_float) for n in ("wheelbase_m", "width_m", "length_m", "rear_axle_to_rear_m",
                                               "max_steering_rad", "max_steering_rate_rps")]


class _Limits(ctypes.Structure):
    _fields_ = [(f"f{i}", ctypes.c_float) for i in range(len(astuple(Limits())))]


class _Ego(ctypes.Structure):
    _fields_ = [(n, ctypes.c_float) for n in ("speed_mps", "accel_mps2", "yaw_rate_rps", "steering_rad")]


_FP = ctypes.POINTER(ctypes.c_float)


class _Input(ctypes.Structure):
    _fields_ = [("trajectories", _FP), ("modes", ctypes.c_int32), ("points", ctypes.c_int32), ("scores", _FP),
                ("ego", _Ego), ("objects", _FP), ("object_count", ctypes.c_int32), ("left_boundary", _FP),
                ("left_count", ctypes.c_int32), ("right_boundary", _FP), ("right_count", ctypes.c_int32),
                ("wet", ctypes.c_int32)]


class _Verdict(ctypes.Structure):
    _fields_ = [("chosen", ctypes.c_int32), ("fallback_used", ctypes.c_int32), ("fallback_reasons", ctypes.c_uint32),
                ("fallback_self_reasons", ctypes.c_uint32), ("trajectory", _FP), ("points", ctypes.c_int32),
                ("modes", ctypes.c_int32), ("passed", ctypes.POINTER(ctypes.c_uint8)),
                ("reasons", ctypes.POINTER(ctypes.c_uint32)), ("margins", _FP)]


class CApiVerifier:
    """wv_verifier_create / wv_verifier_check of the libwayvert.so installed with the package."""

    def __init__(self, sc: dict[str, Any]) -> None:
        path = Path(wayvert.__file__).parent / "lib" / "libwayvert.so"
        if not path.exists():
            pytest.skip(f"{path} not found")
        lib = ctypes.CDLL(str(path))
        self.lib = lib
        lib.wv_verifier_create.restype = ctypes.c_int
        lib.wv_verifier_check.restype = ctypes.c_int
        lib.wv_verifier_check.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Input), ctypes.POINTER(_Verdict)]
        lib.wv_verifier_release.argtypes = [ctypes.c_void_p]
        self.handle = ctypes.c_void_p()
        st = lib.wv_verifier_create(ctypes.byref(_Vehicle(*astuple(VehicleProfile()))),
                                    ctypes.byref(_Limits(*astuple(Limits()))), 16, 128, 256, 1024,
                                    ctypes.byref(self.handle))
        assert st == 0, f"wv_verifier_create: status {st}"
        self.keep = {k: np.ascontiguousarray(sc[k], dtype=np.float32)
                     for k in ("trajectories", "scores", "objects", "left", "right")}
        ptr = {k: a.ctypes.data_as(_FP) for k, a in self.keep.items()}
        ego = sc["ego"]
        self.input = _Input(ptr["trajectories"], K, T, ptr["scores"],
                            _Ego(ego.speed, ego.accel, ego.yaw_rate, ego.steering), ptr["objects"], M, ptr["left"], N,
                            ptr["right"], N, int(sc["wet"]))
        self.verdict = _Verdict()
        self.args = (self.handle, ctypes.byref(self.input), ctypes.byref(self.verdict))

    def run(self) -> int:
        return int(self.lib.wv_verifier_check(*self.args))

    def reasons(self) -> npt.NDArray[np.uint32]:
        return np.ctypeslib.as_array(self.verdict.reasons, shape=(K,)).copy()

    def close(self) -> None:
        self.lib.wv_verifier_release(self.handle)


# ----------------------------------------------------------------------------------------------------------
# Benchmarks


@pytest.fixture(scope="module")
def verifier_case() -> dict[str, Any]:
    sc = scene()
    wv = Verifier()

    def run_wayvert() -> wayvert.Verdict:
        return wv.check(sc["trajectories"], sc["scores"], sc["ego"], objects=sc["objects"],
                        boundaries=(sc["left"], sc["right"]), wet=sc["wet"])

    ref = run_wayvert()
    npv = NumpyVerifier()

    def run_numpy() -> tuple[npt.NDArray[np.uint32], F64, int]:
        return npv.check(sc["trajectories"], sc["scores"], sc["ego"], sc["objects"], sc["left"], sc["right"],
                         sc["wet"])

    reasons, margins, chosen = run_numpy()
    cpp_reasons = np.asarray([int(r) for r in ref.reasons], dtype=np.uint32)
    # The numpy peer does the same work: same bits, same choice, same margins.
    assert np.array_equal(reasons, cpp_reasons), (reasons, cpp_reasons)
    assert chosen == ref.chosen
    np.testing.assert_allclose(margins, ref.margins, rtol=1e-3, atol=1e-4)
    # The scene is what it claims: four modes pass, hard braking and the swerve fail, mode 0 is chosen.
    assert list(cpp_reasons[:4]) == [0, 0, 0, 0]
    assert cpp_reasons[4] & wayvert.Reason.DECEL and cpp_reasons[5] & wayvert.Reason.DRIVABLE_AREA
    assert ref.chosen == 0 and not ref.fallback_used
    # Nothing borderline decides a bit (within 2% of a limit), so float32 vs float64 cannot flip one.
    finite = ref.margins[np.isfinite(ref.margins)]
    assert not np.any(np.abs(finite - 1.0) < 0.02), ref.margins
    info = {"modes": K, "points": T, "objects": M, "boundary_points": N, "reasons": [int(r) for r in cpp_reasons],
            "chosen": ref.chosen, "threads": 1}
    return {"scene": sc, "wayvert": run_wayvert, "numpy": run_numpy, "info": info, "reasons": cpp_reasons}


@pytest.mark.parametrize("peer", ["wayvert_python", "wayvert_capi", "numpy"])
def test_verifier(benchmark: Any, verifier_case: dict[str, Any], peer: str) -> None:
    benchmark.group = GROUP
    benchmark.extra_info.update({"peer": peer, **verifier_case["info"]})
    if peer == "wayvert_python":
        fn = verifier_case["wayvert"]
    elif peer == "numpy":
        fn = verifier_case["numpy"]
    else:
        capi = CApiVerifier(verifier_case["scene"])
        assert capi.run() == 0
        assert np.array_equal(capi.reasons(), verifier_case["reasons"])  # the struct layouts match wayvert.h
        fn = capi.run
    for _ in range(3):
        fn()
    benchmark(fn)
    if peer == "wayvert_capi":
        capi.close()
