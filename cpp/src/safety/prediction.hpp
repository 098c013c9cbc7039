// Where another road user will be: constant velocity, in the road's frame when the road is known.
// With a boundary polyline (the right one, else the left) and an object travelling along it (heading within 20
// degrees of the tangent where its centre projects; nuPlan's is_agent_ahead angle tolerance, docs/verifier.md
// [S18]), its speed is split into a part along the road and a part across it, and both are kept: a car in the
// next lane of a curve follows the curve, a car changing lanes keeps drifting across. Otherwise (no road, the
// object beyond the polyline's ends, crossing or oncoming) it moves in a straight line in the ego frame.
#pragma once
#include "safety/geometry.hpp"
#include "safety/verifier_types.hpp"

namespace wv::safety {

struct ObjectPath {
  const float* object = nullptr;  // [x, y, heading, speed, length, width, class] at time 0
  const float* road = nullptr;    // [n][2] polyline, or null for a straight line
  int n = 0;
  int segment = 0;                // the segment the centre projects onto at time 0
  float along = 0.f;              // distance from that segment's start to the projection, m
  float offset = 0.f;             // signed distance from the polyline, left positive, m
  float v_along = 0.f, v_across = 0.f;  // m/s
  float heading_offset = 0.f;     // the object's heading relative to the road's tangent, rad
};

// The polyline the road frame is taken from (the right boundary, else the left; null when neither has 2 points).
const float* road_line(const VerifierInput& in, int* n);
// Signed distance of (x, y) from the road polyline (left positive); false when there is no road or the point
// projects before its start or past its end.
bool road_offset(const VerifierInput& in, float x, float y, float* offset);
// How object `o` moves (see above).
ObjectPath object_path(const float* o, const VerifierInput& in);
// Its box at time t >= 0 (s from now).
Box object_box(const ObjectPath& p, float t);

}  // namespace wv::safety
