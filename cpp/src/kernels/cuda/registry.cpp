// Maps op type names to CUDA kernels (compiled in CUDA builds only; no_cuda.cpp answers otherwise).
// Two lists, one per kernel family: kernel_list_gemm.inc (convolutions, linear, matmul) and kernel_list_other.inc.
// Each kernel file defines `wv::cuda::kernel_<op>` (a KernelEntry).
#include "kernels/cuda/op.hpp"

namespace wv::cuda {

#define WV_CUDA_KERNEL(op) extern const KernelEntry kernel_##op;
#include "kernels/cuda/kernel_list_gemm.inc"
#include "kernels/cuda/kernel_list_other.inc"
#undef WV_CUDA_KERNEL

const KernelEntry* find_kernel(std::string_view op) {
  static const KernelEntry* const table[] = {
#define WV_CUDA_KERNEL(op) &kernel_##op,
#include "kernels/cuda/kernel_list_gemm.inc"
#include "kernels/cuda/kernel_list_other.inc"
#undef WV_CUDA_KERNEL
      nullptr};
  for (const KernelEntry* k : table)
    if (k != nullptr && op == k->op) return k;
  return nullptr;
}

bool built() { return true; }

Status cpu_accepts(const OpView& op) {
  const ::wv::KernelEntry* cpu = ::wv::find_kernel(op.op().name);
  if (cpu == nullptr) return Status(Code::unsupported, "no kernel runs '" + op.op().name + "'");
  auto prepared = cpu->create(op);
  return prepared.ok() ? Status::Ok() : prepared.status();
}

int Op::add_blob(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  blobs_.emplace_back(p, p + bytes);
  return int(blobs_.size()) - 1;
}

}  // namespace wv::cuda
