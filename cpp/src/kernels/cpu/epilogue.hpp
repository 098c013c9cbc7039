// Creation-time checks for the fused epilogue inputs that conv2d and linear share:
//   slot 2 bias, 3 requant multiplier, 4 requant shift, 5 residual, 6 activation LUT (int8 only).
#pragma once
#include "core/status.hpp"
#include "kernels/cpu/activation.hpp"
#include "kernels/cpu/requantize.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {

inline constexpr int kSlotBias = 2, kSlotMultiplier = 3, kSlotShift = 4, kSlotResidual = 5, kSlotLut = 6;

// Validate the int8 epilogue inputs and attributes of `op` for `channels` output channels.
// Pointers to constants are filled in; `residual` is set when slot 5 is present (its data comes per run).
Status make_quant_epilogue(const OpView& op, int64_t channels, QuantEpilogue* out);

// Float epilogue: bias per channel, optional residual, activation.
struct FloatEpilogue {
  const float* bias = nullptr;
  bool residual = false;
  Activation activation = Activation::none;
};
Status make_float_epilogue(const OpView& op, int64_t channels, FloatEpilogue* out);

// The attribute keys both epilogues read.
#define WV_EPILOGUE_ATTRS \
  "activation", "act_min", "act_max", "residual_multiplier", "residual_shift", "lut_zero_point"

}  // namespace wv::kernels
