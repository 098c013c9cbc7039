// Sessions through the C API: outputs bit-identical to the numpy reference, no heap allocation in run()
// after the first call, sessions independent across threads, and bad inputs answered with status codes.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "check.hpp"
#include "fixture.hpp"
#include "wayvert/wayvert.h"

#include "alloc_counter.hpp"

namespace {

struct Fixture {
  const char* stem;
  std::vector<const char*> inputs;
  std::vector<const char*> outputs;
};

const Fixture kFixtures[] = {
    {"conv_relu_linear", {"image"}, {"fc", "logits"}},
    {"sample_convnet", {"image"}, {"logits"}},
    {"vision_ops", {"pixels"}, {"channels", "features", "requantized"}},
};

wv_engine* load(const Fixture& f) {
  wv_engine* e = nullptr;
  wv_status st = wv_engine_load(fixture_path(std::string(f.stem) + ".wvrt").c_str(), &e);
  WV_CHECK_MSG(st == WV_OK, std::string("load ") + f.stem + ": " + wv_last_error());
  return e;
}

void set_inputs(const Fixture& f, wv_engine* e, wv_session* s) {
  for (const char* name : f.inputs) {
    int32_t idx = -1;
    WV_CHECK(wv_engine_find_input(e, name, &idx) == WV_OK);
    std::vector<char> data = read_fixture(std::string(f.stem) + ".in." + name + ".bin");
    WV_CHECK_MSG(wv_session_set_input(s, idx, data.data(), data.size()) == WV_OK, wv_last_error());
  }
}

void check_outputs(const Fixture& f, wv_engine* e, wv_session* s) {
  for (const char* name : f.outputs) {
    int32_t idx = -1;
    WV_CHECK(wv_engine_find_output(e, name, &idx) == WV_OK);
    const void* data = nullptr;
    size_t bytes = 0;
    WV_CHECK(wv_session_output(s, idx, &data, &bytes) == WV_OK);
    std::vector<char> want = read_fixture(std::string(f.stem) + ".out." + name + ".bin");
    WV_CHECK_MSG(bytes == want.size() && std::memcmp(data, want.data(), bytes) == 0,
                 std::string(f.stem) + " output '" + name + "' differs from the numpy reference");
  }
}

void test_outputs_match_reference_and_run_allocates_nothing() {
  for (const Fixture& f : kFixtures) {
    wv_engine* e = load(f);
    if (!e) continue;
    wv_session* s = nullptr;
    const long at_create = g_allocations.load();
    WV_CHECK(wv_session_create(e, &s) == WV_OK);
    WV_CHECK_MSG(g_allocations.load() > at_create, "the allocation counter is not hooked in");
    set_inputs(f, e, s);
    WV_CHECK(wv_session_run(s) == WV_OK);
    check_outputs(f, e, s);
    const long before = g_allocations.load();
    for (int i = 0; i < 5; ++i) WV_CHECK(wv_session_run(s) == WV_OK);
    const long during = g_allocations.load() - before;
    WV_CHECK_MSG(during == 0, std::string(f.stem) + ": run() allocated " + std::to_string(during) + " times");
    check_outputs(f, e, s);
    size_t planned = 0, naive = 0;
    WV_CHECK(wv_engine_arena_bytes(e, &planned, &naive) == WV_OK);
    WV_CHECK(planned > 0 && planned <= naive);
    std::printf("%s: arena %zu bytes planned, %zu naive, isa %s\n", f.stem, planned, naive, wv_cpu_isa());
    wv_session_release(s);
    wv_engine_release(e);
  }
}

void test_sessions_on_threads_share_one_engine() {
  const Fixture& f = kFixtures[1];
  wv_engine* e = load(f);
  if (!e) return;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      wv_session* s = nullptr;
      if (wv_session_create(e, &s) != WV_OK) return;
      set_inputs(f, e, s);
      bool ok = true;
      for (int i = 0; i < 10; ++i) ok = ok && wv_session_run(s) == WV_OK;
      check_outputs(f, e, s);
      if (ok) good.fetch_add(1);
      wv_session_release(s);
    });
  for (auto& th : threads) th.join();
  WV_CHECK_EQ(good.load(), 4);
  wv_engine_release(e);
}

void test_session_keeps_engine_alive() {
  const Fixture& f = kFixtures[0];
  wv_engine* e = load(f);
  if (!e) return;
  wv_session* s = nullptr;
  WV_CHECK(wv_session_create(e, &s) == WV_OK);
  set_inputs(f, e, s);
  wv_engine_release(e);  // the session holds its own reference
  WV_CHECK(wv_session_run(s) == WV_OK);
  wv_session_release(s);
}

void test_bad_inputs_return_status_and_message() {
  wv_engine* e = load(kFixtures[1]);
  if (!e) return;
  wv_session* s = nullptr;
  WV_CHECK(wv_session_create(e, &s) == WV_OK);
  wv_tensor_spec spec;
  WV_CHECK(wv_engine_input_spec(e, 0, &spec) == WV_OK);
  std::vector<float> x(spec.bytes / 4, 0.25f);
  WV_CHECK_EQ(int(wv_session_set_input(s, 0, x.data(), spec.bytes - 4)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "image") != nullptr);
  WV_CHECK_EQ(int(wv_session_set_input(s, 5, x.data(), spec.bytes)), int(WV_ERR_INVALID_ARGUMENT));
  x[17] = std::nanf("");
  WV_CHECK(wv_session_set_input(s, 0, x.data(), spec.bytes) == WV_OK);
  WV_CHECK_EQ(int(wv_session_run(s)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "non-finite") != nullptr);
  x[17] = INFINITY;
  WV_CHECK(wv_session_set_input(s, 0, x.data(), spec.bytes) == WV_OK);
  WV_CHECK_EQ(int(wv_session_run(s)), int(WV_ERR_INPUT));
  x[17] = 0.f;  // the session is still usable
  WV_CHECK(wv_session_set_input(s, 0, x.data(), spec.bytes) == WV_OK);
  WV_CHECK(wv_session_run(s) == WV_OK);
  int32_t idx = 0;
  WV_CHECK_EQ(int(wv_engine_find_input(e, "lidar", &idx)), int(WV_ERR_INPUT));
  WV_CHECK(std::strstr(wv_last_error(), "lidar") != nullptr);
  WV_CHECK_EQ(int(wv_session_run(nullptr)), int(WV_ERR_INVALID_ARGUMENT));
  wv_session_release(s);
  wv_engine_release(e);
}

// Outputs of every thread count are the same bytes as the reference, and a threaded run allocates nothing.
void test_threads_give_identical_outputs_and_allocate_nothing() {
  for (const Fixture& f : kFixtures) {
    wv_engine* e = load(f);
    if (!e) continue;
    for (int32_t threads : {1, 2, 3, 4, 7}) {
      wv_session_options o = wv_session_options_default();
      o.threads = threads;
      wv_session* s = nullptr;
      WV_CHECK_MSG(wv_session_create_with_options(e, &o, &s) == WV_OK, wv_last_error());
      WV_CHECK_EQ(wv_session_threads(s), threads);
      set_inputs(f, e, s);
      WV_CHECK(wv_session_run(s) == WV_OK);
      check_outputs(f, e, s);
      const long before = g_allocations.load();
      for (int i = 0; i < 20; ++i) WV_CHECK(wv_session_run(s) == WV_OK);
      WV_CHECK_MSG(g_allocations.load() == before, std::string(f.stem) + ": a threaded run() allocated");
      check_outputs(f, e, s);
      wv_session_release(s);
    }
    size_t packed = 0;
    WV_CHECK(wv_engine_packed_weight_bytes(e, &packed) == WV_OK);
    WV_CHECK(packed > 0);
    wv_engine_release(e);
  }
}

void test_bad_session_options_are_refused_with_a_message() {
  wv_engine* e = load(kFixtures[0]);
  if (!e) return;
  wv_session* s = nullptr;
  wv_session_options o = wv_session_options_default();
  for (int32_t threads : {0, -1, WV_MAX_THREADS + 1}) {
    o.threads = threads;
    WV_CHECK_EQ(int(wv_session_create_with_options(e, &o, &s)), int(WV_ERR_INVALID_ARGUMENT));
    WV_CHECK(s == nullptr);
    WV_CHECK(std::strstr(wv_last_error(), "threads") != nullptr);
  }
  o = wv_session_options_default();
  o.device = 7;
  WV_CHECK_EQ(int(wv_session_create_with_options(e, &o, &s)), int(WV_ERR_INVALID_ARGUMENT));
  WV_CHECK(std::strstr(wv_last_error(), "device") != nullptr);
  o = wv_session_options_default();
  o.struct_size = 2;
  WV_CHECK_EQ(int(wv_session_create_with_options(e, &o, &s)), int(WV_ERR_INVALID_ARGUMENT));
  WV_CHECK(wv_session_create_with_options(e, nullptr, &s) == WV_OK);  // NULL options: the defaults
  WV_CHECK_EQ(wv_session_threads(s), 1);
  wv_session_release(s);
  wv_engine_release(e);
}

// Profiling: every op timed on every profiled run, nothing allocated, totals cleared when switched.
void test_profiling_times_every_op_without_allocating() {
  const Fixture& f = kFixtures[1];
  wv_engine* e = load(f);
  if (!e) return;
  wv_session* s = nullptr;
  WV_CHECK(wv_session_create(e, &s) == WV_OK);
  set_inputs(f, e, s);
  WV_CHECK(wv_session_run(s) == WV_OK);
  const int32_t ops = wv_engine_op_count(e);
  uint64_t ns = 1;
  int64_t runs = 1;
  WV_CHECK(wv_session_op_time(s, 0, &ns, &runs) == WV_OK);
  WV_CHECK(ns == 0 && runs == 0);  // off by default
  WV_CHECK(wv_session_set_profiling(s, 1) == WV_OK);
  const long before = g_allocations.load();
  for (int i = 0; i < 3; ++i) WV_CHECK(wv_session_run(s) == WV_OK);
  WV_CHECK_EQ(g_allocations.load(), before);
  uint64_t total = 0;
  for (int32_t i = 0; i < ops; ++i) {
    WV_CHECK(wv_session_op_time(s, i, &ns, &runs) == WV_OK);
    WV_CHECK_EQ(runs, int64_t(3));
    total += ns;
  }
  WV_CHECK(total > 0);
  check_outputs(f, e, s);  // profiling changes no result
  WV_CHECK_EQ(int(wv_session_op_time(s, ops, &ns, &runs)), int(WV_ERR_INVALID_ARGUMENT));
  WV_CHECK(wv_session_set_profiling(s, 0) == WV_OK);
  WV_CHECK(wv_session_op_time(s, 0, &ns, &runs) == WV_OK);
  WV_CHECK(ns == 0 && runs == 0);
  WV_CHECK(wv_session_run(s) == WV_OK);
  WV_CHECK(wv_session_op_time(s, 0, &ns, &runs) == WV_OK);
  WV_CHECK(runs == 0);
  wv_session_release(s);
  wv_engine_release(e);
}

}  // namespace

int main() {
  test_profiling_times_every_op_without_allocating();
  test_threads_give_identical_outputs_and_allocate_nothing();
  test_bad_session_options_are_refused_with_a_message();
  test_outputs_match_reference_and_run_allocates_nothing();
  test_sessions_on_threads_share_one_engine();
  test_session_keeps_engine_alive();
  test_bad_inputs_return_status_and_message();
  return wv_test_exit_code();
}
