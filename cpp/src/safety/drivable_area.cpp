#include "safety/drivable_area.hpp"

#include <algorithm>
#include <cmath>

#include "safety/geometry.hpp"

namespace wv::safety {
namespace {

// Signed distance of (px, py) from the polyline, positive on its left; false when the point projects past its ends.
// The nearest segment is found on squared distances; one square root is taken for the winner.
bool signed_distance(const float* line, int count, float px, float py, float* out) {
  float best2 = INFINITY, best_cross = 0.f;
  for (int i = 0; i + 1 < count; ++i) {
    const float ax = line[2 * i], ay = line[2 * i + 1], bx = line[2 * i + 2], by = line[2 * i + 3];
    const float sx = bx - ax, sy = by - ay, len2 = sx * sx + sy * sy;
    if (len2 <= 0.f) continue;
    const float t = (px - ax) * sx + (py - ay) * sy;  // u = t / len2, compared without dividing
    // Beyond the first or last vertex the boundary is unknown; inside the chain the clamped projection
    // onto a segment end is the distance to that vertex.
    if ((t < 0.f && i == 0) || (t > len2 && i + 2 == count)) continue;
    const float uc = t <= 0.f ? 0.f : (t >= len2 ? 1.f : t / len2);
    const float qx = ax + uc * sx - px, qy = ay + uc * sy - py;
    const float d2 = qx * qx + qy * qy;
    if (d2 < best2) {
      best2 = d2;
      best_cross = sx * (py - ay) - sy * (px - ax);
    }
  }
  if (!std::isfinite(best2)) return false;
  const float d = std::sqrt(best2);
  *out = best_cross >= 0.f ? d : -d;
  return true;
}

}  // namespace

namespace {

// Smallest clearance of the footprint's corners at (x, y, heading) from one boundary (side -1: left, +1: right);
// +inf when no corner is judged against it.
float footprint_clearance(const VehicleProfile& vehicle, float x, float y, float heading, const float* line, int count,
                          float side) {
  float xs[4], ys[4];
  corners(ego_footprint(vehicle, x, y, heading), xs, ys);
  float best = INFINITY;
  for (int c = 0; c < 4; ++c) {
    float d;
    if (signed_distance(line, count, xs[c], ys[c], &d)) best = std::min(best, side * d);
  }
  return best;
}

}  // namespace

void drivable_area_margin(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                          const Limits& limits, float* m) {
  // The clearance each boundary asks for: boundary_margin_m at every sample, unless the ego (its footprint now, at
  // the origin of the ego frame) is already closer than that. Still inside (0 < c < margin): the plan must end
  // at least as far from the boundary as the car is now, and on its way may give up at most half of that
  // clearance (the rear overhang swings towards the boundary as the car turns away from it). Already on or past
  // it (c <= 0): the plan must end half a margin further in than the car is now and may go at most half a margin
  // further out on its way. Without these a car inside the margin, or with a corner past the edge (the fallback
  // brakes along its arc, which can drift a corner out), fails every plan, the fallback's too, and stops there
  // for good (issue 14). Every requirement is compared as (required + shift) / (clearance + shift), shift > 0
  // only for a car past the boundary, so that the margin is still 1 at the limit.
  const float margin = limits.boundary_margin_m;
  const float* lines[2] = {in.left_boundary, in.right_boundary};
  const int counts[2] = {in.left_count, in.right_count};
  const float sides[2] = {-1.f, 1.f};  // clearance: right of the left boundary, left of the right one
  float at_end[2], on_way[2], shift[2];
  for (int b = 0; b < 2; ++b) {
    at_end[b] = on_way[b] = margin;
    shift[b] = 0.f;
    if (counts[b] < 2) continue;
    const float now = footprint_clearance(vehicle, 0.f, 0.f, 0.f, lines[b], counts[b], sides[b]);
    if (!std::isfinite(now) || now >= margin) continue;  // no corner judged now, or the margin is available
    if (now > 0.f) {
      at_end[b] = now;
      on_way[b] = 0.5f * now;
    } else {
      at_end[b] = now + 0.5f * margin;
      on_way[b] = now - 0.5f * margin;
      shift[b] = margin - now;
    }
  }
  float ratio = 0.f;
  for (int i = 0; i < points; ++i) {
    const float* p = pts + i * kPointFields;
    float xs[4], ys[4];
    corners(ego_footprint(vehicle, p[1], p[2], p[3]), xs, ys);
    for (int c = 0; c < 4; ++c) {
      for (int b = 0; b < 2; ++b) {
        float d;
        if (counts[b] >= 2 && signed_distance(lines[b], counts[b], xs[c], ys[c], &d)) {
          const float clearance = sides[b] * d + shift[b];
          const float required = (i + 1 == points ? at_end[b] : on_way[b]) + shift[b];
          ratio = std::max(ratio, clearance > 0.f ? required / clearance : INFINITY);
        }
      }
    }
  }
  m[kDrivableArea] = ratio;
}

}  // namespace wv::safety
