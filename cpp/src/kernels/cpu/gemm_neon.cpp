// NEON GEMM kernels for aarch64 (Advanced SIMD is mandatory there). Compiles to nothing elsewhere.
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

// ---------------------------------------------------------------- int16 x int16 -> int32
// Micro-tile: 4 rows x 8 columns. One pair-row of 8 columns is two q registers:
// (k,n)(k+1,n)(k,n+1)(k+1,n+1)... vmlal_s16 against the broadcast (A[k],A[k+1]) pair keeps even-k
// and odd-k products in adjacent lanes; a final pairwise add (vpaddq_s32) folds them per column.
constexpr int kS16MR = 4;
constexpr int kS16NR = 8;
constexpr int kS16KCP = 256;  // 256 pairs * 8 cols * 2 k * 2 bytes = 8 KiB packed panel

// Copies kc pair-rows of nr (<= 8) columns into a dense 16-int16-per-pair panel, zero-padded.
void pack_b_s16(int kc, int nr, const int16_t* b, std::ptrdiff_t bs, int16_t* out) {
  for (int p = 0; p < kc; ++p, b += bs, out += 2 * kS16NR) {
    prefetch_ahead(b, kPrefetchRows * bs * std::ptrdiff_t(sizeof(int16_t)));
    if (nr == kS16NR) {
      vst1q_s16(out, vld1q_s16(b));
      vst1q_s16(out + 8, vld1q_s16(b + 8));
    } else {
      std::memset(out, 0, sizeof(int16_t) * 2 * kS16NR);
      std::memcpy(out, b, sizeof(int16_t) * 2 * nr);
    }
  }
}

// c[R][8] (+)= a[R][2*kc] x panel (pair stride bs, int16 units); accumulate=false overwrites c.
template <int R>
void micro_s16(int kc, const int16_t* a, std::ptrdiff_t lda, const int16_t* b, std::ptrdiff_t bs, int32_t* c,
               std::ptrdiff_t ldc, bool accumulate) {
  // acc0/acc1: columns n..n+1 / n+2..n+3 with even-k and odd-k products in adjacent lanes;
  // acc2/acc3: the same for n+4..n+7.
  int32x4_t acc0[R], acc1[R], acc2[R], acc3[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = acc2[r] = acc3[r] = vdupq_n_s32(0);
#pragma GCC unroll 2
  for (int p = 0; p < kc; ++p, b += bs) {
    const int16x8_t b0 = vld1q_s16(b);      // columns n..n+3
    const int16x8_t b1 = vld1q_s16(b + 8);  // columns n+4..n+7
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t pair;
      std::memcpy(&pair, a + r * lda + 2 * p, sizeof(pair));
      const int16x8_t av = vreinterpretq_s16_s32(vdupq_n_s32(pair));
      acc0[r] = vmlal_s16(acc0[r], vget_low_s16(b0), vget_low_s16(av));
      acc1[r] = vmlal_high_s16(acc1[r], b0, av);
      acc2[r] = vmlal_s16(acc2[r], vget_low_s16(b1), vget_low_s16(av));
      acc3[r] = vmlal_high_s16(acc3[r], b1, av);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    int32x4_t lo = vpaddq_s32(acc0[r], acc1[r]);
    int32x4_t hi = vpaddq_s32(acc2[r], acc3[r]);
    int32_t* cr = c + r * ldc;
    if (accumulate) {
      lo = vaddq_s32(lo, vld1q_s32(cr));
      hi = vaddq_s32(hi, vld1q_s32(cr + 4));
    }
    vst1q_s32(cr, lo);
    vst1q_s32(cr + 4, hi);
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

// Bit-exact with gemm_s16_scalar (integer arithmetic; see the bound in gemm.hpp).
void gemm_s16_neon(int M, int N, int Kp, const int16_t* A, const int16_t* B, int32_t* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  const int pairs = Kp / 2;
  if (pairs == 0) {
    for (int m = 0; m < M; ++m) std::memset(C + std::ptrdiff_t(m) * ldc, 0, sizeof(int32_t) * N);
    return;
  }
  alignas(16) int16_t panel[kS16KCP * 2 * kS16NR];
  alignas(16) int32_t tile[kS16MR * kS16NR] = {};
  const std::ptrdiff_t bs = std::ptrdiff_t(2) * N;
  const bool direct = M <= kS16MR;
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
        } else {
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
