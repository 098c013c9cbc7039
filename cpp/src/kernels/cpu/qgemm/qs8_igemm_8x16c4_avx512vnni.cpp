// AVX512-VNNI micro-kernel over the u8_offset format: 8 rows x 16 channels, k in groups of 4. Per group each
// row's 4 activation bytes (x + 128, unsigned) are broadcast to the 16 lanes of a zmm and vpdpbusd adds the
// four u8 x s8 products of each lane to that channel's int32 accumulator: 64 exact MACs per instruction, no
// saturation (vpdpbusd, not vpdpbusds). The +128 is paid back by the packed bias. Compiled with AVX-512 flags
// for this file only; chosen only where the CPU reports avx512vnni and avx512bw.
#if defined(WV_HAVE_AVX2_KERNELS)

#if !defined(__AVX512VNNI__) || !defined(__AVX512BW__)
#error "qs8_igemm_8x16c4_avx512vnni.cpp must be compiled with -mavx512f -mavx512bw -mavx512vnni"
#endif

#include <immintrin.h>
#include <cstring>

#include "kernels/cpu/qgemm/ukernel.hpp"

namespace wv::kernels::qgemm {
namespace {

constexpr int kMR = 8, kNR = 16, kKR = 4;

bool supported() {
  __builtin_cpu_init();  // libgcc also requires the OS to save the zmm state (XGETBV)
  // (VL and DQ too: the tile epilogue chosen with this kernel, requantize_avx512.cpp, is built with them)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

inline __m512i broadcast_quad(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

void run(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const __m512i b = _mm512_loadu_si512(bias);
  __m512i acc0 = b, acc1 = b, acc2 = b, acc3 = b, acc4 = b, acc5 = b, acc6 = b, acc7 = b;
  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNR);
  for (size_t t = 0; t < ks; ++t) {
    const uint8_t* x0 = static_cast<const uint8_t*>(a[t * kMR + 0]);
    const uint8_t* x1 = static_cast<const uint8_t*>(a[t * kMR + 1]);
    const uint8_t* x2 = static_cast<const uint8_t*>(a[t * kMR + 2]);
    const uint8_t* x3 = static_cast<const uint8_t*>(a[t * kMR + 3]);
    const uint8_t* x4 = static_cast<const uint8_t*>(a[t * kMR + 4]);
    const uint8_t* x5 = static_cast<const uint8_t*>(a[t * kMR + 5]);
    const uint8_t* x6 = static_cast<const uint8_t*>(a[t * kMR + 6]);
    const uint8_t* x7 = static_cast<const uint8_t*>(a[t * kMR + 7]);
    for (size_t k = 0; k < kc; k += kKR) {
      const __m512i wv = _mm512_loadu_si512(wp);
      wp += kNR * kKR;
      acc0 = _mm512_dpbusd_epi32(acc0, broadcast_quad(x0 + k), wv);
      acc1 = _mm512_dpbusd_epi32(acc1, broadcast_quad(x1 + k), wv);
      acc2 = _mm512_dpbusd_epi32(acc2, broadcast_quad(x2 + k), wv);
      acc3 = _mm512_dpbusd_epi32(acc3, broadcast_quad(x3 + k), wv);
      acc4 = _mm512_dpbusd_epi32(acc4, broadcast_quad(x4 + k), wv);
      acc5 = _mm512_dpbusd_epi32(acc5, broadcast_quad(x5 + k), wv);
      acc6 = _mm512_dpbusd_epi32(acc6, broadcast_quad(x6 + k), wv);
      acc7 = _mm512_dpbusd_epi32(acc7, broadcast_quad(x7 + k), wv);
    }
  }
  _mm512_storeu_si512(c + 0 * kNR, acc0);
  _mm512_storeu_si512(c + 1 * kNR, acc1);
  _mm512_storeu_si512(c + 2 * kNR, acc2);
  _mm512_storeu_si512(c + 3 * kNR, acc3);
  _mm512_storeu_si512(c + 4 * kNR, acc4);
  _mm512_storeu_si512(c + 5 * kNR, acc5);
  _mm512_storeu_si512(c + 6 * kNR, acc6);
  _mm512_storeu_si512(c + 7 * kNR, acc7);
}

// One row: four accumulators over interleaved k groups (one chain would wait on vpdpbusd's latency); the sum of
// exact int32 partial sums is the same in any order.
void run_row(size_t kc, size_t ks, const void* const* a, const void* w, int32_t* c) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  __m512i acc0 = _mm512_loadu_si512(bias), acc1 = _mm512_setzero_si512(), acc2 = acc1, acc3 = acc1;
  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNR);
  constexpr size_t kStep = size_t(kNR) * kKR;
  for (size_t t = 0; t < ks; ++t) {
    const uint8_t* x = static_cast<const uint8_t*>(a[t]);
    size_t k = 0;
    for (; k + 4 * kKR <= kc; k += 4 * kKR, wp += 4 * kStep) {
      acc0 = _mm512_dpbusd_epi32(acc0, broadcast_quad(x + k), _mm512_loadu_si512(wp));
      acc1 = _mm512_dpbusd_epi32(acc1, broadcast_quad(x + k + 4), _mm512_loadu_si512(wp + kStep));
      acc2 = _mm512_dpbusd_epi32(acc2, broadcast_quad(x + k + 8), _mm512_loadu_si512(wp + 2 * kStep));
      acc3 = _mm512_dpbusd_epi32(acc3, broadcast_quad(x + k + 12), _mm512_loadu_si512(wp + 3 * kStep));
    }
    for (; k < kc; k += kKR, wp += kStep) acc0 = _mm512_dpbusd_epi32(acc0, broadcast_quad(x + k), _mm512_loadu_si512(wp));
  }
  _mm512_storeu_si512(c, _mm512_add_epi32(_mm512_add_epi32(acc0, acc1), _mm512_add_epi32(acc2, acc3)));
}

}  // namespace

extern const Ukernel qs8_igemm_8x16c4_avx512vnni{"qs8_igemm_8x16c4_avx512vnni", "avx512vnni", AFormat::u8_offset, kMR,
                                                 kNR, kKR, &supported, &run, &run_row};

}  // namespace wv::kernels::qgemm

#endif  // WV_HAVE_AVX2_KERNELS
