"""Run-time repair before rejection: each of the network's modes also offered smoothed and nudged away from a
carriageway edge at its own speed, and slowed down along its own path.

The verifier rejects a mode for what it does at its speed as much as for where it goes: a following gap or a
time to collision too short, lateral jerk or a steering rate too high on a curve taken fast. Rejecting every
mode sends the car onto the minimum-risk fallback, which brakes hard (6 m/s²) along the *current* arc with no
steering, so a car in a bend drifts towards the edge and the next plans fail the drivable area too. Autoware's
motion velocity smoother does the other thing first: it keeps the planned path and lowers the speed profile
until the lateral-acceleration and steering-rate limits hold. Here each mode gets one such variant: the same
path, retimed by a comfortable jerk-limited deceleration from the ego's speed and acceleration now.

Most rejections are not for speed, though: the network's top mode comes within the verifier's 0.25 m margin of
the carriageway edge somewhere in its 4 s on four frames of ten (its lateral error grows with the horizon), and a
slowed variant passes only because it ends sooner, so each such frame costs speed the network then keeps. A path
optimiser keeps a plan inside the drivable area instead (Autoware's path optimizer; UniAD's post-optimisation
moves the network's planned points away from predicted occupancy in the same spirit): a mode that comes too close
to an edge is also offered shifted sideways, by a shift that is zero with zero slope at the ego now and grows
smoothly (smoothstep) to the least that clears every waypoint, at its own speed profile.

The next most frequent rejection, ``lateral_jerk``, is mostly noise: the verifier estimates curvature from three
waypoints 0.2 s apart, so a few centimetres of regression noise on one waypoint read as a jerk over the limit. A
trajectory smoother removes it: each mode is also offered as a least-squares polynomial fit that starts at the
ego with its velocity now.

The variants go to the verifier after every original mode, in tiers: smoothed, nudged (of the smoothed mode),
slowed, nudged and slowed, each tier's scores below the tier before, in the originals' order, so an original
that passes always wins, smoothing is preferred to a nudge and a nudge to a slowdown, and the fallback stays the
last resort when no variant passes either.

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


def _stop_profile(cand: F64, speed: float, accel: float) -> tuple[F64, F64]:
    """``gentle_stop_profile`` on the candidates' own times (every mode shares them)."""
    times = cand[0, :, 0] - cand[0, 0, 0]
    return gentle_stop_profile(times, float(speed), float(accel))


def _retimed(cand: F64, v: F64, s: F64) -> F64:
    """Each mode of ``cand`` [K, T, 5] driven along its own path with speeds ``v`` and distances ``s`` [T]; a
    non-finite mode stays non-finite."""
    out = np.empty_like(cand)
    for i in range(cand.shape[0]):
        out[i, :, 0] = cand[i, :, 0]
        if not np.all(np.isfinite(cand[i])):
            out[i, :, 1:] = np.nan
            continue
        out[i, :, 1:4] = _along_path(cand[i, :, 1:4], s)
        out[i, :, 4] = v
    return out


def with_slowed_variants(candidates: F64, scores: F64, speed: float, accel: float) -> tuple[F64, F64]:
    """Candidates [K, T, 5] (t, x, y, heading, speed; first point the ego now) and scores [K] -> [2K, T, 5] and
    [2K]: the K originals, then for each its path retimed by ``gentle_stop_profile`` from (``speed``, ``accel``),
    scored below every original in the originals' order. A non-finite mode stays non-finite (the verifier calls
    both invalid)."""
    cand = np.asarray(candidates, np.float64)
    sc = np.asarray(scores, np.float64)
    slowed = _retimed(cand, *_stop_profile(cand, speed, accel))
    finite = sc[np.isfinite(sc)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    slowed_scores = sc - 2.0 * span - 1.0     # the best variant ends span + 1 below the worst original
    return np.concatenate([cand, slowed]), np.concatenate([sc, slowed_scores])


#: The clearance a nudged mode aims for beyond the verifier's boundary margin (m): room for tracking error.
NUDGE_EXTRA_CLEARANCE_M = 0.10
#: The largest lateral shift a nudge may apply (m); a mode that needs more is not nudged.
NUDGE_MAX_SHIFT_M = 2.0


def _smoothstep(u: F64) -> F64:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _signed_distance(points: F64, line: F64) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Signed distance [P] of ``points`` [P, 2] to polyline ``line`` [N, 2] (positive on its left), the verifier's
    rule (docs/verifier.md 6.9): the nearest point of the segments, the first segment skipped for a point projecting
    before the first vertex and the last for one beyond the last; and whether each point was judged at all."""
    a, b = line[:-1], line[1:]
    ab = b - a
    length2 = (ab * ab).sum(1)
    keep = length2 > 1e-12
    a, ab, length2 = a[keep], ab[keep], length2[keep]
    n = len(a)
    if n == 0:
        return np.zeros(len(points)), np.zeros(len(points), bool)
    ap = points[:, None, :] - a[None]                                   # [P, S, 2]
    t = (ap * ab[None]).sum(2) / length2[None]                          # [P, S]
    usable = np.ones_like(t, bool)
    usable[:, 0] &= t[:, 0] >= 0.0
    usable[:, n - 1] &= t[:, n - 1] <= 1.0
    tc = np.clip(t, 0.0, 1.0)
    near = a[None] + tc[..., None] * ab[None]
    dist = np.hypot(points[:, None, 0] - near[..., 0], points[:, None, 1] - near[..., 1])
    dist = np.where(usable, dist, np.inf)
    seg = np.argmin(dist, 1)
    rows = np.arange(len(points))
    cross = ab[seg, 0] * ap[rows, seg, 1] - ab[seg, 1] * ap[rows, seg, 0]
    judged = np.isfinite(dist[rows, seg])
    return np.where(cross >= 0.0, 1.0, -1.0) * np.where(judged, dist[rows, seg], 0.0), judged


def _corners(path: F64, length: float, width: float, rear: float) -> F64:
    """Footprint corners [T, 4, 2] of poses ``path`` [T, 3] (x, y, heading of the rear axle)."""
    lon = np.array([length - rear, length - rear, -rear, -rear])
    lat = np.array([width / 2, -width / 2, width / 2, -width / 2])
    c, s = np.cos(path[:, 2])[:, None], np.sin(path[:, 2])[:, None]
    return np.stack([path[:, 0:1] + c * lon - s * lat, path[:, 1:2] + s * lon + c * lat], 2)


#: How far beyond the plan's footprints an edge is looked at (m); a vertex further away cannot bind a shift of at
#: most NUDGE_MAX_SHIFT_M.
CROP_M = 10.0


def _clearances(mode: F64, line: F64 | None, sign: float, length: float, width: float, rear: float) -> F64:
    """Least clearance [T] of the footprint's corners at each pose of ``mode`` from boundary ``line`` (``sign``
    +1: the right edge, the footprint must lie on its left; -1: the left edge); +inf where no corner is judged."""
    if line is None or len(line) < 2:
        return np.full(len(mode), np.inf)
    corners = _corners(mode[:, 1:4], length, width, rear).reshape(-1, 2)
    line = np.asarray(line, np.float64)
    # Only the stretch of the edge near the plan matters: its vertices within CROP_M of the corners' bounding box,
    # kept contiguous, and one more vertex each side (a 140-vertex edge costs 10x the plan's own geometry).
    lo_xy, hi_xy = corners.min(0) - CROP_M, corners.max(0) + CROP_M
    near = np.flatnonzero(np.all((line >= lo_xy) & (line <= hi_xy), 1))
    if len(near):
        line = line[max(near[0] - 1, 0):near[-1] + 2]
    d, judged = _signed_distance(corners, line)
    clearance: F64 = np.where(judged, sign * d, np.inf).reshape(len(mode), 4).min(1)
    return clearance


def lateral_nudge(mode: F64, left: F64 | None, right: F64 | None, *, margin: float, length: float, width: float,
                  rear: float, extra: float = NUDGE_EXTRA_CLEARANCE_M, max_shift: float = NUDGE_MAX_SHIFT_M) -> F64 | None:
    """``mode`` [T, 5] (t, x, y, heading, speed; first point the ego now) shifted sideways so that every footprint
    corner keeps ``margin + extra`` from both carriageway edges (``left``, ``right`` [N, 2], ego frame); None when
    no shift is needed or none of at most ``max_shift`` reaches it. The speed profile is kept.

    A car already closer to an edge than that (or past it) is asked to get there by the end of the plan: the
    clearance a waypoint needs grows from the car's own clearance now to ``margin + extra``, smoothly over the
    plan (the verifier's own rule for such a car, docs/verifier.md 6.9, asks less). The shift along each
    waypoint's normal is ``D * smoothstep(t / tau)``: zero, with zero slope, at the ego now; of the (D, tau) pairs
    that keep every waypoint between both edges' needs, the one of least lateral acceleration (|D| / tau^2).
    Headings follow the shifted path."""
    if not np.all(np.isfinite(mode)):
        return None
    t = mode[:, 0] - mode[0, 0]
    if len(t) < 2 or not np.all(np.diff(t) > 0.0):
        return None
    target = margin + extra
    ramp = _smoothstep(t / t[-1])
    lo = np.full(len(mode), -np.inf)     # the shift (+ towards the left) each waypoint needs at least ...
    hi = np.full(len(mode), np.inf)      # ... and allows at most
    for line, sign in ((right, 1.0), (left, -1.0)):
        clear = _clearances(mode, line, sign, length, width, rear)
        if not np.isfinite(clear[0]):
            continue
        c0 = clear[0]
        need = np.full(len(mode), target) if c0 >= target else c0 + (target - c0) * ramp
        room = np.where(np.isfinite(clear), clear - need, np.inf)   # how far this edge lets the waypoint move towards it
        if sign > 0:
            lo = np.maximum(lo, -room)
        else:
            hi = np.minimum(hi, room)
    lo[0], hi[0] = min(lo[0], 0.0), max(hi[0], 0.0)      # the ego now is where it is
    if np.all(lo <= 0.0) and np.all(hi >= 0.0):
        return None                                      # already clear of both edges
    best: tuple[float, float, float] | None = None
    for tau in t[1:]:
        w = _smoothstep(t / tau)
        pos = w > 0.0
        if np.any((lo > 0.0) & ~pos) or np.any((hi < 0.0) & ~pos):
            continue
        d_lo = float(np.max(lo[pos] / w[pos], initial=-np.inf))
        d_hi = float(np.min(hi[pos] / w[pos], initial=np.inf))
        if d_lo > d_hi:
            continue
        d_shift = min(max(0.0, d_lo), d_hi)
        if abs(d_shift) > max_shift or d_shift == 0.0:
            continue
        cost = abs(d_shift) / (tau * tau)
        if best is None or cost < best[0]:
            best = (cost, d_shift, float(tau))
    if best is None:
        return None
    _, d_shift, tau = best
    shift = d_shift * _smoothstep(t / tau)
    out = mode.copy()
    h = mode[:, 3]
    out[:, 1] = mode[:, 1] - np.sin(h) * shift
    out[:, 2] = mode[:, 2] + np.cos(h) * shift
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(mode[:, 1]), np.diff(mode[:, 2])))])
    slope = np.gradient(shift, arc) if np.all(np.diff(arc) > 1e-6) else np.zeros_like(shift)
    out[:, 3] = h + np.arctan(slope)
    out[0, 3] = h[0]
    return out


#: The smoothed variant: polynomial degree of x(t) and y(t), and the slowest mode it is made for (m/s).
SMOOTH_DEGREE = 5
SMOOTH_MIN_SPEED_MPS = 2.0


def smoothed(mode: F64) -> F64 | None:
    """``mode`` [T, 5] (t, x, y, heading, speed; first point the ego now) with its waypoint noise removed: x(t)
    and y(t) fitted by least squares with polynomials of degree ``SMOOTH_DEGREE`` that start at the ego with its
    velocity now (position and first derivative pinned), headings and speeds from the fit's derivative. None for
    a mode that is not finite, not increasing in time or slower than ``SMOOTH_MIN_SPEED_MPS`` anywhere (a plan
    that stops: a polynomial would swing back through zero speed)."""
    if not np.all(np.isfinite(mode)) or len(mode) < SMOOTH_DEGREE + 1:
        return None
    t = mode[:, 0] - mode[0, 0]
    if not np.all(np.diff(t) > 0.0) or mode[:, 4].min() < SMOOTH_MIN_SPEED_MPS:
        return None
    v0, h0 = mode[0, 4], mode[0, 3]
    powers = np.arange(2, SMOOTH_DEGREE + 1)
    basis = t[1:, None] ** powers[None]                       # [T-1, deg-1]
    out = mode.copy()
    deriv = np.empty((len(t), 2))
    for j, (col, v_dir) in enumerate(((1, np.cos(h0)), (2, np.sin(h0)))):
        pinned = mode[0, col] + v0 * v_dir * t
        coef, *_ = np.linalg.lstsq(basis, mode[1:, col] - pinned[1:], rcond=None)
        out[:, col] = pinned + np.concatenate([[0.0], basis @ coef])
        deriv[:, j] = v0 * v_dir + (powers[None] * t[:, None] ** (powers[None] - 1)) @ coef
    speed = np.hypot(deriv[:, 0], deriv[:, 1])
    if speed.min() < 0.5 * SMOOTH_MIN_SPEED_MPS:
        return None
    out[1:, 3] = h0 + np.unwrap(np.arctan2(deriv[1:, 1], deriv[1:, 0]) - h0)
    out[1:, 4] = speed[1:]
    return out


#: What each candidate offered to the verifier is (``repair_variants``' third output).
ORIGINAL, NUDGED, SLOWED, NUDGED_SLOWED, SMOOTHED = 0, 1, 2, 3, 4
VARIANT_NAMES = ("original", "nudged", "slowed", "nudged+slowed", "smoothed")


def repair_variants(candidates: F64, scores: F64, speed: float, accel: float,
                    boundaries: tuple[F64 | None, F64 | None] | None = None, *, margin: float = 0.25,
                    length: float = 4.89, width: float = 1.9, rear: float = 1.1, smooth: bool = True
                    ) -> tuple[F64, F64, npt.NDArray[np.int8]]:
    """Candidates [K, T, 5] and scores [K] -> what goes to the verifier, best first by score, in tiers:

    1. the K originals;
    2. ``smooth``: each mode with its waypoint noise removed (``smoothed``), at its own speed;
    3. each mode (its smoothed form where there is one) that comes within ``margin`` (+ ``NUDGE_EXTRA_CLEARANCE_M``)
       of a carriageway edge in ``boundaries`` (left, right; ego frame), nudged sideways at its own speed
       (``lateral_nudge``);
    4. every original slowed down along its path (``with_slowed_variants``);
    5. every nudged mode slowed down.

    Each tier's scores are its source modes' scores moved below every score of the tier before, so within a tier
    the originals' order holds. Third output: each candidate's kind (``ORIGINAL``, ``SMOOTHED``, ``NUDGED``,
    ``SLOWED``, ``NUDGED_SLOWED``). Without ``boundaries`` and ``smooth`` this is ``with_slowed_variants``."""
    cand = np.asarray(candidates, np.float64)
    sc = np.asarray(scores, np.float64)
    k = cand.shape[0]
    base = [cand[i] for i in range(k)]
    smooth_modes: list[F64] = []
    smooth_scores: list[float] = []
    if smooth:
        for i in range(k):
            m = smoothed(cand[i])
            if m is not None:
                smooth_modes.append(m)
                smooth_scores.append(float(sc[i]))
                base[i] = m
    nudged: list[F64] = []
    nudged_scores: list[float] = []
    if boundaries is not None:
        left, right = boundaries
        for i in range(k):
            m = lateral_nudge(base[i], left, right, margin=margin, length=length, width=width, rear=rear)
            if m is not None:
                nudged.append(m)
                nudged_scores.append(float(sc[i]))
    finite = sc[np.isfinite(sc)]
    step = (float(finite.max() - finite.min()) if finite.size else 0.0) + 1.0
    tiers: list[tuple[F64, F64, int]] = []
    if smooth_modes:
        tiers.append((np.stack(smooth_modes), np.asarray(smooth_scores), SMOOTHED))
    if nudged:
        tiers.append((np.stack(nudged), np.asarray(nudged_scores), NUDGED))
    stop = _stop_profile(cand, speed, accel)  # one profile for both slowed tiers
    tiers.append((_retimed(cand, *stop), sc, SLOWED))
    if nudged:
        tiers.append((_retimed(np.stack(nudged), *stop), np.asarray(nudged_scores), NUDGED_SLOWED))
    parts, part_scores, kinds = [cand], [sc], [np.full(k, ORIGINAL, np.int8)]
    for j, (c, s_src, kind) in enumerate(tiers, start=1):
        parts.append(c)
        part_scores.append(s_src - j * step)
        kinds.append(np.full(len(c), kind, np.int8))
    return np.concatenate(parts), np.concatenate(part_scores), np.concatenate(kinds)
