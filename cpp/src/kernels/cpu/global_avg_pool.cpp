// global_avg_pool: x [N, C, H, W] -> y [N, C] (or [N, C, 1, 1]).
//   float: mean in increasing pixel order.  int8: v = rescale(sum(x - z_x), multiplier, shift) + z_out, where
//   the writer folds 1/(H*W) and the scales into (multiplier, shift).
#include "kernels/cpu/requantize.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class PoolS8 final : public PreparedOp {
 public:
  int64_t planes = 0, hw = 0;
  int32_t zx = 0, zo = 0, m = 0, s = 0;
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for (int64_t p = 0; p < planes; ++p) {
      int64_t sum = 0;
      const int8_t* xp = x + p * hw;
      for (int64_t i = 0; i < hw; ++i) sum += xp[i] - zx;
      y[p] = int8_t(clamp_i32(rescale(sum, m, s) + zo, -128, 127));
    }
  }
};

class PoolF32 final : public PreparedOp {
 public:
  int64_t planes = 0, hw = 0;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    const float inv = 1.f / float(hw);
    for (int64_t p = 0; p < planes; ++p) {
      float sum = 0.f;
      const float* xp = x + p * hw;
      for (int64_t i = 0; i < hw; ++i) sum += xp[i];
      y[p] = sum * inv;
    }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"multiplier", "shift"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.shape.rank != 4) return op.error("expects x [N, C, H, W], got " + x.describe());
  const int64_t N = x.shape[0], C = x.shape[1], hw = x.shape[2] * x.shape[3];
  bool flat = y.shape.rank == 2 && y.shape[0] == N && y.shape[1] == C;
  bool keep = y.shape.rank == 4 && y.shape[0] == N && y.shape[1] == C && y.shape[2] == 1 && y.shape[3] == 1;
  if (!flat && !keep) return op.error("output must be [N, C] or [N, C, 1, 1], got " + y.describe());
  if (x.dtype != y.dtype) return op.error("input and output dtypes differ");
  if (x.dtype == DType::i8) {
    const int64_t m = op.attr_int("multiplier", -1), s = op.attr_int("shift", -1);
    if (m < 0 || m > INT32_MAX || s < 0 || s > 62) return op.error("int8 pool needs multiplier in 0..2^31-1 and shift in 0..62");
    if (hw > (int64_t(1) << 23)) return op.error("more than 2^23 pixels per plane");
    auto k = std::make_unique<PoolS8>();
    k->planes = N * C; k->hw = hw; k->zx = x.zero_point; k->zo = y.zero_point; k->m = int32_t(m); k->s = int32_t(s);
    k->set_work(N * C * hw);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::f32) {
    auto k = std::make_unique<PoolF32>();
    k->planes = N * C; k->hw = hw;
    k->set_work(N * C * hw);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_global_avg_pool{"global_avg_pool", &create};

}  // namespace wv::kernels
