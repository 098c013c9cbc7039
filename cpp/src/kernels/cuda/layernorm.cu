// layernorm on the GPU over the last dimension, float32, the CPU's kernels/cpu/layernorm.cpp:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta, two passes (mean, then the centred variance) like the CPU.
// One warp per row, lanes striding the row, warp-shuffle sums; gamma and beta are the constants on the device.
// The sums' order differs from the CPU's sequential one (expect ~sqrt(D) ulp on mean and variance); the division,
// square root and the final affine are IEEE and uncontracted. Documented and tested bound, for rows whose |mean| is
// at most a few standard deviations and D <= 4096: rtol 1e-5, atol 1e-5 x max(1, max |y|).
#include <memory>

#include "kernels/cuda/common.cuh"

namespace wv::cuda {
namespace {

constexpr int kRowsPerBlock = 4;  // one warp each

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void layernorm_kernel(long long rows, int D, float eps, const float* x, const float* gamma, const float* beta,
                                 float* y) {
  const int lane = threadIdx.x & 31;
  for (long long r = (long long)blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5); r < rows;
       r += (long long)gridDim.x * kRowsPerBlock) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    float mean = 0.f;
    for (int i = lane; i < D; i += 32) mean += xr[i];
    mean = warp_sum(mean) / float(D);
    float var = 0.f;
    for (int i = lane; i < D; i += 32) {
      const float d = xr[i] - mean;
      var = __fadd_rn(var, __fmul_rn(d, d));
    }
    var = warp_sum(var) / float(D);
    const float inv = 1.f / sqrtf(var + eps);
    for (int i = lane; i < D; i += 32) yr[i] = __fadd_rn(__fmul_rn(__fmul_rn(xr[i] - mean, inv), gamma[i]), beta[i]);
  }
}

class LayerNormOp final : public Op {
 public:
  using Op::set_work;
  long long rows = 0;
  int D = 0;
  float eps = 1e-5f;
  void enqueue(const Buffers& b, void* stream) const override {
    if (rows == 0 || D == 0) return;
    layernorm_kernel<<<blocks_for(rows, kRowsPerBlock), 32 * kRowsPerBlock, 0, as_stream(stream)>>>(
        rows, D, eps, static_cast<const float*>(b.in[0]), static_cast<const float*>(b.in[1]),
        static_cast<const float*>(b.in[2]), static_cast<float*>(b.out[0]));
  }
};

Result<std::unique_ptr<Op>> create_layernorm(const OpView& op) {
  // The CPU kernel's checks are the engine format's rules; what it accepts, this kernel runs.
  WV_RETURN_IF_ERROR(cpu_accepts(op));
  const Value& x = op.in(0);
  const long long D = x.shape[x.shape.rank - 1];
  if (D > 0x7fffffffLL) return Status(Code::unsupported, "layernorm over rows longer than 2^31 - 1");
  auto k = std::make_unique<LayerNormOp>();
  k->D = int(D);
  k->rows = D ? x.shape.elements() / D : 0;
  k->eps = float(op.attr_float("eps", 1e-5));
  k->set_work(x.shape.elements());
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_layernorm = {"layernorm", &create_layernorm};

}  // namespace wv::cuda
