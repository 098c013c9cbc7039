// AVX2 / FMA GEMM kernels. Built with -mavx2 -mfma for this file only; reached through select_*.
// Only <immintrin.h> and C headers are used here: any inline/template function from a shared header
// would be compiled with AVX2 here and could be picked by the linker for non-AVX2 callers.
#if defined(WV_HAVE_AVX2_KERNELS)

#if !defined(__AVX2__) || !defined(__FMA__)
#error "gemm_avx2.cpp must be compiled with -mavx2 -mfma"
#endif

#include <immintrin.h>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {
namespace {

inline int min_i(int a, int b) { return a < b ? a : b; }

// Hints the cache line `bytes` past p (integer address math: the target may lie past the array;
// prefetches never fault). Packing reads a short run from each B row, one full B row apart, usually
// on a new page each time, where hardware prefetchers do not follow.
inline void prefetch_ahead(const void* p, std::ptrdiff_t bytes) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + bytes), _MM_HINT_T0);
}

// ---------------------------------------------------------------- int16 x int16 -> int32
// Micro-tile: kS16MR rows x 16 columns, 8 ymm accumulators. B panels are packed per
// kS16KCP k-pairs (kS16KCP * 16 cols * 2 k * 2 bytes = 16 KiB) so they stay in L1.
constexpr int kS16MR = 4;
constexpr int kS16NR = 16;
constexpr int kS16KCP = 256;
constexpr int kPrefetchRows = 8;  // B rows ahead to prefetch while packing

// Copies kc pair-rows of nr (<= 16) columns from the interleaved B (pair stride bs) into a dense
// 32-int16-per-pair panel, zero-filling columns nr..15.
void pack_b_s16(int kc, int nr, const int16_t* b, std::ptrdiff_t bs, int16_t* out) {
  for (int p = 0; p < kc; ++p, b += bs, out += 2 * kS16NR) {
    prefetch_ahead(b, kPrefetchRows * bs * std::ptrdiff_t(sizeof(int16_t)));
    if (nr == kS16NR) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(out + 16),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16)));
    } else {
      std::memset(out, 0, sizeof(int16_t) * 2 * kS16NR);
      std::memcpy(out, b, sizeof(int16_t) * 2 * nr);
    }
  }
}

// c[R][16] (+)= a[R][2*kc] x panel; a has row stride lda, the panel has pair stride bs (int16 units).
// accumulate=false overwrites c, true adds to it.
template <int R>
void micro_s16(int kc, const int16_t* a, std::ptrdiff_t lda, const int16_t* b, std::ptrdiff_t bs, int32_t* c,
               std::ptrdiff_t ldc, bool accumulate) {
  __m256i acc0[R], acc1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm256_setzero_si256();
    acc1[r] = _mm256_setzero_si256();
  }
#pragma GCC unroll 4
  for (int p = 0; p < kc; ++p, b += bs) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t pair;  // (A[r][2p], A[r][2p+1]) as one 32-bit lane
      std::memcpy(&pair, a + r * lda + 2 * p, sizeof(pair));
      const __m256i av = _mm256_set1_epi32(pair);
      acc0[r] = _mm256_add_epi32(acc0[r], _mm256_madd_epi16(av, b0));
      acc1[r] = _mm256_add_epi32(acc1[r], _mm256_madd_epi16(av, b1));
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m256i* c0 = reinterpret_cast<__m256i*>(c + r * ldc);
    __m256i* c1 = reinterpret_cast<__m256i*>(c + r * ldc + 8);
    if (accumulate) {
      acc0[r] = _mm256_add_epi32(acc0[r], _mm256_loadu_si256(c0));
      acc1[r] = _mm256_add_epi32(acc1[r], _mm256_loadu_si256(c1));
    }
    _mm256_storeu_si256(c0, acc0[r]);
    _mm256_storeu_si256(c1, acc1[r]);
  }
}

// Runs micro_s16 for a row count in 1..kS16MR (row tails of M).
void micro_s16_rows(int rows, int kc, const int16_t* a, std::ptrdiff_t lda, const int16_t* b, std::ptrdiff_t bs,
                    int32_t* c, std::ptrdiff_t ldc, bool accumulate) {
  switch (rows) {
    case 4: micro_s16<4>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 3: micro_s16<3>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 2: micro_s16<2>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    default: micro_s16<1>(kc, a, lda, b, bs, c, ldc, accumulate); break;
  }
}

// N == 1: the pair-interleaved B is one contiguous column of Kp values, so each output is a dot
// product along k (16 int16 per madd), R rows sharing each B load. kp2 = even element count.
template <int R>
void dot_rows_s16(int kp2, const int16_t* a, std::ptrdiff_t lda, const int16_t* b, int32_t* c, std::ptrdiff_t ldc) {
  __m256i acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
  int k = 0;
  for (; k + 16 <= kp2; k += 16) {
    const __m256i bv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_add_epi32(
          acc[r], _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + r * lda + k)), bv));
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    int32_t sum = _mm_cvtsi128_si32(s);
    for (int kk = k; kk < kp2; ++kk) sum += int32_t(a[r * lda + kk]) * b[kk];
    c[r * ldc] = sum;
  }
}

// C[m][0] = dot(A[m], B) for all rows; same integer result as the tiled path.
void gemv_s16(int M, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc) {
  const int kp2 = Kp & ~1;  // like the pair loops elsewhere, an odd trailing element is ignored
  int m = 0;
  for (; m + 4 <= M; m += 4) dot_rows_s16<4>(kp2, A + std::ptrdiff_t(m) * Kp, Kp, B, C + std::ptrdiff_t(m) * ldc, ldc);
  for (; m < M; ++m) dot_rows_s16<1>(kp2, A + std::ptrdiff_t(m) * Kp, Kp, B, C + std::ptrdiff_t(m) * ldc, ldc);
}

// ---------------------------------------------------------------- float
// Micro-tile: 6 rows x 16 columns, 12 ymm accumulators (covers FMA latency x 2 ports).
// B panels are packed per kF32KC rows of k (256 * 16 floats = 16 KiB).
constexpr int kF32MR = 6;
constexpr int kF32NR = 16;
constexpr int kF32KC = 256;

// Copies kc rows of nr (<= 16) columns of B (row stride ldb) into a dense 16-float-per-row panel,
// zero-filling columns nr..15.
void pack_b_f32(int kc, int nr, const float* b, std::ptrdiff_t ldb, float* out) {
  for (int k = 0; k < kc; ++k, b += ldb, out += kF32NR) {
    prefetch_ahead(b, kPrefetchRows * ldb * std::ptrdiff_t(sizeof(float)));
    if (nr == kF32NR) {
      _mm256_store_ps(out, _mm256_loadu_ps(b));
      _mm256_store_ps(out + 8, _mm256_loadu_ps(b + 8));
    } else {
      std::memset(out, 0, sizeof(float) * kF32NR);
      std::memcpy(out, b, sizeof(float) * nr);
    }
  }
}

// c[R][16] = (accumulate ? c : 0) followed by one FMA per k in increasing k order.
template <int R>
void micro_f32(int kc, const float* a, std::ptrdiff_t lda, const float* b, std::ptrdiff_t bs, float* c,
               std::ptrdiff_t ldc, bool accumulate) {
  __m256 acc0[R], acc1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc0[r] = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
    acc1[r] = accumulate ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, b += bs) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc0[r]);
    _mm256_storeu_ps(c + r * ldc + 8, acc1[r]);
  }
}

// Runs micro_f32 for a row count in 1..kF32MR (row tails of M).
void micro_f32_rows(int rows, int kc, const float* a, std::ptrdiff_t lda, const float* b, std::ptrdiff_t bs,
                    float* c, std::ptrdiff_t ldc, bool accumulate) {
  switch (rows) {
    case 6: micro_f32<6>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 5: micro_f32<5>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 4: micro_f32<4>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 3: micro_f32<3>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 2: micro_f32<2>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    default: micro_f32<1>(kc, a, lda, b, bs, c, ldc, accumulate); break;
  }
}

}  // namespace

// Bit-exact with gemm_s16_scalar (integer arithmetic; see the bound in gemm.hpp).
void gemm_s16_avx2(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  const int pairs = Kp / 2;
  if (pairs == 0) {
    for (int m = 0; m < M; ++m) std::memset(C + std::ptrdiff_t(m) * ldc, 0, sizeof(int32_t) * N);
    return;
  }
  if (N == 1) {
    gemv_s16(M, Kp, A, B, C, ldc);
    return;
  }
  alignas(32) int16_t panel[kS16KCP * 2 * kS16NR];
  alignas(32) int32_t tile[kS16MR * kS16NR] = {};  // padding columns stay defined
  const std::ptrdiff_t bs = std::ptrdiff_t(2) * N;
  const bool direct = M <= kS16MR;  // a single row block gains nothing from packing full panels
  for (int n0 = 0; n0 < N; n0 += kS16NR) {
    const int nr = min_i(kS16NR, N - n0);
    for (int p0 = 0; p0 < pairs; p0 += kS16KCP) {
      const int kc = min_i(kS16KCP, pairs - p0);
      const bool accumulate = p0 > 0;
      const int16_t* bsrc = B + p0 * bs + 2 * n0;
      const int16_t* bp = panel;
      std::ptrdiff_t bps = 2 * kS16NR;
      if (direct && nr == kS16NR) {
        bp = bsrc;
        bps = bs;
      } else {
        pack_b_s16(kc, nr, bsrc, bs, panel);
      }
      for (int m0 = 0; m0 < M; m0 += kS16MR) {
        const int mr = min_i(kS16MR, M - m0);
        const int16_t* a = A + std::ptrdiff_t(m0) * Kp + 2 * p0;
        int32_t* c = C + std::ptrdiff_t(m0) * ldc + n0;
        if (nr == kS16NR) {
          micro_s16_rows(mr, kc, a, Kp, bp, bps, c, ldc, accumulate);
        } else {  // column tail: full-width tile in scratch, copy back the nr valid columns
          if (accumulate)
            for (int r = 0; r < mr; ++r) std::memcpy(tile + r * kS16NR, c + std::ptrdiff_t(r) * ldc, sizeof(int32_t) * nr);
          micro_s16_rows(mr, kc, a, Kp, bp, bps, tile, kS16NR, accumulate);
          for (int r = 0; r < mr; ++r) std::memcpy(c + std::ptrdiff_t(r) * ldc, tile + r * kS16NR, sizeof(int32_t) * nr);
        }
      }
    }
  }
}

// Each output is one FMA chain in increasing k order, whatever the tile/edge path or M split.
void gemm_f32_avx2(int M, int N, int K, const float* A, const float* B, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) C[std::ptrdiff_t(m) * ldc + n] = 0.0f;
    return;
  }
  alignas(32) float panel[kF32KC * kF32NR];
  alignas(32) float tile[kF32MR * kF32NR] = {};
  const std::ptrdiff_t ldb = N;
  const bool direct = M <= kF32MR;
  for (int n0 = 0; n0 < N; n0 += kF32NR) {
    const int nr = min_i(kF32NR, N - n0);
    for (int k0 = 0; k0 < K; k0 += kF32KC) {
      const int kc = min_i(kF32KC, K - k0);
      const bool accumulate = k0 > 0;
      const float* bsrc = B + k0 * ldb + n0;
      const float* bp = panel;
      std::ptrdiff_t bps = kF32NR;
      if (direct && nr == kF32NR) {
        bp = bsrc;
        bps = ldb;
      } else {
        pack_b_f32(kc, nr, bsrc, ldb, panel);
      }
      for (int m0 = 0; m0 < M; m0 += kF32MR) {
        const int mr = min_i(kF32MR, M - m0);
        const float* a = A + std::ptrdiff_t(m0) * K + k0;
        float* c = C + std::ptrdiff_t(m0) * ldc + n0;
        if (nr == kF32NR) {
          micro_f32_rows(mr, kc, a, K, bp, bps, c, ldc, accumulate);
        } else {
          if (accumulate)
            for (int r = 0; r < mr; ++r) std::memcpy(tile + r * kF32NR, c + std::ptrdiff_t(r) * ldc, sizeof(float) * nr);
          micro_f32_rows(mr, kc, a, K, bp, bps, tile, kF32NR, accumulate);
          for (int r = 0; r < mr; ++r) std::memcpy(c + std::ptrdiff_t(r) * ldc, tile + r * kF32NR, sizeof(float) * nr);
        }
      }
    }
  }
}

}  // namespace wv::kernels

#endif  // WV_HAVE_AVX2_KERNELS
