// linear on CUDA: y[..., Co] = x[..., K] W^T with the fused epilogue, int8 and float32, as a 1x1 convolution over
// an NHWC image of rows x 1 pixels with K channels (linear_shape()): the rows of x are the implicit GEMM's M, the
// output comes out row-major, and the residual [..., Co] is indexed like it. Checked by kernels/cpu/linear.cpp's own create.
//   inputs: 0 x [..., K], 1 weight [Co, K], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

Result<std::unique_ptr<Op>> create_linear(const OpView& op) {
  WV_RETURN_IF_ERROR(cpu_accepts(op));  // arity, attributes, shapes, dtypes, K <= 16384
  const Value& x = op.in(0);
  const Value& y = op.out(0);
  const int64_t Co = op.in(1).shape[0], K = op.in(1).shape[1];
  // Rows are contiguous only in the file's order (plan/layout.cpp gives NHWC to convolutions' and adds' values only).
  if (x.layout != Layout::nchw || y.layout != Layout::nchw ||
      (op.has_input(kernels::kSlotResidual) && op.in(kernels::kSlotResidual).layout != Layout::nchw))
    return unsupported(op, "linear over a channels-last (NHWC) value");
  int64_t rows = 1;
  for (int d = 0; d + 1 < x.shape.rank; ++d) rows *= x.shape[d];
  const kernels::ConvShape s = linear_shape(rows, K, Co);
  if (x.dtype == DType::i8) return create_conv2d_s8_implicit_gemm(op, s, true, true);
  return create_conv2d_f32_implicit_gemm(op, s, true, true);  // the CPU accepts int8 or float32 only
}

}  // namespace

extern const KernelEntry kernel_linear = {"linear", &create_linear};

}  // namespace wv::cuda
