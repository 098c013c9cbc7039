// linear: y[..., Co] = x[..., K] W^T with the fused epilogue, float32 and int8.
//   inputs: 0 x [..., K], 1 weight [Co, K], 2 bias, 3 multiplier, 4 shift, 5 residual, 6 LUT
// Rows of x are the GEMM's M dimension so the output comes out row-major with no transpose. int8 runs on the
// same packed micro-kernels as conv2d (one tap); float repacks the weight transposed once at load.
#include <algorithm>
#include <vector>

#include "kernels/cpu/epilogue.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/qgemm/igemm_driver.hpp"
#include "kernels/cpu/requantize_row.hpp"

namespace wv::kernels {
namespace {

class LinearS8 final : public PreparedOp {
 public:
  int64_t rows = 0, K = 0, Co = 0;
  int32_t zero = 0;
  const qgemm::Ukernel* uk = nullptr;
  qgemm::PackedWeights packed;  // bias and the input zero point folded in
  QuantEpilogue ep;             // so ep.bias is null
  QuantTileFn quant_tile = nullptr;

  void run(const OpBuffers& b) const override {
    const int8_t* x = static_cast<const int8_t*>(b.in[0]);
    const int8_t* r = ep.residual ? static_cast<const int8_t*>(b.in[kSlotResidual]) : nullptr;
    int8_t* y = static_cast<int8_t*>(b.out[0]);
    const unsigned char* a = static_cast<const unsigned char*>(b.scratch);
    const size_t row_bytes = size_t(packed.kc) * qgemm::a_element_bytes(uk->a_format);
    qgemm::prepare_rows_parallel(b, uk->a_format, x, K, 1, K, packed.kc, zero, rows, b.scratch);
    auto fill_rows = [&](int64_t i0, int64_t count, const void** ptrs) {
      for (int64_t m = 0; m < uk->mr; ++m) ptrs[m] = a + size_t(i0 + std::min(m, count - 1)) * row_bytes;
    };
    auto store = [&](int64_t i0, int64_t count, int64_t n0, int64_t cols, const int32_t* c) {
      const int64_t base = i0 * Co + n0;
      quant_tile(ep, c, uk->nr, count, cols, int(n0), r ? r + base : nullptr, y + base, Co);
    };
    qgemm::run_igemm(b, *uk, packed, rows, Co, fill_rows, store);
  }
};

class LinearF32 final : public PreparedOp {
 public:
  int64_t rows = 0, K = 0, Co = 0;
  std::vector<float> weights_t;  // [K][Co]
  FloatEpilogue ep;
  GemmF32Fn gemm = nullptr;

  void run(const OpBuffers& b) const override {
    const float* x = static_cast<const float*>(b.in[0]);
    const float* r = ep.residual ? static_cast<const float*>(b.in[kSlotResidual]) : nullptr;
    float* y = static_cast<float*>(b.out[0]);
    gemm(int(rows), int(Co), int(K), x, weights_t.data(), y, int(Co));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < Co; ++c) {
        float& v = y[i * Co + c];
        v = activate(ep.activation, v + (ep.bias ? ep.bias[c] : 0.f) + (r ? r[i * Co + c] : 0.f));
      }
  }
};

Result<std::unique_ptr<PreparedOp>> create(const OpView& op) {
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
  const int64_t rows = x.shape.elements() / K;

  if (x.dtype == DType::i8) {
    if (w.dtype != DType::i8) return op.error("int8 input needs int8 weights, got " + w.describe());
    auto k = std::make_unique<LinearS8>();
    WV_RETURN_IF_ERROR(make_quant_epilogue(op, Co, &k->ep));
    k->rows = rows; k->K = K; k->Co = Co; k->zero = x.zero_point;
    k->uk = &qgemm::select_ukernel();
    k->packed = qgemm::pack_weights(*k->uk, static_cast<const int8_t*>(w.data), k->ep.bias, Co, 1, K, k->zero);
    k->ep.bias = nullptr;
    k->quant_tile = select_quant_tile();
    k->set_scratch_bytes(qgemm::align64(size_t(rows * k->packed.kc) * qgemm::a_element_bytes(k->uk->a_format)));
    k->set_thread_scratch_bytes(qgemm::driver_thread_scratch(*k->uk, 1));
    k->set_packed_bytes(k->packed.bytes.size());
    k->set_work(rows * Co * K);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  if (x.dtype == DType::f32) {
    if (w.dtype != DType::f32) return op.error("float32 input needs float32 weights, got " + w.describe());
    auto k = std::make_unique<LinearF32>();
    WV_RETURN_IF_ERROR(make_float_epilogue(op, Co, &k->ep));
    k->rows = rows; k->K = K; k->Co = Co;
    k->weights_t.resize(size_t(K * Co));
    const float* wf = static_cast<const float*>(w.data);
    for (int64_t c = 0; c < Co; ++c)
      for (int64_t kk = 0; kk < K; ++kk) k->weights_t[size_t(kk * Co + c)] = wf[c * K + kk];
    k->gemm = select_gemm_f32();
    k->set_work(rows * Co * K);
    return std::unique_ptr<PreparedOp>(std::move(k));
  }
  return op.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
}

}  // namespace

extern const KernelEntry kernel_linear{"linear", &create};

}  // namespace wv::kernels
