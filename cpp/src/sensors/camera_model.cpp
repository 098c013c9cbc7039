#include "sensors/camera_model.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace wv::sensors {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Relative slack at the domain boundary (see camera_model.hpp).
constexpr double kEdgeEps = 1e-12;
// Pinhole: undistorted normalized radius cap, tan(89 deg).
const double kPinholeRadiusCap = std::tan(89.0 * kPi / 180.0);

// c[0] + c[1] x + ... + c[n] x^n
double horner(const double* c, int n, double x) {
  double y = c[n];
  for (int i = n - 1; i >= 0; --i) y = y * x + c[i];
  return y;
}

// Bisection for the sign change of c on [a, b] where c(a) and c(b) differ in sign (c(b) may be 0):
// returns the last point found on a's side.
double bisect(const double* c, int n, double a, double b) {
  const bool a_pos = horner(c, n, a) > 0.0;
  for (int it = 0; it < 2000; ++it) {
    const double m = 0.5 * (a + b);
    if (m <= a || m >= b) break;
    if ((horner(c, n, m) > 0.0) == a_pos) a = m; else b = m;
  }
  return a;
}

// All roots of c (degree <= n, n <= 6) strictly inside (lo, hi), ascending; returns how many (<= n).
// c is split at its critical points (the roots of c', recursively) into monotone pieces; each piece holds at most
// one root, found by bisection.
int roots_in(const double* c, int n, double lo, double hi, double* out) {
  while (n > 0 && c[n] == 0.0) --n;
  if (n == 0) return 0;
  double d[6];
  for (int i = 1; i <= n; ++i) d[i - 1] = double(i) * c[i];
  double pts[8];
  int np = 0;
  pts[np++] = lo;
  np += roots_in(d, n - 1, lo, hi, pts + np);
  pts[np++] = hi;
  int count = 0;
  for (int k = 0; k + 1 < np; ++k) {
    const double a = pts[k], b = pts[k + 1];
    const double fa = horner(c, n, a), fb = horner(c, n, b);
    if (fb == 0.0) {
      if (b < hi) out[count++] = b;
    } else if (fa != 0.0 && ((fa > 0.0) != (fb > 0.0))) {
      out[count++] = bisect(c, n, a, b);
    }
  }
  return count;
}

// c(0) > 0: the first x in (0, hi] where c(x) <= 0 (the last point before it found by bisection), or +inf.
double first_nonpositive(const double* c, int n, double hi) {
  while (n > 0 && c[n] == 0.0) --n;
  if (n == 0) return std::numeric_limits<double>::infinity();
  double d[6];
  for (int i = 1; i <= n; ++i) d[i - 1] = double(i) * c[i];
  double pts[8];
  int np = 0;
  pts[np++] = 0.0;
  np += roots_in(d, n - 1, 0.0, hi, pts + np);
  pts[np++] = hi;
  for (int k = 0; k + 1 < np; ++k)  // c is monotone on every piece and > 0 at its start
    if (horner(c, n, pts[k + 1]) <= 0.0) return bisect(c, n, pts[k], pts[k + 1]);
  return std::numeric_limits<double>::infinity();
}

bool all_finite(const double* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

Status bad(const std::string& m) { return Status(Code::invalid_argument, m); }

const char* model_name(ModelType t) {
  switch (t) {
    case ModelType::pinhole: return "pinhole";
    case ModelType::kannala_brandt: return "kannala_brandt";
    case ModelType::ftheta: return "ftheta";
  }
  return "?";
}

// Solve g(t) = target for t in [0, hi] where g is increasing with g(0) = 0 <= target: Newton steps from t0,
// bisection whenever a step would leave the bracket. Clamps to hi when target >= g(hi).
template <class G, class DG>
double solve_increasing(G g, DG dg, double target, double t0, double hi) {
  double lo = 0.0;
  double t = (t0 > 0.0 && t0 < hi) ? t0 : 0.5 * hi;
  for (int it = 0; it < 200; ++it) {
    const double f = g(t) - target;
    if (f == 0.0) break;
    if (f < 0.0) lo = t; else hi = t;
    const double d = dg(t);
    double tn = t - f / d;
    if (!(d > 0.0) || !(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
    const double step = std::fabs(tn - t);
    t = tn;
    if (step <= 1e-15 * t || hi - lo <= 1e-15 * hi) break;
  }
  return t;
}

void set_nan(double* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = kNaN;
}

}  // namespace

Result<CameraModel> CameraModel::create(const CameraModelParams& p) {
  if (p.type != ModelType::pinhole && p.type != ModelType::kannala_brandt && p.type != ModelType::ftheta)
    return bad("camera model: unknown type " + std::to_string(int(p.type)) +
               " (1 = pinhole, 2 = kannala_brandt, 3 = ftheta)");
  const std::string who = std::string("camera model ") + model_name(p.type) + ": ";
  if (p.type != ModelType::ftheta) {
    if (!(p.fx > 0.0) || !std::isfinite(p.fx))
      return bad(who + "focal length fx must be finite and > 0 (got " + num(p.fx) + ")");
    if (!(p.fy > 0.0) || !std::isfinite(p.fy))
      return bad(who + "focal length fy must be finite and > 0 (got " + num(p.fy) + ")");
  }
  if (!std::isfinite(p.cx)) return bad(who + "principal point cx must be finite (got " + num(p.cx) + ")");
  if (!std::isfinite(p.cy)) return bad(who + "principal point cy must be finite (got " + num(p.cy) + ")");
  for (int i = 0; i < 5; ++i)
    if (!std::isfinite(p.coeffs[i]))
      return bad(who + "coeffs[" + std::to_string(i) + "] must be finite (got " + num(p.coeffs[i]) + ")");
  if (p.type != ModelType::pinhole && (!(p.fov_deg > 0.0) || !(p.fov_deg < 360.0)))
    return bad(who + "fov_deg must be in (0, 360) (got " + num(p.fov_deg) + ")");

  CameraModel m;
  m.p_ = p;
  const double* k = p.coeffs;
  switch (p.type) {
    case ModelType::pinhole: {
      // Along a ray direction the radial map is f(r) = r radial(r^2); its Jacobian has eigenvalues radial(r^2)
      // (across) and f'(r) = 1 + 3 k1 r^2 + 5 k2 r^4 + 7 k3 r^6 (along). The tangential part has spectral norm
      // <= 6 |(p1, p2)| r. The domain is the disc where min(f'(r), radial(r^2)) - 6 |p| r > 0: there the
      // (symmetric) Jacobian is positive definite, so the map is one-to-one. Without tangential terms this is
      // the first r where f'(r) <= 0.
      const double tp = 6.0 * std::hypot(k[2], k[3]);
      const double along[7] = {1.0, -tp, 3.0 * k[0], 0.0, 5.0 * k[1], 0.0, 7.0 * k[4]};
      const double across[7] = {1.0, -tp, k[0], 0.0, k[1], 0.0, k[4]};
      const double r = std::fmin(first_nonpositive(along, 6, kPinholeRadiusCap),
                                 first_nonpositive(across, 6, kPinholeRadiusCap));
      m.limit_ = r < kPinholeRadiusCap ? r : kPinholeRadiusCap;
      m.max_angle_ = std::atan(m.limit_);
      // Newton iterates stay inside the disc where the Jacobian is positive definite: up to limit_acc_ when the
      // domain ends at the cap, up to limit_ itself when it ends at a fold.
      const double ra = m.limit_ * (1.0 + 3.0 * kEdgeEps);
      m.newton_clamp_ = (horner(along, 6, ra) > 0.0 && horner(across, 6, ra) > 0.0) ? ra : m.limit_;
      break;
    }
    case ModelType::kannala_brandt: {
      if (k[4] != 0.0)
        return bad(who + "coeffs[4] must be 0 (the model has 4 coefficients k1..k4; got " + num(k[4]) + ")");
      // d theta_d / d theta = 1 + 3 k1 s + 5 k2 s^2 + 7 k3 s^3 + 9 k4 s^4 with s = theta^2.
      const double c[5] = {1.0, 3.0 * k[0], 5.0 * k[1], 7.0 * k[2], 9.0 * k[3]};
      const double half = 0.5 * p.fov_deg * kPi / 180.0;
      const double s = first_nonpositive(c, 4, half * half);
      m.limit_ = s < half * half ? std::sqrt(s) : half;
      m.max_angle_ = m.limit_;
      break;
    }
    case ModelType::ftheta: {
      if (!(k[0] > 0.0))
        return bad(who + "polynomial r(theta) must be increasing at 0: coeffs[0] (a1) must be > 0 (got " +
                   num(k[0]) + ")");
      // dr/dtheta = a1 + 2 a2 t + 3 a3 t^2 + 4 a4 t^3 + 5 a5 t^4.
      const double c[5] = {k[0], 2.0 * k[1], 3.0 * k[2], 4.0 * k[3], 5.0 * k[4]};
      const double half = 0.5 * p.fov_deg * kPi / 180.0;
      const double t = first_nonpositive(c, 4, half);
      m.limit_ = t < half ? t : half;
      m.max_angle_ = m.limit_;
      break;
    }
  }
  if (!(m.limit_ > 0.0)) return bad(who + "empty valid domain (distortion folds back at once)");
  m.limit_out_ = m.limit_ * (1.0 + kEdgeEps);
  m.limit_proj_ = m.limit_ * (1.0 + 2.0 * kEdgeEps);
  m.limit_acc_ = m.limit_ * (1.0 + 3.0 * kEdgeEps);
  if (p.type != ModelType::pinhole) {
    // The largest image radius of the domain (at a fold it is reached at limit_ itself), with room for the
    // rounding of pixel coordinates.
    m.target_acc_ = std::fmax(m.radial_poly(m.limit_), m.radial_poly(m.limit_acc_)) * (1.0 + 1e-14);
    if (!(m.target_acc_ > 0.0) || !std::isfinite(m.target_acc_))
      return bad(who + "coefficients give a non-finite image radius at the edge of the field of view");
  }
  return m;
}

double CameraModel::radial_poly(double t) const {
  const double* k = p_.coeffs;
  if (p_.type == ModelType::kannala_brandt) {
    const double s = t * t;
    return t * (1.0 + s * (k[0] + s * (k[1] + s * (k[2] + s * k[3]))));
  }
  return t * (k[0] + t * (k[1] + t * (k[2] + t * (k[3] + t * k[4]))));
}

double CameraModel::radial_poly_deriv(double t) const {
  const double* k = p_.coeffs;
  if (p_.type == ModelType::kannala_brandt) {
    const double s = t * t;
    return 1.0 + s * (3.0 * k[0] + s * (5.0 * k[1] + s * (7.0 * k[2] + s * 9.0 * k[3])));
  }
  return k[0] + t * (2.0 * k[1] + t * (3.0 * k[2] + t * (4.0 * k[3] + t * 5.0 * k[4])));
}

bool CameraModel::project(const double ray[3], double* u, double* v) const {
  *u = kNaN;
  *v = kNaN;
  if (!all_finite(ray, 3)) return false;
  const double* k = p_.coeffs;
  if (p_.type == ModelType::pinhole) {
    const double Z = ray[2];
    if (!(Z > 0.0)) return false;
    const double x = ray[0] / Z, y = ray[1] / Z;
    const double r2 = x * x + y * y;
    if (!(r2 <= limit_proj_ * limit_proj_)) return false;
    const double radial = 1.0 + r2 * (k[0] + r2 * (k[1] + r2 * k[4]));
    const double xd = x * radial + 2.0 * k[2] * x * y + k[3] * (r2 + 2.0 * x * x);
    const double yd = y * radial + k[2] * (r2 + 2.0 * y * y) + 2.0 * k[3] * x * y;
    *u = p_.fx * xd + p_.cx;
    *v = p_.fy * yd + p_.cy;
    return true;
  }
  // Scale to avoid overflow / underflow in the squares.
  const double m = std::fmax(std::fabs(ray[0]), std::fmax(std::fabs(ray[1]), std::fabs(ray[2])));
  if (!(m > 0.0)) return false;
  const double X = ray[0] / m, Y = ray[1] / m, Z = ray[2] / m;
  const double rho = std::sqrt(X * X + Y * Y);
  const double theta = std::atan2(rho, Z);
  if (!(theta <= limit_proj_)) return false;
  if (rho == 0.0) {  // on the axis (theta = 0: limit_proj_ < pi)
    *u = p_.cx;
    *v = p_.cy;
    return true;
  }
  const double r = radial_poly(theta);
  if (p_.type == ModelType::kannala_brandt) {
    *u = p_.fx * (r * X / rho) + p_.cx;
    *v = p_.fy * (r * Y / rho) + p_.cy;
  } else {
    *u = p_.cx + r * X / rho;
    *v = p_.cy + r * Y / rho;
  }
  return true;
}

bool CameraModel::unproject(double u, double v, double ray[3]) const {
  if (std::isfinite(u) && std::isfinite(v)) {
    if (p_.type == ModelType::pinhole ? unproject_pinhole(u, v, ray) : unproject_radial(u, v, ray)) return true;
  }
  set_nan(ray, 3);
  return false;
}

bool CameraModel::unproject_pinhole(double u, double v, double ray[3]) const {
  const double* k = p_.coeffs;
  const double k1 = k[0], k2 = k[1], p1 = k[2], p2 = k[3], k3 = k[4], fx = p_.fx, fy = p_.fy;
  const double xd = (u - p_.cx) / fx, yd = (v - p_.cy) / fy;
  if (!std::isfinite(xd) || !std::isfinite(yd)) return false;
  // Residual of (x, y) in pixels.
  auto residual = [&](double x, double y, double* ex, double* ey) {
    const double r2 = x * x + y * y;
    const double radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3));
    *ex = (x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x) - xd) * fx;
    *ey = (y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y - yd) * fy;
  };
  auto clamp_radius = [](double* x, double* y, double lim) {
    const double r = std::sqrt(*x * *x + *y * *y);
    if (r > lim) {
      *x *= lim / r;
      *y *= lim / r;
    }
  };
  // Start from the radial-only solution along the pixel's direction: r (1 + k1 r^2 + k2 r^4 + k3 r^6) = rd, an
  // increasing function on the disc (the domain's definition), so a bracketed 1-D solve finds it.
  double x = 0.0, y = 0.0;
  const double rd = std::hypot(xd, yd);
  if (rd > 0.0) {
    const double r0 = solve_increasing(
        [&](double r) { const double s2 = r * r; return r * (1.0 + s2 * (k1 + s2 * (k2 + s2 * k3))); },
        [&](double r) { const double s2 = r * r; return 1.0 + s2 * (3.0 * k1 + s2 * (5.0 * k2 + s2 * 7.0 * k3)); },
        rd, rd, newton_clamp_);
    x = xd * (r0 / rd);
    y = yd * (r0 / rd);
  }
  double ex, ey;
  residual(x, y, &ex, &ey);
  double f2 = ex * ex + ey * ey;
  if (!std::isfinite(f2)) return false;
  // Newton in 2-D with backtracking: inside the disc the Jacobian is positive definite, so the Newton direction
  // always decreases |residual|^2; the step is halved until it does. Iterates are kept inside the disc. Stops
  // on a tiny full step (converged), or when no step decreases the residual (rounding level, or pinned to the
  // rim because the pixel is not the image of the domain).
  for (int it = 0; it < 100 && f2 > 0.0; ++it) {
    const double r2 = x * x + y * y;
    const double radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const double dradial = k1 + r2 * (2.0 * k2 + r2 * 3.0 * k3);  // d radial / d r2
    const double j00 = radial + 2.0 * x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x;
    const double j01 = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y;  // = j10
    const double j11 = radial + 2.0 * y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x;
    const double det = j00 * j11 - j01 * j01;
    if (!(det > 0.0) || !(j00 > 0.0)) break;  // only at a fold on the rim: the residual decides
    const double gx = ex / fx, gy = ey / fy;
    const double dx = (j11 * gx - j01 * gy) / det, dy = (j00 * gy - j01 * gx) / det;
    // A step at the rounding level is tried once, not backtracked: whatever it gives, this is the answer.
    const bool tiny = std::fmax(std::fabs(dx), std::fabs(dy)) <= 1e-14 * (1.0 + std::sqrt(r2));
    bool improved = false;
    double lam = 1.0;
    for (int ls = 0; ls < (tiny ? 1 : 40); ++ls, lam *= 0.5) {
      double xn = x - lam * dx, yn = y - lam * dy;
      clamp_radius(&xn, &yn, newton_clamp_);
      double exn, eyn;
      residual(xn, yn, &exn, &eyn);
      const double f2n = exn * exn + eyn * eyn;
      if (f2n < f2) {
        x = xn;
        y = yn;
        ex = exn;
        ey = eyn;
        f2 = f2n;
        improved = true;
        break;
      }
    }
    if (!improved || tiny) break;
  }
  const double tol = 1e-9 + 1e-13 * (std::fabs(u - p_.cx) + std::fabs(v - p_.cy));
  if (!(std::fmax(std::fabs(ex), std::fabs(ey)) <= tol)) return false;
  clamp_radius(&x, &y, limit_out_);
  const double n = std::sqrt(x * x + y * y + 1.0);
  ray[0] = x / n;
  ray[1] = y / n;
  ray[2] = 1.0 / n;
  return true;
}

bool CameraModel::unproject_radial(double u, double v, double ray[3]) const {
  double a, b;
  if (p_.type == ModelType::kannala_brandt) {
    a = (u - p_.cx) / p_.fx;
    b = (v - p_.cy) / p_.fy;
  } else {
    a = u - p_.cx;
    b = v - p_.cy;
  }
  const double target = std::hypot(a, b);
  if (!std::isfinite(target) || !(target <= target_acc_)) return false;
  if (target == 0.0) {
    ray[0] = 0.0;
    ray[1] = 0.0;
    ray[2] = 1.0;
    return true;
  }
  // The polynomial increases on [0, limit_acc_], so the root is bracketed and unique.
  double t = solve_increasing([this](double th) { return radial_poly(th); },
                              [this](double th) { return radial_poly_deriv(th); }, target,
                              p_.type == ModelType::kannala_brandt ? target : target / p_.coeffs[0], limit_acc_);
  if (t > limit_out_) t = limit_out_;
  const double s = std::sin(t);
  ray[0] = s * a / target;
  ray[1] = s * b / target;
  ray[2] = std::cos(t);
  return true;
}

}  // namespace wv::sensors
