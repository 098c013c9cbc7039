// Documented defaults of the verifier; docs/verifier.md gives the source of every figure.
#include "safety/verifier_types.hpp"

namespace wv::safety {

static_assert(kCheckCount == WV_CHECK_COUNT, "wayvert.h and the Check enum disagree");

VehicleProfile default_vehicle() {
  VehicleProfile v{};
  v.wheelbase_m = 2.79f;
  v.width_m = 1.90f;
  v.length_m = 4.89f;
  v.rear_axle_to_rear_m = 1.10f;
  v.max_steering_rad = 0.61f;
  v.max_steering_rate_rps = 0.44f;
  return v;
}

Limits default_limits() {
  Limits l{};
  l.max_curvature_per_m = 0.25f;
  l.max_lateral_accel_mps2 = 4.89f;
  l.max_lateral_jerk_mps3 = 5.0f;
  l.max_long_accel_mps2 = 2.40f;
  l.max_decel_mps2 = 4.05f;
  l.max_long_jerk_mps3 = 4.13f;
  l.max_yaw_rate_rps = 0.95f;
  l.max_position_jump_m = 0.5f;
  l.max_heading_jump_rad = 0.1f;
  l.max_speed_jump_mps = 2.0f;
  l.min_ttc_s = 0.95f;
  l.rss_response_time_s = 0.6f;
  l.rss_ego_accel_during_response_mps2 = 3.5f;
  l.rss_ego_min_brake_mps2 = 6.0f;
  l.rss_lead_max_brake_mps2 = 8.0f;
  l.time_gap_dry_s = 1.5f;
  l.wet_time_gap_factor = 2.0f;
  l.boundary_margin_m = 0.25f;
  l.fallback_decel_mps2 = 6.0f;
  l.fallback_jerk_mps3 = 10.0f;
  l.fallback_dt_s = 0.1f;
  return l;
}

const char* check_name(int check) {
  static const char* const names[kCheckCount] = {
      "invalid",       "continuity",   "curvature", "steering",  "steering_rate", "lateral_accel",      "lateral_jerk",
      "long_accel",    "decel",        "long_jerk", "yaw_rate",  "time_to_collision", "following_distance", "drivable_area"};
  return check >= 0 && check < kCheckCount ? names[check] : nullptr;
}

}  // namespace wv::safety
