// Stand-in for builds without CUDA: no devices, every CUDA path declines.
#include "kernels/cuda/device.hpp"

namespace wv::cuda {
int device_count() { return 0; }
bool requantize_host(const int32_t*, const int32_t*, const int32_t*, const int32_t*, int, int, int32_t, int32_t,
                     int32_t, int8_t*) {
  return false;
}
}  // namespace wv::cuda
