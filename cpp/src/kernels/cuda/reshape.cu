// reshape (also flatten) on the GPU: the same bytes under a new shape. Like the CPU's kernels/cpu/reshape.cpp it
// copies, so every value keeps its own arena slot: one device-to-device copy on the stream (a memcpy node in the
// captured graph), skipped when the executor placed input and output at one address.
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

class ReshapeOp final : public Op {
 public:
  using Op::set_work;
  size_t bytes = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    if (bytes == 0 || b.in[0] == b.out[0]) return;
    cudaMemcpyAsync(b.out[0], b.in[0], bytes, cudaMemcpyDeviceToDevice, as_stream(stream));
  }
};

Result<std::unique_ptr<Op>> create_reshape(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  if (op.in(0).layout != Layout::nchw || op.out(0).layout != Layout::nchw)
    return Status(Code::unsupported, "reshape of an NHWC value (its bytes are not in the NCHW order reshape assumes)");
  auto k = std::make_unique<ReshapeOp>();
  k->bytes = op.in(0).bytes;
  k->set_work(int64_t(k->bytes));
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_reshape = {"reshape", &create_reshape};

}  // namespace wv::cuda
