// Stand-in for builds without CUDA: no devices, no CUDA kernels, every CUDA path declines.
#include "kernels/cuda/device.hpp"
#include "kernels/cuda/op.hpp"

namespace wv::cuda {
int device_count() { return 0; }
bool requantize_host(const int32_t*, const int32_t*, const int32_t*, const int32_t*, int, int, int32_t, int32_t,
                     int32_t, int8_t*) {
  return false;
}
const KernelEntry* find_kernel(std::string_view) { return nullptr; }
bool built() { return false; }
int Op::add_blob(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  blobs_.emplace_back(p, p + bytes);
  return int(blobs_.size()) - 1;
}
}  // namespace wv::cuda

#include "kernels/cuda/executor.hpp"

namespace wv::cuda {
Result<std::unique_ptr<DeviceSession>> create_device_session(std::shared_ptr<const Engine>, int) {
  return Status(Code::device, "CUDA: this build of wayvert has no CUDA executor (it was built without nvcc); use the CPU");
}
}  // namespace wv::cuda
