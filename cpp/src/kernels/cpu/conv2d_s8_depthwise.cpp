// int8 depthwise conv2d (groups == C == Co) over NHWC rows: the input is widened once into int16 (x - z) rows
// of Cp channels plus a zero row for padding taps, and each output pixel accumulates its taps over all
// channels at once, 16 channels per vector (GCC vector extensions; on x86-64 the accumulation is compiled for
// AVX-512BW, AVX2 and the baseline, picked by the loader: the arithmetic is exact, so every clone gives the
// same bytes). (x - z) * w fits int16 exactly (|x - z| <= 255, |w| <= 128 gives |product| <= 32640), so one
// 16-bit multiply per 16 channels and tap, widened into int32 accumulators. Any stride, dilation and padding.
// Pixels go through the tile epilogue kPixels at a time.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv2d_shape.hpp"
#include "kernels/cpu/epilogue.hpp"
#include "kernels/cpu/qgemm/igemm_driver.hpp"
#include "kernels/cpu/requantize_row.hpp"

namespace wv::kernels {
namespace {

using qgemm::align64;
typedef int16_t v16s __attribute__((vector_size(32)));
typedef int32_t v16i __attribute__((vector_size(64)));

constexpr int64_t kLanes = 16;
constexpr int64_t kPixels = 4;  // output pixels per epilogue call

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)  // ifunc resolvers run before the sanitizers start
#define WV_DEPTHWISE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WV_DEPTHWISE_CLONES
#endif

// acc[c] = bias[c] + sum over taps t of x_t[c] * w[t * Cp + c], c < Cp (a multiple of kLanes).
WV_DEPTHWISE_CLONES
void accumulate_taps(const int16_t* const* x, int64_t taps, const int16_t* w, const int32_t* bias, int64_t Cp,
                     int32_t* acc) {
  for (int64_t c0 = 0; c0 < Cp; c0 += kLanes) {
    v16i sum;
    std::memcpy(&sum, bias + c0, sizeof(sum));
    for (int64_t t = 0; t < taps; ++t) {
      v16s xv, wv;
      std::memcpy(&xv, x[t] + c0, sizeof(xv));
      std::memcpy(&wv, w + t * Cp + c0, sizeof(wv));
      sum += __builtin_convertvector(xv * wv, v16i);
    }
    std::memcpy(acc + c0, &sum, sizeof(sum));
  }
}

class Conv2dS8Depthwise final : public PreparedOp {
 public:
  ConvShape s{};
  int32_t zero = 0;
  int64_t Cp = 0;                // channels rounded up to kLanes
  std::vector<int16_t> weights;  // [tap][Cp]
  std::vector<int32_t> bias;     // [Cp]
  QuantEpilogue ep;              // bias applied here, so ep.bias is null
  QuantTileFn quant_tile = nullptr;
  std::vector<int64_t> tap_offset;  // elements from tap (0, 0) to tap t, for pixels away from the border
  bool in_nhwc = false, out_nhwc = false;

  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    const int8_t* r = ep.residual ? static_cast<const int8_t*>(b.in[kSlotResidual]) : nullptr;
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    int16_t* a = static_cast<int16_t*>(b.scratch);
    const int64_t HW = s.H * s.W, P = s.P(), taps = s.taps();
    const int16_t* pad = a + HW * Cp;
    for (int64_t n = 0; n < s.N; ++n) {
      const int8_t* xn = x + n * s.C * HW;
      if (in_nhwc)
        qgemm::prepare_rows_parallel(b, qgemm::AFormat::s16_centered, xn, s.C, 1, s.C, Cp, zero, HW, a);
      else
        qgemm::prepare_rows_parallel(b, qgemm::AFormat::s16_centered, xn, 1, HW, s.C, Cp, zero, HW, a);
      std::memset(a + HW * Cp, 0, size_t(Cp) * sizeof(int16_t));
      const int64_t blocks = (P + kPixels - 1) / kPixels;
      const int64_t per = std::max<int64_t>(4, (blocks + 4 * b.pool->threads() - 1) / (4 * b.pool->threads()));
      b.pool->parallel_for((blocks + per - 1) / per, [&](int64_t task, int thread) {
        unsigned char* ts = static_cast<unsigned char*>(b.thread_scratch_of(thread));
        const int16_t** ptrs = reinterpret_cast<const int16_t**>(ts);
        int32_t* acc = reinterpret_cast<int32_t*>(ts + align64(size_t(taps) * sizeof(void*)));
        int8_t* tile = reinterpret_cast<int8_t*>(acc + kPixels * Cp);
        int8_t* res = tile + kPixels * Cp;
        for (int64_t blk = task * per; blk < std::min(blocks, (task + 1) * per); ++blk) {
          const int64_t p0 = blk * kPixels, rows = std::min(kPixels, P - p0);
          for (int64_t m = 0; m < rows; ++m) {
            const int64_t p = p0 + m, oy = p / s.Wo, ox = p % s.Wo;
            const int64_t iy0 = s.in_y(oy, 0), ix0 = s.in_x(ox, 0);
            if (iy0 >= 0 && iy0 + s.dh * (s.kh - 1) < s.H && ix0 >= 0 && ix0 + s.dw * (s.kw - 1) < s.W) {
              const int16_t* base = a + (iy0 * s.W + ix0) * Cp;
              for (int64_t t = 0; t < taps; ++t) ptrs[t] = base + tap_offset[size_t(t)];
            } else {
              for (int64_t ky = 0, t = 0; ky < s.kh; ++ky)
                for (int64_t kx = 0; kx < s.kw; ++kx, ++t) {
                  const int64_t iy = iy0 + ky * s.dh, ix = ix0 + kx * s.dw;
                  ptrs[t] = (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W) ? a + (iy * s.W + ix) * Cp : pad;
                }
            }
            accumulate_taps(ptrs, taps, weights.data(), bias.data(), Cp, acc + m * Cp);
          }
          if (out_nhwc) {
            const int64_t base = (n * P + p0) * s.C;
            quant_tile(ep, acc, Cp, rows, s.C, 0, r ? r + base : nullptr, y + base, s.C);
          } else {  // NCHW (where the NHWC region ends): requantize the pixels' channels, then scatter
            if (r)
              for (int64_t m = 0; m < rows; ++m)
                for (int64_t c = 0; c < s.C; ++c) res[m * s.C + c] = r[(n * s.C + c) * P + p0 + m];
            quant_tile(ep, acc, Cp, rows, s.C, 0, r ? res : nullptr, tile, s.C);
            for (int64_t c = 0; c < s.C; ++c)
              for (int64_t m = 0; m < rows; ++m) y[(n * s.C + c) * P + p0 + m] = tile[m * s.C + c];
          }
        }
      });
    }
  }
};
}  // namespace

Result<std::unique_ptr<PreparedOp>> create_conv2d_s8_depthwise(const OpView& op, const ConvShape& s) {
  auto k = std::make_unique<Conv2dS8Depthwise>();
  k->s = s;
  WV_RETURN_IF_ERROR(make_quant_epilogue(op, s.Co, &k->ep));
  k->zero = op.in(0).zero_point;
  k->quant_tile = select_quant_tile();
  k->in_nhwc = op.in(0).layout == Layout::nhwc;
  k->out_nhwc = op.out(0).layout == Layout::nhwc;
  const int64_t taps = s.taps();
  k->Cp = (s.C + kLanes - 1) / kLanes * kLanes;
  k->weights.assign(size_t(taps * k->Cp), 0);
  k->bias.assign(size_t(k->Cp), 0);
  const int8_t* w = static_cast<const int8_t*>(op.in(1).data);  // [C][1][kh][kw]
  for (int64_t c = 0; c < s.C; ++c) {
    for (int64_t t = 0; t < taps; ++t) k->weights[size_t(t * k->Cp + c)] = w[c * taps + t];
    k->bias[size_t(c)] = k->ep.bias ? k->ep.bias[c] : 0;
  }
  k->ep.bias = nullptr;
  k->set_scratch_bytes(align64(size_t((s.H * s.W + 1) * k->Cp) * sizeof(int16_t)));
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx) k->tap_offset.push_back((ky * s.dh * s.W + kx * s.dw) * k->Cp);
  // pointers [taps], then acc [kPixels][Cp] int32, then the NCHW path's requantized and residual tiles (int8)
  k->set_thread_scratch_bytes(align64(size_t(taps) * sizeof(void*)) +
                              align64(size_t(kPixels * k->Cp) * (sizeof(int32_t) + 2)));
  k->set_packed_bytes((k->weights.size() * sizeof(int16_t)) + k->bias.size() * sizeof(int32_t));
  k->set_work(s.N * s.C * s.P() * taps);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace wv::kernels
