// AVX-512 int8 epilogue of a GEMM tile: the exact rescale of requantize.hpp on 8 int64 lanes per vector, with
// native 64-bit arithmetic shifts, compares into masks and min/max (AVX2 has to emulate all three). Compiled
// with AVX-512 flags for this file only; chosen with the AVX512-VNNI micro-kernel (CPUs that have both).
#if defined(WV_HAVE_AVX2_KERNELS)

#if !defined(__AVX512F__) || !defined(__AVX512VL__) || !defined(__AVX512BW__)
#error "requantize_avx512.cpp must be compiled with -mavx512f -mavx512bw -mavx512vl"
#endif
#include <immintrin.h>

#include "kernels/cpu/requantize_row.hpp"

namespace wv::kernels {
namespace {

// round_half_away(p / 2^s) for 8 int64 lanes, s in [0, 62] per lane (s == 0: half is 0, no adjustment).
inline __m512i shift_round(__m512i p, __m512i s) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i half = _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one));  // count -1 wraps to >= 64: 0
  const __mmask8 adj = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512()) & _mm512_cmpgt_epi64_mask(s, _mm512_setzero_si512());
  const __m512i q = _mm512_mask_sub_epi64(_mm512_add_epi64(p, half), adj, _mm512_add_epi64(p, half), one);
  return _mm512_srav_epi64(q, s);
}

struct Channels {  // 8 channels' constants, widened to int64 lanes
  __m512i m, s;
};

inline Channels channels(const int32_t* m, const int32_t* s, __mmask8 k) {
  return {_mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, m)), _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, s))};
}

}  // namespace

void quant_tile_avx512(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                       const int8_t* residual, int8_t* y, int64_t ldy) {
  const __m512i zo = _mm512_set1_epi64(ep.out_zero), lo = _mm512_set1_epi64(ep.act_min), hi = _mm512_set1_epi64(ep.act_max);
  const __m512i rm = _mm512_set1_epi64(ep.residual_multiplier), rs = _mm512_set1_epi64(ep.residual_shift);
  const __m512i rz = _mm512_set1_epi64(ep.residual_zero), eight = _mm512_set1_epi64(8);
  for (int64_t j = 0; j < n; j += 8) {
    const __mmask8 k = __mmask8((n - j) >= 8 ? 0xFF : ((1u << (n - j)) - 1));
    const Channels ch = channels(ep.multiplier + channel0 + j, ep.shift + channel0 + j, k);
    const __m512i bias = ep.bias ? _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, ep.bias + channel0 + j))
                                 : _mm512_setzero_si512();
    for (int64_t m = 0; m < rows; ++m) {
      const __m512i a = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, c + m * ldc + j)), bias);
      __m512i v = shift_round(_mm512_mul_epi32(a, ch.m), ch.s);
      if (ep.residual) {
        const __m512i r = _mm512_sub_epi64(
            _mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(k, residual + m * ldy + j)), rz);
        v = shift_round(_mm512_add_epi64(v, shift_round(_mm512_mul_epi32(r, rm), rs)), eight);
      }
      v = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(v, zo), lo), hi);
      int8_t* out = y + m * ldy + j;
      _mm512_mask_cvtepi64_storeu_epi8(out, k, v);
      if (ep.lut)
        for (int64_t i = 0; i < 8 && j + i < n; ++i) out[i] = ep.lut[out[i] + 128];
    }
  }
}

}  // namespace wv::kernels

#endif  // WV_HAVE_AVX2_KERNELS
