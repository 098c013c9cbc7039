#include "safety/verifier.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "safety/drivable_area.hpp"
#include "safety/interaction.hpp"
#include "safety/kinematics.hpp"

namespace wv::safety {
namespace {

// A limit is broken when its ratio exceeds 1 by more than float noise.
constexpr float kTolerance = 1e-5f;

bool finite_array(const float* p, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

}  // namespace

Result<Verifier> Verifier::create(const VehicleProfile& vehicle, const Limits& limits, int max_modes, int max_points,
                                  int max_objects, int max_boundary_points) {
  const float positive[] = {vehicle.wheelbase_m, vehicle.width_m, vehicle.length_m, vehicle.max_steering_rad,
                            vehicle.max_steering_rate_rps, limits.max_curvature_per_m, limits.max_lateral_accel_mps2,
                            limits.max_lateral_jerk_mps3, limits.max_long_accel_mps2, limits.max_decel_mps2,
                            limits.max_long_jerk_mps3, limits.max_yaw_rate_rps, limits.max_position_jump_m,
                            limits.max_heading_jump_rad, limits.max_speed_jump_mps, limits.min_ttc_s,
                            limits.rss_ego_min_brake_mps2, limits.rss_lead_max_brake_mps2, limits.boundary_margin_m,
                            limits.fallback_decel_mps2, limits.fallback_jerk_mps3, limits.fallback_dt_s};
  for (float v : positive)
    if (!(v > 0.f) || !std::isfinite(v)) return Status(Code::invalid_argument, "vehicle profile and limits must be finite and > 0");
  if (!(vehicle.rear_axle_to_rear_m >= 0.f) || !(limits.rss_response_time_s >= 0.f) ||
      !(limits.rss_ego_accel_during_response_mps2 >= 0.f) || !(limits.time_gap_dry_s >= 0.f) || !(limits.wet_time_gap_factor >= 1.f))
    return Status(Code::invalid_argument, "rear overhang, RSS response figures and time gap must be >= 0 (wet factor >= 1)");
  if (limits.rss_ego_min_brake_mps2 > limits.fallback_decel_mps2)
    return Status(Code::invalid_argument,
                  "rss_ego_min_brake_mps2 must not exceed fallback_decel_mps2: RSS assumes the ego can brake that hard");
  if (max_modes < 1 || max_points < 2 || max_objects < 0 || max_boundary_points < 0)
    return Status(Code::invalid_argument, "capacities must be >= 1 mode, >= 2 points, >= 0 objects and boundary points");
  Verifier v;
  v.vehicle_ = vehicle;
  v.limits_ = limits;
  v.max_modes_ = max_modes;
  v.max_points_ = max_points;
  v.max_objects_ = max_objects;
  v.max_boundary_points_ = max_boundary_points;
  v.passed_.assign(size_t(max_modes), 0);
  v.reasons_.assign(size_t(max_modes), 0);
  v.margins_.assign(size_t(max_modes) * kCheckCount, 0.f);
  v.fallback_.assign(size_t(max_points) * kPointFields, 0.f);
  v.fallback_margins_.assign(kCheckCount, 0.f);
  return v;
}

uint32_t Verifier::evaluate(const float* pts, int points, float score, const VerifierInput& in, const Limits& limits,
                            float* m) const {
  for (int c = 0; c < kCheckCount; ++c) m[c] = NAN;
  if (!std::isfinite(score) || !trajectory_valid(pts, points)) {
    m[kInvalid] = INFINITY;
    return bit(kInvalid);
  }
  m[kInvalid] = 0.f;
  kinematic_margins(pts, points, in.ego, vehicle_, limits, m);
  interaction_margins(pts, points, in, vehicle_, limits, m);
  drivable_area_margin(pts, points, in, vehicle_, limits, m);
  uint32_t reasons = 0;
  for (int c = kContinuity; c < kCheckCount; ++c)
    if (!(m[c] <= 1.f + kTolerance)) reasons |= 1u << c;
  return reasons;
}

Status Verifier::check(const VerifierInput& in, Verdict* out) {
  if (out == nullptr || in.trajectories == nullptr || in.scores == nullptr)
    return Status(Code::invalid_argument, "trajectories, scores and the verdict must not be NULL");
  if (in.modes < 1 || in.modes > max_modes_ || in.points < 2 || in.points > max_points_)
    return Status(Code::input, "trajectories of " + std::to_string(in.modes) + " modes x " + std::to_string(in.points) +
                                   " points do not fit this verifier (1.." + std::to_string(max_modes_) + " modes, 2.." +
                                   std::to_string(max_points_) + " points)");
  if (in.object_count < 0 || in.object_count > max_objects_ || (in.object_count > 0 && in.objects == nullptr))
    return Status(Code::input, std::to_string(in.object_count) + " objects do not fit this verifier (at most " +
                                   std::to_string(max_objects_) + ")");
  if (in.left_count < 0 || in.right_count < 0 || in.left_count > max_boundary_points_ ||
      in.right_count > max_boundary_points_ || (in.left_count > 0 && !in.left_boundary) ||
      (in.right_count > 0 && !in.right_boundary))
    return Status(Code::input, "boundary polylines exceed " + std::to_string(max_boundary_points_) + " points or are NULL");

  // Values that every mode depends on: one bad number makes every mode invalid (nothing can be judged).
  const EgoState& e = in.ego;
  const bool shared_ok = std::isfinite(e.speed_mps) && std::isfinite(e.accel_mps2) && std::isfinite(e.yaw_rate_rps) &&
                         std::isfinite(e.steering_rad) && finite_array(in.objects, in.object_count * kObjectFields) &&
                         finite_array(in.left_boundary, in.left_count * 2) &&
                         finite_array(in.right_boundary, in.right_count * 2);

  int best = -1;
  uint32_t all_reasons = 0;
  for (int k = 0; k < in.modes; ++k) {
    float* m = margins_.data() + size_t(k) * kCheckCount;
    const float* pts = in.trajectories + size_t(k) * size_t(in.points) * kPointFields;
    uint32_t r;
    if (shared_ok) {
      r = evaluate(pts, in.points, in.scores[k], in, limits_, m);
    } else {
      for (int c = 0; c < kCheckCount; ++c) m[c] = NAN;
      m[kInvalid] = INFINITY;
      r = bit(kInvalid);
    }
    reasons_[size_t(k)] = r;
    passed_[size_t(k)] = r == 0;
    all_reasons |= r;
    if (r == 0 && (best < 0 || in.scores[k] > in.scores[best])) best = k;  // ties keep the lower index
  }

  out->modes = in.modes;
  out->passed = passed_.data();
  out->reasons = reasons_.data();
  out->margins = margins_.data();
  out->points = in.points;
  out->chosen = best;
  out->fallback_used = best < 0;
  out->fallback_reasons = best < 0 ? all_reasons : 0;
  out->fallback_self_reasons = 0;
  if (best >= 0) {
    out->trajectory = in.trajectories + size_t(best) * size_t(in.points) * kPointFields;
    return Status::Ok();
  }
  build_fallback(in.ego, in.points, fallback_.data());
  // The fallback's own verdict, against the emergency braking limits (deceleration and jerk) it is built with:
  // its kinematic bits are clear by construction from any ego state within the limits (tested); braking may still be unable to avoid an object,
  // which the collision and following bits then report.
  Limits emergency = limits_;
  emergency.max_decel_mps2 = std::max(limits_.max_decel_mps2, limits_.fallback_decel_mps2);
  emergency.max_long_jerk_mps3 = std::max(limits_.max_long_jerk_mps3, limits_.fallback_jerk_mps3);
  out->fallback_self_reasons =
      shared_ok ? evaluate(fallback_.data(), in.points, 0.f, in, emergency, fallback_margins_.data()) : bit(kInvalid);
  out->trajectory = fallback_.data();
  return Status::Ok();
}

}  // namespace wv::safety
