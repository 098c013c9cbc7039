// The int8 requantization epilogue as a CUDA kernel: the first piece of the CUDA executor, kept compiling
// on every machine with nvcc and checked against the CPU path wherever a GPU is present.
#include <cuda_runtime.h>

#include "kernels/cuda/device.hpp"

namespace wv::cuda {
namespace {

__device__ __forceinline__ long long rescale_dev(long long x, int m, int s) {
  long long p = x * (long long)m;
  if (s == 0) return p;
  return (p + (1LL << (s - 1)) - (p < 0 ? 1 : 0)) >> s;
}

__global__ void requantize_kernel(const int32_t* acc, const int32_t* bias, const int32_t* mult, const int32_t* shift,
                                  int channels, int pixels, int32_t zero, int32_t lo, int32_t hi, int8_t* y) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)channels * pixels) return;
  const int c = int(i / pixels);
  long long v = rescale_dev((long long)acc[i] + (bias ? bias[c] : 0), mult[c], shift[c]) + zero;
  y[i] = int8_t(v < lo ? lo : (v > hi ? hi : v));
}

struct DeviceBuffer {
  void* p = nullptr;
  ~DeviceBuffer() { if (p) cudaFree(p); }
  bool alloc(size_t n) { return cudaMalloc(&p, n) == cudaSuccess; }
};

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

bool requantize_host(const int32_t* acc, const int32_t* bias, const int32_t* multiplier, const int32_t* shift,
                     int channels, int pixels, int32_t zero, int32_t lo, int32_t hi, int8_t* y) {
  if (device_count() == 0) return false;
  const size_t n = size_t(channels) * size_t(pixels);
  DeviceBuffer d_acc, d_bias, d_m, d_s, d_y;
  if (!d_acc.alloc(n * 4) || !d_m.alloc(size_t(channels) * 4) || !d_s.alloc(size_t(channels) * 4) || !d_y.alloc(n))
    return false;
  if (bias && !d_bias.alloc(size_t(channels) * 4)) return false;
  bool ok = cudaMemcpy(d_acc.p, acc, n * 4, cudaMemcpyHostToDevice) == cudaSuccess &&
            cudaMemcpy(d_m.p, multiplier, size_t(channels) * 4, cudaMemcpyHostToDevice) == cudaSuccess &&
            cudaMemcpy(d_s.p, shift, size_t(channels) * 4, cudaMemcpyHostToDevice) == cudaSuccess &&
            (!bias || cudaMemcpy(d_bias.p, bias, size_t(channels) * 4, cudaMemcpyHostToDevice) == cudaSuccess);
  if (!ok) return false;
  const int threads = 256;
  const unsigned blocks = unsigned((n + threads - 1) / threads);
  requantize_kernel<<<blocks, threads>>>(static_cast<const int32_t*>(d_acc.p), static_cast<const int32_t*>(d_bias.p),
                                         static_cast<const int32_t*>(d_m.p), static_cast<const int32_t*>(d_s.p),
                                         channels, pixels, zero, lo, hi, static_cast<int8_t*>(d_y.p));
  if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) return false;
  return cudaMemcpy(y, d_y.p, n, cudaMemcpyDeviceToHost) == cudaSuccess;
}

}  // namespace wv::cuda
