// CUDA sessions through the C API. Everywhere: a CUDA session where there is no device (or no CUDA build) is a
// WV_ERR_DEVICE naming CUDA, and coverage answers without a GPU. With a GPU (skipped, exit 77, without one): the
// requantize kernel against the CPU epilogue; every fixture engine on CUDA bit-identical to the CPU; graph replay
// stable over runs; no heap allocation in run(); two sessions in two threads at once; reset.
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "check.hpp"
#include "fixture.hpp"
#include "kernels/cpu/requantize.hpp"
#include "kernels/cuda/device.hpp"
#include "wayvert/wayvert.h"

namespace {

wv_session_options cuda_options() {
  wv_session_options o = wv_session_options_default();
  o.device = WV_DEVICE_CUDA;
  return o;
}

// Fills every input with bytes from a fixed generator (floats in [-1, 1)).
void fill_inputs(wv_session* s, const wv_engine* e, unsigned seed) {
  std::mt19937 rng(seed);
  for (int32_t i = 0; i < wv_engine_input_count(e); ++i) {
    wv_tensor_spec spec;
    WV_CHECK(wv_engine_input_spec(e, i, &spec) == WV_OK);
    std::vector<unsigned char> bytes(spec.bytes);
    if (spec.dtype == WV_F32) {
      for (size_t k = 0; k + 4 <= bytes.size(); k += 4) {
        const float v = float(int(rng() % 2001) - 1000) / 1000.f;
        std::memcpy(&bytes[k], &v, 4);
      }
    } else {
      for (auto& b : bytes) b = static_cast<unsigned char>(rng());
    }
    WV_CHECK(wv_session_set_input(s, i, bytes.data(), bytes.size()) == WV_OK);
  }
}

std::vector<std::vector<unsigned char>> outputs_of(const wv_session* s, const wv_engine* e) {
  std::vector<std::vector<unsigned char>> out;
  for (int32_t i = 0; i < wv_engine_output_count(e); ++i) {
    const void* data = nullptr;
    size_t bytes = 0;
    WV_CHECK(wv_session_output(s, i, &data, &bytes) == WV_OK);
    const auto* p = static_cast<const unsigned char*>(data);
    out.emplace_back(p, p + bytes);
  }
  return out;
}

void test_no_device_is_a_device_error(const char* engine_file) {
  wv_engine* e = nullptr;
  WV_CHECK(wv_engine_load(fixture_path(engine_file).c_str(), &e) == WV_OK);
  wv_session_options o = cuda_options();
  wv_session* s = nullptr;
  WV_CHECK_EQ(int(wv_session_create_with_options(e, &o, &s)), int(WV_ERR_DEVICE));
  WV_CHECK(s == nullptr);
  WV_CHECK(std::string(wv_last_error()).find("CUDA") != std::string::npos);
  o.device = 7;  // not a device at all
  WV_CHECK_EQ(int(wv_session_create_with_options(e, &o, &s)), int(WV_ERR_INVALID_ARGUMENT));
  wv_engine_release(e);
}

void test_coverage_answers_without_a_device(const char* engine_file) {
  wv_engine* e = nullptr;
  WV_CHECK(wv_engine_load(fixture_path(engine_file).c_str(), &e) == WV_OK);
  int32_t gaps = -1;
  WV_CHECK(wv_engine_cuda_gap_count(e, &gaps) == WV_OK);
  WV_CHECK(gaps >= 0 && gaps <= wv_engine_op_count(e));
  if (!wv_cuda_built()) WV_CHECK_EQ(gaps, wv_engine_op_count(e));  // without CUDA every op is a gap
  for (int32_t k = 0; k < gaps; ++k) {
    int32_t op = -1;
    const char* reason = nullptr;
    WV_CHECK(wv_engine_cuda_gap(e, k, &op, &reason) == WV_OK);
    WV_CHECK(op >= 0 && op < wv_engine_op_count(e));
    WV_CHECK(reason != nullptr && reason[0] != '\0');
  }
  int32_t op = 0;
  const char* reason = nullptr;
  WV_CHECK_EQ(int(wv_engine_cuda_gap(e, gaps, &op, &reason)), int(WV_ERR_INVALID_ARGUMENT));
  wv_engine_release(e);
}

void test_requantize_kernel_matches_cpu() {
  const int C = 17, P = 1000;
  std::mt19937 rng(3);
  std::vector<int32_t> acc(size_t(C) * P), bias(C), mult(C), shift(C);
  for (auto& a : acc) a = int32_t(rng() % 2000001) - 1000000;
  for (int c = 0; c < C; ++c) {
    bias[size_t(c)] = int32_t(rng() % 20001) - 10000;
    mult[size_t(c)] = int32_t((1u << 30) + rng() % (1u << 30));
    shift[size_t(c)] = 35 + int32_t(rng() % 10);
  }
  std::vector<int8_t> gpu(acc.size());
  WV_CHECK(wv::cuda::requantize_host(acc.data(), bias.data(), mult.data(), shift.data(), C, P, -5, -128, 127, gpu.data()));
  wv::kernels::QuantEpilogue ep;
  ep.bias = bias.data();
  ep.multiplier = mult.data();
  ep.shift = shift.data();
  ep.out_zero = -5;
  for (int c = 0; c < C; ++c)
    for (int p = 0; p < P; ++p) {
      const size_t i = size_t(c) * P + size_t(p);
      WV_CHECK_EQ(int(gpu[i]), int(ep.apply(acc[i], c, 0)));
    }
}

// The whole engine on CUDA equals the CPU bit for bit, run after run, without heap allocation in run().
void test_engine_on_cuda_matches_cpu(const char* engine_file) {
  wv_engine* e = nullptr;
  WV_CHECK(wv_engine_load(fixture_path(engine_file).c_str(), &e) == WV_OK);
  int32_t gaps = 0;
  WV_CHECK(wv_engine_cuda_gap_count(e, &gaps) == WV_OK);
  if (gaps != 0) {
    std::printf("%s: %d ops without a CUDA kernel (wayvert inspect lists them)\n", engine_file, gaps);
    WV_CHECK_EQ(gaps, 0);
    wv_engine_release(e);
    return;
  }
  wv_session *cpu = nullptr, *gpu = nullptr;
  WV_CHECK(wv_session_create(e, &cpu) == WV_OK);
  wv_session_options o = cuda_options();
  if (wv_session_create_with_options(e, &o, &gpu) != WV_OK) {
    std::printf("%s: CUDA session failed: %s\n", engine_file, wv_last_error());
    WV_CHECK(false);
    wv_session_release(cpu);
    wv_engine_release(e);
    return;
  }
  for (unsigned seed = 1; seed <= 3; ++seed) {
    fill_inputs(cpu, e, seed);
    fill_inputs(gpu, e, seed);
    WV_CHECK(wv_session_run(cpu) == WV_OK);
    const long before = g_allocations.load();
    WV_CHECK(wv_session_run(gpu) == WV_OK);
    WV_CHECK_EQ(g_allocations.load() - before, 0L);
    WV_CHECK(outputs_of(cpu, e) == outputs_of(gpu, e));
  }
  // Two sessions on one engine in two threads at once (one stream each; weights shared).
  wv_session* gpu2 = nullptr;
  WV_CHECK(wv_session_create_with_options(e, &o, &gpu2) == WV_OK);
  fill_inputs(gpu, e, 11);
  fill_inputs(gpu2, e, 12);
  std::thread t1([&] { for (int k = 0; k < 20; ++k) WV_CHECK(wv_session_run(gpu) == WV_OK); });
  std::thread t2([&] { for (int k = 0; k < 20; ++k) WV_CHECK(wv_session_run(gpu2) == WV_OK); });
  t1.join();
  t2.join();
  fill_inputs(cpu, e, 11);
  WV_CHECK(wv_session_run(cpu) == WV_OK);
  WV_CHECK(outputs_of(cpu, e) == outputs_of(gpu, e));
  fill_inputs(cpu, e, 12);
  WV_CHECK(wv_session_run(cpu) == WV_OK);
  WV_CHECK(outputs_of(cpu, e) == outputs_of(gpu2, e));
  WV_CHECK(wv_session_reset(gpu) == WV_OK);
  WV_CHECK_EQ(int(wv_session_set_profiling(gpu, 1)), int(WV_ERR_UNSUPPORTED));
  wv_session_release(gpu2);
  wv_session_release(gpu);
  wv_session_release(cpu);
  wv_engine_release(e);
}

}  // namespace

int main() {
  const char* engines[] = {"conv_relu_linear.wvrt", "sample_convnet.wvrt", "vision_ops.wvrt"};
  for (const char* f : engines) test_coverage_answers_without_a_device(f);
  if (wv::cuda::device_count() == 0) {
    test_no_device_is_a_device_error("conv_relu_linear.wvrt");
    int code = wv_test_exit_code();
    if (code != 0) return code;
    std::printf("no CUDA device: the device half skipped\n");
    return 77;
  }
  test_requantize_kernel_matches_cpu();
  for (const char* f : engines) test_engine_on_cuda_matches_cpu(f);
  return wv_test_exit_code();
}
