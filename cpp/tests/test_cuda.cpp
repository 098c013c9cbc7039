// The CUDA requantize kernel against the CPU epilogue, bit for bit. Skipped (exit 77) without a GPU.
#include <cstdio>
#include <random>
#include <vector>

#include "check.hpp"
#include "kernels/cpu/requantize.hpp"
#include "kernels/cuda/device.hpp"

int main() {
  if (wv::cuda::device_count() == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
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
  return wv_test_exit_code();
}
