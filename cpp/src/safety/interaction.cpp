#include "safety/interaction.hpp"

#include <algorithm>
#include <cmath>

#include "safety/geometry.hpp"

namespace wv::safety {
namespace {
constexpr float kTtcStep = 0.1f;
constexpr int kTtcSteps = 30;  // 3 s
}  // namespace

float rss_min_gap(float v_rear, float v_front, const Limits& l) {
  const float rho = l.rss_response_time_s, a = l.rss_ego_accel_during_response_mps2;
  const float v_after = v_rear + rho * a;
  const float d = v_rear * rho + 0.5f * a * rho * rho + v_after * v_after / (2.f * l.rss_ego_min_brake_mps2) -
                  v_front * v_front / (2.f * l.rss_lead_max_brake_mps2);
  return std::max(0.f, d);
}

void interaction_margins(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                         const Limits& limits, float* m) {
  bool plan_collides = false;
  float follow = 0.f;
  const float time_gap = limits.time_gap_dry_s * (in.wet ? limits.wet_time_gap_factor : 1.f);
  for (int k = 0; k < in.object_count; ++k) {
    const float* o = in.objects + k * kObjectFields;
    const float ovx = o[3] * std::cos(o[2]), ovy = o[3] * std::sin(o[2]);
    for (int i = 0; i < points; ++i) {
      const float* p = pts + i * kPointFields;
      const float t = p[0];
      const Box ego = ego_footprint(vehicle, p[1], p[2], p[3]);
      const Box obj{o[0] + ovx * t, o[1] + ovy * t, o[2], 0.5f * o[4], 0.5f * o[5]};
      if (!plan_collides && overlap(ego, obj)) plan_collides = true;
      // Following distance: the object's centre in the ego footprint's frame.
      const float c = std::cos(p[3]), s = std::sin(p[3]);
      const float dx = obj.cx - ego.cx, dy = obj.cy - ego.cy;
      const float lon = c * dx + s * dy, lat = -s * dx + c * dy;
      if (lon <= 0.f || std::fabs(lat) > ego.half_width + obj.half_width) continue;  // behind or beside
      const float gap = lon - ego.half_length - obj.half_length;
      if (gap <= 0.f) continue;  // overlapping: the collision check's business
      const float v_lead = std::max(o[3] * std::cos(o[2] - p[3]), 0.f);
      // RSS always; the time-gap rule while keeping or closing the gap (falling back is all a plan can do).
      float required = rss_min_gap(p[4], v_lead, limits);
      if (p[4] >= v_lead - 0.1f) required = std::max(required, time_gap * p[4]);
      follow = std::max(follow, required / gap);
    }
  }
  // Time to collision at constant velocity from the plan's first point (nuPlan's projection: 0.1 s steps
  // up to 3 s), which no plan can change: below min_ttc every mode fails and the fallback brakes.
  float ttc = INFINITY;
  const float* p0 = pts;
  for (int step = 0; step <= kTtcSteps && !std::isfinite(ttc); ++step) {
    const float t = kTtcStep * float(step);
    const Box ego = ego_footprint(vehicle, p0[1] + p0[4] * std::cos(p0[3]) * t, p0[2] + p0[4] * std::sin(p0[3]) * t, p0[3]);
    for (int k = 0; k < in.object_count; ++k) {
      const float* o = in.objects + k * kObjectFields;
      const Box obj{o[0] + o[3] * std::cos(o[2]) * t, o[1] + o[3] * std::sin(o[2]) * t, o[2], 0.5f * o[4], 0.5f * o[5]};
      if (overlap(ego, obj)) {
        ttc = t;
        break;
      }
    }
  }
  // A plan that runs into a predicted object fails outright (ratio inf); otherwise the ratio is min_ttc / ttc.
  m[kTimeToCollision] = plan_collides ? INFINITY : (std::isfinite(ttc) ? limits.min_ttc_s / std::max(ttc, 1e-3f) : 0.f);
  m[kFollowingDistance] = follow;
}

}  // namespace wv::safety
