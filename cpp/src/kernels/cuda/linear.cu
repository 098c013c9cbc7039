// linear on CUDA: y[..., Co] = x[..., K] W^T with the fused epilogue, int8 and float32, as a 1x1 convolution over
// an NHWC image of rows x 1 pixels with K channels (linear_shape()): the rows of x are the implicit GEMM's M, the
// output comes out row-major, and the residual [..., Co] is indexed like it. Same checks as kernels/cpu/linear.cpp.
//   inputs: 0 x [..., K], 1 weight [Co, K], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
#include "kernels/cpu/epilogue.hpp"
#include "kernels/cuda/conv2d_implicit_gemm.hpp"

namespace wv::cuda {
namespace {

Result<std::unique_ptr<Op>> create_linear(const OpView& op) {
  WV_RETURN_IF_ERROR(op.check_arity(2, 7, 1));
  WV_RETURN_IF_ERROR(op.check_attrs({WV_EPILOGUE_ATTRS}));
  const Value& x = op.in(0);
  const Value& w = op.in(1);
  const Value& y = op.out(0);
  if (w.kind != format::kConstant || w.shape.rank != 2) return op.error("weight must be a rank-2 constant [Co, K], got " + w.describe());
  const int64_t Co = w.shape[0], K = w.shape[1];
  if (x.shape.rank < 1 || x.shape[x.shape.rank - 1] != K)
    return op.error("input " + x.describe() + " must end in K = " + std::to_string(K));
  if (K > 16384) return op.error("K above 16384 is not supported");
  Shape expect = x.shape;
  expect.dims[expect.rank - 1] = Co;
  if (!(y.shape == expect)) return op.error("output " + y.shape.str() + " should be " + expect.str());
  // Rows are contiguous only in the file's order (plan/layout.cpp gives NHWC to convolutions' and adds' values only).
  if (x.layout != Layout::nchw || y.layout != Layout::nchw ||
      (op.has_input(kernels::kSlotResidual) && op.in(kernels::kSlotResidual).layout != Layout::nchw))
    return unsupported(op, "linear over a channels-last (NHWC) value");
  int64_t rows = 1;
  for (int d = 0; d + 1 < x.shape.rank; ++d) rows *= x.shape[d];
  const kernels::ConvShape s = linear_shape(rows, K, Co);
  if (x.dtype == DType::i8) {
    if (w.dtype != DType::i8) return op.error("int8 input needs int8 weights, got " + w.describe());
    return create_conv2d_s8_implicit_gemm(op, s, true, true);
  }
  if (x.dtype == DType::f32) {
    if (w.dtype != DType::f32) return op.error("float32 input needs float32 weights, got " + w.describe());
    return create_conv2d_f32_implicit_gemm(op, s, true, true);
  }
  return op.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_linear = {"linear", &create_linear};

}  // namespace wv::cuda
