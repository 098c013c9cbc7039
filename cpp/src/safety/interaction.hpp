// Checks against other road users, each predicted at constant velocity from its state at time 0:
// time to the first footprint overlap along the trajectory, and the following distance to objects ahead
// in the ego's corridor (RSS minimum safe gap and the time-gap rule).
#pragma once
#include "safety/verifier_types.hpp"

namespace wv::safety {

// margins[kTimeToCollision] = min_ttc / t_first_overlap (0 when nothing overlaps within the trajectory).
// margins[kFollowingDistance] = required gap / actual gap, over points where the ego is not opening the gap.
void interaction_margins(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                         const Limits& limits, float* margins);

// RSS minimum safe longitudinal distance (Shalev-Shwartz et al. 2017, definition 1), metres.
float rss_min_gap(float v_rear, float v_front, const Limits& limits);

}  // namespace wv::safety
