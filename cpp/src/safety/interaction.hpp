// Checks against other road users ahead of or beside the ego (an object more than 150 degrees off the heading is
// behind and left to itself when it follows in the ego's lane or moves across towards it; one behind in another
// lane is checked, and a plan that moves into its lane answers for the gap it leaves), each predicted at constant velocity from its state at time 0 (along the road when
// a boundary polyline is given: prediction.hpp): collision (any
// footprint overlap along the trajectory) and time to collision (the ego moving along the plan, its own braking
// included, and at constant velocity after its end; up to 3 s), and the following distance to objects ahead in the ego's
// corridor (RSS minimum safe gap always, the time-gap rule while keeping or closing the gap).
#pragma once
#include "safety/verifier_types.hpp"

namespace wv::safety {

// margins[kTimeToCollision] = inf when the plan overlaps an object, else min_ttc / ttc (0 when none within 3 s).
// margins[kFollowingDistance] = max over points and objects ahead of required gap / actual gap, and over vehicles
// behind in a lane the plan moves into of lane_change_min_gap / their gap.
void interaction_margins(const float* pts, int points, const VerifierInput& in, const VehicleProfile& vehicle,
                         const Limits& limits, float* margins);

// RSS minimum safe longitudinal distance (Shalev-Shwartz et al. 2017, definition 1), metres.
float rss_min_gap(float v_rear, float v_front, const Limits& limits);

// The gap a lane change must leave a vehicle approaching from behind in the target lane (UN R79 5.6.4.7): it may
// react 0.4 s later and brake at 3 m/s² to the ego's speed, and still be 1 s of the ego's travel behind. Metres.
float lane_change_min_gap(float v_rear, float v_ego);

}  // namespace wv::safety
