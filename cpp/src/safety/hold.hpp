// Frame deadlines: the previous verified trajectory advanced in time (docs/verifier.md section 7.6).
#pragma once

namespace wv::safety {

// `traj` [points][5] (t from its planning time, x, y, heading, speed in its ego frame); the vehicle has since moved
// by (dx, dy, dyaw) in that frame and `elapsed_s` has passed. Writes into `out` (room for points + 1 rows) the part
// from now on, in the new ego frame, with times from now (the first point interpolated at 0). Returns its point
// count, or 0 when it no longer covers `min_horizon_s` (or an argument is not finite): then fall back.
int advance_trajectory(const float* traj, int points, float elapsed_s, float dx, float dy, float dyaw,
                       float min_horizon_s, float* out);

}  // namespace wv::safety
