// quantize (float32 -> int8) and dequantize (int8 -> float32), per tensor, at the float/int8 boundaries.
//   quantize:   q = clamp(round_half_away(x / scale) + zero, -128, 127)   (division in float32)
//   dequantize: x = float32(q - zero) * scale
#include <cmath>

#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class Quantize final : public PreparedOp {
 public:
  int64_t n = 0;
  float scale = 1.f;
  int32_t zero = 0;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for (int64_t i = 0; i < n; ++i) {
      // Clamp first (anything past +-1024 saturates anyway), then round half away from zero with integer
      // ops: exact for |r| <= 1024 and free of libm calls. NaN fails both comparisons and maps to the zero point.
      float r = x[i] / scale;
      const bool nan = !(r == r);
      r = r < -1024.f ? -1024.f : (r > 1024.f ? 1024.f : r);
      int32_t q = int32_t(nan ? 0.f : r);  // truncates toward zero
      const float frac = r - float(q);
      q += int32_t(frac >= 0.5f) - int32_t(frac <= -0.5f);
      q += zero;
      y[i] = int8_t(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
  }
};

class Dequantize final : public PreparedOp {
 public:
  int64_t n = 0;
  float scale = 1.f;
  int32_t zero = 0;
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = float(x[i] - zero) * scale;
  }
};

Result<std::unique_ptr<PreparedOp>> create_quantize(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype != DType::f32 || y.dtype != DType::i8) return op.error("quantize maps float32 to int8, got " + x.describe() + " -> " + y.describe());
  if (!(x.shape == y.shape)) return op.error("shape changes from " + x.shape.str() + " to " + y.shape.str());
  auto k = std::make_unique<Quantize>();
  k->n = x.shape.elements(); k->scale = y.scale; k->zero = y.zero_point;
  k->set_work(k->n);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

Result<std::unique_ptr<PreparedOp>> create_dequantize(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype != DType::i8 || y.dtype != DType::f32) return op.error("dequantize maps int8 to float32, got " + x.describe() + " -> " + y.describe());
  if (!(x.shape == y.shape)) return op.error("shape changes from " + x.shape.str() + " to " + y.shape.str());
  auto k = std::make_unique<Dequantize>();
  k->n = x.shape.elements(); k->scale = x.scale; k->zero = x.zero_point;
  k->set_work(k->n);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace

extern const KernelEntry kernel_quantize{"quantize", &create_quantize};
extern const KernelEntry kernel_dequantize{"dequantize", &create_dequantize};

}  // namespace wv::kernels
