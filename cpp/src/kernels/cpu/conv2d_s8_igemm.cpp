// int8 conv2d as an indirect GEMM (every convolution but depthwise): the input is converted once into the
// micro-kernel's A format as NHWC rows (a straight pass from an NHWC input, a transposing one from NCHW), plus
// one padding row; each output pixel then reads its taps through pointers into those rows, so a 3x3 conv
// needs no im2col and a 1x1 conv is a plain GEMM. The weights were packed at load with the bias and the input
// zero point folded in (qgemm/pack.cpp); the requantize epilogue runs on each register tile as it completes.
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
constexpr int64_t kMaxTile = 1024;  // mr * nr of every micro-kernel (ukernels.cpp) fits

class Conv2dS8Igemm final : public PreparedOp {
 public:
  ConvShape s{};
  int32_t zero = 0;
  const qgemm::Ukernel* uk = nullptr;
  std::vector<qgemm::PackedWeights> packed;  // one per group
  QuantEpilogue ep;                          // bias folded into the packed weights, so ep.bias is null
  QuantTileFn quant_tile = nullptr;
  bool in_nhwc = false, out_nhwc = false;
  size_t group_bytes = 0;  // one group's A rows: (H * W + 1) rows of kc elements, the last one padding
  std::vector<size_t> tap_offset;  // bytes from tap (0, 0) to tap t in the A rows, for pixels away from the border
  // Few input channels (an image stem): a tap is only kc_tap <= 2 * kr elements, too little work per pointer, so
  // each output pixel's taps are first gathered into one dense row of taps * kc_tap elements (a one-tap GEMM).
  bool dense = false;
  int64_t kc_tap = 0;
  size_t dense_offset = 0;  // where the dense rows start in the scratch

  // The A row (or the padding row) tap t of output pixel (oy, ox) reads.
  const unsigned char* tap_row(const unsigned char* a, const unsigned char* pad, size_t row_bytes, int64_t oy,
                               int64_t ox, int64_t ky, int64_t kx) const {
    const int64_t iy = s.in_y(oy, ky), ix = s.in_x(ox, kx);
    return (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W) ? a + size_t(iy * s.W + ix) * row_bytes : pad;
  }

  // memcpy of a few bytes with the common sizes known at compile time (a library call costs more than the copy).
  static void copy_small(unsigned char* d, const unsigned char* src, size_t n) {
    switch (n) {
      case 8: std::memcpy(d, src, 8); return;
      case 12: std::memcpy(d, src, 12); return;
      case 16: std::memcpy(d, src, 16); return;
      case 24: std::memcpy(d, src, 24); return;
      case 28: std::memcpy(d, src, 28); return;
      case 32: std::memcpy(d, src, 32); return;
      default: std::memcpy(d, src, n);
    }
  }

  // Dense rows for output pixels [p0, p1): row p = the taps' A rows one after another. Walked per output row and
  // kernel row, so the kw taps of a kernel row (adjacent input pixels when dilation is 1) are one copy.
  void gather_dense(const unsigned char* a, const unsigned char* pad, size_t row_bytes, int64_t p0, int64_t p1,
                    unsigned char* dst) const {
    const size_t dense_row = size_t(s.taps()) * row_bytes, kernel_row = size_t(s.kw) * row_bytes;
    for (int64_t p = p0; p < p1;) {
      const int64_t oy = p / s.Wo, ox0 = p % s.Wo, ox1 = std::min(s.Wo, ox0 + (p1 - p));
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = s.in_y(oy, ky);
        for (int64_t ox = ox0; ox < ox1; ++ox) {
          unsigned char* d = dst + size_t(oy * s.Wo + ox) * dense_row + size_t(ky) * kernel_row;
          const int64_t ix0 = s.in_x(ox, 0), ix1 = ix0 + (s.kw - 1) * s.dw;
          if (iy >= 0 && iy < s.H && ix0 >= 0 && ix1 < s.W && s.dw == 1) {
            copy_small(d, a + size_t(iy * s.W + ix0) * row_bytes, kernel_row);
          } else {
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const unsigned char* src = tap_row(a, pad, row_bytes, oy, ox, ky, kx);
              if (row_bytes == 4) std::memcpy(d + size_t(kx) * 4, src, 4);
              else copy_small(d + size_t(kx) * row_bytes, src, row_bytes);
            }
          }
        }
      }
      p += ox1 - ox0;
    }
  }

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
    const int64_t HW = s.H * s.W, P = s.P(), kc = dense ? kc_tap : packed[0].kc;
    const size_t row_bytes = size_t(kc) * qgemm::a_element_bytes(uk->a_format);
    for (int64_t n = 0; n < s.N; ++n) {
      const int8_t* xn = x + n * s.C * HW;
      for (int64_t g = 0; g < s.groups; ++g) {
        unsigned char* a = a_all + size_t(g) * group_bytes;
        if (in_nhwc)
          qgemm::prepare_rows_parallel(b, uk->a_format, xn + g * s.Cig, s.C, 1, s.Cig, kc, zero, HW, a);
        else
          qgemm::prepare_rows_parallel(b, uk->a_format, xn + g * s.Cig * HW, 1, HW, s.Cig, kc, zero, HW, a);
        qgemm::fill_padding_row(uk->a_format, kc, zero, a + size_t(HW) * row_bytes);
      }
      if (dense) {  // groups == 1
        const unsigned char* a = a_all;
        unsigned char* rows_out = a_all + dense_offset;
        const size_t dense_row = size_t(s.taps()) * row_bytes;
        const int64_t chunk = std::max<int64_t>(64, (P + 4 * b.pool->threads() - 1) / (4 * b.pool->threads()));
        b.pool->parallel_for((P + chunk - 1) / chunk, [&](int64_t task, int) {
          gather_dense(a, a + size_t(HW) * row_bytes, row_bytes, task * chunk, std::min(P, (task + 1) * chunk), rows_out);
        });
        auto fill_dense = [&](int64_t p0, int64_t rows, const void** ptrs) {
          for (int64_t m = 0; m < uk->mr; ++m) ptrs[m] = rows_out + size_t(p0 + std::min<int64_t>(m, rows - 1)) * dense_row;
        };
        qgemm::run_igemm(b, *uk, packed[0], P, s.Cog, fill_dense, store_for(n, 0, r, y));
        continue;
      }
      for (int64_t g = 0; g < s.groups; ++g) {
        const unsigned char* a = a_all + size_t(g) * group_bytes;
        const unsigned char* pad = a + size_t(HW) * row_bytes;
        auto fill_rows = [&](int64_t p0, int64_t rows, const void** ptrs) {
          const int64_t mr = uk->mr, ks = s.taps();
          int64_t oy = p0 / s.Wo, ox = p0 % s.Wo;
          for (int64_t m = 0; m < mr; ++m) {
            if (m < rows) {
              const int64_t iy0 = s.in_y(oy, 0), ix0 = s.in_x(ox, 0);
              if (iy0 >= 0 && iy0 + s.dh * (s.kh - 1) < s.H && ix0 >= 0 && ix0 + s.dw * (s.kw - 1) < s.W) {
                const unsigned char* base = a + size_t(iy0 * s.W + ix0) * row_bytes;  // every tap inside
                for (int64_t t = 0; t < ks; ++t) ptrs[t * mr + m] = base + tap_offset[size_t(t)];
              } else {
                for (int64_t ky = 0, t = 0; ky < s.kh; ++ky) {
                  const int64_t iy = iy0 + ky * s.dh;
                  for (int64_t kx = 0; kx < s.kw; ++kx, ++t) {
                    const int64_t ix = ix0 + kx * s.dw;
                    const bool inside = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W;
                    ptrs[t * mr + m] = inside ? a + size_t(iy * s.W + ix) * row_bytes : pad;
                  }
                }
              }
              if (++ox == s.Wo) { ox = 0; ++oy; }
            } else {
              for (int64_t t = 0; t < ks; ++t) ptrs[t * mr + m] = ptrs[t * mr + rows - 1];
            }
          }
        };
        qgemm::run_igemm(b, *uk, packed[size_t(g)], P, s.Cog, fill_rows, store_for(n, g, r, y));
      }
    }
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
  if (int64_t(k->uk->mr) * k->uk->nr > kMaxTile) return op.error("micro-kernel tile too large for the NCHW epilogue");
  k->quant_tile = select_quant_tile();
  k->in_nhwc = op.in(0).layout == Layout::nhwc;
  k->out_nhwc = op.out(0).layout == Layout::nhwc;
  // weight [Co][Cig][kh][kw] -> per group [Cog][tap][Cig], the order the packing reads
  const int8_t* w = static_cast<const int8_t*>(op.in(1).data);
  const int64_t taps = s.taps();
  std::vector<int8_t> reordered(size_t(s.Cog * taps * s.Cig));
  size_t packed_bytes = 0;
  for (int64_t g = 0; g < s.groups; ++g) {
    for (int64_t c = 0; c < s.Cog; ++c)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t ci = 0; ci < s.Cig; ++ci)
          reordered[size_t((c * taps + t) * s.Cig + ci)] = w[((g * s.Cog + c) * s.Cig + ci) * taps + t];
    k->packed.push_back(qgemm::pack_weights(*k->uk, reordered.data(), bias ? bias + g * s.Cog : nullptr, s.Cog, taps,
                                            s.Cig, k->zero));
    packed_bytes += k->packed.back().bytes.size();
  }
  const int64_t kc = k->packed[0].kc;
  const size_t es = qgemm::a_element_bytes(k->uk->a_format), row_bytes = size_t(kc) * es;
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx) k->tap_offset.push_back(size_t(ky * s.dh * s.W + kx * s.dw) * row_bytes);
  k->group_bytes = align64(size_t((s.H * s.W + 1) * kc) * es);
  k->dense = s.groups == 1 && taps > 1 && kc <= 2 * k->uk->kr;
  if (k->dense) {
    // One tap of taps * kc elements: channel ci of tap t at t * kc + ci, zero weights for the padded channels.
    k->kc_tap = kc;
    std::vector<int8_t> wide(size_t(s.Co * taps * kc), 0);
    for (int64_t c = 0; c < s.Co; ++c)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t ci = 0; ci < s.Cig; ++ci) wide[size_t((c * taps + t) * kc + ci)] = w[(c * s.Cig + ci) * taps + t];
    k->packed[0] = qgemm::pack_weights(*k->uk, wide.data(), bias, s.Co, 1, taps * kc, k->zero);
    packed_bytes = k->packed[0].bytes.size();
    k->dense_offset = k->group_bytes;
    k->set_scratch_bytes(k->group_bytes + align64(size_t(s.P() * taps) * row_bytes));
    k->set_thread_scratch_bytes(qgemm::driver_thread_scratch(*k->uk, 1));
  } else {
    k->set_scratch_bytes(k->group_bytes * size_t(s.groups));
    k->set_thread_scratch_bytes(qgemm::driver_thread_scratch(*k->uk, taps));
  }
  k->set_packed_bytes(packed_bytes);
  k->set_work(s.N * s.Co * s.P() * s.K);
  return std::unique_ptr<PreparedOp>(std::move(k));
}

}  // namespace wv::kernels
