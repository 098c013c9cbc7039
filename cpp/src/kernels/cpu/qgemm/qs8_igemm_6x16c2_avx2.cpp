// AVX2 micro-kernel over the s16_centered format: 6 rows x 16 channels, k in pairs. Per k pair each row's
// (a[k], a[k+1]) is broadcast as one 32-bit lane and vpmaddwd multiplies it with 16 channels' weight pairs:
// 16 exact int16 x int16 -> int32 products summed in pairs per instruction, 12 ymm accumulators.
// Exact for the full int8 weight range, so the calibration keeps 8-bit weights (the u8 x s8 vpmaddubsw path
// would saturate unless weights were 7-bit; see benches/NOTES.md). Compiled with -mavx2 for this file only.
#if defined(WV_HAVE_AVX2_KERNELS)

#if !defined(__AVX2__)
#error "qs8_igemm_6x16c2_avx2.cpp must be compiled with -mavx2"
#endif

#include <immintrin.h>
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 6, kNR = 16, kKR = 2;

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

inline __m256i broadcast_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + 8));
  __m256i acc[kMR][2];
  for (int m = 0; m < kMR; ++m) {
    acc[m][0] = b0;
    acc[m][1] = b1;
  }
  const int16_t* wp = reinterpret_cast<const int16_t*>(bias + kNR);
  for (size_t t = 0; t < ks; ++t) {
    const int16_t* x0 = static_cast<const int16_t*>(a[t * kMR + 0]);
    const int16_t* x1 = static_cast<const int16_t*>(a[t * kMR + 1]);
    const int16_t* x2 = static_cast<const int16_t*>(a[t * kMR + 2]);
    const int16_t* x3 = static_cast<const int16_t*>(a[t * kMR + 3]);
    const int16_t* x4 = static_cast<const int16_t*>(a[t * kMR + 4]);
    const int16_t* x5 = static_cast<const int16_t*>(a[t * kMR + 5]);
    for (size_t k = 0; k < kc; k += kKR) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16));
      wp += kNR * kKR;
      __m256i v = broadcast_pair(x0 + k);
      acc[0][0] = _mm256_add_epi32(acc[0][0], _mm256_madd_epi16(v, w0));
      acc[0][1] = _mm256_add_epi32(acc[0][1], _mm256_madd_epi16(v, w1));
      v = broadcast_pair(x1 + k);
      acc[1][0] = _mm256_add_epi32(acc[1][0], _mm256_madd_epi16(v, w0));
      acc[1][1] = _mm256_add_epi32(acc[1][1], _mm256_madd_epi16(v, w1));
      v = broadcast_pair(x2 + k);
      acc[2][0] = _mm256_add_epi32(acc[2][0], _mm256_madd_epi16(v, w0));
      acc[2][1] = _mm256_add_epi32(acc[2][1], _mm256_madd_epi16(v, w1));
      v = broadcast_pair(x3 + k);
      acc[3][0] = _mm256_add_epi32(acc[3][0], _mm256_madd_epi16(v, w0));
      acc[3][1] = _mm256_add_epi32(acc[3][1], _mm256_madd_epi16(v, w1));
      v = broadcast_pair(x4 + k);
      acc[4][0] = _mm256_add_epi32(acc[4][0], _mm256_madd_epi16(v, w0));
      acc[4][1] = _mm256_add_epi32(acc[4][1], _mm256_madd_epi16(v, w1));
      v = broadcast_pair(x5 + k);
      acc[5][0] = _mm256_add_epi32(acc[5][0], _mm256_madd_epi16(v, w0));
      acc[5][1] = _mm256_add_epi32(acc[5][1], _mm256_madd_epi16(v, w1));
    }
  }
  for (int m = 0; m < kMR; ++m) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + m * kNR), acc[m][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + m * kNR + 8), acc[m][1]);
  }
}

// One row: two accumulator pairs over alternating k pairs (exact int32, so the order of the sums is free).
void run_row(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  __m256i acc0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  __m256i acc1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + 8));
  __m256i acc2 = _mm256_setzero_si256(), acc3 = _mm256_setzero_si256();
  const int16_t* wp = reinterpret_cast<const int16_t*>(bias + kNR);
  constexpr size_t kStep = size_t(kNR) * kKR;
  for (size_t t = 0; t < ks; ++t) {
    const int16_t* x = static_cast<const int16_t*>(a[t]);
    size_t k = 0;
    for (; k + 2 * kKR <= kc; k += 2 * kKR, wp += 2 * kStep) {
      const __m256i v0 = broadcast_pair(x + k), v1 = broadcast_pair(x + k + 2);
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(v0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp))));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(v0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16))));
      acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(v1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + kStep))));
      acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(v1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + kStep + 16))));
    }
    for (; k < kc; k += kKR, wp += kStep) {
      const __m256i v = broadcast_pair(x + k);
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp))));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16))));
    }
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), _mm256_add_epi32(acc0, acc2));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 8), _mm256_add_epi32(acc1, acc3));
}

}  // namespace

extern const Ukernel qs8_igemm_6x16c2_avx2{"qs8_igemm_6x16c2_avx2", "avx2", AFormat::s16_centered, kMR, kNR, kKR,
                                           &supported, &run, &run_row};

}  // namespace wv::kernels::qgemm

#endif  // WV_HAVE_AVX2_KERNELS
