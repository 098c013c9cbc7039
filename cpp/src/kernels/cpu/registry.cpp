// Maps op type names to kernels; the list itself is kernel_list.inc.
#include "plan/kernel.hpp"

namespace wv {
namespace kernels {
#define WV_KERNEL(op) extern const KernelEntry kernel_##op;
#include "kernels/cpu/kernel_list.inc"
#undef WV_KERNEL
}  // namespace kernels

const KernelEntry* find_kernel(std::string_view op) {
  static const KernelEntry* const table[] = {
#define WV_KERNEL(op) &kernels::kernel_##op,
#include "kernels/cpu/kernel_list.inc"
#undef WV_KERNEL
  };
  for (const KernelEntry* k : table)
    if (op == k->op) return k;
  return nullptr;
}

}  // namespace wv
