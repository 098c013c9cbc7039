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
      double v = double(std::round(x[i] / scale)) + zero;  // NaN fails both tests below and lands on 0 + zero
      v = v < -128.0 ? -128.0 : (v > 127.0 ? 127.0 : v);
      y[i] = std::isnan(v) ? int8_t(zero) : int8_t(v);
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
