// Weight packing and activation preparation for the int8 micro-kernels (ukernel.hpp), shared by every ISA.
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

// The A-format value a padding tap holds, and the per-channel bias correction factor: bias' = bias - f * sum(w).
int32_t padding_value(AFormat f, int32_t z) {
  switch (f) {
    case AFormat::s16_centered: return 0;
    case AFormat::u8_offset: return z + 128;
    case AFormat::s8_raw: return z;
  }
  return 0;
}
int32_t bias_factor(AFormat f, int32_t z) {
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
  const int32_t factor = bias_factor(uk.a_format, z);
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

template <typename E>
E convert(AFormat f, int8_t x, int32_t z) {
  switch (f) {
    case AFormat::s16_centered: return E(int32_t(x) - z);
    case AFormat::u8_offset: return E(uint8_t(x) ^ 0x80u);
    case AFormat::s8_raw: return E(x);
  }
  return E(0);
}

template <typename E>
void prepare_typed(AFormat f, const int8_t* x, int64_t row_stride, int64_t chan_stride, int64_t C, int64_t kc,
                   int32_t z, int64_t r0, int64_t r1, E* dst) {
  const E pad = E(padding_value(f, z));
  for (int64_t r = r0; r < r1; ++r) {
    E* d = dst + r * kc;
    const int8_t* s = x + r * row_stride;
    if (chan_stride == 1) {
      for (int64_t c = 0; c < C; ++c) d[c] = convert<E>(f, s[c], z);  // contiguous: vectorised by the compiler
    } else {
      for (int64_t c = 0; c < C; ++c) d[c] = convert<E>(f, s[c * chan_stride], z);
    }
    for (int64_t c = C; c < kc; ++c) d[c] = pad;
  }
}

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

void prepare_rows(AFormat f, const int8_t* x, int64_t row_stride, int64_t chan_stride, int64_t C, int64_t kc,
                  int32_t z, int64_t r0, int64_t r1, void* dst) {
  if (f == AFormat::s16_centered)
    prepare_typed<int16_t>(f, x, row_stride, chan_stride, C, kc, z, r0, r1, static_cast<int16_t*>(dst));
  else
    prepare_typed<uint8_t>(f, x, row_stride, chan_stride, C, kc, z, r0, r1, static_cast<uint8_t*>(dst));
}

void fill_padding_row(AFormat f, int64_t kc, int32_t z, void* dst) {
  if (f == AFormat::s16_centered) {
    std::memset(dst, 0, size_t(kc) * 2);
  } else {
    std::memset(dst, padding_value(f, z) & 0xFF, size_t(kc));
  }
}

}  // namespace wv::kernels::qgemm
