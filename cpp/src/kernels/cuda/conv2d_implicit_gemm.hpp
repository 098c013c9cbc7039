// Creation of the CUDA convolution kernels that conv2d and linear share (host side; no device is touched).
// linear is a 1x1 convolution over an NHWC image of `rows` x 1 pixels with K channels (linear_shape()).
#pragma once
#include <memory>
#include <string>

#include "core/status.hpp"
#include "kernels/cpu/conv2d_shape.hpp"
#include "kernels/cuda/op.hpp"
#include "plan/kernel.hpp"

namespace wv::cuda {

// int8 convolution as an implicit GEMM (M = output pixels of all images, N = output channels of a group,
// K = taps x C/groups) with the fused int8 epilogue; input, output and residual in NCHW or NHWC.
Result<std::unique_ptr<Op>> create_conv2d_s8_implicit_gemm(const OpView& op, const kernels::ConvShape& s, bool in_nhwc,
                                                           bool out_nhwc);

// float32 convolution as an implicit GEMM with the float epilogue (bias, residual, activation).
Result<std::unique_ptr<Op>> create_conv2d_f32_implicit_gemm(const OpView& op, const kernels::ConvShape& s, bool in_nhwc,
                                                            bool out_nhwc);

// int8 depthwise convolution (groups == C == Co), one thread per output element.
Result<std::unique_ptr<Op>> create_conv2d_s8_depthwise(const OpView& op, const kernels::ConvShape& s);

// The convolution that computes linear(x [rows, K], w [Co, K]): NHWC, rows x 1 pixels, K channels, 1x1 kernel.
inline kernels::ConvShape linear_shape(int64_t rows, int64_t K, int64_t Co) {
  kernels::ConvShape s{};
  s.N = 1; s.C = K; s.H = rows; s.W = 1; s.Co = Co; s.Ho = rows; s.Wo = 1;
  s.kh = 1; s.kw = 1; s.sh = 1; s.sw = 1; s.pt = 0; s.pl = 0; s.dh = 1; s.dw = 1;
  s.groups = 1; s.Cig = K; s.Cog = Co; s.K = K;
  return s;
}

// A configuration this back end does not run, reported with the op's position like OpView::error.
inline Status unsupported(const OpView& op, const std::string& why) {
  return Status(Code::unsupported, op.error("CUDA: " + why).message());
}

// Index arithmetic of the kernels is 32-bit: refuse tensors whose element counts do not fit.
inline Status check_conv_extent(const OpView& op, const kernels::ConvShape& s) {
  const int64_t limit = int64_t(1) << 31;
  if (s.N * s.C * s.H * s.W >= limit || s.N * s.Co * s.Ho * s.Wo >= limit || s.Co * s.K >= limit)
    return unsupported(op, "tensors of 2^31 or more elements are not supported");
  return Status::Ok();
}

}  // namespace wv::cuda
