// softmax on the GPU over the last axis, float32, the CPU's kernels/cpu/softmax.cpp:
//   y = exp(x - max) / sum(exp(x - max)), as exp(x - max) * (1 / sum) like the CPU.
// One warp per row, lanes striding the row, warp-shuffle max and sum. expf is CUDA's full-precision one (<= 2 ulp,
// no fast math) and the sum's order differs from the CPU's sequential one: expect relative ~1e-6. Documented and
// tested bound: rtol 1e-5, atol 1e-6 (outputs lie in [0, 1]).
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

constexpr int kRowsPerBlock = 4;  // one warp each

__global__ void softmax_kernel(long long rows, int D, const float* x, float* y) {
  const int lane = threadIdx.x & 31;
  for (long long r = (long long)blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5); r < rows;
       r += (long long)gridDim.x * kRowsPerBlock) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    float m = xr[0];
    for (int i = lane; i < D; i += 32) m = xr[i] > m ? xr[i] : m;
    for (int o = 16; o > 0; o >>= 1) {
      const float other = __shfl_xor_sync(0xffffffffu, m, o);
      m = other > m ? other : m;
    }
    float sum = 0.f;
    for (int i = lane; i < D; i += 32) {
      const float e = expf(xr[i] - m);
      yr[i] = e;
      sum += e;
    }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = 1.f / sum;
    for (int i = lane; i < D; i += 32) yr[i] *= inv;  // each lane rereads what it wrote
  }
}

class SoftmaxOp final : public Op {
 public:
  using Op::set_work;
  long long rows = 0;
  int D = 0;
  void enqueue(const Buffers& b, void* stream) const override {
    if (rows == 0 || D == 0) return;
    softmax_kernel<<<blocks_for(rows, kRowsPerBlock), 32 * kRowsPerBlock, 0, as_stream(stream)>>>(
        rows, D, static_cast<const float*>(b.in[0]), static_cast<float*>(b.out[0]));
  }
};

Result<std::unique_ptr<Op>> create_softmax(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const long long D = x.shape[x.shape.rank - 1];
  if (D > 0x7fffffffLL) return Status(Code::unsupported, "softmax over rows longer than 2^31 - 1");
  auto k = std::make_unique<SoftmaxOp>();
  k->D = int(D);
  k->rows = D ? x.shape.elements() / D : 0;
  k->set_work(5 * x.shape.elements());
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_softmax = {"softmax", &create_softmax};

}  // namespace wv::cuda
