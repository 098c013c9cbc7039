// AVX2 / FMA float GEMM kernel. Built with -mavx2 -mfma for this file only; reached through select_gemm_f32.
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

constexpr int kPrefetchRows = 8;  // B rows ahead to prefetch while packing

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
