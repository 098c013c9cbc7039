// resize: x [N, C, H, W] -> y [N, C, Ho, Wo] (the output's shape), attributes mode (0 nearest, 1 bilinear) and
// align_corners (0/1, bilinear only).
//   nearest: source index floor(o * in / out), in exact integers (PyTorch's 'nearest', ONNX asymmetric + floor);
//            any dtype, int8 keeps the input's quantization (a copy).
//   bilinear, align_corners 0: source coordinate (o + 0.5) in / out - 0.5, clamped at 0 (PyTorch's
//            align_corners=False, ONNX half_pixel); align_corners 1: o (in - 1) / (out - 1).
//     float32: interpolated in float32.
//     int8:    keeps the input's quantization; the coordinate is an exact rational (for align_corners 0,
//              2 out src = (2 o + 1) in - out), its fraction rounded to 1/2048 (half up), and
//              y = z + round_half_away(((x00 (2048 - fx) + x01 fx) (2048 - fy) + (x10 (2048 - fx) + x11 fx) fy) / 2^22)
//              on x - z, all in int64.
#include <vector>

#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

constexpr int64_t kOne = 2048;  // 11 fraction bits per axis

struct Taps {
  std::vector<int64_t> i0, i1, frac;  // per output index: the two source indices and the weight of i1 in 1/2048
};

Taps int_taps(int64_t in, int64_t out, bool align) {
  Taps t;
  for (int64_t o = 0; o < out; ++o) {
    int64_t num, den;
    if (align) {
      num = out > 1 ? o * (in - 1) : 0;
      den = out > 1 ? out - 1 : 1;
    } else {
      num = (2 * o + 1) * in - out;
      den = 2 * out;
      if (num < 0) num = 0;
    }
    int64_t i0 = num / den, rem = num - i0 * den;
    int64_t f = (2 * rem * kOne + den) / (2 * den);
    if (f == kOne) { ++i0; f = 0; }
    if (i0 >= in - 1) { i0 = in - 1; f = 0; }
    t.i0.push_back(i0);
    t.i1.push_back(i0 + 1 < in ? i0 + 1 : in - 1);
    t.frac.push_back(f);
  }
  return t;
}

struct FloatTaps {
  std::vector<int64_t> i0, i1;
  std::vector<float> frac;
};

FloatTaps float_taps(int64_t in, int64_t out, bool align) {
  FloatTaps t;
  const float scale = align ? (out > 1 ? float(in - 1) / float(out - 1) : 0.f) : float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    float src = align ? scale * float(o) : scale * (float(o) + 0.5f) - 0.5f;
    if (src < 0.f) src = 0.f;
    int64_t i0 = int64_t(src);
    if (i0 > in - 1) i0 = in - 1;
    t.i0.push_back(i0);
    t.i1.push_back(i0 + 1 < in ? i0 + 1 : in - 1);
    t.frac.push_back(src - float(i0));
  }
  return t;
}

class Nearest final : public PreparedOp {
 public:
  int64_t planes = 0, H = 0, W = 0, Ho = 0, Wo = 0, elem = 1;
  void run(const OpBuffers& b) const override {
    const unsigned char* x = static_cast<const unsigned char*>(b.in[0]);
    unsigned char* y = static_cast<unsigned char*>(b.out[0]);
    for_row_blocks(b.pool, planes * Ho, Wo * elem, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / Ho, oy = r % Ho;
        const int64_t iy = oy * H / Ho;
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const int64_t ix = ox * W / Wo;
          const unsigned char* s = x + ((p * H + iy) * W + ix) * elem;
          unsigned char* d = y + ((p * Ho + oy) * Wo + ox) * elem;
          for (int64_t e = 0; e < elem; ++e) d[e] = s[e];
        }
      }
    });
  }
};

class BilinearF32 final : public PreparedOp {
 public:
  int64_t planes = 0, H = 0, W = 0, Ho = 0, Wo = 0;
  FloatTaps ty, tx;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for_row_blocks(b.pool, planes * Ho, 4 * Wo, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / Ho, oy = r % Ho;
        const float* xp = x + p * H * W;
        const float fy = ty.frac[size_t(oy)];
        const float* r0 = xp + ty.i0[size_t(oy)] * W;
        const float* r1 = xp + ty.i1[size_t(oy)] * W;
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const float fx = tx.frac[size_t(ox)];
          const int64_t a = tx.i0[size_t(ox)], c = tx.i1[size_t(ox)];
          const float top = r0[a] * (1.f - fx) + r0[c] * fx;
          const float bot = r1[a] * (1.f - fx) + r1[c] * fx;
          y[(p * Ho + oy) * Wo + ox] = top * (1.f - fy) + bot * fy;
        }
      }
    });
  }
};

class BilinearS8 final : public PreparedOp {
 public:
  int64_t planes = 0, H = 0, W = 0, Ho = 0, Wo = 0;
  int32_t z = 0;
  Taps ty, tx;
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for_row_blocks(b.pool, planes * Ho, 4 * Wo, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / Ho, oy = r % Ho;
        const int8_t* xp = x + p * H * W;
        const int64_t fy = ty.frac[size_t(oy)];
        const int8_t* r0 = xp + ty.i0[size_t(oy)] * W;
        const int8_t* r1 = xp + ty.i1[size_t(oy)] * W;
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const int64_t fx = tx.frac[size_t(ox)];
          const int64_t a = tx.i0[size_t(ox)], c = tx.i1[size_t(ox)];
          const int64_t top = (r0[a] - z) * (kOne - fx) + (r0[c] - z) * fx;
          const int64_t bot = (r1[a] - z) * (kOne - fx) + (r1[c] - z) * fx;
          const int64_t v = top * (kOne - fy) + bot * fy;
          const int64_t mag = ((v < 0 ? -v : v) + (int64_t(1) << 21)) >> 22;
          const int64_t q = (v < 0 ? -mag : mag) + z;
          y[(p * Ho + oy) * Wo + ox] = int8_t(q < -128 ? -128 : (q > 127 ? 127 : q));
        }
      }
    });
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"mode", "align_corners"}));
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.shape.rank != 4 || y.shape.rank != 4 || x.shape[0] != y.shape[0] || x.shape[1] != y.shape[1])
    return op.error("expects x [N, C, H, W] -> y [N, C, Ho, Wo], got " + x.describe() + " -> " + y.describe());
  if (x.dtype != y.dtype) return op.error("input and output dtypes differ");
  if ((x.dtype == DType::i8 || x.dtype == DType::u8) && (x.scale != y.scale || x.zero_point != y.zero_point))
    return op.error("int8 resize keeps the input's scale and zero point");
  const int64_t mode = op.attr_int("mode", 0), align = op.attr_int("align_corners", 0);
  if (mode != 0 && mode != 1) return op.error("mode must be 0 (nearest) or 1 (bilinear)");
  if (align != 0 && align != 1) return op.error("align_corners must be 0 or 1");
  if (mode == 0 && align) return op.error("align_corners applies to bilinear resizing only");
  const int64_t H = x.shape[2], W = x.shape[3], Ho = y.shape[2], Wo = y.shape[3];
  if (Ho > 65536 || Wo > 65536 || H > 65536 || W > 65536) return op.error("spatial sizes above 65536 are not supported");
  const int64_t planes = x.shape[0] * x.shape[1];
  if (mode == 0) {
    auto k = std::make_unique<Nearest>();
    k->planes = planes; k->H = H; k->W = W; k->Ho = Ho; k->Wo = Wo; k->elem = int64_t(dtype_size(x.dtype));
    k->set_work(y.shape.elements());
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::f32) {
    auto k = std::make_unique<BilinearF32>();
    k->planes = planes; k->H = H; k->W = W; k->Ho = Ho; k->Wo = Wo;
    k->ty = float_taps(H, Ho, align == 1); k->tx = float_taps(W, Wo, align == 1);
    k->set_work(4 * y.shape.elements());
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::i8) {
    auto k = std::make_unique<BilinearS8>();
    k->planes = planes; k->H = H; k->W = W; k->Ho = Ho; k->Wo = Wo; k->z = x.zero_point;
    k->ty = int_taps(H, Ho, align == 1); k->tx = int_taps(W, Wo, align == 1);
    k->set_work(4 * y.shape.elements());
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("bilinear resize of " + std::string(dtype_name(x.dtype)) + " is not supported");
}

}  // namespace

extern const KernelEntry kernel_resize{"resize", &create};

}  // namespace wv::kernels
