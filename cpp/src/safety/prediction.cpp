#include "safety/prediction.hpp"

#include <cmath>

namespace wv::safety {
namespace {
constexpr float kAlongRoadRad = 0.34906585f;  // 20 degrees

// Nearest segment of the polyline to (x, y): its index, the distance along it and the signed distance from it
// (left positive). -1 when the nearest point of the chain is its first vertex approached from before the start,
// or its last from past the end: such a point lies beyond the known road, and clamping it onto the chain would
// move it along the road (a car 40 m behind a polyline that starts 20 m behind would be placed 20 m closer).
int project(const float* line, int n, float x, float y, float* along, float* cross) {
  float best2 = INFINITY;
  int seg = -1;
  bool outside = false;
  for (int i = 0; i + 1 < n; ++i) {
    const float ax = line[2 * i], ay = line[2 * i + 1], sx = line[2 * i + 2] - ax, sy = line[2 * i + 3] - ay;
    const float len2 = sx * sx + sy * sy;
    if (len2 <= 0.f) continue;
    const float t = (x - ax) * sx + (y - ay) * sy;
    const float u = t <= 0.f ? 0.f : (t >= len2 ? 1.f : t / len2);
    const float qx = ax + u * sx - x, qy = ay + u * sy - y;
    const float d2 = qx * qx + qy * qy;
    if (d2 < best2) {
      best2 = d2;
      seg = i;
      outside = (t < 0.f && i == 0) || (t > len2 && i + 2 == n);
      const float len = std::sqrt(len2);
      *along = u * len;
      *cross = (sx * (y - ay) - sy * (x - ax)) / len;
    }
  }
  return outside ? -1 : seg;
}

}  // namespace

const float* road_line(const VerifierInput& in, int* n) {
  *n = in.right_count >= 2 ? in.right_count : (in.left_count >= 2 ? in.left_count : 0);
  return in.right_count >= 2 ? in.right_boundary : (in.left_count >= 2 ? in.left_boundary : nullptr);
}

bool road_offset(const VerifierInput& in, float x, float y, float* offset) {
  int n = 0;
  const float* line = road_line(in, &n);
  float along = 0.f;
  return line != nullptr && project(line, n, x, y, &along, offset) >= 0;
}

ObjectPath object_path(const float* o, const VerifierInput& in) {
  ObjectPath p;
  p.object = o;
  int n = 0;
  const float* line = road_line(in, &n);
  if (line == nullptr || !(o[3] >= 0.f)) return p;
  float along = 0.f, cross = 0.f;
  const int seg = project(line, n, o[0], o[1], &along, &cross);
  if (seg < 0) return p;
  const float tangent = std::atan2(line[2 * seg + 3] - line[2 * seg + 1], line[2 * seg + 2] - line[2 * seg]);
  const float rel = wrap_angle(o[2] - tangent);
  if (std::fabs(rel) > kAlongRoadRad) return p;
  p.road = line;
  p.n = n;
  p.segment = seg;
  p.along = along;
  p.offset = cross;
  p.v_along = o[3] * std::cos(rel);
  p.v_across = o[3] * std::sin(rel);
  p.heading_offset = rel;
  return p;
}

Box object_box(const ObjectPath& p, float t) {
  const float* o = p.object;
  if (p.road == nullptr)
    return {o[0] + o[3] * std::cos(o[2]) * t, o[1] + o[3] * std::sin(o[2]) * t, o[2], 0.5f * o[4], 0.5f * o[5]};
  // Walk the polyline forward from the start segment; past its end, go on along the last segment.
  float remaining = p.along + p.v_along * t;
  int i = p.segment;
  float sx = 0.f, sy = 0.f, len = 0.f;
  for (;;) {
    sx = p.road[2 * i + 2] - p.road[2 * i];
    sy = p.road[2 * i + 3] - p.road[2 * i + 1];
    len = std::hypot(sx, sy);
    if (remaining <= len || i + 2 >= p.n) break;
    if (len > 0.f) remaining -= len;
    ++i;
  }
  const float ux = len > 0.f ? sx / len : 1.f, uy = len > 0.f ? sy / len : 0.f;
  const float offset = p.offset + p.v_across * t;
  const float x = p.road[2 * i] + ux * remaining - uy * offset;
  const float y = p.road[2 * i + 1] + uy * remaining + ux * offset;
  return {x, y, std::atan2(uy, ux) + p.heading_offset, 0.5f * o[4], 0.5f * o[5]};
}

}  // namespace wv::safety
