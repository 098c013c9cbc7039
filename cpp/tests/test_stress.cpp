// Concurrency stress (run under ThreadSanitizer by `make tsan-test`, and plainly by ctest): one engine shared by
// 8 sessions in 8 threads (some with intra-op threads of their own), every output compared with the numpy
// reference each run; engines loaded and released while the others run; verifiers and sensor adapters working in
// parallel threads. A data race, a wrong output or a failed call is a failure.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "fixture.hpp"
#include "wayvert/wayvert.h"

namespace {

constexpr int kRuns = 30;

bool run_and_compare(wv_engine* e, wv_session* s, const std::vector<char>& in, const std::vector<char>& want) {
  if (wv_session_set_input(s, 0, in.data(), in.size()) != WV_OK) return false;
  if (wv_session_run(s) != WV_OK) return false;
  int32_t out = -1;
  if (wv_engine_find_output(e, "channels", &out) != WV_OK) return false;
  const void* data = nullptr;
  size_t bytes = 0;
  if (wv_session_output(s, out, &data, &bytes) != WV_OK) return false;
  return bytes == want.size() && std::memcmp(data, want.data(), bytes) == 0;
}

void session_worker(wv_engine* e, int threads, std::atomic<int>* failures) {
  const std::vector<char> in = read_fixture("vision_ops.in.pixels.bin");
  const std::vector<char> want = read_fixture("vision_ops.out.channels.bin");
  wv_session_options opts = wv_session_options_default();
  opts.threads = threads;
  wv_session* s = nullptr;
  if (wv_session_create_with_options(e, &opts, &s) != WV_OK) { ++*failures; return; }
  for (int i = 0; i < kRuns; ++i)
    if (!run_and_compare(e, s, in, want)) ++*failures;
  wv_session_release(s);
}

void convnet_worker(wv_engine* e, std::atomic<int>* failures) {
  const std::vector<char> in = read_fixture("sample_convnet.in.image.bin");
  const std::vector<char> want = read_fixture("sample_convnet.out.logits.bin");
  wv_session_options opts = wv_session_options_default();
  opts.threads = 2;
  wv_session* s = nullptr;
  if (wv_session_create_with_options(e, &opts, &s) != WV_OK) { ++*failures; return; }
  for (int i = 0; i < kRuns / 3; ++i) {
    const void* data = nullptr;
    size_t bytes = 0;
    bool ok = wv_session_set_input(s, 0, in.data(), in.size()) == WV_OK && wv_session_run(s) == WV_OK &&
              wv_session_output(s, 0, &data, &bytes) == WV_OK && bytes == want.size() &&
              std::memcmp(data, want.data(), bytes) == 0;
    if (!ok) ++*failures;
  }
  wv_session_release(s);
}

void churn_worker(std::atomic<int>* failures) {
  const std::string path = fixture_path("vision_ops.wvrt");
  for (int i = 0; i < 10; ++i) {
    wv_engine* e = nullptr;
    if (wv_engine_load(path.c_str(), &e) != WV_OK) { ++*failures; continue; }
    wv_session* s = nullptr;
    if (wv_session_create(e, &s) == WV_OK) {
      (void)wv_session_run(s);  // inputs left at zero: a valid run
      wv_session_release(s);
    } else {
      ++*failures;
    }
    wv_engine_release(e);
  }
}

void verifier_worker(std::atomic<int>* failures) {
  wv_vehicle_profile vehicle;
  wv_verifier_limits limits;
  wv_vehicle_profile_default(&vehicle);
  wv_verifier_limits_default(&limits);
  wv_verifier* v = nullptr;
  if (wv_verifier_create(&vehicle, &limits, 4, 16, 8, 8, &v) != WV_OK) { ++*failures; return; }
  std::vector<float> traj;
  for (int m = 0; m < 2; ++m)
    for (int i = 0; i < 10; ++i) {
      const float t = 0.5f * float(i + 1);
      traj.insert(traj.end(), {t, 10.f * t, 0.f, 0.f, 10.f});
    }
  const float scores[2] = {1.f, 0.5f};
  wv_verifier_input in{};
  in.trajectories = traj.data(); in.modes = 2; in.points = 10; in.scores = scores;
  in.ego = {10.f, 0.f, 0.f, 0.f};
  int first = -2;
  for (int i = 0; i < kRuns; ++i) {
    wv_verdict out;
    if (wv_verifier_check(v, &in, &out) != WV_OK) { ++*failures; continue; }
    if (first == -2) first = out.chosen;
    if (out.chosen != first) ++*failures;  // same input, same verdict
  }
  wv_verifier_release(v);
}

void adapter_worker(std::atomic<int>* failures) {
  wv_sp_camera cam;
  std::memset(&cam, 0, sizeof cam);
  cam.name = "front"; cam.width = 32; cam.height = 16; cam.pixel_format = "rgb8";
  cam.color_matrix = WV_SP_COLOR_BT709; cam.full_range = 1; cam.fps = 10.0; cam.model = WV_SP_MODEL_PINHOLE;
  cam.fx = cam.fy = 20.0; cam.cx = 16.0; cam.cy = 8.0; cam.translation_m[2] = 1.5;
  wv_sp_rig source{"stress", 1, &cam};
  wv_sp_camera canon = cam;
  canon.width = 16; canon.height = 8; canon.fx = canon.fy = 10.0; canon.cx = 8.0; canon.cy = 4.0;
  wv_sp_rig canon_rig{"canonical", 1, &canon};
  wv_sp_canonical canonical{&canon_rig, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}, 1.f / 64.f, 0};
  wv_sensor_adapter* a = nullptr;
  if (wv_sensor_adapter_open_builtin(&source, &canonical, &a) != WV_OK) { ++*failures; return; }
  std::vector<unsigned char> pixels(32 * 16 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i * 7);
  wv_sp_frame frame{"front", pixels.data(), pixels.size(), 0};
  std::vector<int8_t> tensor(3 * 16 * 8), first;
  std::vector<uint8_t> mask(16 * 8);
  for (int i = 0; i < kRuns; ++i) {
    wv_sp_output out{tensor.data(), tensor.size(), mask.data(), mask.size()};
    frame.timestamp_us = i;
    if (wv_sensor_adapter_convert(a, &frame, 1, &out) != WV_OK) { ++*failures; continue; }
    if (first.empty()) first = tensor;
    if (tensor != first) ++*failures;
  }
  wv_sensor_adapter_release(a);
}

}  // namespace

int main() {
  wv_engine* vision = nullptr;
  wv_engine* convnet = nullptr;
  WV_CHECK_MSG(wv_engine_load(fixture_path("vision_ops.wvrt").c_str(), &vision) == WV_OK, wv_last_error());
  WV_CHECK_MSG(wv_engine_load(fixture_path("sample_convnet.wvrt").c_str(), &convnet) == WV_OK, wv_last_error());
  if (!vision || !convnet) return wv_test_exit_code();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(session_worker, vision, t % 3 == 0 ? 2 : 1, &failures);
  threads.emplace_back(convnet_worker, convnet, &failures);
  threads.emplace_back(churn_worker, &failures);
  threads.emplace_back(churn_worker, &failures);
  for (int t = 0; t < 2; ++t) threads.emplace_back(verifier_worker, &failures);
  for (int t = 0; t < 2; ++t) threads.emplace_back(adapter_worker, &failures);
  for (std::thread& t : threads) t.join();
  WV_CHECK_MSG(failures.load() == 0, std::to_string(failures.load()) + " failed calls or wrong outputs");
  wv_engine_release(vision);
  wv_engine_release(convnet);
  std::printf("stress: %zu threads, %d runs per session\n", threads.size(), kRuns);
  return wv_test_exit_code();
}
