// NEON dot-product micro-kernel over the s8_raw format: 4 rows x 16 channels, k in groups of 4 (FEAT_DotProd,
// ARMv8.2-A and later: Cortex-A76/A78AE, Neoverse, Orin's A78AE). Per group of 4 the packed weights are four q
// registers (channels 0-3, 4-7, 8-11, 12-15, four k bytes each); sdot by element multiplies them with one row's 4
// activation bytes and adds each lane's four s8 x s8 products to that channel's int32 accumulator: 16 exact MACs
// per instruction (|x * w| <= 2^14, sdot never saturates). 16 k at a time each row's 16 bytes sit in one register
// and sdot picks its 4-byte lane; the rest of kc goes 4 at a time. The zero point is paid back by the packed bias
// (bias - z * sum(w)). Compiled with -march=armv8.2-a+dotprod for this file only; chosen where HWCAP_ASIMDDP is set.
#if defined(__aarch64__)

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qs8_igemm_4x16c4_neondot.cpp must be compiled with -march=armv8.2-a+dotprod"
#endif

#include <arm_neon.h>
#include <sys/auxv.h>
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 4, kNR = 16, kKR = 4;

bool supported() { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }

inline int8x16_t broadcast_quad(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

#define WV_SDOT_ROW(m, xv, lane)                             \
  acc[m][0] = vdotq_laneq_s32(acc[m][0], w0, xv, lane);      \
  acc[m][1] = vdotq_laneq_s32(acc[m][1], w1, xv, lane);      \
  acc[m][2] = vdotq_laneq_s32(acc[m][2], w2, xv, lane);      \
  acc[m][3] = vdotq_laneq_s32(acc[m][3], w3, xv, lane)

#define WV_SDOT_GROUP(lane)                                  \
  do {                                                       \
    const int8x16_t w0 = vld1q_s8(wp);                       \
    const int8x16_t w1 = vld1q_s8(wp + 16);                  \
    const int8x16_t w2 = vld1q_s8(wp + 32);                  \
    const int8x16_t w3 = vld1q_s8(wp + 48);                  \
    wp += kNR * kKR;                                         \
    WV_SDOT_ROW(0, v0, lane);                                \
    WV_SDOT_ROW(1, v1, lane);                                \
    WV_SDOT_ROW(2, v2, lane);                                \
    WV_SDOT_ROW(3, v3, lane);                                \
  } while (0)

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  int32x4_t acc[kMR][4];
  for (int j = 0; j < 4; ++j) {
    const int32x4_t b = vld1q_s32(bias + 4 * j);
    for (int m = 0; m < kMR; ++m) acc[m][j] = b;
  }
  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNR);
  for (size_t t = 0; t < ks; ++t) {
    const int8_t* x0 = static_cast<const int8_t*>(a[t * kMR + 0]);
    const int8_t* x1 = static_cast<const int8_t*>(a[t * kMR + 1]);
    const int8_t* x2 = static_cast<const int8_t*>(a[t * kMR + 2]);
    const int8_t* x3 = static_cast<const int8_t*>(a[t * kMR + 3]);
    size_t k = 0;
    for (; k + 16 <= kc; k += 16) {
      const int8x16_t v0 = vld1q_s8(x0 + k), v1 = vld1q_s8(x1 + k), v2 = vld1q_s8(x2 + k), v3 = vld1q_s8(x3 + k);
      WV_SDOT_GROUP(0);
      WV_SDOT_GROUP(1);
      WV_SDOT_GROUP(2);
      WV_SDOT_GROUP(3);
    }
    for (; k < kc; k += kKR) {
      const int8x16_t v0 = broadcast_quad(x0 + k), v1 = broadcast_quad(x1 + k), v2 = broadcast_quad(x2 + k),
                      v3 = broadcast_quad(x3 + k);
      WV_SDOT_GROUP(0);
    }
  }
  for (int m = 0; m < kMR; ++m)
    for (int j = 0; j < 4; ++j) vst1q_s32(c + m * kNR + 4 * j, acc[m][j]);
}

#undef WV_SDOT_GROUP
#undef WV_SDOT_ROW

}  // namespace

extern const Ukernel qs8_igemm_4x16c4_neondot{"qs8_igemm_4x16c4_neondot", "neondot", AFormat::s8_raw, kMR, kNR, kKR,
                                              &supported, &run};

}  // namespace wv::kernels::qgemm

#endif  // __aarch64__
