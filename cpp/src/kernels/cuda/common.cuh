// Device-side helpers every CUDA kernel shares: the int8 arithmetic of kernels/cpu/requantize.hpp (the same header,
// compiled for the device, so outputs are bit-identical), launch sizing and error-free stream handling.
// Included only from .cu files.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cpu/requantize.hpp"
#include "kernels/cuda/op.hpp"

namespace wv::cuda {

// The int8 arithmetic itself (rescale, clamp_i32, QuantEpilogue with device pointers) is kernels/cpu/requantize.hpp,
// compiled for the device too.
using kernels::clamp_i32;
using kernels::QuantEpilogue;
using kernels::rescale;

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
