"""Camera lens models in numpy: projection of rays to pixels and back, the reference for the C++ models of
``cpp/src/sensors/camera_model.{hpp,cpp}`` (same maths, written independently; float64, vectorised).

Conventions: camera optical frame x right, y down, z forward (OpenCV); pixel (row i, col j) has its centre at
(u = j, v = i). ``params`` is any object with attributes ``type`` ("pinhole" | "kannala_brandt" | "ftheta"),
``fx``, ``fy``, ``cx``, ``cy``, ``coeffs`` (a sequence, zero-padded to 5) and ``fov_deg`` — for example a
``wayvert.sensors.rig.CameraModel``.

* pinhole (OpenCV Brown-Conrady), coeffs [k1 k2 p1 p2 k3]: x = X/Z, y = Y/Z, r2 = x^2 + y^2,
  radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3, xd = x radial + 2 p1 x y + p2 (r2 + 2 x^2),
  yd = y radial + p1 (r2 + 2 y^2) + 2 p2 x y; u = fx xd + cx, v = fy yd + cy. Valid for Z > 0 and
  r = sqrt(r2) <= r_max, the first r where min(d(r radial)/dr, radial) - 6 |(p1, p2)| r <= 0, capped at
  tan(89 deg). Without tangential terms this is the first r where d(r radial)/dr <= 0; with them it keeps the
  (symmetric) Jacobian positive definite on the whole disc, so the map is one-to-one there. fov_deg is ignored.
* kannala_brandt (OpenCV fisheye), coeffs [k1 k2 k3 k4]: theta = atan2(sqrt(X^2 + Y^2), Z),
  theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8),
  (u, v) = (fx, fy) * theta_d (X, Y) / sqrt(X^2 + Y^2) + (cx, cy).
* ftheta, coeffs [a1 .. a5]: pixel radius r = a1 theta + ... + a5 theta^5, (u, v) = (cx, cy) + r (X, Y) / rho;
  fx and fy are ignored.
  Fisheye and f-theta are valid for theta <= min(fov_deg / 2, the first theta where the polynomial's derivative
  is <= 0).

Boundaries carry a relative slack of a few 1e-12, so that ``project(unproject(uv))`` and ``unproject(project(r))``
stay valid on the rim. ``unproject`` solves by Newton iteration (2-D for pinhole, a bracketed 1-D solve for theta
otherwise); ``project(unproject(uv))`` returns ``uv`` within 1e-6 px (in practice ~1e-12).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np
import numpy.typing as npt

from wayvert.errors import InvalidArgumentError

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

MODEL_TYPES = ("pinhole", "kannala_brandt", "ftheta")
#: Relative slack at the domain boundary: unproject clamps to limit (1 + eps), project accepts up to
#: limit (1 + 2 eps), unproject accepts solutions up to limit (1 + 3 eps).
EDGE_EPS = 1e-12
#: Pinhole: cap on the undistorted normalized radius, tan(89 deg).
PINHOLE_RADIUS_CAP = math.tan(math.radians(89.0))


class CameraParams(Protocol):
    """What the functions read from ``params`` (read-only attributes suffice, e.g. a frozen dataclass)."""

    @property
    def type(self) -> str: ...
    @property
    def fx(self) -> float | None: ...
    @property
    def fy(self) -> float | None: ...
    @property
    def cx(self) -> float: ...
    @property
    def cy(self) -> float: ...
    @property
    def coeffs(self) -> Sequence[float]: ...
    @property
    def fov_deg(self) -> float | None: ...


@dataclass(frozen=True)
class Domain:
    """Validated parameters and the valid domain of one camera model.

    ``limit``: pinhole r_max (undistorted normalized radius), otherwise theta_max (radians); ``max_angle_rad``:
    the largest valid angle from the optical axis."""

    type: str
    fx: float
    fy: float
    cx: float
    cy: float
    coeffs: tuple[float, float, float, float, float]
    limit: float
    max_angle_rad: float
    newton_clamp: float  # pinhole: Newton iterates stay within this radius
    target_acc: float  # kannala_brandt / ftheta: the largest accepted image radius (normalized / pixels)


def _bad(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)


def _finite(value: object, what: str, who: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _bad(f"{who}{what} must be a finite number (got {value!r})") from None
    if not math.isfinite(x):
        raise _bad(f"{who}{what} must be finite (got {x!r})")
    return x


def _polyval(c: Sequence[float], x: float) -> float:
    """c[0] + c[1] x + ... (ascending coefficients)."""
    y = 0.0
    for a in reversed(c):
        y = y * x + a
    return y


def _first_nonpositive(c: Sequence[float], hi: float) -> float:
    """For c(0) > 0 (ascending coefficients): the first x in (0, hi] where c(x) <= 0, or inf.

    In y = x / hi the interval is (0, 1]; top coefficients below 1e-18 of the largest there cannot move c by more
    than rounding and are dropped (a subnormal one would overflow the companion matrix). The roots come from
    numpy's companion-matrix eigenvalues (real ones have an imaginary part of exactly 0; a conjugate pair with a
    tiny imaginary part is a near-double root where c touches 0, counted too), polished by Newton steps on c."""
    coeffs = [float(a) for a in c]
    scaled = np.array([a * hi**i for i, a in enumerate(coeffs)], dtype=np.float64)
    mag = float(np.max(np.abs(scaled)))
    n = len(scaled)
    while n > 1 and abs(float(scaled[n - 1])) <= 1e-18 * mag:
        n -= 1
    if n <= 1:
        return math.inf
    deriv = [i * coeffs[i] for i in range(1, len(coeffs))]
    best = math.inf
    for z in np.roots(scaled[:n][::-1]):
        y = float(z.real)
        if z.imag != 0.0:
            if abs(z.imag) > 1e-6 * max(1.0, abs(y)):
                continue
            if _polyval(scaled[:n].tolist(), y) > 1e-12 * mag * max(1.0, abs(y)) ** (n - 1):
                continue
        x = y * hi
        for _ in range(3):  # polish, while it helps
            d = _polyval(deriv, x)
            if d == 0.0:
                break
            xn = x - _polyval(coeffs, x) / d
            if not abs(_polyval(coeffs, xn)) < abs(_polyval(coeffs, x)):
                break
            x = xn
        if 0.0 < x <= hi and x < best:
            best = x
    return best


def domain(params: CameraParams) -> Domain:
    """Validate ``params`` (``InvalidArgumentError`` naming the bad parameter) and compute the valid domain."""
    kind = params.type
    if kind not in MODEL_TYPES:
        raise _bad(f"camera model: unknown type {kind!r} (one of {', '.join(MODEL_TYPES)})")
    who = f"camera model {kind}: "
    if kind == "ftheta":
        fx = fy = 0.0
    else:
        fx = _finite(params.fx, "focal length fx", who)
        fy = _finite(params.fy, "focal length fy", who)
        if fx <= 0.0:
            raise _bad(f"{who}focal length fx must be > 0 (got {fx!r})")
        if fy <= 0.0:
            raise _bad(f"{who}focal length fy must be > 0 (got {fy!r})")
    cx = _finite(params.cx, "principal point cx", who)
    cy = _finite(params.cy, "principal point cy", who)
    raw = list(params.coeffs)
    n_used = 4 if kind == "kannala_brandt" else 5
    if len(raw) > 5:
        raise _bad(f"{who}coeffs has {len(raw)} values (at most {n_used})")
    vals = [_finite(v, f"coeffs[{i}]", who) for i, v in enumerate(raw)] + [0.0] * (5 - len(raw))
    k = (vals[0], vals[1], vals[2], vals[3], vals[4])
    fov = 0.0
    if kind != "pinhole":
        fov_raw = params.fov_deg
        if fov_raw is None:
            raise _bad(f"{who}fov_deg is required, in (0, 360)")
        fov = _finite(fov_raw, "fov_deg", who)
        if not (0.0 < fov < 360.0):
            raise _bad(f"{who}fov_deg must be in (0, 360) (got {fov!r})")

    newton_clamp = 0.0
    target_acc = 0.0
    if kind == "pinhole":
        tp = 6.0 * math.hypot(k[2], k[3])
        along = [1.0, -tp, 3.0 * k[0], 0.0, 5.0 * k[1], 0.0, 7.0 * k[4]]  # f'(r) - 6 |p| r
        across = [1.0, -tp, k[0], 0.0, k[1], 0.0, k[4]]  # radial(r^2) - 6 |p| r
        r = min(_first_nonpositive(along, PINHOLE_RADIUS_CAP), _first_nonpositive(across, PINHOLE_RADIUS_CAP))
        limit = min(r, PINHOLE_RADIUS_CAP)
        max_angle = math.atan(limit)
        ra = limit * (1.0 + 3.0 * EDGE_EPS)
        newton_clamp = ra if (_polyval(along, ra) > 0.0 and _polyval(across, ra) > 0.0) else limit
    else:
        half = math.radians(0.5 * fov)
        if kind == "kannala_brandt":
            if k[4] != 0.0:
                raise _bad(f"{who}coeffs[4] must be 0 (the model has 4 coefficients k1..k4; got {k[4]!r})")
            # d theta_d / d theta in s = theta^2
            s = _first_nonpositive([1.0, 3.0 * k[0], 5.0 * k[1], 7.0 * k[2], 9.0 * k[3]], half * half)
            limit = min(math.sqrt(s), half) if math.isfinite(s) else half
        else:
            if not k[0] > 0.0:
                raise _bad(f"{who}polynomial r(theta) must be increasing at 0: coeffs[0] (a1) must be > 0 "
                           f"(got {k[0]!r})")
            t = _first_nonpositive([k[0], 2.0 * k[1], 3.0 * k[2], 4.0 * k[3], 5.0 * k[4]], half)
            limit = min(t, half)
        max_angle = limit
        poly = _radial_poly_scalar(kind, k)
        target_acc = max(poly(limit), poly(limit * (1.0 + 3.0 * EDGE_EPS))) * (1.0 + 1e-14)
        if not (target_acc > 0.0 and math.isfinite(target_acc)):
            raise _bad(f"{who}coefficients give a non-finite image radius at the edge of the field of view")
    if not limit > 0.0:
        raise _bad(f"{who}empty valid domain (distortion folds back at once)")
    return Domain(kind, fx, fy, cx, cy, k, limit, max_angle, newton_clamp, target_acc)


def _radial_poly_scalar(kind: str, k: Sequence[float]) -> Callable[[float], float]:
    """theta_d(theta) (kannala_brandt) or r(theta) (ftheta), for one float."""
    if kind == "kannala_brandt":
        return lambda t: t * (1.0 + k[0] * t**2 + k[1] * t**4 + k[2] * t**6 + k[3] * t**8)
    return lambda t: k[0] * t + k[1] * t**2 + k[2] * t**3 + k[3] * t**4 + k[4] * t**5


def _radial_poly(d: Domain, t: F64) -> F64:
    k = d.coeffs
    if d.type == "kannala_brandt":
        t2 = t * t
        return t * (1.0 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3]))))
    return t * (k[0] + t * (k[1] + t * (k[2] + t * (k[3] + t * k[4]))))


def _radial_poly_deriv(d: Domain, t: F64) -> F64:
    k = d.coeffs
    if d.type == "kannala_brandt":
        t2 = t * t
        return 1.0 + t2 * (3.0 * k[0] + t2 * (5.0 * k[1] + t2 * (7.0 * k[2] + t2 * 9.0 * k[3])))
    return k[0] + t * (2.0 * k[1] + t * (3.0 * k[2] + t * (4.0 * k[3] + t * 5.0 * k[4])))


def _as_domain(params: CameraParams | Domain) -> Domain:
    return params if isinstance(params, Domain) else domain(params)


def _brown_conrady(k: Sequence[float], x: F64, y: F64) -> tuple[F64, F64]:
    k1, k2, p1, p2, k3 = k
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return xd, yd


def project(params: CameraParams | Domain, rays: npt.ArrayLike) -> tuple[F64, Bool]:
    """Rays [N, 3] in the optical frame (any non-zero length) -> (uv [N, 2] float64, valid [N] bool).
    Invalid rows (outside the domain, zero, NaN/inf) have uv = NaN."""
    d = _as_domain(params)
    r = np.asarray(rays, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] != 3:
        raise _bad(f"rays must have shape [N, 3] (got {r.shape})")
    n = r.shape[0]
    uv = np.full((n, 2), np.nan)
    valid = np.isfinite(r).all(axis=1)
    lim_proj = d.limit * (1.0 + 2.0 * EDGE_EPS)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if d.type == "pinhole":
            X, Y, Z = r[:, 0], r[:, 1], r[:, 2]
            valid &= Z > 0.0
            x = np.where(valid, X / np.where(valid, Z, 1.0), 0.0)
            y = np.where(valid, Y / np.where(valid, Z, 1.0), 0.0)
            valid &= x * x + y * y <= lim_proj * lim_proj
            xd, yd = _brown_conrady(d.coeffs, x, y)
            u = d.fx * xd + d.cx
            v = d.fy * yd + d.cy
        else:
            m = np.max(np.abs(np.where(np.isfinite(r), r, 0.0)), axis=1)
            valid &= m > 0.0
            s = np.where(valid, m, 1.0)[:, None]
            q = np.where(valid[:, None], r, 0.0) / s
            X, Y, Z = q[:, 0], q[:, 1], q[:, 2]
            rho = np.sqrt(X * X + Y * Y)
            theta = np.arctan2(rho, Z)
            valid &= theta <= lim_proj
            rad = _radial_poly(d, theta)
            on_axis = rho == 0.0
            safe_rho = np.where(on_axis, 1.0, rho)
            ex = np.where(on_axis, 0.0, X / safe_rho)
            ey = np.where(on_axis, 0.0, Y / safe_rho)
            if d.type == "kannala_brandt":
                u = d.fx * (rad * ex) + d.cx
                v = d.fy * (rad * ey) + d.cy
            else:
                u = d.cx + rad * ex
                v = d.cy + rad * ey
    uv[valid, 0] = u[valid]
    uv[valid, 1] = v[valid]
    return uv, valid


def unproject(params: CameraParams | Domain, uv: npt.ArrayLike) -> tuple[F64, Bool]:
    """Pixels [N, 2] (u = column, v = row) -> (unit rays [N, 3] float64, valid [N] bool). Invalid rows (not the
    image of a direction in the domain, NaN/inf) have rays = NaN."""
    d = _as_domain(params)
    p = np.asarray(uv, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise _bad(f"uv must have shape [N, 2] (got {p.shape})")
    n = p.shape[0]
    rays = np.full((n, 3), np.nan)
    finite = np.isfinite(p).all(axis=1)
    u = np.where(finite, p[:, 0], d.cx)
    v = np.where(finite, p[:, 1], d.cy)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if d.type == "pinhole":
            out, ok = _unproject_pinhole(d, u, v)
        else:
            out, ok = _unproject_radial(d, u, v)
    valid = finite & ok
    rays[valid] = out[valid]
    return rays, valid


def _clamp_radius(x: F64, y: F64, lim: float) -> tuple[F64, F64]:
    r = np.sqrt(x * x + y * y)
    f = np.where(r > lim, lim / np.where(r > 0.0, r, 1.0), 1.0)
    return x * f, y * f


def _solve_increasing(g: Callable[[F64], F64], dg: Callable[[F64], F64], target: F64, t0: F64,
                      hi_lim: float) -> F64:
    """Per element, t in [0, hi_lim] with g(t) = target, for g increasing there with g(0) = 0 <= target: Newton
    steps from t0, bisection whenever a step would leave the bracket [lo, hi]; t -> hi_lim when target is beyond
    g(hi_lim). Each pass works on the elements still iterating only."""
    t = np.where((t0 > 0.0) & (t0 < hi_lim), t0, 0.5 * hi_lim)
    t = np.where(target > 0.0, t, 0.0)
    idx = np.flatnonzero(target > 0.0)
    tt, tg = t[idx], target[idx]
    lo, hi = np.zeros_like(tt), np.full_like(tt, hi_lim)
    for _ in range(200):
        if idx.size == 0:
            break
        f = g(tt) - tg
        lo = np.where(f < 0.0, tt, lo)
        hi = np.where(f > 0.0, tt, hi)
        der = dg(tt)
        tn = tt - f / np.where(der > 0.0, der, 1.0)
        tn = np.where((der > 0.0) & (tn > lo) & (tn < hi), tn, 0.5 * (lo + hi))
        moving = f != 0.0
        step = np.abs(tn - tt)
        tt = np.where(moving, tn, tt)
        t[idx] = tt
        keep = moving & (step > 1e-15 * tt) & (hi - lo > 1e-15 * hi)
        idx, tt, tg, lo, hi = idx[keep], tt[keep], tg[keep], lo[keep], hi[keep]
    return t


def _unproject_pinhole(d: Domain, u: F64, v: F64) -> tuple[F64, Bool]:
    """Start from the radial-only solution along each pixel's direction (a bracketed 1-D solve: r radial(r^2) is
    increasing on the domain's disc), then 2-D Newton on (x, y) -> (xd, yd) with backtracking (the Newton
    direction decreases |residual|^2 where the Jacobian is positive definite), iterates kept inside the disc.
    Accepted when the residual is below 1e-9 px (plus 1e-13 of the distance to the principal point)."""
    k1, k2, p1, p2, k3 = d.coeffs
    fx, fy = d.fx, d.fy
    xd_all = (u - d.cx) / fx
    yd_all = (v - d.cy) / fy

    def residual(x: F64, y: F64, xd: F64, yd: F64) -> tuple[F64, F64]:
        dx_, dy_ = _brown_conrady(d.coeffs, x, y)
        return (dx_ - xd) * fx, (dy_ - yd) * fy

    rd = np.hypot(xd_all, yd_all)
    r0 = _solve_increasing(lambda r: r * (1.0 + r * r * (k1 + r * r * (k2 + r * r * k3))),
                           lambda r: 1.0 + r * r * (3.0 * k1 + r * r * (5.0 * k2 + r * r * 7.0 * k3)),
                           rd, rd, d.newton_clamp)
    scale = np.where(rd > 0.0, r0 / np.where(rd > 0.0, rd, 1.0), 0.0)
    X, Y = xd_all * scale, yd_all * scale
    EX, EY = residual(X, Y, xd_all, yd_all)
    F2 = EX * EX + EY * EY
    ok_start = np.isfinite(F2)
    idx = np.flatnonzero(ok_start & (F2 > 0.0))
    for _ in range(100):
        if idx.size == 0:
            break
        x, y, ex, ey, f2 = X[idx], Y[idx], EX[idx], EY[idx], F2[idx]
        xd, yd = xd_all[idx], yd_all[idx]
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        dradial = k1 + r2 * (2.0 * k2 + r2 * 3.0 * k3)
        j00 = radial + 2.0 * x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x
        j01 = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y
        j11 = radial + 2.0 * y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x
        det = j00 * j11 - j01 * j01
        live = (det > 0.0) & (j00 > 0.0)  # else: at a fold on the rim, the residual decides
        safe_det = np.where(live, det, 1.0)
        gx, gy = ex / fx, ey / fy
        dx = np.where(live, (j11 * gx - j01 * gy) / safe_det, 0.0)
        dy = np.where(live, (j00 * gy - j01 * gx) / safe_det, 0.0)
        # A step at the rounding level is tried once, not backtracked: whatever it gives, this is the answer.
        tiny = np.maximum(np.abs(dx), np.abs(dy)) <= 1e-14 * (1.0 + np.sqrt(r2))
        pending = live.copy()
        lam = 1.0
        for ls in range(40):
            if ls == 1:
                pending &= ~tiny
            if not pending.any():
                break
            xn, yn = _clamp_radius(x - lam * dx, y - lam * dy, d.newton_clamp)
            exn, eyn = residual(xn, yn, xd, yd)
            f2n = exn * exn + eyn * eyn
            take = pending & (f2n < f2)
            x, y = np.where(take, xn, x), np.where(take, yn, y)
            ex, ey, f2 = np.where(take, exn, ex), np.where(take, eyn, ey), np.where(take, f2n, f2)
            pending &= ~take
            lam *= 0.5
        X[idx], Y[idx], EX[idx], EY[idx], F2[idx] = x, y, ex, ey, f2
        idx = idx[live & ~pending & ~tiny & (f2 > 0.0)]
    tol = 1e-9 + 1e-13 * (np.abs(u - d.cx) + np.abs(v - d.cy))
    ok = ok_start & (np.maximum(np.abs(EX), np.abs(EY)) <= tol)
    X, Y = _clamp_radius(X, Y, d.limit * (1.0 + EDGE_EPS))
    norm = np.sqrt(X * X + Y * Y + 1.0)
    return np.stack([X / norm, Y / norm, 1.0 / norm], axis=1), ok


def _unproject_radial(d: Domain, u: F64, v: F64) -> tuple[F64, Bool]:
    """Solve radial_poly(theta) = target on [0, limit (1 + 3 eps)], where the polynomial increases."""
    if d.type == "kannala_brandt":
        a = (u - d.cx) / d.fx
        b = (v - d.cy) / d.fy
    else:
        a = u - d.cx
        b = v - d.cy
    target = np.hypot(a, b)
    ok = np.isfinite(target) & (target <= d.target_acc)
    tgt = np.where(ok, target, 0.0)
    t0 = tgt / (1.0 if d.type == "kannala_brandt" else d.coeffs[0])
    t = _solve_increasing(lambda th: _radial_poly(d, th), lambda th: _radial_poly_deriv(d, th), tgt, t0,
                          d.limit * (1.0 + 3.0 * EDGE_EPS))
    t = np.minimum(t, d.limit * (1.0 + EDGE_EPS))
    s = np.sin(t)
    safe = np.where(tgt > 0.0, tgt, 1.0)
    ex = np.where(tgt > 0.0, a / safe, 0.0)
    ey = np.where(tgt > 0.0, b / safe, 0.0)
    rays = np.stack([s * ex, s * ey, np.cos(t)], axis=1)
    return rays, ok
