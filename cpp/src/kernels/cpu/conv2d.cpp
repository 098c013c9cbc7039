// conv2d (NCHW, groups, stride, padding, dilation) with the fused epilogue, float32 and int8.
// Both lower to im2col over a tile of output pixels followed by the dispatched GEMM micro-kernel.
//   inputs: 0 x [N, C, H, W], 1 weight [Co, C/groups, kh, kw], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>
#include <vector>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/requantize_row.hpp"

namespace wv::kernels {
namespace {

struct ConvShape {
  int64_t N, C, H, W, Co, Ho, Wo, kh, kw, sh, sw, pt, pl, dh, dw, groups, Cig, Cog, K;
  int64_t P() const { return Ho * Wo; }
};

// Output pixels per tile: enough to amortise the GEMM, small enough that the tile's columns stay in L2.
int64_t pick_tile(int64_t bytes_per_column, int64_t P) {
  int64_t t = (192 * 1024) / std::max<int64_t>(1, bytes_per_column);
  t = std::max<int64_t>(16, t / 16 * 16);
  return std::min(t, P);
}

// Output columns [ox_lo, ox_hi) of one kernel tap read input columns inside [0, W): ix = ox*sw + off.
inline void valid_columns(int64_t W, int64_t sw, int64_t off, int64_t* lo, int64_t* hi) {
  *lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
  *hi = (W - 1 - off) >= 0 ? (W - 1 - off) / sw + 1 : 0;
}

// Walks the output pixels [p0, p0 + n) row segment by row segment for kernel tap (ky, kx), calling
// put(j, value_or_pad, in_bounds) without per-pixel bounds tests in the interior.
template <typename T, typename Put>
inline void gather_tap(const ConvShape& s, const T* xc, int64_t ky, int64_t kx, int64_t p0, int64_t n, Put put,
                       T pad) {
  const int64_t off = kx * s.dw - s.pl;
  int64_t lo, hi;
  valid_columns(s.W, s.sw, off, &lo, &hi);
  int64_t j = 0, p = p0;
  while (j < n) {
    const int64_t oy = p / s.Wo, ox0 = p % s.Wo, cnt = std::min(s.Wo - ox0, n - j);
    const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
    if (iy < 0 || iy >= s.H) {
      for (int64_t t = 0; t < cnt; ++t) put(j + t, pad);
    } else {
      const T* xr = xc + iy * s.W + off;
      const int64_t a = std::clamp(lo, ox0, ox0 + cnt), b = std::clamp(hi, a, ox0 + cnt);
      const int64_t jb = j - ox0;  // output index of column ox is jb + ox
      for (int64_t ox = ox0; ox < a; ++ox) put(jb + ox, pad);
      if (s.sw == 1) {  // contiguous: lets the compiler vectorise the widening copy
        for (int64_t ox = a; ox < b; ++ox) put(jb + ox, xr[ox]);
      } else {
        for (int64_t ox = a; ox < b; ++ox) put(jb + ox, xr[ox * s.sw]);
      }
      for (int64_t ox = b; ox < ox0 + cnt; ++ox) put(jb + ox, pad);
    }
    j += cnt;
    p += cnt;
  }
}

// Widen n int8 values (SIMD for stride 1, 2 and 4) to int16 minus zero. SSE2 is part of x86-64, so no dispatch is needed;
// other targets take the scalar loop.
inline void widen_row(const int8_t* src, int64_t stride, int16_t z, int64_t n, int16_t* dst) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i zv = _mm_set1_epi16(z);
  if (stride == 1) {
    for (; i + 8 <= n; i += 8) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
      const __m128i w = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);  // sign-extend bytes to int16
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_sub_epi16(w, zv));
    }
  } else if (stride == 2) {
    for (; i + 9 <= n; i += 8) {  // reads 16 bytes (never past src[2(n-1)]), keeps the even ones
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
      const __m128i w = _mm_srai_epi16(_mm_slli_epi16(v, 8), 8);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_sub_epi16(w, zv));
    }
  } else if (stride == 4) {  // a stride-4 stem (the reference network's first conv)
    for (; i + 9 <= n; i += 8) {  // reads 32 bytes (never past src[4(n-1)]), keeps every fourth
      const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 4 * i));
      const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 4 * i + 16));
      const __m128i w0 = _mm_srai_epi32(_mm_slli_epi32(v0, 24), 24);  // byte 0 of each int32, sign-extended
      const __m128i w1 = _mm_srai_epi32(_mm_slli_epi32(v1, 24), 24);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_sub_epi16(_mm_packs_epi32(w0, w1), zv));
    }
  }
#endif
  for (; i < n; ++i) dst[i] = int16_t(src[i * stride] - z);
}

// One reduction row k of the column matrix: (x - zero) of tap k for output pixels [p0, p0 + n), 0 outside.
void tap_row_s16(const ConvShape& s, const int8_t* x, int32_t zero, int64_t k, int64_t p0, int64_t n, int16_t* row) {
  if (k >= s.K) {
    for (int64_t j = 0; j < n; ++j) row[j] = 0;
    return;
  }
  const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
  const int16_t z = int16_t(zero);
  const int8_t* xc = x + ci * s.H * s.W;
  const int64_t off = kx * s.dw - s.pl;
  int64_t lo, hi;
  valid_columns(s.W, s.sw, off, &lo, &hi);
  int64_t j = 0, p = p0;
  while (j < n) {  // one output-row segment at a time: padding, interior, padding
    const int64_t oy = p / s.Wo, ox0 = p % s.Wo, cnt = std::min(s.Wo - ox0, n - j);
    const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
    int16_t* r = row + j - ox0;
    if (iy < 0 || iy >= s.H) {
      for (int64_t ox = ox0; ox < ox0 + cnt; ++ox) r[ox] = 0;
    } else {
      const int64_t a = std::clamp(lo, ox0, ox0 + cnt), b = std::clamp(hi, a, ox0 + cnt);
      for (int64_t ox = ox0; ox < a; ++ox) r[ox] = 0;
      widen_row(xc + iy * s.W + off + a * s.sw, s.sw, z, b - a, r + a);
      for (int64_t ox = b; ox < ox0 + cnt; ++ox) r[ox] = 0;
    }
    j += cnt;
    p += cnt;
  }
}

// Pair-interleaved int16 columns of (x - zero) for output pixels [p0, p0 + n): rows k and k+1 are built
// contiguously in `tmp` (2n values) and then interleaved, which keeps both loops vectorisable.
void im2col_s16(const ConvShape& s, const int8_t* x, int32_t zero, int64_t Kp, int64_t p0, int64_t n, int16_t* col,
                int16_t* tmp) {
  int16_t* a = tmp;
  int16_t* b = tmp + n;
  for (int64_t k = 0; k < Kp; k += 2) {
    tap_row_s16(s, x, zero, k, p0, n, a);
    tap_row_s16(s, x, zero, k + 1, p0, n, b);
    int16_t* dst = col + k * n;
    for (int64_t j = 0; j < n; ++j) {
      dst[2 * j] = a[j];
      dst[2 * j + 1] = b[j];
    }
  }
}

// Row-major float columns [K][n] for output pixels [p0, p0 + n); padding reads as 0.
void im2col_f32(const ConvShape& s, const float* x, int64_t p0, int64_t n, float* col) {
  for (int64_t k = 0; k < s.K; ++k) {
    float* dst = col + k * n;
    const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
    gather_tap<float>(s, x + ci * s.H * s.W, ky, kx, p0, n, [&](int64_t j, float v) { dst[j] = v; }, 0.f);
  }
}

// acc[i] += w * v[i] for n int16 values, exactly in int32. SSE2 has no 32-bit multiply, so the products come from
// the low and high halves of the 16 x 16 -> 32-bit product (mullo/mulhi), interleaved back into int32 lanes.
inline void madd_row_s16(int32_t* acc, const int16_t* v, int16_t w, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i wv = _mm_set1_epi16(w);
  for (; i + 8 <= n; i += 8) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i));
    const __m128i lo = _mm_mullo_epi16(x, wv), hi = _mm_mulhi_epi16(x, wv);
    __m128i* a = reinterpret_cast<__m128i*>(acc + i);
    _mm_storeu_si128(a, _mm_add_epi32(_mm_loadu_si128(a), _mm_unpacklo_epi16(lo, hi)));
    _mm_storeu_si128(a + 1, _mm_add_epi32(_mm_loadu_si128(a + 1), _mm_unpackhi_epi16(lo, hi)));
  }
#endif
  for (; i < n; ++i) acc[i] += int32_t(w) * v[i];
}

// Depthwise (groups == C == Co) at stride 1: the channel is widened once into a zero-padded int16 plane of row
// stride Wp = W + pl + pr; then output (oy, ox) of tap (ky, kx) reads plane[(oy + ky*dh) * Wp + ox + kx*dw], so each
// tap is ONE contiguous multiply-add over Ho * Wp accumulators (the Wp - Wo columns past each row's end are
// computed and dropped). Per-row overhead vanished: the reference network's 8x16 and 4x8 planes were rows of 16.
// `plane` holds Hp * Wp + slack values, `wide` Ho * Wp int32; the Ho x Wo result is compacted into acc.
void depthwise_acc_s16_flat(const ConvShape& s, int64_t Wp, int64_t plane_len, const int8_t* xc, int32_t zero,
                            const int16_t* w, int32_t* acc, int32_t* wide, int16_t* plane) {
  for (int64_t i = 0; i < plane_len; ++i) plane[i] = 0;
  for (int64_t iy = 0; iy < s.H; ++iy) widen_row(xc + iy * s.W, 1, int16_t(zero), s.W, plane + (iy + s.pt) * Wp + s.pl);
  const int64_t n = s.Ho * Wp;
  for (int64_t i = 0; i < n; ++i) wide[i] = 0;
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx)
      madd_row_s16(wide, plane + ky * s.dh * Wp + kx * s.dw, w[ky * s.kw + kx], n);
  for (int64_t oy = 0; oy < s.Ho; ++oy) std::memcpy(acc + oy * s.Wo, wide + oy * Wp, size_t(s.Wo) * sizeof(int32_t));
}

// Depthwise at any stride: each channel is a small stencil; accumulate tap by tap, one output row at a
// time, from a widened copy of the input row segment (`tmp`, Wo values) so the multiply-add vectorises.
void depthwise_acc_s16(const ConvShape& s, const int8_t* xc, int32_t zero, const int16_t* w, int32_t* acc,
                       int16_t* tmp) {
  for (int64_t p = 0; p < s.P(); ++p) acc[p] = 0;
  for (int64_t kx = 0; kx < s.kw; ++kx) {
    const int64_t off = kx * s.dw - s.pl;
    int64_t lo, hi;
    valid_columns(s.W, s.sw, off, &lo, &hi);
    lo = std::min(lo, s.Wo);
    hi = std::clamp(hi, lo, s.Wo);
    for (int64_t oy = 0; oy < s.Ho; ++oy) {
      int32_t* arow = acc + oy * s.Wo;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
        if (iy < 0 || iy >= s.H) continue;  // padding contributes (zero - zero) * w = 0
        widen_row(xc + iy * s.W + off + lo * s.sw, s.sw, int16_t(zero), hi - lo, tmp);
        madd_row_s16(arow + lo, tmp, w[ky * s.kw + kx], hi - lo);
      }
    }
  }
}

class Conv2dS8 final : public PreparedOp {
 public:
  ConvShape s{};
  int64_t Kp = 0, tile = 0;
  int32_t zero = 0;
  std::vector<int16_t> weights;  // [Co][Kp], packed once at load
  QuantEpilogue ep;
  GemmS16Fn gemm = nullptr;
  QuantRowFn quant_row = nullptr;

  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    const int8_t* r = ep.residual ? static_cast<const int8_t*>(b.in[kSlotResidual]) : nullptr;
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    if (depthwise) return run_depthwise(x, r, y, static_cast<char*>(b.scratch));
    int16_t* col = static_cast<int16_t*>(b.scratch);
    int32_t* acc = reinterpret_cast<int32_t*>(static_cast<char*>(b.scratch) + col_bytes());
    int16_t* tmp = reinterpret_cast<int16_t*>(static_cast<char*>(b.scratch) + col_bytes() + acc_bytes());
    const int64_t P = s.P();
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        const int8_t* xg = x + (n * s.C + g * s.Cig) * s.H * s.W;
        for (int64_t p0 = 0; p0 < P; p0 += tile) {
          const int64_t nt = std::min(tile, P - p0);
          im2col_s16(s, xg, zero, Kp, p0, nt, col, tmp);
          gemm(int(s.Cog), int(nt), int(Kp), weights.data() + g * s.Cog * Kp, col, acc, int(nt));
          for (int64_t c = 0; c < s.Cog; ++c) {
            const int64_t co = g * s.Cog + c, base = (n * s.Co + co) * P + p0;
            quant_row(ep, acc + c * nt, nt, int(co), 0, r ? r + base : nullptr, y + base);
          }
        }
      }
  }
  // scratch: acc [P] int32, then (flat) wide [Ho * Wp] int32 and plane [plane_len] int16, or (rows) tmp [Wo] int16
  void run_depthwise(const int8_t* x, const int8_t* r, int8_t* y, char* scratch) const {
    const int64_t P = s.P();
    int32_t* acc = reinterpret_cast<int32_t*>(scratch);
    int32_t* wide = reinterpret_cast<int32_t*>(scratch + dw_acc_bytes());  // (rows path: its tmp)
    int16_t* plane = flat ? reinterpret_cast<int16_t*>(scratch + dw_acc_bytes() + wide_bytes()) : nullptr;
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t c = 0; c < s.Co; ++c) {
        const int64_t base = (n * s.Co + c) * P;
        const int8_t* xc = x + (n * s.C + c) * s.H * s.W;
        if (flat)
          depthwise_acc_s16_flat(s, Wp, plane_len, xc, zero, weights.data() + c * Kp, acc, wide, plane);
        else
          depthwise_acc_s16(s, xc, zero, weights.data() + c * Kp, acc, reinterpret_cast<int16_t*>(wide));
        quant_row(ep, acc, P, int(c), 0, r ? r + base : nullptr, y + base);
      }
  }
  bool depthwise = false, flat = false;
  int64_t Wp = 0, plane_len = 0;
  size_t col_bytes() const { return size_t((Kp * tile * 2 + 63) / 64 * 64); }
  size_t dw_acc_bytes() const { return size_t((s.P() * 4 + 63) / 64 * 64); }
  size_t wide_bytes() const { return size_t((s.Ho * Wp * 4 + 63) / 64 * 64); }
  size_t acc_bytes() const { return size_t((s.Cog * tile * 4 + 63) / 64 * 64); }
  void finish(int64_t pad_bottom, int64_t pad_right) {
    depthwise = s.groups == s.C && s.Cig == 1 && s.Cog == 1;
    // flat needs stride 1 (a strided tap does not read a contiguous run)
    flat = depthwise && s.sh == 1 && s.sw == 1;
    Wp = s.W + s.pl + pad_right;
    // + slack: the last tap's run reads (kw - 1) * dw values past the padded plane (zeros)
    plane_len = (s.H + s.pt + pad_bottom) * Wp + (s.kw - 1) * s.dw;
    if (!depthwise)
      set_scratch_bytes(col_bytes() + acc_bytes() + size_t(tile * 2 * 2));
    else if (flat)
      set_scratch_bytes(dw_acc_bytes() + wide_bytes() + size_t(plane_len * 2));
    else
      set_scratch_bytes(dw_acc_bytes() + size_t(s.Wo * 2));
  }
};

class Conv2dF32 final : public PreparedOp {
 public:
  ConvShape s{};
  int64_t tile = 0;
  bool direct = false;  // 1x1, stride 1, no padding: the input already is the column matrix
  const float* weights = nullptr;  // [Co][K], used in place from the engine mapping
  FloatEpilogue ep;
  GemmF32Fn gemm = nullptr;

  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    const float* r = ep.residual ? static_cast<const float*>(b.in[kSlotResidual]) : nullptr;
    float* y = static_cast<float*>(b.out[0]);
    float* col = static_cast<float*>(b.scratch);
    const int64_t P = s.P();
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* xg = x + (n * s.C + g * s.Cig) * s.H * s.W;
        for (int64_t p0 = 0; p0 < P; p0 += tile) {
          const int64_t nt = std::min(tile, P - p0);
          const float* B = xg;
          if (!direct) {
            im2col_f32(s, xg, p0, nt, col);
            B = col;
          }
          float* yg = y + (n * s.Co + g * s.Cog) * P + p0;
          gemm(int(s.Cog), int(nt), int(s.K), weights + g * s.Cog * s.K, B, yg, int(P));
          for (int64_t c = 0; c < s.Cog; ++c) {
            const int64_t co = g * s.Cog + c;
            float* row = yg + c * P;
            const float* rr = r ? r + (n * s.Co + co) * P + p0 : nullptr;
            const float bias = ep.bias ? ep.bias[co] : 0.f;
            for (int64_t j = 0; j < nt; ++j) row[j] = activate(ep.activation, row[j] + bias + (rr ? rr[j] : 0.f));
          }
        }
      }
  }
};

Status read_shape(const OpView& op, ConvShape* s) {
  const Value& x = op.in(0);
  const Value& w = op.in(1);
  const Value& y = op.out(0);
  if (x.shape.rank != 4 || w.shape.rank != 4 || y.shape.rank != 4)
    return op.error("expects rank-4 x, weight and output (NCHW), got " + x.describe() + ", " + w.describe() + ", " + y.describe());
  if (w.kind != format::kConstant) return op.error("weight must be a constant");
  s->N = x.shape[0]; s->C = x.shape[1]; s->H = x.shape[2]; s->W = x.shape[3];
  s->Co = w.shape[0]; s->kh = w.shape[2]; s->kw = w.shape[3];
  s->sh = op.attr_int("stride_h", 1); s->sw = op.attr_int("stride_w", 1);
  s->pt = op.attr_int("pad_top", 0); s->pl = op.attr_int("pad_left", 0);
  const int64_t pb = op.attr_int("pad_bottom", 0), pr = op.attr_int("pad_right", 0);
  s->dh = op.attr_int("dilation_h", 1); s->dw = op.attr_int("dilation_w", 1);
  s->groups = op.attr_int("groups", 1);
  if (s->sh < 1 || s->sw < 1 || s->dh < 1 || s->dw < 1 || s->sh > 64 || s->sw > 64 || s->dh > 64 || s->dw > 64)
    return op.error("stride and dilation must be in 1..64");
  if (s->pt < 0 || s->pl < 0 || pb < 0 || pr < 0 || s->pt >= s->kh * s->dh || pb >= s->kh * s->dh ||
      s->pl >= s->kw * s->dw || pr >= s->kw * s->dw)
    return op.error("padding must be >= 0 and smaller than the dilated kernel");
  if (s->groups < 1 || s->C % s->groups || s->Co % s->groups)
    return op.error("groups " + std::to_string(s->groups) + " must divide input channels " + std::to_string(s->C) +
                    " and output channels " + std::to_string(s->Co));
  s->Cig = s->C / s->groups;
  s->Cog = s->Co / s->groups;
  if (w.shape[1] != s->Cig) return op.error("weight " + w.shape.str() + " needs C/groups = " + std::to_string(s->Cig) + " in dim 1");
  s->K = s->Cig * s->kh * s->kw;
  const int64_t eh = s->H + s->pt + pb - s->dh * (s->kh - 1) - 1, ew = s->W + s->pl + pr - s->dw * (s->kw - 1) - 1;
  if (eh < 0 || ew < 0) return op.error("kernel larger than the padded input");
  s->Ho = eh / s->sh + 1;
  s->Wo = ew / s->sw + 1;
  const int64_t expect[4] = {s->N, s->Co, s->Ho, s->Wo};
  for (int d = 0; d < 4; ++d)
    if (y.shape[d] != expect[d])
      return op.error("output " + y.shape.str() + " does not match the computed [" + std::to_string(s->N) + ", " +
                      std::to_string(s->Co) + ", " + std::to_string(s->Ho) + ", " + std::to_string(s->Wo) + "]");
  if (s->K > 16384) return op.error("reduction length C/groups*kh*kw above 16384 is not supported");
  return Status::Ok();
}

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 7, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom", "pad_right",
                                     "dilation_h", "dilation_w", "groups", WV_EPILOGUE_ATTRS}));
  ConvShape s{};
  WV_RETURN_IF_ERROR(read_shape(op, &s));
  const Value& x = op.in(0);
  const Value& w = op.in(1);
  if (x.dtype == DType::i8) {
    if (w.dtype != DType::i8) return op.error("int8 input needs int8 weights, got " + w.describe());
    auto k = std::make_unique<Conv2dS8>();
    k->s = s;
    WV_RETURN_IF_ERROR(make_quant_epilogue(op, s.Co, &k->ep));
    k->zero = x.zero_point;
    k->Kp = (s.K + 1) / 2 * 2;
    k->weights.assign(size_t(s.Co * k->Kp), 0);
    const int8_t* wq = static_cast<const int8_t*>(w.data);
    for (int64_t co = 0; co < s.Co; ++co)
      for (int64_t kk = 0; kk < s.K; ++kk) k->weights[size_t(co * k->Kp + kk)] = wq[co * s.K + kk];
    k->tile = pick_tile(k->Kp * 2, s.P());
    k->gemm = select_gemm_s16();
    k->quant_row = select_quant_row();
    k->finish(op.attr_int("pad_bottom", 0), op.attr_int("pad_right", 0));
    k->set_work(s.N * s.Co * s.P() * s.K);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::f32) {
    if (w.dtype != DType::f32) return op.error("float32 input needs float32 weights, got " + w.describe());
    auto k = std::make_unique<Conv2dF32>();
    k->s = s;
    WV_RETURN_IF_ERROR(make_float_epilogue(op, s.Co, &k->ep));
    k->weights = static_cast<const float*>(w.data);
    k->direct = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0 && s.H == s.Ho && s.W == s.Wo;
    k->tile = k->direct ? s.P() : pick_tile(s.K * 4, s.P());
    k->gemm = select_gemm_f32();
    k->set_work(s.N * s.Co * s.P() * s.K);
    if (!k->direct) k->set_scratch_bytes(size_t(s.K * k->tile * 4));
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_conv2d{"conv2d", &create};

}  // namespace wv::kernels
