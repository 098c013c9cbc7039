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

// round_half_away(p / 2^s) for 8 int64 lanes: (p + half - [p < 0 and s > 0]) >> s, arithmetic. The per-lane
// constants (half = 2^(s-1), 0 for s == 0; the s > 0 mask) are computed once per 8 channels of a tile.
struct Shift {
  __m512i s, half;
  __mmask8 positive;
};

inline Shift shift_of(__m512i s) {
  const __m512i one = _mm512_set1_epi64(1);
  return {s, _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one)),  // count -1 wraps to >= 64: 0
          _mm512_cmpgt_epi64_mask(s, _mm512_setzero_si512())};
}

inline __m512i shift_round(__m512i p, const Shift& sh) {
  const __mmask8 adj = _mm512_mask_cmplt_epi64_mask(sh.positive, p, _mm512_setzero_si512());
  const __m512i q = _mm512_add_epi64(p, sh.half);
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(q, adj, q, _mm512_set1_epi64(1)), sh.s);
}

}  // namespace

namespace {

struct Block8 {  // 8 channels' requantization constants as int64 lanes
  __m512i m, bias;
  Shift sh;
  // half + (z_out << s): adding the output zero point before the shift is exact (a multiple of 2^s), which
  // saves an add per vector; valid when every s <= 54 (else the sum could leave int64), as in practice.
  __m512i half_zo;
  bool fold_zo, all_positive;  // all_positive: every s > 0, so the negative-p adjustment needs no mask
};

inline Block8 block_of(const QuantEpilogue& ep, int64_t c, __mmask8 k) {
  Block8 b;
  b.m = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, ep.multiplier + c));
  b.bias = ep.bias ? _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, ep.bias + c)) : _mm512_setzero_si512();
  const __m512i sv = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, ep.shift + c));
  b.sh = shift_of(sv);
  b.fold_zo = _mm512_cmpgt_epi64_mask(sv, _mm512_set1_epi64(54)) == 0;
  b.half_zo = _mm512_add_epi64(b.sh.half, _mm512_sllv_epi64(_mm512_set1_epi64(ep.out_zero), sv));
  b.all_positive = (b.sh.positive | __mmask8(~k)) == 0xFF;
  return b;
}

inline __mmask8 lanes(int64_t left) { return __mmask8(left >= 8 ? 0xFF : (left <= 0 ? 0 : (1u << left) - 1)); }

}  // namespace

// Channels 16 at a time (two 8-lane int64 halves), rows inside, so each row's 16 results leave in one plain
// 16-byte store (a masked byte store only for a tail). Clamping to [-128, 127] comes free with the saturating
// narrowing (vpmovsqb); only a tighter activation range costs a max or min. The epilogue's fields are copied to
// locals first: the int8 stores may alias anything, and would otherwise force a reload after each store.
void quant_tile_avx512(const QuantEpilogue& ep, const int32_t* c, int64_t ldc, int64_t rows, int64_t n, int channel0,
                       const int8_t* residual, int8_t* y, int64_t ldy) {
  const __m512i zo = _mm512_set1_epi64(ep.out_zero), lo = _mm512_set1_epi64(ep.act_min), hi = _mm512_set1_epi64(ep.act_max);
  const bool clamp_lo = ep.act_min > -128, clamp_hi = ep.act_max < 127, with_bias = ep.bias != nullptr;
  const __m512i rm = _mm512_set1_epi64(ep.residual_multiplier), rz = _mm512_set1_epi64(ep.residual_zero);
  const Shift rs = shift_of(_mm512_set1_epi64(ep.residual_shift));
  const __m512i eight = _mm512_set1_epi64(8), half8_zo = _mm512_set1_epi64(128 + int64_t(ep.out_zero) * 256);
  const bool with_residual = ep.residual && residual != nullptr;
  const int8_t* const lut = ep.lut;
  auto one = [&](const Block8& b, __mmask8 k, const int32_t* acc, const int8_t* res) {
    __m512i a = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, acc));
    if (with_bias) a = _mm512_add_epi64(a, b.bias);
    const __m512i p = _mm512_mul_epi32(a, b.m);
    __m512i v;
    if (with_residual) {
      const __m512i x = _mm512_sub_epi64(_mm512_cvtepi8_epi64(_mm_maskz_loadu_epi8(k, res)), rz);
      const __m512i t = _mm512_add_epi64(shift_round(p, b.sh), shift_round(_mm512_mul_epi32(x, rm), rs));
      // round_half_away(t / 256) + z_out in one shift: t + 128 + (z_out << 8) - [t < 0], arithmetic >> 8
      v = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(t, half8_zo), _mm512_srai_epi64(t, 63)), eight);
    } else {
      __m512i adj = _mm512_srai_epi64(p, 63);  // -1 where p < 0
      if (!b.all_positive) adj = _mm512_maskz_mov_epi64(b.sh.positive, adj);
      const __m512i q = _mm512_add_epi64(_mm512_add_epi64(p, b.fold_zo ? b.half_zo : b.sh.half), adj);
      v = _mm512_srav_epi64(q, b.sh.s);
      if (!b.fold_zo) v = _mm512_add_epi64(v, zo);
    }
    if (clamp_lo) v = _mm512_max_epi64(v, lo);
    if (clamp_hi) v = _mm512_min_epi64(v, hi);
    return _mm512_cvtsepi64_epi8(v);
  };
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask8 k0 = lanes(n - j), k1 = lanes(n - j - 8);
    const Block8 b0 = block_of(ep, channel0 + j, k0), b1 = block_of(ep, channel0 + j + 8, k1);
    const bool full = n - j >= 16;
    if (full && !with_residual && !with_bias && lut == nullptr && b0.fold_zo && b1.fold_zo && b0.all_positive &&
        b1.all_positive) {
      // The common case of a conv chain, without a branch per vector: 16 channels, every row.
      for (int64_t r = 0; r < rows; ++r) {
        const int32_t* acc = c + r * ldc + j;
        const __m512i p0 = _mm512_mul_epi32(_mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc))), b0.m);
        const __m512i p1 = _mm512_mul_epi32(_mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + 8))), b1.m);
        __m512i v0 = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(p0, b0.half_zo), _mm512_srai_epi64(p0, 63)), b0.sh.s);
        __m512i v1 = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(p1, b1.half_zo), _mm512_srai_epi64(p1, 63)), b1.sh.s);
        if (clamp_lo) {
          v0 = _mm512_max_epi64(v0, lo);
          v1 = _mm512_max_epi64(v1, lo);
        }
        if (clamp_hi) {
          v0 = _mm512_min_epi64(v0, hi);
          v1 = _mm512_min_epi64(v1, hi);
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + r * ldy + j),
                         _mm_unpacklo_epi64(_mm512_cvtsepi64_epi8(v0), _mm512_cvtsepi64_epi8(v1)));
      }
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t* acc = c + r * ldc + j;
      const int8_t* res = with_residual ? residual + r * ldy + j : nullptr;
      const __m128i v0 = one(b0, k0, acc, res);
      const __m128i v1 = k1 ? one(b1, k1, acc + 8, res ? res + 8 : nullptr) : _mm_setzero_si128();
      __m128i out = _mm_unpacklo_epi64(v0, v1);
      if (lut != nullptr) {
        alignas(16) int8_t t[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(t), out);
        for (int i = 0; i < 16; ++i) t[i] = lut[t[i] + 128];
        out = _mm_load_si128(reinterpret_cast<const __m128i*>(t));
      }
      int8_t* dst = y + r * ldy + j;
      if (full) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), out);
      else _mm_mask_storeu_epi8(dst, __mmask16((1u << (n - j)) - 1), out);
    }
  }
}

}  // namespace wv::kernels

#endif  // WV_HAVE_AVX2_KERNELS
