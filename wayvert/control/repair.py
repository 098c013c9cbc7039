"""Run-time repair before rejection: each of the network's modes also offered slowed down along its own path.

The verifier rejects a mode for what it does at its speed as much as for where it goes: a following gap or a
time to collision too short, lateral jerk or a steering rate too high on a curve taken fast. Rejecting every
mode sends the car onto the minimum-risk fallback, which brakes hard (6 m/s²) along the *current* arc with no
steering, so a car in a bend drifts towards the edge and the next plans fail the drivable area too. Autoware's
motion velocity smoother does the other thing first: it keeps the planned path and lowers the speed profile
until the lateral-acceleration and steering-rate limits hold. Here each mode gets one such variant: the same
path, retimed by a comfortable jerk-limited deceleration from the ego's speed and acceleration now. The variants
go to the verifier after every original mode (their scores are below all of them, in the originals' order), so
an original that passes always wins, and the fallback stays the last resort when no slowed mode passes either.

Comfort figures: the deceleration and jerk are within the comfort bounds nuPlan's and NAVSIM's PDM score uses
(longitudinal deceleration 4.05 m/s², jerk 4.13 m/s³), at about half of them.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

#: Deceleration (m/s²) and jerk (m/s³) of the slowed variants.
REPAIR_DECEL_MPS2 = 2.0
REPAIR_JERK_MPS3 = 2.0


def gentle_stop_profile(times: F64, speed: float, accel: float, decel: float = REPAIR_DECEL_MPS2,
                        jerk: float = REPAIR_JERK_MPS3) -> tuple[F64, F64]:
    """(speeds, distances) at ``times`` (from 0) of a stop that starts at ``speed`` with acceleration ``accel``
    (a throttle is dropped at once, a harder braking is eased out at ``jerk``), ramps to ``-decel`` at ``jerk``
    and holds it until the speed reaches 0. Integrated on a 10 ms grid (the waypoints are 100-200 ms apart)."""
    times = np.asarray(times, np.float64)
    if speed <= 0.0 or not np.isfinite(speed):
        return np.zeros_like(times), np.zeros_like(times)
    dt = 1e-2
    finite = times[np.isfinite(times)]
    n = int(np.ceil(max(float(finite.max()) if finite.size else 0.0, 0.0) / dt)) + 2
    v, s, a = speed, 0.0, min(accel, 0.0) if np.isfinite(accel) else 0.0
    v_at, s_at = np.empty(n), np.empty(n)
    for i in range(n):
        v_at[i], s_at[i] = v, s
        # ease to -decel; near the stop ease off so the speed reaches 0 with a small deceleration
        target = -decel if v > decel * decel / (2.0 * jerk) else -np.sqrt(2.0 * jerk * v)
        a = max(a - jerk * dt, target) if a > target else min(a + jerk * dt, target)
        v_next = v + a * dt
        if v_next <= 0.0:
            s += 0.5 * v * v / max(-a, 1e-9) if a < 0 else 0.0
            v, a = 0.0, 0.0
        else:
            s += 0.5 * (v + v_next) * dt
            v = v_next
    grid = np.arange(n) * dt
    return np.interp(times, grid, v_at), np.interp(times, grid, s_at)


def _along_path(path: F64, s: F64) -> F64:
    """(x, y, heading) at arc lengths ``s`` along ``path`` [N, 3] (x, y, heading; first point the ego), extended
    straight along the last heading beyond its end."""
    seg = np.hypot(np.diff(path[:, 0]), np.diff(path[:, 1]))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    keep = np.concatenate([[True], seg > 1e-6])            # repeated points (a plan standing still) carry nothing
    cum, pts = cum[keep], path[keep]
    heading = np.unwrap(pts[:, 2])
    if len(cum) < 2:
        x = pts[0, 0] + s * np.cos(heading[0])
        y = pts[0, 1] + s * np.sin(heading[0])
        return np.stack([x, y, np.full_like(s, heading[0])], 1)
    inside = np.minimum(s, cum[-1])
    x, y = (np.interp(inside, cum, pts[:, i]) for i in (0, 1))
    h = np.interp(inside, cum, heading)
    beyond = np.maximum(s - cum[-1], 0.0)
    return np.stack([x + beyond * np.cos(h), y + beyond * np.sin(h), h], 1)


def with_slowed_variants(candidates: F64, scores: F64, speed: float, accel: float) -> tuple[F64, F64]:
    """Candidates [K, T, 5] (t, x, y, heading, speed; first point the ego now) and scores [K] -> [2K, T, 5] and
    [2K]: the K originals, then for each its path retimed by ``gentle_stop_profile`` from (``speed``, ``accel``),
    scored below every original in the originals' order. A non-finite mode stays non-finite (the verifier calls
    both invalid)."""
    cand = np.asarray(candidates, np.float64)
    sc = np.asarray(scores, np.float64)
    k = cand.shape[0]
    times = cand[0, :, 0] - cand[0, 0, 0]
    v, s = gentle_stop_profile(times, float(speed), float(accel))
    slowed = np.empty_like(cand)
    for i in range(k):
        slowed[i, :, 0] = cand[i, :, 0]
        if not np.all(np.isfinite(cand[i])):
            slowed[i, :, 1:] = np.nan
            continue
        slowed[i, :, 1:4] = _along_path(cand[i, :, 1:4], s)
        slowed[i, :, 4] = v
    finite = sc[np.isfinite(sc)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    slowed_scores = sc - 2.0 * span - 1.0     # the best variant ends span + 1 below the worst original
    return np.concatenate([cand, slowed]), np.concatenate([sc, slowed_scores])
