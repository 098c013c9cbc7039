// Frame deadlines: what the vehicle drives when a frame misses its budget (docs/verifier.md section 7.6).
// The previous verified trajectory, advanced by the time since it was planned and moved into the ego frame of now,
// while it still covers min_horizon_s; the caller falls back to the minimum-risk manoeuvre when it does not.
#include "safety/hold.hpp"

#include <cmath>

namespace wv::safety {

int advance_trajectory(const float* traj, int points, float elapsed_s, float dx, float dy, float dyaw,
                       float min_horizon_s, float* out) {
  if (points < 2 || !(elapsed_s >= 0.f) || !std::isfinite(elapsed_s) || !std::isfinite(dx) || !std::isfinite(dy) ||
      !std::isfinite(dyaw) || !(min_horizon_s >= 0.f))
    return 0;
  // The points from `elapsed` on, the first one interpolated at exactly `elapsed` (time 0 of the new frame).
  int first = 0;
  while (first < points && traj[first * 5] < elapsed_s) ++first;
  if (first >= points) return 0;
  const float c = std::cos(dyaw), s = std::sin(dyaw);
  auto put = [&](int k, const float* p) {
    const float x = p[1] - dx, y = p[2] - dy;
    out[k * 5 + 0] = p[0] - elapsed_s;
    out[k * 5 + 1] = c * x + s * y;        // rotate by -dyaw into the new ego frame
    out[k * 5 + 2] = -s * x + c * y;
    out[k * 5 + 3] = p[3] - dyaw;
    out[k * 5 + 4] = p[4];
  };
  int n = 0;
  if (first > 0 && traj[first * 5] > elapsed_s) {
    const float* a = traj + (first - 1) * 5;
    const float* b = traj + first * 5;
    const float w = (elapsed_s - a[0]) / (b[0] - a[0]);
    float p[5];
    for (int i = 0; i < 5; ++i) p[i] = a[i] + w * (b[i] - a[i]);
    p[0] = elapsed_s;
    put(n++, p);
  }
  for (int k = first; k < points; ++k) put(n++, traj + k * 5);
  for (int k = 0; k < n * 5; ++k)
    if (!std::isfinite(out[k])) return 0;
  if (n < 2 || out[(n - 1) * 5] < min_horizon_s) return 0;
  return n;
}

}  // namespace wv::safety
