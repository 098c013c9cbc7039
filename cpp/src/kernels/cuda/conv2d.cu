// conv2d on CUDA: kernels/cpu/conv2d.cpp's own checks (cpu_accepts), then the kernel
// for the configuration: int8 depthwise (groups == C == Co; conv2d_s8_depthwise.cu), every other int8
// convolution (conv2d_s8_implicit_gemm.cu) and float32 (conv2d_f32_implicit_gemm.cu). Layouts are the ones
// plan/layout.cpp chose: int8 input, output and residual each NCHW or NHWC.
//   inputs: 0 x [N, C, H, W], 1 weight [Co, C/groups, kh, kw], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
#include "kernels/cpu/conv2d_shape.hpp"
#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

Result<std::unique_ptr<Op>> create_conv2d(const OpView& op) {
  WV_RETURN_IF_ERROR(cpu_accepts(op));  // arity, attributes, shapes, dtypes, the epilogue's inputs
  kernels::ConvShape s{};
  WV_RETURN_IF_ERROR(kernels::read_conv_shape(op, &s));
  const Value& x = op.in(0);
  const bool in_nhwc = x.layout == Layout::nhwc, out_nhwc = op.out(0).layout == Layout::nhwc;
  // The kernels index the residual like the output (plan/layout.cpp makes the two agree).
  if (op.has_input(kernels::kSlotResidual) && op.in(kernels::kSlotResidual).layout != op.out(0).layout)
    return unsupported(op, "residual and output in different layouts");
  if (x.dtype == DType::i8) {
    if (s.groups == s.C && s.Cig == 1 && s.Cog == 1) return cuda::create_conv2d_s8_depthwise(op, s);  // qualified: ADL would also find the CPU one
    return create_conv2d_s8_implicit_gemm(op, s, in_nhwc, out_nhwc);
  }
  return create_conv2d_f32_implicit_gemm(op, s, in_nhwc, out_nhwc);  // the CPU accepts int8 or float32 only
}

}  // namespace

extern const KernelEntry kernel_conv2d = {"conv2d", &create_conv2d};

}  // namespace wv::cuda
