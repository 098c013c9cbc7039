// Checks on the motion itself and on its continuity with the ego state. Derivatives come from the samples:
// segment i (points i, i+1) gives longitudinal acceleration (from the speed channel) and consecutive segments
// give jerk; each interior vertex with a sample at least 2 m away on both sides gives curvature (turn between
// the two chords over their mean length), yaw rate, lateral acceleration (speed^2 x curvature) and steering
// angle (atan(wheelbase x curvature)), and consecutive such vertices give lateral jerk and steering rate.
// Ratios are value / limit.
#pragma once
#include "safety/verifier_types.hpp"

namespace wv::safety {

// True when every field is finite, time starts at >= -1 ms and strictly increases, and no speed is negative.
bool trajectory_valid(const float* pts, int points);

// Fill margins[kContinuity] and the kinematic entries of margins[] (kCurvature .. kYawRate).
void kinematic_margins(const float* pts, int points, const EgoState& ego, const VehicleProfile& vehicle,
                       const Limits& limits, float* margins);

}  // namespace wv::safety
