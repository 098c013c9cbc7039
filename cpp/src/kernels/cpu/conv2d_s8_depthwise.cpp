// int8 depthwise conv2d (groups == C == Co) over NHWC rows: the input is widened once into int16 (x - z) rows
// of Cp channels plus a zero row for padding taps, and each output pixel accumulates its taps over all
// channels at once, 8 channels per vector (GCC vector extensions: SSE2/AVX2 on x86-64, NEON on aarch64).
// (x - z) * w fits int16 exactly (|x - z| <= 255, |w| <= 128 gives |product| <= 32640), so one 16-bit
// multiply per 8 channels and tap, widened into int32 accumulators. Any stride, dilation and padding.
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
typedef int16_t v8s __attribute__((vector_size(16)));
typedef int32_t v8i __attribute__((vector_size(32)));

constexpr int64_t kLanes = 8;

class Conv2dS8Depthwise final : public PreparedOp {
 public:
  ConvShape s{};
  int32_t zero = 0;
  int64_t Cp = 0;                // channels rounded up to kLanes
  std::vector<int16_t> weights;  // [tap][Cp]
  std::vector<int32_t> bias;     // [Cp]
  QuantEpilogue ep;              // bias applied here, so ep.bias is null
  QuantRowFn quant_row = nullptr;
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
      const int64_t chunk = std::max<int64_t>(16, (P + 4 * b.pool->threads() - 1) / (4 * b.pool->threads()));
      b.pool->parallel_for((P + chunk - 1) / chunk, [&](int64_t task, int thread) {
        unsigned char* ts = static_cast<unsigned char*>(b.thread_scratch_of(thread));
        const int16_t** ptrs = reinterpret_cast<const int16_t**>(ts);
        int32_t* acc = reinterpret_cast<int32_t*>(ts + align64(size_t(taps) * sizeof(void*)));
        for (int64_t p = task * chunk; p < std::min(P, (task + 1) * chunk); ++p) {
          const int64_t oy = p / s.Wo, ox = p % s.Wo;
          for (int64_t ky = 0, t = 0; ky < s.kh; ++ky)
            for (int64_t kx = 0; kx < s.kw; ++kx, ++t) {
              const int64_t iy = s.in_y(oy, ky), ix = s.in_x(ox, kx);
              ptrs[t] = (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W) ? a + (iy * s.W + ix) * Cp : pad;
            }
          accumulate(ptrs, taps, acc);
          if (out_nhwc) {
            const int64_t base = (n * P + p) * s.C;
            quant_row(ep, acc, s.C, 0, 1, r ? r + base : nullptr, y + base);
          } else {  // NCHW (where the NHWC region ends): requantize the pixel's channels, then scatter
            int8_t* row = reinterpret_cast<int8_t*>(acc + Cp);
            int8_t* res = row + Cp;
            if (r)
              for (int64_t c = 0; c < s.C; ++c) res[c] = r[(n * s.C + c) * P + p];
            quant_row(ep, acc, s.C, 0, 1, r ? res : nullptr, row);
            for (int64_t c = 0; c < s.C; ++c) y[(n * s.C + c) * P + p] = row[c];
          }
        }
      });
    }
  }

  // acc[c] = bias[c] + sum over taps of (x - z)[c] * w[t][c], c < Cp.
  void accumulate(const int16_t* const* ptrs, int64_t taps, int32_t* acc) const {
    for (int64_t c0 = 0; c0 < Cp; c0 += kLanes) {
      v8i sum;
      std::memcpy(&sum, bias.data() + c0, sizeof(sum));
      for (int64_t t = 0; t < taps; ++t) {
        v8s xv, wv;
        std::memcpy(&xv, ptrs[t] + c0, sizeof(xv));
        std::memcpy(&wv, weights.data() + t * Cp + c0, sizeof(wv));
        sum += __builtin_convertvector(xv * wv, v8i);
      }
      std::memcpy(acc + c0, &sum, sizeof(sum));
    }
  }
};

}  // namespace

Result<std::unique_ptr<PreparedOp>> create_conv2d_s8_depthwise(const OpView& op, const ConvShape& s) {
  auto k = std::make_unique<Conv2dS8Depthwise>();
  k->s = s;
  WV_RETURN_IF_ERROR(make_quant_epilogue(op, s.Co, &k->ep));
  k->zero = op.in(0).zero_point;
  k->quant_row = select_quant_row();
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
  // pointers [taps], then acc [Cp] int32, then the NCHW path's requantized row and residual row [Cp] int8 each
  k->set_thread_scratch_bytes(align64(size_t(taps) * sizeof(void*)) + align64(size_t(k->Cp) * (sizeof(int32_t) + 2)));
  k->set_packed_bytes((k->weights.size() * sizeof(int16_t)) + k->bias.size() * sizeof(int32_t));
  k->set_work(s.N * s.C * s.P() * taps);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace wv::kernels
