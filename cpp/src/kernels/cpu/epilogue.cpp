#include "kernels/cpu/epilogue.hpp"

#include <climits>
#include <string>

namespace wv::kernels {
namespace {

Status check_vector(const OpView& op, int slot, DType dtype, int64_t n, const char* what) {
  const Value& v = op.in(slot);
  if (v.kind != format::kConstant) return op.error(std::string(what) + " must be a constant");
  if (v.dtype != dtype || v.shape.elements() != n)
    return op.error(std::string(what) + " must be " + dtype_name(dtype) + " with " + std::to_string(n) + " elements, got " + v.describe());
  return Status::Ok();
}

}  // namespace

Status make_quant_epilogue(const OpView& op, int64_t channels, QuantEpilogue* e) {
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (y.dtype != DType::i8) return op.error("int8 input needs an int8 output, got " + y.describe());
  if (op.has_input(kSlotBias)) {
    WV_RETURN_IF_ERROR(check_vector(op, kSlotBias, DType::i32, channels, "bias"));
    e->bias = static_cast<const int32_t*>(op.in(kSlotBias).data);
    for (int64_t c = 0; c < channels; ++c)  // keeps acc + bias inside int32 (|acc| < 2^29 for K <= 16384)
      if (e->bias[c] >= (1 << 30) || e->bias[c] <= -(1 << 30))
        return op.error("bias of channel " + std::to_string(c) + " exceeds the int8 path's limit of +-2^30");
  }
  if (!op.has_input(kSlotMultiplier) || !op.has_input(kSlotShift))
    return op.error("int8 op needs requantization multiplier and shift inputs (slots 3 and 4)");
  WV_RETURN_IF_ERROR(check_vector(op, kSlotMultiplier, DType::i32, channels, "multiplier"));
  WV_RETURN_IF_ERROR(check_vector(op, kSlotShift, DType::i32, channels, "shift"));
  e->multiplier = static_cast<const int32_t*>(op.in(kSlotMultiplier).data);
  e->shift = static_cast<const int32_t*>(op.in(kSlotShift).data);
  for (int64_t c = 0; c < channels; ++c) {
    if (e->multiplier[c] < 0) return op.error("multiplier of channel " + std::to_string(c) + " is negative");
    if (e->shift[c] < 0 || e->shift[c] > 62) return op.error("shift of channel " + std::to_string(c) + " outside 0..62");
  }
  if (op.has_input(kSlotResidual)) {
    const Value& r = op.in(kSlotResidual);
    if (r.dtype != DType::i8 || !(r.shape == y.shape))
      return op.error("residual must be int8 shaped like the output " + y.shape.str() + ", got " + r.describe());
    e->residual = true;
    e->residual_zero = r.zero_point;
    int64_t m = op.attr_int("residual_multiplier", -1), s = op.attr_int("residual_shift", -1);
    if (m < 0 || m > INT32_MAX || s < 0 || s > 62)
      return op.error("residual needs residual_multiplier in 0..2^31-1 and residual_shift in 0..62");
    e->residual_multiplier = int32_t(m);
    e->residual_shift = int32_t(s);
  }
  if (op.has_input(kSlotLut)) {
    WV_RETURN_IF_ERROR(check_vector(op, kSlotLut, DType::i8, 256, "activation LUT"));
    e->lut = static_cast<const int8_t*>(op.in(kSlotLut).data);
  }
  int64_t lo = op.attr_int("act_min", -128), hi = op.attr_int("act_max", 127);
  if (lo < -128 || hi > 127 || lo > hi) return op.error("act_min/act_max must satisfy -128 <= act_min <= act_max <= 127");
  e->act_min = int32_t(lo);
  e->act_max = int32_t(hi);
  // With a LUT the rescaled value indexes the table, so it lands on the table's own zero point.
  e->out_zero = e->lut ? int32_t(op.attr_int("lut_zero_point", y.zero_point)) : y.zero_point;
  if (e->out_zero < -128 || e->out_zero > 127) return op.error("lut_zero_point must be in -128..127");
  if (op.attr_int("activation", 0) != 0) return op.error("int8 ops express activations with act_min/act_max or a LUT, not 'activation'");
  (void)x;
  return Status::Ok();
}

Status make_float_epilogue(const OpView& op, int64_t channels, FloatEpilogue* e) {
  const Value& y = op.out(0);
  if (y.dtype != DType::f32) return op.error("float32 input needs a float32 output, got " + y.describe());
  if (op.has_input(kSlotBias)) {
    WV_RETURN_IF_ERROR(check_vector(op, kSlotBias, DType::f32, channels, "bias"));
    e->bias = static_cast<const float*>(op.in(kSlotBias).data);
  }
  if (op.has_input(kSlotMultiplier) || op.has_input(kSlotShift) || op.has_input(kSlotLut))
    return op.error("float32 op takes no multiplier, shift or LUT inputs");
  if (op.has_input(kSlotResidual)) {
    const Value& r = op.in(kSlotResidual);
    if (r.dtype != DType::f32 || !(r.shape == y.shape))
      return op.error("residual must be float32 shaped like the output " + y.shape.str() + ", got " + r.describe());
    e->residual = true;
  }
  int64_t a = op.attr_int("activation", 0);
  if (!activation_known(a)) return op.error("unknown activation code " + std::to_string(a));
  e->activation = static_cast<Activation>(a);
  return Status::Ok();
}

}  // namespace wv::kernels
