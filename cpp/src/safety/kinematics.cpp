#include "safety/kinematics.hpp"

#include <algorithm>
#include <cmath>

#include "safety/geometry.hpp"

namespace wv::safety {
namespace {

inline const float* point(const float* pts, int i) { return pts + i * kPointFields; }

// Curvature is measured over chords at least this long on each side of a vertex: Autoware's velocity smoother
// computes curvature over `curvature_calculation_distance: 2.0` m (docs/verifier.md [S5]). A plan that moves less
// than that has no path shape to judge: a few centimetres of position noise near standstill would otherwise read
// as a sharp turn.
constexpr float kChordM = 2.0f;

}  // namespace

bool trajectory_valid(const float* pts, int points) {
  if (points < 2) return false;
  for (int i = 0; i < points * kPointFields; ++i)
    if (!std::isfinite(pts[i])) return false;
  if (point(pts, 0)[0] < -1e-3f) return false;  // the plan starts now, not in the past
  for (int i = 0; i < points; ++i) {
    if (point(pts, i)[4] < 0.f) return false;
    if (i > 0 && !(point(pts, i)[0] > point(pts, i - 1)[0])) return false;
  }
  return true;
}

void kinematic_margins(const float* pts, int points, const EgoState& ego, const VehicleProfile& vehicle,
                       const Limits& limits, float* m) {
  // Continuity: where the ego would be at the first point's time, driving on at its speed and yaw rate.
  const float* p0 = point(pts, 0);
  const float t0 = std::max(p0[0], 0.f);
  const float psi = ego.yaw_rate_rps * t0, dist = ego.speed_mps * t0;
  const float ex = dist * std::cos(0.5f * psi), ey = dist * std::sin(0.5f * psi);
  const float ev = std::max(0.f, ego.speed_mps + ego.accel_mps2 * t0);
  m[kContinuity] = std::max({std::hypot(p0[1] - ex, p0[2] - ey) / limits.max_position_jump_m,
                             std::fabs(wrap_angle(p0[3] - psi)) / limits.max_heading_jump_rad,
                             std::fabs(p0[4] - ev) / limits.max_speed_jump_mps});

  float curv = 0.f, steer = 0.f, yaw = 0.f, acc = 0.f, dec = 0.f, lat = 0.f, jerk = 0.f, lat_jerk = 0.f, steer_rate = 0.f;
  // Longitudinal: segment accelerations, and jerk between consecutive segments (over their midpoints' spacing).
  float prev_a = 0.f;
  for (int i = 0; i + 1 < points; ++i) {
    const float* a = point(pts, i);
    const float* b = point(pts, i + 1);
    const float long_a = (b[4] - a[4]) / (b[0] - a[0]);
    acc = std::max(acc, long_a);
    dec = std::max(dec, -long_a);
    if (i > 0) jerk = std::max(jerk, std::fabs(long_a - prev_a) / (0.5f * (b[0] - point(pts, i - 1)[0])));
    prev_a = long_a;
  }
  // Lateral: at each interior vertex i, the nearest samples j < i and k > i at least kChordM away in a straight
  // line; the turn between the chords j->i and i->k over their mean length is the curvature, the turn over half
  // the time from j to k the yaw rate, and the speed at the vertex gives lateral acceleration. A vertex without
  // both chords is not judged. Rates come from consecutive judged vertices.
  float prev_lat = 0.f, prev_delta = 0.f, prev_t = 0.f;
  bool have_prev = false;
  for (int i = 1; i + 1 < points; ++i) {
    const float* p = point(pts, i);
    int j = i - 1, k = i + 1;
    float back = std::hypot(p[1] - point(pts, j)[1], p[2] - point(pts, j)[2]);
    while (back < kChordM && j > 0) {
      --j;
      back = std::hypot(p[1] - point(pts, j)[1], p[2] - point(pts, j)[2]);
    }
    float front = std::hypot(point(pts, k)[1] - p[1], point(pts, k)[2] - p[2]);
    while (front < kChordM && k + 1 < points) {
      ++k;
      front = std::hypot(point(pts, k)[1] - p[1], point(pts, k)[2] - p[2]);
    }
    if (back < kChordM || front < kChordM) continue;
    const float* a = point(pts, j);
    const float* b = point(pts, k);
    const float turn = wrap_angle(std::atan2(b[2] - p[2], b[1] - p[1]) - std::atan2(p[2] - a[2], p[1] - a[1]));
    const float kappa = (std::fabs(turn) < 1e-6f) ? 0.f : turn / (0.5f * (back + front));
    const float lat_a = p[4] * p[4] * kappa;
    const float delta = std::atan(vehicle.wheelbase_m * kappa);
    curv = std::max(curv, std::fabs(kappa));
    steer = std::max(steer, std::fabs(delta));
    lat = std::max(lat, std::fabs(lat_a));
    yaw = std::max(yaw, std::fabs(turn) / (0.5f * (b[0] - a[0])));
    if (have_prev) {
      const float dt = p[0] - prev_t;
      lat_jerk = std::max(lat_jerk, std::fabs(lat_a - prev_lat) / dt);
      steer_rate = std::max(steer_rate, std::fabs(delta - prev_delta) / dt);
    }
    prev_lat = lat_a;
    prev_delta = delta;
    prev_t = p[0];
    have_prev = true;
  }
  m[kCurvature] = curv / limits.max_curvature_per_m;
  m[kSteering] = steer / vehicle.max_steering_rad;
  m[kSteeringRate] = steer_rate / vehicle.max_steering_rate_rps;
  m[kLateralAccel] = lat / limits.max_lateral_accel_mps2;
  m[kLateralJerk] = lat_jerk / limits.max_lateral_jerk_mps3;
  m[kLongAccel] = acc / limits.max_long_accel_mps2;
  m[kDecel] = dec / limits.max_decel_mps2;
  m[kLongJerk] = jerk / limits.max_long_jerk_mps3;
  m[kYawRate] = yaw / limits.max_yaw_rate_rps;
}

}  // namespace wv::safety
