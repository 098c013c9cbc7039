// Inputs, limits and results of the trajectory safety verifier (docs/verifier.md is the reference).
// Frames: ego frame at the rear-axle centre now, x forward, y left (metres), heading rad (counter-clockwise),
// speed m/s, time s from now.
#pragma once
#include <cstdint>

#include "wayvert/wayvert.h"

namespace wv::safety {

// Trajectory point layout: [t, x, y, heading, speed].
inline constexpr int kPointFields = 5;
// Object layout: [x, y, heading, speed, length, width, class/flag], at time 0 in the ego frame (centre of the box).
inline constexpr int kObjectFields = 7;

// One bit per check, in the order of docs/verifier.md.
enum Check : int {
  kInvalid = 0,
  kContinuity,
  kCurvature,
  kSteering,
  kSteeringRate,
  kLateralAccel,
  kLateralJerk,
  kLongAccel,
  kDecel,
  kLongJerk,
  kYawRate,
  kTimeToCollision,
  kFollowingDistance,
  kDrivableArea,
  kCheckCount
};
inline constexpr uint32_t bit(Check c) { return 1u << c; }
// Limits on the motion itself (independent of other road users and of the ego state).
inline constexpr uint32_t kKinematicMask = bit(kCurvature) | bit(kSteering) | bit(kSteeringRate) | bit(kLateralAccel) |
                                           bit(kLateralJerk) | bit(kLongAccel) | bit(kDecel) | bit(kLongJerk) |
                                           bit(kYawRate);

// The C API's structs are the one definition of the profile, limits and ego state.
using VehicleProfile = wv_vehicle_profile;
using Limits = wv_verifier_limits;
using EgoState = wv_ego_state;

// The documented defaults (docs/verifier.md).
VehicleProfile default_vehicle();
Limits default_limits();
// "invalid", "continuity", ... for each Check.
const char* check_name(int check);

// Borrowed views of one check's inputs (row-major float arrays).
struct VerifierInput {
  const float* trajectories = nullptr;  // [modes][points][5]
  int modes = 0;
  int points = 0;
  const float* scores = nullptr;  // [modes]
  EgoState ego{};
  const float* objects = nullptr;  // [object_count][7], may be null
  int object_count = 0;
  const float* left_boundary = nullptr;  // [left_count][2] (x, y), ordered along the road; may be null
  int left_count = 0;
  const float* right_boundary = nullptr;
  int right_count = 0;
  bool wet = false;
};

}  // namespace wv::safety
