// max_pool2d / avg_pool2d over NCHW windows.
//   attributes: kernel_h, kernel_w (required); stride_h, stride_w (default: the kernel); pad_top, pad_left,
//   pad_bottom, pad_right (default 0, each below the kernel extent); dilation_h, dilation_w (max only, default 1);
//   count_include_pad (avg only, default 0).
//   The output's H and W select floor or ceil mode: each must equal (H + pt + pb - dh (kh - 1) - 1) / sh + 1
//   rounded down, or rounded up where the last window still starts inside the input or its top/left padding.
//   Padding never wins a max and counts in a mean only with count_include_pad (and then only inside the padded
//   extent: a ceil-mode window past the bottom/right padding counts what it covers).
//   max: any of float32/int8, the output shares the input's quantization (a pure max).
//   avg: float32 sum / count; int8 shares the input's quantization and y = z + round_half_away(sum(x - z) / count)
//   in exact integer arithmetic.
//   Output rows (plane, oy) are split across the session's threads; each window is reduced by one thread.
#include <algorithm>

#include "kernels/cpu/row_split.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {
namespace {

struct Window {
  int64_t N = 0, C = 0, H = 0, W = 0, Ho = 0, Wo = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1;
  bool include_pad = false;
};

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// PyTorch's output size (below 1: none). A ceil-mode window may overhang the padded input, even on a plane smaller
// than the kernel, as long as it starts inside the input or its top/left padding.
int64_t pooled(int64_t in, int64_t pad0, int64_t pad1, int64_t k, int64_t s, int64_t d, bool ceil) {
  const int64_t span = in + pad0 + pad1 - d * (k - 1) - 1;
  int64_t out = floor_div(ceil ? span + s - 1 : span, s) + 1;
  if (ceil && (out - 1) * s >= in + pad0) --out;
  return out;
}

Result<Window> geometry(const OpView& op, bool dilation) {
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  Window g;
  if (x.shape.rank != 4 || y.shape.rank != 4) return op.error("expects x and y [N, C, H, W], got " + x.describe() + " -> " + y.describe());
  g.N = x.shape[0]; g.C = x.shape[1]; g.H = x.shape[2]; g.W = x.shape[3]; g.Ho = y.shape[2]; g.Wo = y.shape[3];
  if (y.shape[0] != g.N || y.shape[1] != g.C) return op.error("output must keep N and C of " + x.shape.str() + ", got " + y.describe());
  g.kh = op.attr_int("kernel_h", 0); g.kw = op.attr_int("kernel_w", 0);
  if (g.kh < 1 || g.kw < 1 || g.kh > 64 || g.kw > 64) return op.error("kernel_h and kernel_w must be in 1..64");
  g.sh = op.attr_int("stride_h", g.kh); g.sw = op.attr_int("stride_w", g.kw);
  g.dh = dilation ? op.attr_int("dilation_h", 1) : 1; g.dw = dilation ? op.attr_int("dilation_w", 1) : 1;
  if (g.sh < 1 || g.sw < 1 || g.sh > 64 || g.sw > 64 || g.dh < 1 || g.dw < 1 || g.dh > 64 || g.dw > 64)
    return op.error("strides and dilations must be in 1..64");
  g.pt = op.attr_int("pad_top", 0); g.pl = op.attr_int("pad_left", 0);
  g.pb = op.attr_int("pad_bottom", 0); g.pr = op.attr_int("pad_right", 0);
  if (g.pt < 0 || g.pb < 0 || g.pl < 0 || g.pr < 0 || g.pt >= g.kh * g.dh || g.pb >= g.kh * g.dh || g.pl >= g.kw * g.dw || g.pr >= g.kw * g.dw)
    return op.error("pads must be >= 0 and below the kernel extent");
  const bool h_ok = g.Ho == pooled(g.H, g.pt, g.pb, g.kh, g.sh, g.dh, false) || g.Ho == pooled(g.H, g.pt, g.pb, g.kh, g.sh, g.dh, true);
  const bool w_ok = g.Wo == pooled(g.W, g.pl, g.pr, g.kw, g.sw, g.dw, false) || g.Wo == pooled(g.W, g.pl, g.pr, g.kw, g.sw, g.dw, true);
  if (!h_ok || !w_ok || g.Ho < 1 || g.Wo < 1)
    return op.error("output " + y.shape.str() + " is neither the floor- nor the ceil-mode size of " + x.shape.str());
  // every window must see at least one input element
  for (int64_t o = 0; o < g.Ho; ++o) {
    bool any = false;
    for (int64_t k = 0; k < g.kh; ++k) { const int64_t i = o * g.sh - g.pt + k * g.dh; any = any || (i >= 0 && i < g.H); }
    if (!any) return op.error("an output row's window covers no input row");
  }
  for (int64_t o = 0; o < g.Wo; ++o) {
    bool any = false;
    for (int64_t k = 0; k < g.kw; ++k) { const int64_t i = o * g.sw - g.pl + k * g.dw; any = any || (i >= 0 && i < g.W); }
    if (!any) return op.error("an output column's window covers no input column");
  }
  return g;
}

template <class T>
class MaxPool final : public PreparedOp {
 public:
  Window g;
  void run(const OpBuffers& b) const override {
    const T* x = static_cast<const T*>(b.in[0]);
    T* y = static_cast<T*>(b.out[0]);
    for_row_blocks(b.pool, g.N * g.C * g.Ho, g.Wo * g.kh * g.kw, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / g.Ho, oy = r % g.Ho;
        const T* xp = x + p * g.H * g.W;
        T* yp = y + p * g.Ho * g.Wo;
        for (int64_t ox = 0; ox < g.Wo; ++ox) {
          bool first = true;
          T best = T(0);
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
            if (iy < 0 || iy >= g.H) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
              if (ix < 0 || ix >= g.W) continue;
              const T v = xp[iy * g.W + ix];
              if (first || v > best) best = v;
              first = false;
            }
          }
          yp[oy * g.Wo + ox] = best;
        }
      }
    });
  }
};

// The window's rows [y0, y1) and columns [x0, x1) inside the input, and the count a mean divides by.
struct Span {
  int64_t y0, y1, x0, x1, count;
};

Span span_of(const Window& g, int64_t oy, int64_t ox) {
  int64_t y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
  int64_t y1 = std::min(y0 + g.kh, g.H + g.pb), x1 = std::min(x0 + g.kw, g.W + g.pr);
  const int64_t padded = (y1 - y0) * (x1 - x0);
  y0 = std::max<int64_t>(y0, 0); x0 = std::max<int64_t>(x0, 0);
  y1 = std::min(y1, g.H); x1 = std::min(x1, g.W);
  return {y0, y1, x0, x1, g.include_pad ? padded : (y1 - y0) * (x1 - x0)};
}

class AvgPoolF32 final : public PreparedOp {
 public:
  Window g;
  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    float* y = static_cast<float*>(b.out[0]);
    for_row_blocks(b.pool, g.N * g.C * g.Ho, g.Wo * g.kh * g.kw, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / g.Ho, oy = r % g.Ho;
        const float* xp = x + p * g.H * g.W;
        for (int64_t ox = 0; ox < g.Wo; ++ox) {
          const Span s = span_of(g, oy, ox);
          float sum = 0.f;
          for (int64_t iy = s.y0; iy < s.y1; ++iy)
            for (int64_t ix = s.x0; ix < s.x1; ++ix) sum += xp[iy * g.W + ix];
          y[(p * g.Ho + oy) * g.Wo + ox] = sum / float(s.count);
        }
      }
    });
  }
};

class AvgPoolS8 final : public PreparedOp {
 public:
  Window g;
  int32_t z = 0;
  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    for_row_blocks(b.pool, g.N * g.C * g.Ho, g.Wo * g.kh * g.kw, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t p = r / g.Ho, oy = r % g.Ho;
        const int8_t* xp = x + p * g.H * g.W;
        for (int64_t ox = 0; ox < g.Wo; ++ox) {
          const Span s = span_of(g, oy, ox);
          int64_t sum = 0;
          for (int64_t iy = s.y0; iy < s.y1; ++iy)
            for (int64_t ix = s.x0; ix < s.x1; ++ix) sum += xp[iy * g.W + ix] - z;
          const int64_t mag = (2 * (sum < 0 ? -sum : sum) + s.count) / (2 * s.count);  // round half away from zero
          const int64_t v = (sum < 0 ? -mag : mag) + z;
          y[(p * g.Ho + oy) * g.Wo + ox] = int8_t(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
      }
    });
  }
};

Status same_quantization(const OpView& op) {
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  if (x.dtype != y.dtype) return op.error("input and output dtypes differ");
  if (x.dtype == DType::i8 && (x.scale != y.scale || x.zero_point != y.zero_point))
    return op.error("int8 pooling keeps the input's scale and zero point");
  return Status::Ok();
}

Result<std::unique_ptr<PreparedOp>> create_max(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"kernel_h", "kernel_w", "stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom",
                                     "pad_right", "dilation_h", "dilation_w"}));
  auto g = geometry(op, true);
  if (!g.ok()) return g.status();
  WV_RETURN_IF_ERROR(same_quantization(op));
  const int64_t work = g.value().N * g.value().C * g.value().Ho * g.value().Wo * g.value().kh * g.value().kw;
  if (op.in(0).dtype == DType::f32) {
    auto k = std::make_unique<MaxPool<float>>();
    k->g = g.value(); k->set_work(work);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (op.in(0).dtype == DType::i8) {
    auto k = std::make_unique<MaxPool<int8_t>>();
    k->g = g.value(); k->set_work(work);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported dtype " + std::string(dtype_name(op.in(0).dtype)));
}

Result<std::unique_ptr<PreparedOp>> create_avg(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(1, 1, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"kernel_h", "kernel_w", "stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom",
                                     "pad_right", "count_include_pad"}));
  auto g = geometry(op, false);
  if (!g.ok()) return g.status();
  WV_RETURN_IF_ERROR(same_quantization(op));
  const int64_t inc = op.attr_int("count_include_pad", 0);
  if (inc != 0 && inc != 1) return op.error("count_include_pad must be 0 or 1");
  Window w = g.value();
  w.include_pad = inc == 1;
  const int64_t work = w.N * w.C * w.Ho * w.Wo * w.kh * w.kw;
  if (op.in(0).dtype == DType::f32) {
    auto k = std::make_unique<AvgPoolF32>();
    k->g = w; k->set_work(work);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (op.in(0).dtype == DType::i8) {
    auto k = std::make_unique<AvgPoolS8>();
    k->g = w; k->z = op.in(0).zero_point; k->set_work(work);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported dtype " + std::string(dtype_name(op.in(0).dtype)));
}

}  // namespace

extern const KernelEntry kernel_max_pool2d{"max_pool2d", &create_max};
extern const KernelEntry kernel_avg_pool2d{"avg_pool2d", &create_avg};

}  // namespace wv::kernels
