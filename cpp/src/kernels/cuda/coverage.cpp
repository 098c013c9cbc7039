// Which ops of an engine the CUDA executor can run: each op's CUDA kernel is created on the host (validation and
// packing only), so the answer needs no device.
#include "kernels/cuda/executor.hpp"
#include "kernels/cuda/op.hpp"
#include "runtime/engine.hpp"

namespace wv::cuda {

std::vector<Gap> coverage_gaps(const Engine& engine) {
  const Graph& g = engine.graph();
  std::vector<Gap> gaps;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const std::string& name = g.ops[i].name;
    if (!built()) {
      gaps.push_back({int(i), name, "this build of wayvert has no CUDA executor (built without nvcc)"});
      continue;
    }
    const KernelEntry* k = find_kernel(name);
    if (k == nullptr) {
      gaps.push_back({int(i), name, "no CUDA kernel for '" + name + "'"});
      continue;
    }
    auto op = k->create(OpView(g, int(i)));
    if (!op.ok()) gaps.push_back({int(i), name, op.status().message()});
  }
  return gaps;
}

}  // namespace wv::cuda
