#include "safety/interaction.hpp"

#include <algorithm>
#include <cmath>

#include "safety/geometry.hpp"
#include "safety/prediction.hpp"

namespace wv::safety {
namespace {
constexpr float kTtcStep = 0.1f;
constexpr int kTtcSteps = 30;  // 3 s
// An object whose centre lies more than 150 degrees off the ego's heading (seen from the footprint's centre at
// the first point) is behind: nuPlan's is_agent_behind(angle_tolerance=150). Closing in on the ego from behind
// is that road user's to resolve (RSS: the rear car keeps the safe distance), and a constant-velocity
// prediction drives it straight through the ego; no forward plan can avoid that.
constexpr float kCosBehind = -0.86602540378f;  // cos(150 deg)
// ... unless the ego is the one that moves into its path: a vehicle behind in another lane that keeps to that lane
// (drifting across towards the ego by at most kAcrossTowardsMps) is checked like any other, so a plan that moves
// into its lane in front of it answers for the gap it leaves (UN R79 5.6.4.7, the lane-change rule below).
constexpr float kAcrossTowardsMps = 0.2f;
// The lane-change rule of UN R79 para. 5.6.4.7 (ACSF category C; UN R157 has the same for ALKS lane changes): a
// lane change may start only if a vehicle approaching in the target lane need not decelerate harder than
// 3 m/s², 0.4 s after the manoeuvre starts, for the gap between the two never to fall below the distance the
// lane-changing vehicle travels in 1 s.
constexpr float kRearReactionS = 0.4f;
constexpr float kRearDecelMps2 = 3.0f;
constexpr float kRearGapS = 1.0f;

// The plan's reference-point pose at time t: linear between samples, at constant velocity along the last
// sample's heading after the plan ends (t >= t_0).
void pose_at(const float* pts, int points, float t, float* x, float* y, float* heading) {
  int i = 0;
  while (i + 2 < points && pts[(i + 1) * kPointFields] <= t) ++i;
  const float* a = pts + i * kPointFields;
  const float* b = a + kPointFields;
  if (t <= b[0]) {
    const float u = std::clamp((t - a[0]) / (b[0] - a[0]), 0.f, 1.f);
    *x = a[1] + u * (b[1] - a[1]);
    *y = a[2] + u * (b[2] - a[2]);
    *heading = a[3] + u * wrap_angle(b[3] - a[3]);
    return;
  }
  const float dt = t - b[0];
  *x = b[1] + b[4] * std::cos(b[3]) * dt;
  *y = b[2] + b[4] * std::sin(b[3]) * dt;
  *heading = b[3];
}

bool behind(const float* o, const float* p0, const VehicleProfile& vehicle) {
  const Box ego = ego_footprint(vehicle, p0[1], p0[2], p0[3]);
  const float dx = o[0] - ego.cx, dy = o[1] - ego.cy;
  const float along = std::cos(p0[3]) * dx + std::sin(p0[3]) * dy;
  return along < kCosBehind * std::hypot(dx, dy);
}

// The lateral distance from the ego footprint's centre at the first point to object `o`'s centre: across the road
// when the road is known (the object's offset from its prediction, 6.7), else across the ego's heading. Left
// positive.
float lateral_now(const float* o, const ObjectPath& path, const float* p0, const VerifierInput& in,
                  const VehicleProfile& vehicle) {
  const Box ego = ego_footprint(vehicle, p0[1], p0[2], p0[3]);
  float ego_d = 0.f, obj_d = 0.f;
  if (road_offset(in, ego.cx, ego.cy, &ego_d) &&
      (path.road != nullptr ? (obj_d = path.offset, true) : road_offset(in, o[0], o[1], &obj_d)))
    return obj_d - ego_d;
  return -std::sin(p0[3]) * (o[0] - ego.cx) + std::cos(p0[3]) * (o[1] - ego.cy);
}

// Of an object behind: whether it is the one to resolve any conflict with the plan, because it follows in the
// ego's own lane (laterally within the two half-widths now) or is moving across towards the ego's lane.
bool its_own_to_resolve(const float* o, const ObjectPath& path, const float* p0, const VerifierInput& in,
                        const VehicleProfile& vehicle) {
  const float lat = lateral_now(o, path, p0, in, vehicle);
  if (std::fabs(lat) <= 0.5f * (vehicle.width_m + o[5])) return true;
  const float across = path.road != nullptr ? path.v_across : o[3] * std::sin(o[2] - p0[3]);
  return across * (lat > 0.f ? -1.f : 1.f) > kAcrossTowardsMps;
}
}  // namespace

float lane_change_min_gap(float v_rear, float v_ego) {
  const float closing = std::max(0.f, v_rear - v_ego);
  return v_ego * kRearGapS + closing * kRearReactionS + closing * closing / (2.f * kRearDecelMps2);
}

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
    const ObjectPath path = object_path(o, in);
    // Behind now, in another lane: the plan may not move into its lane closer than the lane-change rule allows.
    const bool rear = behind(o, pts, vehicle);
    if (rear && its_own_to_resolve(o, path, pts, in, vehicle)) continue;
    // A plan that ends slower than this object is restoring its distance (UN R157 5.2.3.3: after a cut-in, at the
    // next opportunity without harsh braking): the time gap is not required of it on the way, RSS still is.
    const float* last = pts + (points - 1) * kPointFields;
    const bool restoring = last[4] < std::max(o[3] * std::cos(object_box(path, last[0]).heading - last[3]), 0.f) - 0.1f;
    for (int i = 0; i < points; ++i) {
      const float* p = pts + i * kPointFields;
      const float t = p[0];
      const Box ego = ego_footprint(vehicle, p[1], p[2], p[3]);
      const Box obj = object_box(path, t);
      if (!plan_collides && overlap(ego, obj)) plan_collides = true;
      // Following distance: the object's centre in the ego footprint's frame; across the road, in the road's
      // frame when it is known (on a curve a car in the next lane lies straight ahead of the footprint).
      const float c = std::cos(p[3]), s = std::sin(p[3]);
      const float dx = obj.cx - ego.cx, dy = obj.cy - ego.cy;
      const float lon = c * dx + s * dy;
      float lat = -s * dx + c * dy, ego_d = 0.f, obj_d = 0.f;
      if (road_offset(in, ego.cx, ego.cy, &ego_d) &&
          (path.road != nullptr ? (obj_d = path.offset + path.v_across * t, true) : road_offset(in, obj.cx, obj.cy, &obj_d)))
        lat = obj_d - ego_d;
      if (std::fabs(lat) > ego.half_width + obj.half_width) continue;  // beside
      if (lon <= 0.f) {
        // Behind the ego in the lane it has moved into: the gap the lane change leaves that vehicle.
        const float rear_gap = -lon - ego.half_length - obj.half_length;
        if (rear && rear_gap > 0.f) {
          const float v_rear = std::max(o[3] * std::cos(obj.heading - p[3]), 0.f);
          follow = std::max(follow, lane_change_min_gap(v_rear, p[4]) / rear_gap);
        }
        continue;
      }
      const float gap = lon - ego.half_length - obj.half_length;
      if (gap <= 0.f) continue;  // overlapping: the collision check's business
      const float v_lead = std::max(o[3] * std::cos(obj.heading - p[3]), 0.f);
      // RSS always; the time-gap rule while keeping or closing the gap, unless the plan is restoring it.
      float required = rss_min_gap(p[4], v_lead, limits);
      if (!restoring && p[4] >= v_lead - 0.1f) required = std::max(required, time_gap * p[4]);
      follow = std::max(follow, required / gap);
    }
  }
  // Time to collision: the ego moving as the plan says (its path and its own braking; at constant velocity after
  // its end), the objects at constant velocity, in 0.1 s steps up to 3 s from the first point (nuPlan's
  // projection, with the plan's motion instead of the first point's velocity).
  float ttc = INFINITY;
  const float t0 = pts[0];
  for (int k = 0; k < in.object_count; ++k) {
    const float* o = in.objects + k * kObjectFields;
    const ObjectPath path = object_path(o, in);
    if (behind(o, pts, vehicle) && its_own_to_resolve(o, path, pts, in, vehicle)) continue;
    for (int step = 0; step <= kTtcSteps && kTtcStep * float(step) < ttc; ++step) {
      const float tau = kTtcStep * float(step), t = t0 + tau;
      float x = 0.f, y = 0.f, heading = 0.f;
      pose_at(pts, points, t, &x, &y, &heading);
      if (overlap(ego_footprint(vehicle, x, y, heading), object_box(path, t))) {
        ttc = tau;
        break;
      }
    }
  }
  // A plan that runs into a predicted object fails outright (ratio inf); otherwise the ratio is min_ttc / ttc.
  m[kTimeToCollision] = plan_collides ? INFINITY : (std::isfinite(ttc) ? limits.min_ttc_s / std::max(ttc, 1e-3f) : 0.f);
  m[kFollowingDistance] = follow;
}

}  // namespace wv::safety
