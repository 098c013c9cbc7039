// int8 conv2d as an indirect GEMM (every convolution but depthwise). The input is converted once into the
// micro-kernel's A format as NHWC rows with the horizontal padding written in (a straight pass from an NHWC
// input, a transposing one from NCHW), plus one row of padding. With dilation 1 along x, the kw taps of a kernel
// row are then adjacent in memory, so a kernel row is ONE tap of kw * channels elements: an output pixel reads a
// 3x3 conv through 3 pointers (an image stem's 3-channel taps are one 12-byte run each, not nine 4-byte reads),
// with no im2col; a 1x1 conv is a plain GEMM. Only rows outside the image need a test (they point at the
// padding row). The weights were packed at load in the same tap order with the bias and the input zero point
// folded in (qgemm/pack.cpp); the requantize epilogue runs on each register tile as it completes.
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
constexpr int64_t kMaxTile = 1024;  // kRowGroup * mr * nr of every micro-kernel (ukernels.cpp) fits

class Conv2dS8Igemm final : public PreparedOp {
 public:
  ConvShape s{};
  int32_t zero = 0;
  const qgemm::Ukernel* uk = nullptr;
  std::vector<qgemm::PackedWeights> packed;  // one per group
  QuantEpilogue ep;                          // bias folded into the packed weights, so ep.bias is null
  QuantTileFn quant_tile = nullptr;
  bool in_nhwc = false, out_nhwc = false;
  int64_t kc_pixel = 0;    // elements per input pixel in the A rows: Cig rounded up to the micro-kernel's kr
  int64_t Wp = 0;          // pixels per A row: pad_left + W + pad_right
  bool row_taps = false;   // dilation_w == 1: a tap is a whole kernel row (kw adjacent pixels)
  size_t group_bytes = 0;  // one group's A rows (H rows of Wp pixels) and its padding row (Wp pixels)
  std::vector<size_t> tap_column;  // per tap: bytes from the output pixel's first input column to the tap's

  // The epilogue of image n, group g: requantize a finished tile into y (NHWC, or NCHW at a chain's end).
  auto store_for(int64_t n, int64_t g, const int8_t* r, int8_t* y) const {
    return [this, n, g, r, y](int64_t p0, int64_t rows, int64_t n0, int64_t cols, const int32_t* c) {
      const int64_t P = s.P();
      const int64_t co0 = g * s.Cog + n0;
      if (out_nhwc) {
        const int64_t base = (n * P + p0) * s.Co + co0;
        quant_tile(ep, c, uk->nr, rows, cols, int(co0), r ? r + base : nullptr, y + base, s.Co);
      } else {  // NCHW (where the NHWC region ends): the tile is requantized as NHWC, then scattered
        int8_t tile[kMaxTile], res[kMaxTile];
        const int64_t base = (n * s.Co + co0) * P + p0;  // channel j, pixel m at base + j * P + m
        const int8_t* res_tile = nullptr;
        if (r) {
          for (int64_t m = 0; m < rows; ++m)
            for (int64_t j = 0; j < cols; ++j) res[m * cols + j] = r[base + j * P + m];
          res_tile = res;
        }
        quant_tile(ep, c, uk->nr, rows, cols, int(co0), res_tile, tile, cols);
        for (int64_t j = 0; j < cols; ++j)
          for (int64_t m = 0; m < rows; ++m) y[base + j * P + m] = tile[m * cols + j];
      }
    };
  }

  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    const int8_t* r = ep.residual ? static_cast<const int8_t*>(b.in[kSlotResidual]) : nullptr;
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    unsigned char* a_all = static_cast<unsigned char*>(b.scratch);
    const int64_t HW = s.H * s.W, P = s.P();
    const size_t pixel_bytes = size_t(kc_pixel) * qgemm::a_element_bytes(uk->a_format), row_bytes = size_t(Wp) * pixel_bytes;
    const int64_t chunk = std::max<int64_t>(1, (s.H + 4 * b.pool->threads() - 1) / (4 * b.pool->threads()));
    for (int64_t n = 0; n < s.N; ++n) {
      const int8_t* xn = x + n * s.C * HW;
      b.pool->parallel_for(s.groups * ((s.H + chunk - 1) / chunk), [&](int64_t task, int) {
        const int64_t g = task % s.groups, y0 = task / s.groups * chunk, y1 = std::min(s.H, y0 + chunk);
        unsigned char* a = a_all + size_t(g) * group_bytes;
        for (int64_t iy = y0; iy < y1; ++iy) prepare_row(xn, g, iy, a + size_t(iy) * row_bytes);
        if (y1 == s.H) qgemm::fill_padding_row(uk->a_format, Wp * kc_pixel, zero, a + size_t(s.H) * row_bytes);
      });
      for (int64_t g = 0; g < s.groups; ++g) {
        const unsigned char* a = a_all + size_t(g) * group_bytes;
        const unsigned char* pad = a + size_t(s.H) * row_bytes;
        const qgemm::PackedWeights& w = packed[size_t(g)];
        // Everything the pointer loop reads is copied into the closure by value: through references the
        // compiler reloaded it after every pointer store (they may alias), which cost a third of a stem conv.
        const int64_t mr = uk->mr, ks = w.ks, taps_per_row = ks / s.kh, kh = s.kh, H = s.H, Wo = s.Wo;
        const int64_t sh = s.sh, pt = s.pt, dh = s.dh;
        const size_t step = size_t(s.sw) * pixel_bytes;
        const size_t* columns = tap_column.data();
        auto fill_rows = [=](int64_t p0, int64_t rows, const void** ptrs) {
          int64_t oy = p0 / Wo, ox = p0 % Wo;
          if (ox + rows <= Wo) {  // the block lies in one output row: per tap, pointers one stride apart
            for (int64_t ky = 0; ky < kh; ++ky) {
              const int64_t iy = oy * sh - pt + ky * dh;
              const bool inside = iy >= 0 && iy < H;
              const unsigned char* base = inside ? a + size_t(iy) * row_bytes + size_t(ox) * step : pad;
              const size_t stride = inside ? step : 0;
              for (int64_t t = ky * taps_per_row; t < (ky + 1) * taps_per_row; ++t)
                for (int64_t m = 0; m < rows; ++m) ptrs[t * mr + m] = base + columns[t] + size_t(m) * stride;
            }
          } else {
            for (int64_t m = 0; m < rows; ++m) {
              for (int64_t ky = 0; ky < kh; ++ky) {
                const int64_t iy = oy * sh - pt + ky * dh;
                const unsigned char* base = (iy >= 0 && iy < H) ? a + size_t(iy) * row_bytes + size_t(ox) * step : pad;
                for (int64_t t = ky * taps_per_row; t < (ky + 1) * taps_per_row; ++t) ptrs[t * mr + m] = base + columns[t];
              }
              if (++ox == Wo) { ox = 0; ++oy; }
            }
          }
          for (int64_t m = rows; m < mr; ++m)
            for (int64_t t = 0; t < ks; ++t) ptrs[t * mr + m] = ptrs[t * mr + rows - 1];
        };
        qgemm::run_igemm(b, *uk, w, P, s.Cog, fill_rows, store_for(n, g, r, y));
      }
    }
  }

  // Input row iy of group g as one A row: pad_left padding pixels, the W pixels, pad_right padding pixels.
  void prepare_row(const int8_t* xn, int64_t g, int64_t iy, unsigned char* dst) const {
    const size_t es = qgemm::a_element_bytes(uk->a_format);
    qgemm::fill_padding_row(uk->a_format, s.pl * kc_pixel, zero, dst);
    unsigned char* body = dst + size_t(s.pl * kc_pixel) * es;
    if (in_nhwc)
      qgemm::prepare_rows(uk->a_format, xn + iy * s.W * s.C + g * s.Cig, s.C, 1, s.Cig, kc_pixel, zero, 0, s.W, body);
    else
      qgemm::prepare_rows(uk->a_format, xn + (g * s.Cig * s.H + iy) * s.W, 1, s.H * s.W, s.Cig, kc_pixel, zero, 0, s.W,
                          body);
    qgemm::fill_padding_row(uk->a_format, (Wp - s.pl - s.W) * kc_pixel, zero, body + size_t(s.W * kc_pixel) * es);
  }
};

}  // namespace

Result<std::unique_ptr<PreparedOp>> create_conv2d_s8_igemm(const OpView& op, const ConvShape& s) {
  auto k = std::make_unique<Conv2dS8Igemm>();
  k->s = s;
  WV_RETURN_IF_ERROR(make_quant_epilogue(op, s.Co, &k->ep));
  const int32_t* bias = k->ep.bias;
  k->ep.bias = nullptr;
  k->zero = op.in(0).zero_point;
  k->uk = &qgemm::select_ukernel();
  if (qgemm::kRowGroup * k->uk->mr * k->uk->nr > kMaxTile) return op.error("micro-kernel tile too large for the NCHW epilogue");
  k->quant_tile = select_quant_tile();
  k->in_nhwc = op.in(0).layout == Layout::nhwc;
  k->out_nhwc = op.out(0).layout == Layout::nhwc;
  const int64_t pr = op.attr_int("pad_right", 0);
  k->kc_pixel = (s.Cig + k->uk->kr - 1) / k->uk->kr * k->uk->kr;
  k->Wp = s.pl + s.W + pr;
  k->row_taps = s.dw == 1;
  const size_t es = qgemm::a_element_bytes(k->uk->a_format), pixel_bytes = size_t(k->kc_pixel) * es;
  // Taps: one per kernel row (row_taps), else one per kernel element; each tap_len elements long.
  const int64_t taps_per_row = k->row_taps ? 1 : s.kw, taps = s.kh * taps_per_row;
  const int64_t tap_len = (k->row_taps ? s.kw : 1) * k->kc_pixel;
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t t = 0; t < taps_per_row; ++t) k->tap_column.push_back(size_t(t * s.dw) * pixel_bytes);
  // weight [Co][Cig][kh][kw] -> per group [Cog][tap][tap_len], element (kx, ci) of a kernel row at kx * kc_pixel +
  // ci (zero for the padded channels)
  const int8_t* w = static_cast<const int8_t*>(op.in(1).data);
  std::vector<int8_t> reordered(size_t(s.Cog * taps * tap_len));
  size_t packed_bytes = 0;
  for (int64_t g = 0; g < s.groups; ++g) {
    std::fill(reordered.begin(), reordered.end(), int8_t(0));
    for (int64_t c = 0; c < s.Cog; ++c)
      for (int64_t ky = 0; ky < s.kh; ++ky)
        for (int64_t kx = 0; kx < s.kw; ++kx)
          for (int64_t ci = 0; ci < s.Cig; ++ci) {
            const int64_t t = ky * taps_per_row + (k->row_taps ? 0 : kx), e = (k->row_taps ? kx : 0) * k->kc_pixel + ci;
            reordered[size_t((c * taps + t) * tap_len + e)] = w[((g * s.Cog + c) * s.Cig + ci) * s.taps() + ky * s.kw + kx];
          }
    k->packed.push_back(qgemm::pack_weights(*k->uk, reordered.data(), bias ? bias + g * s.Cog : nullptr, s.Cog, taps,
                                            tap_len, k->zero));
    packed_bytes += k->packed.back().bytes.size();
  }
  k->group_bytes = align64(size_t((s.H + 1) * k->Wp) * pixel_bytes);
  k->set_scratch_bytes(k->group_bytes * size_t(s.groups));
  k->set_thread_scratch_bytes(qgemm::driver_thread_scratch(*k->uk, taps));
  k->set_packed_bytes(packed_bytes);
  k->set_work(s.N * s.Co * s.P() * s.K);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace wv::kernels
