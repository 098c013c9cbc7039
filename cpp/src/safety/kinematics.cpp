#include "safety/kinematics.hpp"

#include <algorithm>
#include <cmath>

#include "safety/geometry.hpp"

namespace wv::safety {
namespace {

inline const float* point(const float* pts, int i) { return pts + i * kPointFields; }

// Shortest path length over which a turn is spread: turning on the spot reads as a very large curvature.
constexpr float kMinSegment = 1e-3f;
// Segments shorter than this take their direction from the heading channel, not from the positions.
constexpr float kMoving = 0.05f;

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

  // Direction of travel of segment i: from the positions while moving (the heading channel is not trusted
  // for the path's shape), from the declared headings while standing still.
  auto direction = [&](int i, float* ds) {
    const float* a = point(pts, i);
    const float* b = point(pts, i + 1);
    *ds = std::hypot(b[1] - a[1], b[2] - a[2]);
    if (*ds >= kMoving) return std::atan2(b[2] - a[2], b[1] - a[1]);
    return a[3] + 0.5f * wrap_angle(b[3] - a[3]);
  };
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
  // Lateral: at each interior vertex, the turn between its two segments over their mean length gives the
  // curvature; speed at the vertex gives lateral acceleration. Rates come from consecutive *observed* vertices
  // (mean segment length >= kMinSegment): a vehicle standing still shows no steering angle (its wheels may
  // stay turned or turn on the spot), so stopping on a curve is not a jump of the steering angle to zero, and
  // a change across a standstill is spread over its duration.
  float prev_lat = 0.f, prev_delta = 0.f, prev_t = 0.f, ds_prev = 0.f;
  bool have_prev = false;
  float dir_prev = direction(0, &ds_prev);
  for (int i = 1; i + 1 < points; ++i) {
    float ds = 0.f;
    const float dir = direction(i, &ds);
    const float* p = point(pts, i);
    const float turn = wrap_angle(dir - dir_prev);
    const float length = 0.5f * (ds_prev + ds);
    const float kappa = (std::fabs(turn) < 1e-6f) ? 0.f : turn / std::max(length, kMinSegment);
    const float lat_a = p[4] * p[4] * kappa;
    const float delta = std::atan(vehicle.wheelbase_m * kappa);
    const float t_span = 0.5f * (point(pts, i + 1)[0] - point(pts, i - 1)[0]);
    curv = std::max(curv, std::fabs(kappa));
    steer = std::max(steer, std::fabs(delta));
    lat = std::max(lat, std::fabs(lat_a));
    yaw = std::max(yaw, std::fabs(turn) / t_span);
    if (length >= kMinSegment) {
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
    dir_prev = dir;
    ds_prev = ds;
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
