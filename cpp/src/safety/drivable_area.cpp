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

void drivable_area_margin(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                          const Limits& limits, float* m) {
  float ratio = 0.f;
  for (int i = 0; i < points; ++i) {
    const float* p = pts + i * kPointFields;
    float xs[4], ys[4];
    corners(ego_footprint(vehicle, p[1], p[2], p[3]), xs, ys);
    for (int c = 0; c < 4; ++c) {
      float d;
      // Clearance: right of the left boundary (negative signed distance), left of the right boundary.
      if (in.left_count >= 2 && signed_distance(in.left_boundary, in.left_count, xs[c], ys[c], &d)) {
        const float clearance = -d;
        ratio = std::max(ratio, clearance > 0.f ? limits.boundary_margin_m / clearance : INFINITY);
      }
      if (in.right_count >= 2 && signed_distance(in.right_boundary, in.right_count, xs[c], ys[c], &d)) {
        const float clearance = d;
        ratio = std::max(ratio, clearance > 0.f ? limits.boundary_margin_m / clearance : INFINITY);
      }
    }
  }
  m[kDrivableArea] = ratio;
}

}  // namespace wv::safety
