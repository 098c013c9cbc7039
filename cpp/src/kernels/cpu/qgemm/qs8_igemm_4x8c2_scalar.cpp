// The reference micro-kernel: plain loops over the s16_centered format, 4 rows x 8 columns, pairs of k.
// Every SIMD micro-kernel is tested against the exact sum this computes (cpp/tests/test_qgemm.cpp).
#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 4, kNR = 8, kKR = 2;

bool always() { return true; }

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int16_t* wp = reinterpret_cast<const int16_t*>(bias + kNR);
  // Unsigned arithmetic: the true sum always fits int32 (ukernel.hpp), and wrap-around is defined here.
  uint32_t acc[kMR][kNR];
  for (int m = 0; m < kMR; ++m)
    for (int n = 0; n < kNR; ++n) acc[m][n] = uint32_t(bias[n]);
  for (size_t t = 0; t < ks; ++t) {
    for (size_t k = 0; k < kc; k += kKR) {
      for (int m = 0; m < kMR; ++m) {
        const int16_t* x = static_cast<const int16_t*>(a[t * kMR + size_t(m)]) + k;
        for (int n = 0; n < kNR; ++n)
          acc[m][n] += uint32_t(int32_t(x[0]) * wp[n * kKR] + int32_t(x[1]) * wp[n * kKR + 1]);
      }
      wp += kNR * kKR;
    }
  }
  for (int m = 0; m < kMR; ++m)
    for (int n = 0; n < kNR; ++n) c[m * kNR + n] = int32_t(acc[m][n]);
}

}  // namespace

extern const Ukernel qs8_igemm_4x8c2_scalar{"qs8_igemm_4x8c2_scalar", "scalar", AFormat::s16_centered, kMR, kNR, kKR,
                                            &always, &run};

}  // namespace wv::kernels::qgemm
