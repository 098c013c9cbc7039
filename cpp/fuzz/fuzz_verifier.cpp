// libFuzzer harness: the verifier's C entry point with arbitrary floats. The bytes give the counts (bounded by
// the verifier's capacities, sometimes beyond them to reach the capacity errors), the wet flag, the ego state and
// every float of the trajectories, scores, objects and boundaries (NaN, inf and denormals included). A check must
// return a status; a verdict's arrays must be readable to their stated lengths.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "wayvert/wayvert.h"

namespace {

constexpr int32_t kModes = 6, kPoints = 12, kObjects = 8, kBoundary = 16;

struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t byte() { return n ? (--n, *p++) : 0; }
  float f32() {
    float v = 0.f;
    if (n >= 4) { std::memcpy(&v, p, 4); p += 4; n -= 4; }
    return v;
  }
};

wv_verifier* make_verifier() {
  wv_vehicle_profile vehicle;
  wv_verifier_limits limits;
  wv_vehicle_profile_default(&vehicle);
  wv_verifier_limits_default(&limits);
  wv_verifier* v = nullptr;
  if (wv_verifier_create(&vehicle, &limits, kModes, kPoints, kObjects, kBoundary, &v) != WV_OK) __builtin_trap();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static wv_verifier* verifier = make_verifier();
  Reader r{data, size};
  const int32_t modes = r.byte() % (kModes + 2), points = r.byte() % (kPoints + 2);
  const int32_t objects = r.byte() % (kObjects + 2), left = r.byte() % (kBoundary + 2), right = r.byte() % (kBoundary + 2);
  std::vector<float> traj(size_t(modes) * size_t(points) * 5);
  std::vector<float> scores(static_cast<size_t>(modes));
  std::vector<float> objs(size_t(objects) * 7);
  std::vector<float> lb(size_t(left) * 2);
  std::vector<float> rb(size_t(right) * 2);
  for (auto* v : {&traj, &scores, &objs, &lb, &rb})
    for (float& x : *v) x = r.f32();
  wv_verifier_input in{};
  in.trajectories = traj.data(); in.modes = modes; in.points = points; in.scores = scores.data();
  in.ego = {r.f32(), r.f32(), r.f32(), r.f32()};
  in.objects = objects ? objs.data() : nullptr; in.object_count = objects;
  in.left_boundary = left ? lb.data() : nullptr; in.left_count = left;
  in.right_boundary = right ? rb.data() : nullptr; in.right_count = right;
  in.wet = r.byte() & 1;
  wv_verdict out;
  if (wv_verifier_check(verifier, &in, &out) == WV_OK) {
    volatile float sink = 0.f;
    for (int32_t i = 0; i < out.points * 5; ++i) sink = sink + out.trajectory[i];
    for (int32_t m = 0; m < out.modes; ++m) sink = sink + float(out.passed[m]) + float(out.reasons[m]) + out.margins[m * WV_CHECK_COUNT];
    if (out.chosen >= out.modes || (out.fallback_used != 0) != (out.chosen < 0)) __builtin_trap();
  } else if (wv_last_error()[0] == '\0') {
    __builtin_trap();
  }
  return 0;
}
