// NEON int8 matrix-multiply micro-kernel over the s8_raw format: 4 rows x 8 channels, k in groups of 8
// (FEAT_I8MM, ARMv8.6-A: Cortex-A710/X2, Neoverse V1/N2 and later). smmla multiplies a 2x8 s8 operand by the
// transpose of another 2x8 one and adds the 2x2 int32 result: 32 exact MACs per instruction (|x * w| <= 2^14,
// never saturating). The packed weights W[t][k/8][n][8] are already that right-hand operand, two channels per q
// register (n, n+1); the left one is two rows' 8 activation bytes side by side (m, m+1). So 2 row pairs x 4
// channel pairs = 8 accumulators, each holding (m,n) (m,n+1) (m+1,n) (m+1,n+1); a zip of 64-bit halves at the
// end gives c[m][n] row-major. The bias (bias - z * sum(w)) is loaded into the accumulators in that interleaved
// order. Compiled with -march=armv8.6-a+i8mm for this file only; chosen where HWCAP2_I8MM is set.
#if defined(__aarch64__)

#if !defined(__ARM_FEATURE_MATMUL_INT8)
#error "qs8_igemm_4x8c8_i8mm.cpp must be compiled with -march=armv8.6-a+i8mm"
#endif

#include <arm_neon.h>
#include <sys/auxv.h>

#include "kernels/cpu/qgemm/ukernel.hpp"

#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 4, kNR = 8, kKR = 8;

bool supported() { return (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0; }

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  // acc[p][q]: rows 2p, 2p+1 x channels 2q, 2q+1; lanes (2p,2q) (2p,2q+1) (2p+1,2q) (2p+1,2q+1).
  int32x4_t acc[2][4];
  for (int q = 0; q < 4; ++q) {
    const int32x2_t b = vld1_s32(bias + 2 * q);
    acc[0][q] = acc[1][q] = vcombine_s32(b, b);
  }
  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNR);
  for (size_t t = 0; t < ks; ++t) {
    const int8_t* x0 = static_cast<const int8_t*>(a[t * kMR + 0]);
    const int8_t* x1 = static_cast<const int8_t*>(a[t * kMR + 1]);
    const int8_t* x2 = static_cast<const int8_t*>(a[t * kMR + 2]);
    const int8_t* x3 = static_cast<const int8_t*>(a[t * kMR + 3]);
    for (size_t k = 0; k < kc; k += kKR) {
      const int8x16_t a01 = vcombine_s8(vld1_s8(x0 + k), vld1_s8(x1 + k));
      const int8x16_t a23 = vcombine_s8(vld1_s8(x2 + k), vld1_s8(x3 + k));
      const int8x16_t w01 = vld1q_s8(wp), w23 = vld1q_s8(wp + 16), w45 = vld1q_s8(wp + 32),
                      w67 = vld1q_s8(wp + 48);
      wp += kNR * kKR;
      acc[0][0] = vmmlaq_s32(acc[0][0], a01, w01);
      acc[0][1] = vmmlaq_s32(acc[0][1], a01, w23);
      acc[0][2] = vmmlaq_s32(acc[0][2], a01, w45);
      acc[0][3] = vmmlaq_s32(acc[0][3], a01, w67);
      acc[1][0] = vmmlaq_s32(acc[1][0], a23, w01);
      acc[1][1] = vmmlaq_s32(acc[1][1], a23, w23);
      acc[1][2] = vmmlaq_s32(acc[1][2], a23, w45);
      acc[1][3] = vmmlaq_s32(acc[1][3], a23, w67);
    }
  }
  for (int p = 0; p < 2; ++p) {
    int32_t* even = c + (2 * p) * kNR;
    int32_t* odd = c + (2 * p + 1) * kNR;
    for (int h = 0; h < 2; ++h) {  // channels 4h .. 4h+3 from channel pairs 2h and 2h+1
      const int64x2_t lo = vreinterpretq_s64_s32(acc[p][2 * h]);
      const int64x2_t hi = vreinterpretq_s64_s32(acc[p][2 * h + 1]);
      vst1q_s32(even + 4 * h, vreinterpretq_s32_s64(vzip1q_s64(lo, hi)));
      vst1q_s32(odd + 4 * h, vreinterpretq_s32_s64(vzip2q_s64(lo, hi)));
    }
  }
}

}  // namespace

extern const Ukernel qs8_igemm_4x8c8_i8mm{"qs8_igemm_4x8c8_i8mm", "i8mm", AFormat::s8_raw, kMR, kNR, kKR, &supported,
                                          &run};

}  // namespace wv::kernels::qgemm

#endif  // __aarch64__
