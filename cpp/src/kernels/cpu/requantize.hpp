// The one int8 arithmetic of wayvert (docs/engine-format.md, "Quantized arithmetic"); wayvert/quant.py
// is its numpy twin and the two must stay bit-identical.
//
//   rescale(x, m, s) = round_half_away_from_zero(x * m / 2^s)      (int64 intermediate, 0 <= m < 2^31, 0 <= s <= 62)
//   conv/linear:  v = rescale(acc + bias, m[c], s[c]) + z_out
//   with residual r (scale s_r, zero z_r):
//                 v = rescale(rescale(acc + bias, m[c], s[c]) + rescale(r - z_r, m_r, s_r), 1, 8) + z_out
//                 (both multipliers then carry 8 extra fraction bits: M = real multiplier x 256)
//   then          v = clamp(v, act_min, act_max); if a LUT is given, v = lut[v + 128].
//   With a LUT, z_out above is the table's index zero point (attribute lut_zero_point), not the output's.
//   The CUDA kernels compile this same header for the device (kernels/cuda/common.cuh): one arithmetic, two targets.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define WV_HOST_DEVICE __host__ __device__
#else
#define WV_HOST_DEVICE
#endif

namespace wv::kernels {

WV_HOST_DEVICE inline int64_t rescale(int64_t x, int32_t m, int32_t s) {
  int64_t p = x * int64_t(m);
  if (s == 0) return p;
  return (p + (int64_t(1) << (s - 1)) - (p < 0 ? 1 : 0)) >> s;
}

WV_HOST_DEVICE inline int32_t clamp_i32(int64_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : int32_t(v));
}

// The int8 epilogue shared by conv2d, linear and add.
struct QuantEpilogue {
  const int32_t* bias = nullptr;        // per channel, may be null
  const int32_t* multiplier = nullptr;  // per channel
  const int32_t* shift = nullptr;       // per channel
  bool residual = false;
  int32_t residual_zero = 0, residual_multiplier = 0, residual_shift = 0;
  int32_t out_zero = 0, act_min = -128, act_max = 127;  // out_zero: the LUT's index zero point when lut is set
  const int8_t* lut = nullptr;  // 256 entries indexed by v + 128, may be null

  // Output value for accumulator `acc` of channel `c`; `r` is the residual's int8 value (ignored without one).
  WV_HOST_DEVICE int8_t apply(int32_t acc, int c, int8_t r) const {
    int64_t a = int64_t(acc) + (bias ? bias[c] : 0);
    int64_t v = rescale(a, multiplier[c], shift[c]);
    if (residual) v = rescale(v + rescale(int64_t(r) - residual_zero, residual_multiplier, residual_shift), 1, 8);
    int32_t q = clamp_i32(v + out_zero, act_min, act_max);
    return lut ? lut[q + 128] : int8_t(q);
  }
};

}  // namespace wv::kernels
