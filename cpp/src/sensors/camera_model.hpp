// Camera lens models: projection of rays in the camera optical frame (x right, y down, z forward) to pixels
// and back. Pixel (row i, col j) has its centre at (u = j, v = i). The numpy reference with the same maths is
// wayvert/sensors/camera_models.py.
//
//   pinhole         OpenCV Brown-Conrady, coeffs [k1 k2 p1 p2 k3]: x = X/Z, y = Y/Z, r2 = x^2 + y^2,
//                   radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3, xd = x radial + 2 p1 x y + p2 (r2 + 2 x^2),
//                   yd = y radial + p1 (r2 + 2 y^2) + 2 p2 x y; u = fx xd + cx, v = fy yd + cy.
//                   Valid for Z > 0 and r = sqrt(r2) <= r_max, capped at tan(89 deg): the first r where
//                   min(d(r radial(r))/dr, radial(r)) - 6 |(p1, p2)| r <= 0. Without tangential terms that is
//                   the first r where d(r radial(r))/dr <= 0; with them the Jacobian stays positive definite
//                   (the map one-to-one) on the whole disc. fov_deg is ignored.
//   kannala_brandt  OpenCV fisheye (equidistant), coeffs [k1 k2 k3 k4] (coeffs[4] must be 0):
//                   theta = atan2(sqrt(X^2 + Y^2), Z), theta_d = theta (1 + k1 t^2 + k2 t^4 + k3 t^6 + k4 t^8),
//                   (xd, yd) = theta_d (X, Y) / sqrt(X^2 + Y^2); u = fx xd + cx, v = fy yd + cy.
//   ftheta          coeffs [a1..a5]: pixel radius r(theta) = a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5,
//                   u = cx + r X / rho, v = cy + r Y / rho (rho = sqrt(X^2 + Y^2)); fx and fy are ignored.
//   Fisheye and f-theta are valid for theta <= min(fov_deg / 2, the first theta where the polynomial's
//   derivative is <= 0).
//
// Boundaries carry a relative slack of a few 1e-12 so that project(unproject(p)) and unproject(project(r))
// stay valid at the very edge of the domain. Everything is double precision, allocation-free and
// deterministic after create().
#pragma once

#include "core/status.hpp"

namespace wv::sensors {

enum class ModelType { pinhole = 1, kannala_brandt = 2, ftheta = 3 };

struct CameraModelParams {
  ModelType type;
  double fx, fy, cx, cy;  // pixels; ftheta ignores fx and fy
  double coeffs[5];       // pinhole: k1 k2 p1 p2 k3; kannala_brandt: k1..k4 (coeffs[4] = 0); ftheta: a1..a5
  double fov_deg;         // kannala_brandt and ftheta: full field of view in (0, 360); pinhole: ignored
};

class CameraModel {
 public:
  // Validates the parameters (Code::invalid_argument, the message names the bad one) and computes the domain.
  static Result<CameraModel> create(const CameraModelParams& params);

  // ray: any non-zero finite direction in the optical frame (need not be unit). False (u, v = NaN) when the
  // direction is outside the model's valid domain.
  bool project(const double ray[3], double* u, double* v) const;

  // Unit ray seen at pixel (u, v); false (ray = NaN) when (u, v) is not the image of a direction in the
  // valid domain. project(unproject(u, v)) returns (u, v) within 1e-6 px (in practice ~1e-10).
  bool unproject(double u, double v, double ray[3]) const;

  const CameraModelParams& params() const { return p_; }
  // Largest valid angle from the optical axis, radians (pinhole: atan(r_max)).
  double max_angle_rad() const { return max_angle_; }
  // Pinhole: the largest valid undistorted normalized radius r_max; fisheye / f-theta: the largest valid theta.
  double domain_limit() const { return limit_; }

 private:
  CameraModel() = default;
  bool unproject_pinhole(double u, double v, double ray[3]) const;
  bool unproject_radial(double u, double v, double ray[3]) const;  // kannala_brandt and ftheta
  double radial_poly(double t) const;                              // theta_d(theta) or r(theta)
  double radial_poly_deriv(double t) const;

  CameraModelParams p_{};
  double limit_ = 0.0;       // r_max (pinhole) or theta_max (others), before slack
  double limit_out_ = 0.0;   // unproject clamps its solution to this: limit (1 + eps)
  double limit_proj_ = 0.0;  // project accepts up to this: limit (1 + 2 eps)
  double limit_acc_ = 0.0;   // unproject accepts solutions up to this: limit (1 + 3 eps)
  double newton_clamp_ = 0.0;  // pinhole: Newton iterates are kept within this radius
  double target_acc_ = 0.0;  // kannala_brandt / ftheta: largest accepted image radius (normalized / pixels)
  double max_angle_ = 0.0;
};

}  // namespace wv::sensors
