// NEON float GEMM kernel for aarch64 (Advanced SIMD is mandatory there). Compiles to nothing elsewhere.
#if defined(__aarch64__)

#include <arm_neon.h>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {
namespace {

inline int min_i(int a, int b) { return a < b ? a : b; }

constexpr int kPrefetchRows = 8;  // B rows ahead to prefetch while packing

// Hints the cache line `bytes` past p (integer address math: the target may lie past the array;
// prefetches never fault). Packing reads a short run from each B row, one full B row apart.
inline void prefetch_ahead(const void* p, std::ptrdiff_t bytes) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + bytes));
}

// ---------------------------------------------------------------- float
// Micro-tile: 4 rows x 16 columns (16 accumulators of the 32 q registers).
constexpr int kF32MR = 4;
constexpr int kF32NR = 16;
constexpr int kF32KC = 256;  // 256 * 16 floats = 16 KiB packed panel

// Copies kc rows of nr (<= 16) columns of B (row stride ldb) into a dense panel, zero-padded.
void pack_b_f32(int kc, int nr, const float* b, std::ptrdiff_t ldb, float* out) {
  for (int k = 0; k < kc; ++k, b += ldb, out += kF32NR) {
    prefetch_ahead(b, kPrefetchRows * ldb * std::ptrdiff_t(sizeof(float)));
    if (nr == kF32NR) {
      for (int j = 0; j < kF32NR; j += 4) vst1q_f32(out + j, vld1q_f32(b + j));
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
  float32x4_t acc0[R], acc1[R], acc2[R], acc3[R];  // columns +0..3, +4..7, +8..11, +12..15
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    acc0[r] = accumulate ? vld1q_f32(cr) : vdupq_n_f32(0.0f);
    acc1[r] = accumulate ? vld1q_f32(cr + 4) : vdupq_n_f32(0.0f);
    acc2[r] = accumulate ? vld1q_f32(cr + 8) : vdupq_n_f32(0.0f);
    acc3[r] = accumulate ? vld1q_f32(cr + 12) : vdupq_n_f32(0.0f);
  }
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k, b += bs) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float av = a[r * lda + k];
      acc0[r] = vfmaq_n_f32(acc0[r], b0, av);
      acc1[r] = vfmaq_n_f32(acc1[r], b1, av);
      acc2[r] = vfmaq_n_f32(acc2[r], b2, av);
      acc3[r] = vfmaq_n_f32(acc3[r], b3, av);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    vst1q_f32(cr, acc0[r]);
    vst1q_f32(cr + 4, acc1[r]);
    vst1q_f32(cr + 8, acc2[r]);
    vst1q_f32(cr + 12, acc3[r]);
  }
}

// Runs micro_f32 for a row count in 1..kF32MR (row tails of M).
void micro_f32_rows(int rows, int kc, const float* a, std::ptrdiff_t lda, const float* b, std::ptrdiff_t bs,
                    float* c, std::ptrdiff_t ldc, bool accumulate) {
  switch (rows) {
    case 4: micro_f32<4>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 3: micro_f32<3>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    case 2: micro_f32<2>(kc, a, lda, b, bs, c, ldc, accumulate); break;
    default: micro_f32<1>(kc, a, lda, b, bs, c, ldc, accumulate); break;
  }
}

}  // namespace

// Each output is one FMA chain in increasing k order, whatever the tile/edge path or M split.
void gemm_f32_neon(int M, int N, int K, const float* A, const float* B, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) C[std::ptrdiff_t(m) * ldc + n] = 0.0f;
    return;
  }
  alignas(16) float panel[kF32KC * kF32NR];
  alignas(16) float tile[kF32MR * kF32NR] = {};
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

#endif  // __aarch64__
