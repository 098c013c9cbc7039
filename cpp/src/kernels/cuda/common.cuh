// Device-side helpers every CUDA kernel shares: the int8 arithmetic of kernels/cpu/requantize.hpp (same rounding,
// same int64 intermediates, so outputs are bit-identical), launch sizing and error-free stream handling.
// Included only from .cu files.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/op.hpp"

namespace wv::cuda {

// rescale(x, m, s) = round_half_away_from_zero(x * m / 2^s), exactly as kernels::rescale on the CPU.
__host__ __device__ __forceinline__ long long rescale(long long x, int m, int s) {
  const long long p = x * (long long)m;
  if (s == 0) return p;
  return (p + (1LL << (s - 1)) - (p < 0 ? 1 : 0)) >> s;
}

__host__ __device__ __forceinline__ int clamp_i32(long long v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : int(v));
}

// The int8 epilogue of conv2d, linear and add (kernels::QuantEpilogue), with device pointers.
struct QuantEpilogue {
  const int32_t* bias = nullptr;        // per channel, may be null
  const int32_t* multiplier = nullptr;  // per channel
  const int32_t* shift = nullptr;       // per channel
  bool residual = false;
  int32_t residual_zero = 0, residual_multiplier = 0, residual_shift = 0;
  int32_t out_zero = 0, act_min = -128, act_max = 127;
  const int8_t* lut = nullptr;  // 256 entries indexed by v + 128, may be null

  __device__ __forceinline__ int8_t apply(int32_t acc, int c, int8_t r) const {
    const long long a = (long long)acc + (bias ? bias[c] : 0);
    long long v = rescale(a, multiplier[c], shift[c]);
    if (residual) v = rescale(v + rescale((long long)r - residual_zero, residual_multiplier, residual_shift), 1, 8);
    const int q = clamp_i32(v + out_zero, act_min, act_max);
    return lut ? lut[q + 128] : int8_t(q);
  }
};

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// Blocks of `threads` covering n elements, capped so a grid-stride loop does the rest.
inline unsigned blocks_for(long long n, int threads = 256) {
  long long b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;
  return unsigned(b);
}

#define WV_GRID_STRIDE(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); i += (long long)gridDim.x * blockDim.x)

}  // namespace wv::cuda
