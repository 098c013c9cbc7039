// C API of the trajectory safety verifier: status codes and thread-local messages, nothing thrown across.
#include <new>
#include <string>

#include <cmath>

#include "capi/last_error.hpp"
#include "safety/hold.hpp"
#include "safety/verifier.hpp"
#include "wayvert/wayvert.h"

struct wv_verifier {
  wv::safety::Verifier impl;
};

extern "C" {

void wv_vehicle_profile_default(wv_vehicle_profile* out) {
  if (out) *out = wv::safety::default_vehicle();
}

void wv_verifier_limits_default(wv_verifier_limits* out) {
  if (out) *out = wv::safety::default_limits();
}

const char* wv_verifier_check_name(int32_t index) { return wv::safety::check_name(index); }

wv_status wv_verifier_create(const wv_vehicle_profile* vehicle, const wv_verifier_limits* limits, int32_t max_modes,
                             int32_t max_points, int32_t max_objects, int32_t max_boundary_points, wv_verifier** out) {
  return wv::capi::guarded([&] {
    if (out == nullptr) return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    auto v = wv::safety::Verifier::create(vehicle ? *vehicle : wv::safety::default_vehicle(),
                                          limits ? *limits : wv::safety::default_limits(), max_modes, max_points,
                                          max_objects, max_boundary_points);
    if (!v.ok()) return wv::capi::fail(v.status());
    *out = new wv_verifier{v.take()};
    return WV_OK;
  });
}

void wv_verifier_release(wv_verifier* verifier) { delete verifier; }

wv_status wv_verifier_fallback(const wv_verifier* verifier, const wv_ego_state* ego, int32_t points, float* out) {
  return wv::capi::guarded([&] {
    if (verifier == nullptr || ego == nullptr || out == nullptr)
      return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "verifier, ego or out pointer is NULL");
    if (points < 2 || points > 100000)
      return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "points must be in 2..100000, got " + std::to_string(points));
    verifier->impl.build_fallback(*ego, points, out);
    return WV_OK;
  });
}

wv_status wv_advance_trajectory(const float* trajectory, int32_t points, float elapsed_s, float dx_m, float dy_m,
                                float dyaw_rad, float min_horizon_s, float* out, int32_t* out_points) {
  return wv::capi::guarded([&] {
    if (trajectory == nullptr || out == nullptr || out_points == nullptr)
      return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "trajectory, out or out_points pointer is NULL");
    if (points < 2) return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "a trajectory needs 2 points or more, got " + std::to_string(points));
    if (!std::isfinite(elapsed_s) || elapsed_s < 0.f || !std::isfinite(min_horizon_s) || min_horizon_s < 0.f)
      return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "elapsed_s and min_horizon_s must be finite and >= 0");
    *out_points = wv::safety::advance_trajectory(trajectory, points, elapsed_s, dx_m, dy_m, dyaw_rad, min_horizon_s, out);
    return WV_OK;
  });
}

wv_status wv_verifier_check(wv_verifier* verifier, const wv_verifier_input* input, wv_verdict* out) {
  return wv::capi::guarded([&] {
    if (verifier == nullptr || input == nullptr || out == nullptr)
      return wv::capi::fail(WV_ERR_INVALID_ARGUMENT, "verifier, input or verdict pointer is NULL");
    wv::safety::VerifierInput in;
    in.trajectories = input->trajectories;
    in.modes = input->modes;
    in.points = input->points;
    in.scores = input->scores;
    in.ego = input->ego;
    in.objects = input->objects;
    in.object_count = input->object_count;
    in.left_boundary = input->left_boundary;
    in.left_count = input->left_count;
    in.right_boundary = input->right_boundary;
    in.right_count = input->right_count;
    in.wet = input->wet != 0;
    wv::safety::Verdict v;
    wv::Status st = verifier->impl.check(in, &v);
    if (!st.ok()) return wv::capi::fail(st);
    out->chosen = v.chosen;
    out->fallback_used = v.fallback_used ? 1 : 0;
    out->fallback_reasons = v.fallback_reasons;
    out->fallback_self_reasons = v.fallback_self_reasons;
    out->trajectory = v.trajectory;
    out->points = v.points;
    out->modes = v.modes;
    out->passed = v.passed;
    out->reasons = v.reasons;
    out->margins = v.margins;
    return WV_OK;
  });
}

}  // extern "C"
