// conv2d (groups, stride, padding, dilation) with the fused epilogue: shape checks, the float32 path (NCHW,
// im2col over a tile of output pixels and the dispatched float GEMM) and the choice of int8 path.
//   inputs: 0 x [N, C, H, W], 1 weight [Co, C/groups, kh, kw], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv2d_shape.hpp"
#include "kernels/cpu/epilogue.hpp"
#include "kernels/cpu/gemm.hpp"

namespace wv::kernels {
namespace {

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

// Row-major float columns [K][n] for output pixels [p0, p0 + n); padding reads as 0.
void im2col_f32(const ConvShape& s, const float* x, int64_t p0, int64_t n, float* col) {
  for (int64_t k = 0; k < s.K; ++k) {
    float* dst = col + k * n;
    const int64_t ci = k / (s.kh * s.kw), ky = (k / s.kw) % s.kh, kx = k % s.kw;
    gather_tap<float>(s, x + ci * s.H * s.W, ky, kx, p0, n, [&](int64_t j, float v) { dst[j] = v; }, 0.f);
  }
}

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

}  // namespace

Status read_conv_shape(const OpView& op, ConvShape* s) {
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

namespace {

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 7, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({"stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom", "pad_right",
                                     "dilation_h", "dilation_w", "groups", WV_EPILOGUE_ATTRS}));
  ConvShape s{};
  WV_RETURN_IF_ERROR(read_conv_shape(op, &s));
  const Value& x = op.in(0);
  const Value& w = op.in(1);
  if (x.dtype == DType::i8) {
    if (w.dtype != DType::i8) return op.error("int8 input needs int8 weights, got " + w.describe());
    if (s.groups == s.C && s.Cig == 1 && s.Cog == 1) return create_conv2d_s8_depthwise(op, s);
    return create_conv2d_s8_igemm(op, s);
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
