// NEON micro-kernel over the s16_centered format: 4 rows x 8 channels, k in pairs; any ARMv8-A (Advanced SIMD is
// mandatory on aarch64). Per k pair the packed weights are two q registers, (n,k)(n,k+1) for n = 0..3 and 4..7;
// each row's (x[k], x[k+1]) pair is broadcast as one 32-bit lane, and smlal/smlal2 multiply it with the weights,
// keeping even-k and odd-k products in adjacent int32 lanes (the vpmaddwd of the AVX2 kernel, unfolded). One
// pairwise add (addp) per 4 channels folds them at the end. 16 accumulators, all exact int32: |x - z| <= 255 and
// |w| <= 128 make each product < 2^15, and ukernel.hpp bounds the sum.
#if defined(__aarch64__)

#include <arm_neon.h>
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 4, kNR = 8, kKR = 2;

bool always() { return true; }

// (x[k], x[k+1]) repeated over 8 int16 lanes (ld1r of one 32-bit word; x need not be 4-byte aligned).
inline int16x8_t broadcast_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return vreinterpretq_s16_s32(vdupq_n_s32(v));
}

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int16_t* wp = reinterpret_cast<const int16_t*>(bias + kNR);
  // acc[m][j]: row m, channels 2j and 2j+1, lanes (n even k, n odd k, n+1 even k, n+1 odd k).
  int32x4_t acc[kMR][4];
  for (int m = 0; m < kMR; ++m)
    for (int j = 0; j < 4; ++j) acc[m][j] = vdupq_n_s32(0);
  for (size_t t = 0; t < ks; ++t) {
    const int16_t* x0 = static_cast<const int16_t*>(a[t * kMR + 0]);
    const int16_t* x1 = static_cast<const int16_t*>(a[t * kMR + 1]);
    const int16_t* x2 = static_cast<const int16_t*>(a[t * kMR + 2]);
    const int16_t* x3 = static_cast<const int16_t*>(a[t * kMR + 3]);
    for (size_t k = 0; k < kc; k += kKR) {
      const int16x8_t w0 = vld1q_s16(wp);      // channels 0..3
      const int16x8_t w1 = vld1q_s16(wp + 8);  // channels 4..7
      wp += kNR * kKR;
      const int16x4_t w0l = vget_low_s16(w0), w1l = vget_low_s16(w1);
      int16x8_t v = broadcast_pair(x0 + k);
      acc[0][0] = vmlal_s16(acc[0][0], w0l, vget_low_s16(v));
      acc[0][1] = vmlal_high_s16(acc[0][1], w0, v);
      acc[0][2] = vmlal_s16(acc[0][2], w1l, vget_low_s16(v));
      acc[0][3] = vmlal_high_s16(acc[0][3], w1, v);
      v = broadcast_pair(x1 + k);
      acc[1][0] = vmlal_s16(acc[1][0], w0l, vget_low_s16(v));
      acc[1][1] = vmlal_high_s16(acc[1][1], w0, v);
      acc[1][2] = vmlal_s16(acc[1][2], w1l, vget_low_s16(v));
      acc[1][3] = vmlal_high_s16(acc[1][3], w1, v);
      v = broadcast_pair(x2 + k);
      acc[2][0] = vmlal_s16(acc[2][0], w0l, vget_low_s16(v));
      acc[2][1] = vmlal_high_s16(acc[2][1], w0, v);
      acc[2][2] = vmlal_s16(acc[2][2], w1l, vget_low_s16(v));
      acc[2][3] = vmlal_high_s16(acc[2][3], w1, v);
      v = broadcast_pair(x3 + k);
      acc[3][0] = vmlal_s16(acc[3][0], w0l, vget_low_s16(v));
      acc[3][1] = vmlal_high_s16(acc[3][1], w0, v);
      acc[3][2] = vmlal_s16(acc[3][2], w1l, vget_low_s16(v));
      acc[3][3] = vmlal_high_s16(acc[3][3], w1, v);
    }
  }
  const int32x4_t b0 = vld1q_s32(bias), b1 = vld1q_s32(bias + 4);
  for (int m = 0; m < kMR; ++m) {
    vst1q_s32(c + m * kNR, vaddq_s32(b0, vpaddq_s32(acc[m][0], acc[m][1])));
    vst1q_s32(c + m * kNR + 4, vaddq_s32(b1, vpaddq_s32(acc[m][2], acc[m][3])));
  }
}

}  // namespace

extern const Ukernel qs8_igemm_4x8c2_neon{"qs8_igemm_4x8c2_neon", "neon", AFormat::s16_centered, kMR, kNR, kKR,
                                          &always, &run};

}  // namespace wv::kernels::qgemm

#endif  // __aarch64__
