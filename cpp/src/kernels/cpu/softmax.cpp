// softmax over the last axis, float32: y = exp(x - max) / sum(exp(x - max)), sums in increasing index order.
#include <cmath>

#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class Softmax final : public PreparedOp {
 public:
  int64_t rows = 0, D = 0;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for_row_blocks(b.pool, rows, 5 * D, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + r * D;
        float* yr = y + r * D;
        float m = xr[0];
        for (int64_t i = 1; i < D; ++i) m = xr[i] > m ? xr[i] : m;
        float sum = 0.f;
        for (int64_t i = 0; i < D; ++i) {
          yr[i] = std::exp(xr[i] - m);
          sum += yr[i];
        }
        const float inv = 1.f / sum;
        for (int64_t i = 0; i < D; ++i) yr[i] *= inv;
      }
    });
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype != DType::f32 || y.dtype != DType::f32) return op.error("softmax runs in float32 (dequantize first)");
  if (!(x.shape == y.shape) || x.shape.rank < 1) return op.error("output must be shaped like the input " + x.shape.str());
  auto k = std::make_unique<Softmax>();
  k->D = x.shape[x.shape.rank - 1];
  k->rows = k->D ? x.shape.elements() / k->D : 0;
  k->set_work(5 * x.shape.elements());
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_softmax{"softmax", &create};

}  // namespace wv::kernels
