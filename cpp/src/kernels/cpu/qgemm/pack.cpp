// Weight packing and activation preparation for the int8 micro-kernels (ukernel.hpp), shared by every ISA.
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

// The A-format value of x = z: what a padding tap holds, and also the factor f of the packed bias,
// bias' = bias - f * sum(w), since a format that stores x as x - z + f needs f * sum(w) taken back.
int32_t padding_value(AFormat f, int32_t z) {
  switch (f) {
    case AFormat::s16_centered: return 0;
    case AFormat::u8_offset: return z + 128;
    case AFormat::s8_raw: return z;
  }
  return 0;
}

template <typename E>
void pack_typed(const Ukernel& uk, const int8_t* w, const int32_t* bias, int64_t N, int64_t ks, int64_t C, int32_t z,
                PackedWeights* p) {
  const int64_t nr = uk.nr, kr = uk.kr, kc = p->kc;
  const int32_t factor = padding_value(uk.a_format, z);
  for (int64_t j = 0; j < p->blocks; ++j) {
    uint8_t* blk = p->bytes.data() + size_t(j) * p->block_bytes;
    int32_t* b = reinterpret_cast<int32_t*>(blk);  // block_bytes is a multiple of 4 and vector data starts aligned
    E* wp = reinterpret_cast<E*>(blk + size_t(nr) * 4);
    for (int64_t n = 0; n < nr; ++n) {
      const int64_t co = j * nr + n;
      if (co >= N) { b[n] = 0; continue; }
      int64_t sum = 0;
      for (int64_t i = 0; i < ks * C; ++i) sum += w[co * ks * C + i];
      b[n] = int32_t((bias ? int64_t(bias[co]) : 0) - int64_t(factor) * sum);
    }
    for (int64_t t = 0; t < ks; ++t)
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t n = 0; n < nr; ++n) {
          const int64_t co = j * nr + n;
          const int8_t v = (co < N && k < C) ? w[(co * ks + t) * C + k] : 0;
          wp[((t * (kc / kr) + k / kr) * nr + n) * kr + k % kr] = E(v);
        }
  }
}

template <AFormat F, typename E>
inline E convert(int8_t x, int32_t z) {
  if constexpr (F == AFormat::s16_centered) return E(int32_t(x) - z);
  else if constexpr (F == AFormat::u8_offset) return E(uint8_t(x) ^ 0x80u);
  else return E(x);
}

// Per-row loop for NHWC sources (contiguous channels, vectorised by the compiler). The attribute keeps GCC
// from turning the few padding stores of each row into a memset call per row.
template <AFormat F, typename E>
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void prepare_rows_typed(const int8_t* x, int64_t row_stride, int64_t C, int64_t kc, int32_t z, int64_t r0,
                        int64_t r1, E* dst) {
  const E pad = E(padding_value(F, z));
  for (int64_t r = r0; r < r1; ++r) {
    E* d = dst + r * kc;
    const int8_t* s = x + r * row_stride;
    for (int64_t c = 0; c < C; ++c) d[c] = convert<F, E>(s[c], z);
    for (int64_t c = C; c < kc; ++c) d[c] = pad;
  }
}

// Plane-major loop for NCHW sources: reads each plane contiguously, writes with the row stride.
template <AFormat F, typename E>
void prepare_planes_typed(const int8_t* x, int64_t row_stride, int64_t plane, int64_t C, int64_t kc,
                          int32_t z, int64_t r0, int64_t r1, E* dst) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = r0; r < r1; ++r) dst[r * kc + c] = convert<F, E>(x[c * plane + r * row_stride], z);
  const E pad = E(padding_value(F, z));
  for (int64_t c = C; c < kc; ++c)
    for (int64_t r = r0; r < r1; ++r) dst[r * kc + c] = pad;
}

#if defined(__SSE2__)
// The common stem: an NCHW image of up to 4 channels into 4-element rows (kc == 4), 16 pixels (byte formats)
// or 8 pixels (int16) per step by interleaving the planes with unpack instructions. Returns the rows done.
int64_t prepare_planes_k4_sse2(AFormat f, const int8_t* x, int64_t plane, int64_t C, int32_t z, int64_t r0,
                               int64_t r1, void* dst) {
  const __m128i pad8 = _mm_set1_epi8(char(padding_value(f, z)));
  const __m128i flip = _mm_set1_epi8(f == AFormat::u8_offset ? char(0x80) : 0);
  const __m128i zero16 = _mm_set1_epi16(int16_t(z));
  int64_t r = r0;
  if (f != AFormat::s16_centered) {
    for (; r + 16 <= r1; r += 16) {
      __m128i ch[4];
      for (int64_t c = 0; c < 4; ++c)
        ch[c] = c < C ? _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c * plane + r)), flip) : pad8;
      const __m128i lo01 = _mm_unpacklo_epi8(ch[0], ch[1]), hi01 = _mm_unpackhi_epi8(ch[0], ch[1]);
      const __m128i lo23 = _mm_unpacklo_epi8(ch[2], ch[3]), hi23 = _mm_unpackhi_epi8(ch[2], ch[3]);
      __m128i* d = reinterpret_cast<__m128i*>(static_cast<uint8_t*>(dst) + r * 4);
      _mm_storeu_si128(d + 0, _mm_unpacklo_epi16(lo01, lo23));
      _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(lo01, lo23));
      _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(hi01, hi23));
      _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
  } else {
    for (; r + 8 <= r1; r += 8) {
      __m128i ch[4];
      for (int64_t c = 0; c < 4; ++c) {
        if (c < C) {
          const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + c * plane + r));
          ch[c] = _mm_sub_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8), zero16);
        } else {
          ch[c] = _mm_setzero_si128();
        }
      }
      const __m128i lo01 = _mm_unpacklo_epi16(ch[0], ch[1]), hi01 = _mm_unpackhi_epi16(ch[0], ch[1]);
      const __m128i lo23 = _mm_unpacklo_epi16(ch[2], ch[3]), hi23 = _mm_unpackhi_epi16(ch[2], ch[3]);
      __m128i* d = reinterpret_cast<__m128i*>(static_cast<int16_t*>(dst) + r * 4);
      _mm_storeu_si128(d + 0, _mm_unpacklo_epi32(lo01, lo23));
      _mm_storeu_si128(d + 1, _mm_unpackhi_epi32(lo01, lo23));
      _mm_storeu_si128(d + 2, _mm_unpacklo_epi32(hi01, hi23));
      _mm_storeu_si128(d + 3, _mm_unpackhi_epi32(hi01, hi23));
    }
  }
  return r - r0;
}
#endif

}  // namespace

PackedWeights pack_weights(const Ukernel& uk, const int8_t* w, const int32_t* bias, int64_t N, int64_t ks, int64_t C,
                           int32_t z) {
  PackedWeights p;
  p.kc = (C + uk.kr - 1) / uk.kr * uk.kr;
  p.ks = ks;
  p.blocks = (N + uk.nr - 1) / uk.nr;
  const size_t esize = a_element_bytes(uk.a_format);
  p.block_bytes = size_t(uk.nr) * 4 + size_t(ks * p.kc * uk.nr) * esize;
  p.bytes.assign(size_t(p.blocks) * p.block_bytes, 0);
  if (esize == 2)
    pack_typed<int16_t>(uk, w, bias, N, ks, C, z, &p);
  else
    pack_typed<int8_t>(uk, w, bias, N, ks, C, z, &p);
  return p;
}

namespace {

template <AFormat F, typename E>
void prepare_as(const int8_t* x, int64_t row_stride, int64_t chan_stride, int64_t C, int64_t kc, int32_t z, int64_t r0,
                int64_t r1, void* dst) {
  E* d = static_cast<E*>(dst);
  if (chan_stride == 1 && row_stride == C && kc == C)  // NHWC without padding: one flat stream
    prepare_rows_typed<F, E>(x + r0 * C, 0, (r1 - r0) * C, (r1 - r0) * C, z, 0, 1, d + r0 * C);
  else if (chan_stride == 1)
    prepare_rows_typed<F, E>(x, row_stride, C, kc, z, r0, r1, d);
  else
    prepare_planes_typed<F, E>(x, row_stride, chan_stride, C, kc, z, r0, r1, d);
}

}  // namespace

void prepare_rows(AFormat f, const int8_t* x, int64_t row_stride, int64_t chan_stride, int64_t C, int64_t kc,
                  int32_t z, int64_t r0, int64_t r1, void* dst) {
#if defined(__SSE2__)
  // Planes (NCHW) of a small-channel stem: element c of row r is x[c * chan_stride + r].
  if (chan_stride != 1 && kc == 4 && C <= 4 && row_stride == 1)
    r0 += prepare_planes_k4_sse2(f, x, chan_stride, C, z, r0, r1, dst);
#endif
  switch (f) {
    case AFormat::s16_centered: return prepare_as<AFormat::s16_centered, int16_t>(x, row_stride, chan_stride, C, kc, z, r0, r1, dst);
    case AFormat::u8_offset: return prepare_as<AFormat::u8_offset, uint8_t>(x, row_stride, chan_stride, C, kc, z, r0, r1, dst);
    case AFormat::s8_raw: return prepare_as<AFormat::s8_raw, uint8_t>(x, row_stride, chan_stride, C, kc, z, r0, r1, dst);
  }
}

void fill_padding_row(AFormat f, int64_t kc, int32_t z, void* dst) {
  if (f == AFormat::s16_centered) {
    std::memset(dst, 0, size_t(kc) * 2);
  } else {
    std::memset(dst, padding_value(f, z) & 0xFF, size_t(kc));
  }
}

}  // namespace wv::kernels::qgemm
