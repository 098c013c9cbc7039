// The trajectory safety verifier: checks every candidate mode against the vehicle's limits, the ego state,
// other road users and the drivable area; picks the best passing mode by score, or builds the
// minimum-risk fallback. Independent of the network (scores only rank modes that already passed),
// deterministic, and allocation-free after construction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.hpp"
#include "safety/verifier_types.hpp"

namespace wv::safety {

// Result of one check(); arrays are owned by the Verifier and valid until its next check().
struct Verdict {
  int chosen = -1;              // index of the mode to execute, or -1 when the fallback is used
  bool fallback_used = false;
  uint32_t fallback_reasons = 0;  // when the fallback is used: OR of every mode's reasons
  uint32_t fallback_self_reasons = 0;  // the fallback's own check (kinematic bits clear whenever the ego state is within the limits)
  const float* trajectory = nullptr;  // [points][5]: the chosen mode or the fallback
  int points = 0;
  const uint8_t* passed = nullptr;     // [modes]
  const uint32_t* reasons = nullptr;   // [modes], bit(Check) per failed check
  const float* margins = nullptr;      // [modes][kCheckCount]: value / limit, > 1 means violated
  int modes = 0;
};

class Verifier {
 public:
  // Capacities bound every input of check(); all memory is taken here.
  static Result<Verifier> create(const VehicleProfile& vehicle, const Limits& limits, int max_modes = 16,
                                 int max_points = 100, int max_objects = 256, int max_boundary_points = 1024);

  // Check `in` and fill `out`. Fails only for inputs beyond the capacities or a malformed call (NULL arrays);
  // bad values (NaN, inf, non-increasing time) are verdicts, not errors.
  Status check(const VerifierInput& in, Verdict* out);

  // Minimum-risk manoeuvre from `ego`: follow the current path curvature and brake to a stop with
  // jerk-limited deceleration; `points` samples every fallback_dt_s. Writes [points][5] into `traj`.
  void build_fallback(const EgoState& ego, int points, float* traj) const;

  // Evaluate one trajectory against every check with `limits`; returns the reasons bitmask and fills
  // margins[kCheckCount].
  uint32_t evaluate(const float* pts, int points, float score, const VerifierInput& in, const Limits& limits,
                    float* margins) const;

  const VehicleProfile& vehicle() const { return vehicle_; }
  const Limits& limits() const { return limits_; }

 private:
  Verifier() = default;
  VehicleProfile vehicle_;
  Limits limits_;
  int max_modes_ = 0, max_points_ = 0, max_objects_ = 0, max_boundary_points_ = 0;
  std::vector<uint8_t> passed_;
  std::vector<uint32_t> reasons_;
  std::vector<float> margins_;
  std::vector<float> fallback_;
  std::vector<float> fallback_margins_;
};

}  // namespace wv::safety
