// int8 depthwise conv2d (groups == C == Co) on CUDA: one thread per output element, in the output's layout order
// (NHWC: consecutive threads are consecutive channels of one pixel; NCHW: consecutive pixels of one channel), so
// both the stores and, for a matching input layout, the loads are coalesced. acc = sum over the taps inside the
// image of (x - z) w in int32 (exact: |acc| <= taps * 255 * 128), then the shared int8 epilogue with the bias:
// bit-identical to kernels/cpu/conv2d_s8_depthwise.cpp. Any stride, dilation and padding; the weight
// [C][1][kh][kw] and the epilogue's tables are read in place from the engine's device constants.
#include <cuda_runtime.h>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

struct DepthwiseParams {
  const int8_t* x = nullptr;
  const int8_t* w = nullptr;  // [C][kh * kw]
  const int8_t* r = nullptr;
  int8_t* y = nullptr;
  QuantEpilogue ep;
  int zero, C, H, W, Ho, Wo, kh, kw, sh, sw, pt, pl, dh, dw;
  long long total;  // N * C * Ho * Wo
};

template <bool IN_NHWC, bool OUT_NHWC>
__global__ void __launch_bounds__(256) conv2d_s8_depthwise_direct(DepthwiseParams p) {
  const int P = p.Ho * p.Wo;
  WV_GRID_STRIDE(i, p.total) {
    const int e = int(i);
    int n, c, pix;
    if (OUT_NHWC) {
      c = e % p.C;
      const int np = e / p.C;
      n = np / P;
      pix = np - n * P;
    } else {
      pix = e % P;
      const int nc = e / P;
      c = nc % p.C;
      n = nc / p.C;
    }
    const int oy = pix / p.Wo, ox = pix - oy * p.Wo;
    const int8_t* wc = p.w + c * p.kh * p.kw;
    int acc = 0;
    for (int ky = 0; ky < p.kh; ++ky) {
      const int iy = oy * p.sh - p.pt + ky * p.dh;
      if (unsigned(iy) >= unsigned(p.H)) continue;
      for (int kx = 0; kx < p.kw; ++kx) {
        const int ix = ox * p.sw - p.pl + kx * p.dw;
        if (unsigned(ix) >= unsigned(p.W)) continue;
        const int xv = IN_NHWC ? p.x[((size_t(n) * p.H + iy) * p.W + ix) * p.C + c]
                               : p.x[((size_t(n) * p.C + c) * p.H + iy) * p.W + ix];
        acc += (xv - p.zero) * int(wc[ky * p.kw + kx]);
      }
    }
    const int8_t r = p.ep.residual ? p.r[e] : int8_t(0);  // the residual shares the output's layout
    p.y[e] = p.ep.apply(acc, c, r);
  }
}

using KernelFn = void (*)(DepthwiseParams);

class Conv2dS8Depthwise final : public Op {
 public:
  using Op::set_work;
  DepthwiseParams params{};
  bool has_bias = false, has_lut = false;
  KernelFn kernel = nullptr;

  void enqueue(const Buffers& b, void* stream) const override {
    DepthwiseParams p = params;
    p.x = static_cast<const int8_t*>(b.in[0]);
    p.w = static_cast<const int8_t*>(b.in[1]);
    p.r = p.ep.residual ? static_cast<const int8_t*>(b.in[kernels::kSlotResidual]) : nullptr;
    p.y = static_cast<int8_t*>(b.out[0]);
    p.ep.bias = has_bias ? static_cast<const int32_t*>(b.in[kernels::kSlotBias]) : nullptr;
    p.ep.multiplier = static_cast<const int32_t*>(b.in[kernels::kSlotMultiplier]);
    p.ep.shift = static_cast<const int32_t*>(b.in[kernels::kSlotShift]);
    p.ep.lut = has_lut ? static_cast<const int8_t*>(b.in[kernels::kSlotLut]) : nullptr;
    kernel<<<blocks_for(p.total), 256, 0, as_stream(stream)>>>(p);
  }
};

}  // namespace

Result<std::unique_ptr<Op>> create_conv2d_s8_depthwise(const OpView& op, const kernels::ConvShape& s) {
  WV_RETURN_IF_ERROR(check_conv_extent(op, s));
  auto k = std::make_unique<Conv2dS8Depthwise>();
  kernels::QuantEpilogue host_ep;
  WV_RETURN_IF_ERROR(kernels::make_quant_epilogue(op, s.Co, &host_ep));
  DepthwiseParams& p = k->params;
  p.ep.residual = host_ep.residual;
  p.ep.residual_zero = host_ep.residual_zero;
  p.ep.residual_multiplier = host_ep.residual_multiplier;
  p.ep.residual_shift = host_ep.residual_shift;
  p.ep.out_zero = host_ep.out_zero;
  p.ep.act_min = host_ep.act_min;
  p.ep.act_max = host_ep.act_max;
  k->has_bias = host_ep.bias != nullptr;
  k->has_lut = host_ep.lut != nullptr;
  p.zero = op.in(0).zero_point;
  p.C = int(s.C); p.H = int(s.H); p.W = int(s.W); p.Ho = int(s.Ho); p.Wo = int(s.Wo);
  p.kh = int(s.kh); p.kw = int(s.kw); p.sh = int(s.sh); p.sw = int(s.sw); p.pt = int(s.pt); p.pl = int(s.pl);
  p.dh = int(s.dh); p.dw = int(s.dw);
  p.total = (long long)(s.N * s.C * s.P());
  const bool in_nhwc = op.in(0).layout == Layout::nhwc, out_nhwc = op.out(0).layout == Layout::nhwc;
  if (in_nhwc)
    k->kernel = out_nhwc ? conv2d_s8_depthwise_direct<true, true> : conv2d_s8_depthwise_direct<true, false>;
  else
    k->kernel = out_nhwc ? conv2d_s8_depthwise_direct<false, true> : conv2d_s8_depthwise_direct<false, false>;
  k->set_work(s.N * s.C * s.P() * s.taps());
  return std::unique_ptr<Op>(std::move(k));
}

}  // namespace wv::cuda
