// The minimum-risk manoeuvre: keep the current path curvature and brake to a stop with a jerk-limited
// profile (acceleration continuous, jerk within +-fallback_jerk), so that the sampled trajectory's finite
// differences stay within the same bounds the checks apply (a divided difference of a function is an
// average of its derivative).
#include <algorithm>
#include <cmath>

#include "safety/verifier.hpp"

namespace wv::safety {
namespace {

// Speed and distance of a braking profile at time t: jerk -j from a0 to -A (t1), hold -A (t2), jerk +j to 0 (t3).
struct Profile {
  float v0, a0, A, j, t1, t2, t3;
  void at(float t, float* v, float* s) const {
    float tt = std::min(t, t1);
    float vv = v0 + a0 * tt - 0.5f * j * tt * tt;
    float ss = v0 * tt + 0.5f * a0 * tt * tt - j * tt * tt * tt / 6.f;
    if (t > t1) {
      tt = std::min(t - t1, t2);
      ss += vv * tt - 0.5f * A * tt * tt;
      vv -= A * tt;
    }
    if (t > t1 + t2) {
      tt = std::min(t - t1 - t2, t3);
      ss += vv * tt - 0.5f * A * tt * tt + j * tt * tt * tt / 6.f;
      vv += -A * tt + 0.5f * j * tt * tt;
    }
    // Standing once the profile has ended (its closed form leaves float residue of either sign there).
    *v = t >= t1 + t2 + t3 ? 0.f : std::max(vv, 0.f);
    *s = ss;
  }
};

}  // namespace

void Verifier::build_fallback(const EgoState& ego, int points, float* traj) const {
  const Limits& l = limits_;
  const bool finite = std::isfinite(ego.speed_mps) && std::isfinite(ego.accel_mps2) && std::isfinite(ego.yaw_rate_rps) &&
                      std::isfinite(ego.steering_rad);
  const float v0 = finite ? std::max(ego.speed_mps, 0.f) : 0.f;
  // Current path: yaw rate over speed when moving, the steering geometry when (nearly) stopped.
  float kappa = 0.f;
  if (finite) kappa = v0 > 1.f ? ego.yaw_rate_rps / v0 : std::tan(ego.steering_rad) / vehicle_.wheelbase_m;
  // At 97% of the curvature limit: the check reads curvature as turn over mean *chord* length (chords of at least
  // 2 m), which on an arc of radius R exceeds its curvature by (theta/2)/sin(theta/2) for a chord of angle theta:
  // 1.6% for a 2.4 m chord at full lock (4 m radius), 2.4% for a 3 m chord.
  kappa = std::clamp(kappa, -0.97f * l.max_curvature_per_m, 0.97f * l.max_curvature_per_m);

  // Built at 99% of its limits so that float rounding of the sampled speeds never reads as a violation.
  const float j = 0.99f * l.fallback_jerk_mps3;
  float D = 0.99f * l.fallback_decel_mps2;
  // Braking on a curve changes lateral acceleration at 2 v a kappa; keep that within 90% of its limit.
  if (std::fabs(kappa) * v0 > 0.f) D = std::min(D, 0.9f * l.max_lateral_jerk_mps3 / (2.f * std::fabs(kappa) * v0));
  float a0 = finite ? std::clamp(ego.accel_mps2, -D, 0.f) : 0.f;

  Profile p{v0, a0, D, j, 0.f, 0.f, 0.f};
  if (v0 > 0.f) {
    float A = D;
    float hold = (v0 - (A * A - a0 * a0) / (2.f * j) - A * A / (2.f * j)) / A;
    if (hold < 0.f) {  // too slow to reach full deceleration: a triangular profile
      A = std::sqrt((2.f * j * v0 + a0 * a0) / 2.f);
      hold = 0.f;
      if (A < -a0) {  // already braking harder than needed to stop smoothly: start softer
        a0 = -std::sqrt(2.f * j * v0);
        A = -a0;
      }
    }
    p = Profile{v0, a0, A, j, (A + a0) / j, hold, A / j};
  }
  const float dt = l.fallback_dt_s;
  for (int i = 0; i < points; ++i) {
    const float t = float(i) * dt;
    float v = 0.f, s = 0.f;
    if (v0 > 0.f) p.at(t, &v, &s);
    float* q = traj + i * kPointFields;
    const float h = kappa * s;
    q[0] = t;
    if (std::fabs(kappa) < 1e-6f) {
      q[1] = s;
      q[2] = 0.5f * kappa * s * s;
    } else {
      // 1 - cos(h) = 2 sin^2(h / 2) without the cancellation, which on a gentle curve (1 / kappa large) left
      // the lateral position noisy enough for the chord directions to read as steering.
      const float sh = std::sin(0.5f * h);
      q[1] = std::sin(h) / kappa;
      q[2] = 2.f * sh * sh / kappa;
    }
    q[3] = h;
    q[4] = v;
  }
}

}  // namespace wv::safety
