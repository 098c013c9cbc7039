// unary: y = f(x), elementwise, same shape.
//   attribute function: 1 sigmoid, 2 tanh, 3 silu (x sigmoid(x)), 4 gelu (erf form), 5 hardswish
//   (x relu6(x + 3) / 6), 6 hardsigmoid (relu6(x + 3) / 6).
//   float32: f computed in float32.  int8: input 1 (required) is a 256-entry int8 table, y = table[x + 128]: the
//   writer evaluates f between the input's and the output's quantization (any function; the code names it).
#include <cmath>

#include "kernels/cpu/int8_table.hpp"
#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

inline float unary_f32(int64_t f, float x) {
  switch (f) {
    case 1: return 1.f / (1.f + std::exp(-x));
    case 2: return std::tanh(x);
    case 3: return x / (1.f + std::exp(-x));
    case 4: return 0.5f * x * std::erfc(-x * 0.70710678118654752f);  // = 1 + erf(x/√2), exact for x << 0
    case 5: return x * std::fmin(std::fmax(x + 3.f, 0.f), 6.f) / 6.f;
    case 6: return std::fmin(std::fmax(x + 3.f, 0.f), 6.f) / 6.f;
  }
  return x;
}

class UnaryF32 final : public PreparedOp {
 public:
  int64_t n = 0, function = 0;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for_row_blocks(b.pool, n, 16, [&](int64_t i0, int64_t i1) {  // ~16 flops per exp/erf
      for (int64_t i = i0; i < i1; ++i) y[i] = unary_f32(function, x[i]);
    });
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 2, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"function"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (!(x.shape == y.shape)) return op.error("output must be shaped like the input " + x.shape.str() + ", got " + y.describe());
  if (x.dtype != y.dtype) return op.error("input and output dtypes differ");
  const int64_t f = op.attr_int("function", 0);
  if (f < 1 || f > 6) return op.error("unknown function code " + std::to_string(f) + " (1 sigmoid .. 6 hardsigmoid)");
  if (x.dtype == DType::f32) {
    if (op.has_input(1)) return op.error("float32 unary takes no table");
    auto k = std::make_unique<UnaryF32>();
    k->n = x.shape.elements(); k->function = f;
    k->set_work(k->n);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::i8) return make_int8_table(op, "int8 unary");
  return op.error("unsupported dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_unary{"unary", &create};

}  // namespace wv::kernels
