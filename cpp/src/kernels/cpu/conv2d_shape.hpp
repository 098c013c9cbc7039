// conv2d's geometry, shared by its float path (conv2d.cpp) and its int8 paths (conv2d_s8_igemm.cpp,
// conv2d_s8_depthwise.cpp).
#pragma once
#include <memory>

#include "core/status.hpp"
#include "plan/kernel.hpp"

namespace wv::kernels {

struct ConvShape {
  int64_t N, C, H, W, Co, Ho, Wo, kh, kw, sh, sw, pt, pl, dh, dw, groups, Cig, Cog, K;
  int64_t P() const { return Ho * Wo; }
  int64_t taps() const { return kh * kw; }
  // Input row and column that tap (ky, kx) of output pixel (oy, ox) reads; outside [0, H) x [0, W) is padding.
  int64_t in_y(int64_t oy, int64_t ky) const { return oy * sh - pt + ky * dh; }
  int64_t in_x(int64_t ox, int64_t kx) const { return ox * sw - pl + kx * dw; }
};

// Read and check conv2d's shapes and attributes (input, weight, output; NCHW as the file states them).
Status read_conv_shape(const OpView& op, ConvShape* s);

// The int8 paths: a depthwise stencil (groups == C == Co) and indirect GEMM for every other convolution.
Result<std::unique_ptr<PreparedOp>> create_conv2d_s8_depthwise(const OpView& op, const ConvShape& s);
Result<std::unique_ptr<PreparedOp>> create_conv2d_s8_igemm(const OpView& op, const ConvShape& s);

}  // namespace wv::kernels
