// quantize (float32 -> int8) and dequantize (int8 -> float32), per tensor, at the float/int8 boundaries.
//   quantize:   q = clamp(round_half_away(x / scale) + zero, -128, 127)   (division in float32)
//   dequantize: x = float32(q - zero) * scale
//   quantize of uint8 bytes: y = table[c][x], c the channel (axis 1) when the table holds 256 entries per channel
//   quantize of int8 (requantization): y = table[x + 128]
#include <cmath>

#include "kernels/cpu/int8_table.hpp"
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

// uint8 bytes (camera pixels) -> int8 through a table per channel: y = lut[c][x]. The table holds any per-channel
// affine map of the byte (the model's normalisation) already quantized at the output's parameters, so the
// conversion, the normalisation and the quantization are one exact lookup.
class BytesToInt8 final : public PreparedOp {
 public:
  int64_t outer = 1, channels = 1, inner = 1;  // [outer, channels, inner] view of x; channels = 1: one table
  const int8_t* lut = nullptr;
  void run(const OpBuffers& b) const override {
    const uint8_t* x = static_cast<const uint8_t*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        const int8_t* t = lut + c * 256;
        const int64_t base = (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) y[base + i] = t[x[base + i]];
      }
  }
};

// int8 -> int8 at other parameters (requantization): y = table[x + 128], the writer's table holding each code's
// value at the new scale and zero point; one lookup per element, exact, instead of a dequantize + quantize pair.
Result<std::unique_ptr<PreparedOp>> create_requantize(const OpView& op) {
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (y.dtype != DType::i8) return op.error("quantize of int8 must output int8, got " + y.describe());
  if (!(x.shape == y.shape)) return op.error("shape changes from " + x.shape.str() + " to " + y.shape.str());
  return make_int8_table(op, "quantize of int8");
}

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

Result<std::unique_ptr<PreparedOp>> create_bytes_to_int8(const OpView& op) {
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (y.dtype != DType::i8) return op.error("quantize of uint8 bytes must output int8, got " + y.describe());
  if (!(x.shape == y.shape)) return op.error("shape changes from " + x.shape.str() + " to " + y.shape.str());
  if (!op.has_input(1)) return op.error("quantize of uint8 bytes needs its table (input 1: int8 constant, 256 x channels)");
  const Value& l = op.in(1);
  auto k = std::make_unique<BytesToInt8>();
  const int64_t n = x.shape.elements();
  if (l.kind != format::kConstant || l.dtype != DType::i8)
    return op.error("table must be an int8 constant, got " + l.describe());
  if (l.shape.elements() == 256) {
    k->inner = n;
  } else if (x.shape.rank >= 2 && l.shape.elements() == 256 * x.shape[1]) {
    k->channels = x.shape[1];
    k->outer = x.shape[0];
    k->inner = x.shape[1] ? n / (x.shape[0] * x.shape[1]) : 0;
  } else {
    return op.error("table must hold 256 entries, or 256 per channel (axis 1 of " + x.shape.str() + "), got " + l.describe());
  }
  if (x.shape.rank >= 2 && x.shape[0] * x.shape[1] == 0) k->inner = 0;
  k->lut = static_cast<const int8_t*>(l.data);
  k->set_work(n);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

Result<std::unique_ptr<PreparedOp>> create_quantize(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 2, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype == DType::u8) return create_bytes_to_int8(op);
  if (x.dtype == DType::i8) return create_requantize(op);
  if (op.has_input(1)) return op.error("quantize of float32 takes no table");
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
