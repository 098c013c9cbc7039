// matmul, float32: a [..., M, K] @ b [..., K, N] -> y [..., M, N]; equal leading (batch) dims, no broadcasting;
// either operand may be a constant. Each output element sums over k in increasing order.
#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class MatMul final : public PreparedOp {
 public:
  int64_t batch = 1, M = 0, K = 0, N = 0;
  void run(const OpBuffers& b) const override {
    const float* a = static_cast<const float*>(b.in[0]);
    const float* c = static_cast<const float*>(b.in[1]);
    float* y = static_cast<float*>(b.out[0]);
    for_row_blocks(b.pool, batch * M, K * N, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = r / M, i = r % M;
        const float* at = a + t * M * K;
        const float* ct = c + t * K * N;
        float* yt = y + t * M * N;
        float* yr = yt + i * N;
        for (int64_t j = 0; j < N; ++j) yr[j] = 0.f;
        for (int64_t k = 0; k < K; ++k) {
          const float v = at[i * K + k];
          const float* cr = ct + k * N;
          for (int64_t j = 0; j < N; ++j) yr[j] += v * cr[j];
        }
      }
    });
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 2, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& a = op.in(0);
  const Value& b = op.in(1);
  const Value& y = op.out(0);
  if (a.dtype != DType::f32 || b.dtype != DType::f32 || y.dtype != DType::f32)
    return op.error("matmul runs in float32 (dequantize first)");
  const int r = a.shape.rank;
  if (r < 2 || b.shape.rank != r || y.shape.rank != r)
    return op.error("a, b and y must have one rank >= 2, got " + a.describe() + ", " + b.describe() + ", " + y.describe());
  int64_t batch = 1;
  for (int d = 0; d < r - 2; ++d) {
    if (a.shape[d] != b.shape[d] || a.shape[d] != y.shape[d])
      return op.error("batch dims must be equal (no broadcasting): " + a.shape.str() + " @ " + b.shape.str());
    batch *= a.shape[d];
  }
  const int64_t M = a.shape[r - 2], K = a.shape[r - 1], N = b.shape[r - 1];
  if (b.shape[r - 2] != K) return op.error("inner dims differ: " + a.shape.str() + " @ " + b.shape.str());
  if (y.shape[r - 2] != M || y.shape[r - 1] != N) return op.error("output must be [..., M, N], got " + y.describe());
  auto k = std::make_unique<MatMul>();
  k->batch = batch; k->M = M; k->K = K; k->N = N;
  k->set_work(batch * M * K * N);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_matmul{"matmul", &create};

}  // namespace wv::kernels
