// add: elementwise a + b (same shapes; b may be a constant, which is how embedding add is expressed).
//   inputs: 0 a, 1 b, 2 LUT (int8 only, optional)
//   int8:   v = rescale(rescale(a - z_a, m_a, s_a) + rescale(b - z_b, m_b, s_b), 1, 8) + z_out, clamp, LUT
//           (with a LUT, z_out is the attribute lut_zero_point, the table's index zero point)
//   float:  y = activation(a + b)
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/requantize.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

class AddS8 final : public PreparedOp {
 public:
  int64_t n = 0;
  int32_t za = 0, zb = 0, ma = 0, sa = 0, mb = 0, sb = 0, zo = 0, lo = -128, hi = 127;
  const int8_t* lut = nullptr;
  void run(const OpBuffers& b) const override {
    const int8_t* a = static_cast<const int8_t*>(b.in[0]);
    const int8_t* c = static_cast<const int8_t*>(b.in[1]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = rescale(rescale(a[i] - za, ma, sa) + rescale(c[i] - zb, mb, sb), 1, 8) + zo;
      int32_t q = clamp_i32(v, lo, hi);
      y[i] = lut ? lut[q + 128] : int8_t(q);
    }
  }
};

class AddF32 final : public PreparedOp {
 public:
  int64_t n = 0;
  Activation act = Activation::none;
  void run(const OpBuffers& b) const override {
    const float* a = static_cast<const float*>(b.in[0]);
    const float* c = static_cast<const float*>(b.in[1]);
    float* y = static_cast<float*>(b.out[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = activate(act, a[i] + c[i]);
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 3, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"activation", "a_multiplier", "a_shift", "b_multiplier", "b_shift", "act_min", "act_max",
                                     "lut_zero_point"}));
  const Value& a = op.in(0);
  const Value& b = op.in(1);
  const Value& y = op.out(0);
  if (!(a.shape == b.shape) || !(a.shape == y.shape))
    return op.error("a, b and output must have one shape, got " + a.describe() + ", " + b.describe() + ", " + y.describe());
  if (a.dtype != b.dtype || a.dtype != y.dtype) return op.error("a, b and output must share a dtype");
  if (a.dtype == DType::i8) {
    auto k = std::make_unique<AddS8>();
    k->n = a.shape.elements();
    k->za = a.zero_point; k->zb = b.zero_point; k->zo = y.zero_point;
    const int64_t ma = op.attr_int("a_multiplier", -1), sa = op.attr_int("a_shift", -1),
                  mb = op.attr_int("b_multiplier", -1), sb = op.attr_int("b_shift", -1);
    if (ma < 0 || ma > INT32_MAX || mb < 0 || mb > INT32_MAX || sa < 0 || sa > 62 || sb < 0 || sb > 62)
      return op.error("int8 add needs a_/b_multiplier in 0..2^31-1 and a_/b_shift in 0..62");
    k->ma = int32_t(ma); k->sa = int32_t(sa); k->mb = int32_t(mb); k->sb = int32_t(sb);
    const int64_t lo = op.attr_int("act_min", -128), hi = op.attr_int("act_max", 127);
    if (lo < -128 || hi > 127 || lo > hi) return op.error("act_min/act_max must satisfy -128 <= act_min <= act_max <= 127");
    k->lo = int32_t(lo); k->hi = int32_t(hi);
    if (op.attr_int("activation", 0) != 0) return op.error("int8 add expresses activations with act_min/act_max or a LUT, not 'activation'");
    if (op.has_input(2)) {
      const Value& l = op.in(2);
      if (l.kind != format::kConstant || l.dtype != DType::i8 || l.shape.elements() != 256)
        return op.error("LUT must be an int8 constant of 256 elements, got " + l.describe());
      k->lut = static_cast<const int8_t*>(l.data);
      const int64_t lz = op.attr_int("lut_zero_point", y.zero_point);
      if (lz < -128 || lz > 127) return op.error("lut_zero_point must be in -128..127");
      k->zo = int32_t(lz);  // the sum indexes the table at the table's zero point
    }
    k->set_work(k->n);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (a.dtype == DType::f32) {
    if (op.has_input(2)) return op.error("float32 add takes no LUT");
    const int64_t act = op.attr_int("activation", 0);
    if (!activation_known(act)) return op.error("unknown activation code " + std::to_string(act));
    auto k = std::make_unique<AddF32>();
    k->n = a.shape.elements();
    k->act = static_cast<Activation>(act);
    k->set_work(k->n);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported dtype " + std::string(dtype_name(a.dtype)));
}

}  // namespace

extern const KernelEntry kernel_add{"add", &create};

}  // namespace wv::kernels
